"""Preconditions shared by the contagion models and the CSV reader (vectorised checks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from graph.errors import ContagionInputError

if TYPE_CHECKING:
    import pyarrow as pa

    from graph.contagion.network import ExposureNetwork

__all__ = [
    "initial_stress",
    "numeric_column",
    "positions",
    "read_table",
    "require_choice",
    "require_column",
    "require_fraction",
    "require_known_ids",
    "require_nonnegative",
    "require_positive",
    "row_of",
    "text_column",
]


def row_of(k: int) -> int:
    """Row number, in the file, of the ``k``-th record (0-based); the header is row 1."""
    return int(k) + 2


def require_fraction(what: str, value: float) -> float:
    """Return ``value`` as a float in [0, 1] or raise naming ``what``."""
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ContagionInputError(f"{what} is {value!r}; expected a fraction in [0, 1]")
    return v


def require_positive(what: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float > 0 (or >= 0) or raise naming ``what``."""
    v = float(value)
    if not (v >= 0.0 if allow_zero else v > 0.0) or v != v:
        bound = ">= 0" if allow_zero else "> 0"
        raise ContagionInputError(f"{what} is {value!r}; expected a number {bound}")
    return v


def require_choice(what: str, value: str, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise listing them."""
    opts = list(options)
    if value not in opts:
        raise ContagionInputError(f"{what} is {value!r}; expected one of: {', '.join(opts)}")
    return value


def require_known_ids(ids: Iterable[str], network: ExposureNetwork, what: str) -> np.ndarray:
    """Return the positions of ``ids`` in ``network``; raise naming the first unknown id."""
    ids = list(ids)
    index = network.index()
    missing = [i for i in ids if i not in index]
    if missing:
        raise ContagionInputError(f"{what}: unknown node id '{missing[0]}'")
    return np.array([index[i] for i in ids], dtype=np.int64)


def require_nonnegative(values: np.ndarray, ids: Sequence[str], what: str) -> None:
    """Raise naming the first node whose ``what`` is negative or not a number."""
    bad = np.flatnonzero(~(np.asarray(values, dtype=np.float64) >= 0.0))
    if bad.size:
        k = int(bad[0])
        raise ContagionInputError(f"{what} of '{ids[k]}' is {float(values[k])!r}; expected >= 0")


def initial_stress(
    network: ExposureNetwork,
    shocks: Mapping[str, float] | None,
    defaults: Iterable[str] = (),
) -> np.ndarray:
    """Return h(0): shocked fractions, 1 for defaulted ids; validates ids and fractions."""
    h0 = np.zeros(network.n)
    shocks = dict(shocks or {})
    for id_, f in shocks.items():
        require_fraction(f"shock for '{id_}'", f)
    if shocks:
        pos = require_known_ids(shocks, network, "shock")
        h0[pos] = np.fromiter((float(v) for v in shocks.values()), dtype=np.float64)
    defaults = list(defaults)
    if defaults:
        h0[require_known_ids(defaults, network, "default")] = 1.0
    return h0


# -- CSV reading ------------------------------------------------------------------------


def read_table(path: str | Path, text_columns: Sequence[str]) -> pa.Table:
    """Read a CSV with pyarrow (multi-threaded); ``text_columns`` are kept as strings.

    Column names are stripped of surrounding spaces; a malformed file raises
    :class:`ContagionInputError` naming it.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path.name}: no such file")
    text = {c: pa.string() for c in text_columns}
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types=text, strings_can_be_null=False),
        )
    except pa.ArrowInvalid as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable CSV"
        raise ContagionInputError(f"{path.name}: {first}") from err
    names = [str(c).strip() for c in table.column_names]
    if names != table.column_names:
        table = table.rename_columns(names)
        if any(n in text_columns for n in names):
            table = pa.table(
                {
                    n: (table[n].cast(pa.string()) if n in text_columns else table[n])
                    for n in names
                }
            )
    return table


def require_column(table: pa.Table, column: str, file: str) -> None:
    """Raise if ``column`` is missing from ``file``."""
    if column not in table.column_names:
        have = ", ".join(map(str, table.column_names)) or "none"
        raise ContagionInputError(f"{file}: missing column '{column}' (columns: {have})")


def text_column(table: pa.Table, column: str, file: str, what: str = "id") -> pa.Array:
    """Return ``column`` as one arrow string array; raise naming the first empty value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    require_column(table, column, file)
    arr = table[column].combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    if arr.null_count or len(arr) and pc.any(pc.equal(pc.utf8_length(arr), 0)).as_py():
        blank = pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True)
        k = int(np.flatnonzero(blank.to_numpy(zero_copy_only=False))[0])
        raise ContagionInputError(f"{file} row {row_of(k)}, field '{column}': empty {what}")
    return arr


def numeric_column(
    table: pa.Table,
    column: str,
    file: str,
    *,
    nonnegative: bool = True,
    fraction: bool = False,
) -> np.ndarray:
    """Return ``column`` as float64, raising on the first non-numeric, negative or >1 value."""
    import pyarrow as pa

    require_column(table, column, file)
    raw = table[column]
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        values = np.asarray(
            raw.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    else:
        import pandas as pd

        values = pd.to_numeric(
            pd.Series(raw.to_pylist(), dtype=object), errors="coerce"
        ).to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        k = int(bad[0])
        shown = raw[k].as_py()
        text = "" if shown is None else str(shown)
        raise ContagionInputError(
            f"{file} row {row_of(k)}, field '{column}': non-numeric value {text!r}"
        )
    if nonnegative:
        neg = np.flatnonzero(values < 0.0)
        if neg.size:
            k = int(neg[0])
            raise ContagionInputError(
                f"{file} row {row_of(k)}, field '{column}': negative amount {float(values[k])!r}"
            )
    if fraction:
        out = np.flatnonzero(values > 1.0)
        if out.size:
            k = int(out[0])
            raise ContagionInputError(
                f"{file} row {row_of(k)}, field '{column}': {float(values[k])!r} is not a fraction "
                "in [0, 1]"
            )
    return values


def positions(
    table: pa.Table, column: str, index: pa.Array, file: str, kind: str = "node"
) -> np.ndarray:
    """Map an id column to positions in ``index`` (hashing each distinct id once)."""
    import pyarrow.compute as pc

    arr = text_column(table, column, file)
    encoded = pc.dictionary_encode(arr)
    lookup = pc.fill_null(pc.index_in(encoded.dictionary, value_set=index), -1)
    pos: np.ndarray = np.asarray(lookup.to_numpy(zero_copy_only=False), dtype=np.int64)[
        encoded.indices.to_numpy(zero_copy_only=False)
    ]
    bad = np.flatnonzero(pos < 0)
    if bad.size:
        k = int(bad[0])
        raise ContagionInputError(
            f"{file} row {row_of(k)}, field '{column}': unknown {kind} id '{arr[k].as_py()}'"
        )
    return pos
