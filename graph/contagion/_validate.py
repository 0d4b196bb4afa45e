"""Preconditions shared by the contagion models and the CSV/Parquet reader (vectorised checks).

The input contract: a blank cell (empty or spaces in CSV, null in Parquet) means "not given";
what it then stands for is decided per column by the reader (``external_liabilities``: 0) or
by the model that reads the column (:func:`node_column` names the file, row and field). NaN
and inf are never "not given": they are refused by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from graph.errors import ContagionInputError
from graph.validation import MAX_NAME_CHARS, text_problem, where

if TYPE_CHECKING:
    import pyarrow as pa

    from graph.contagion.network import ExposureNetwork

__all__ = [
    "INSOLVENT",
    "PARQUET_SUFFIXES",
    "initial_stress",
    "node_column",
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
    "starting_equity",
    "text_column",
]

#: file suffixes read as Parquet; every other file is read as CSV
PARQUET_SUFFIXES = (".parquet", ".pq")

#: how the equity-reading models treat a node whose equity is negative (echoed in ``params``)
INSOLVENT = "equity < 0: in default in round 0 (h = 1)"


def _is_parquet(file: str | Path) -> bool:
    return str(file).lower().endswith(PARQUET_SUFFIXES)


def row_of(k: int, file: str | Path = "") -> int:
    """Row number, in ``file``, of the ``k``-th record (0-based).

    In a CSV file the header is row 1, so the first record is row 2; a Parquet file has no
    header line and its first record is row 1.
    """
    return int(k) + (1 if _is_parquet(file) else 2)


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
    """Raise naming the first node whose ``what`` is negative, infinite or not a number."""
    v = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~((v >= 0.0) & np.isfinite(v)))
    if bad.size:
        k = int(bad[0])
        raise ContagionInputError(
            f"{what} of '{ids[k]}' is {float(v[k])!r}; expected a finite number >= 0"
        )


def node_column(network: ExposureNetwork, column: str, model: str) -> np.ndarray:
    """Return the per-node ``column`` that ``model`` reads, given for every node.

    Raises :class:`ContagionInputError` when the column is missing, when a node's value is
    not given (NaN: a blank cell) or is infinite. A network read from a file is named by
    file, row and field; one built in code by node id.
    """
    values = getattr(network, column)
    source = network.source
    file = source.file if source is not None else "nodes.csv"
    arr = np.zeros(0) if values is None else np.asarray(values, dtype=np.float64)
    absent = source is not None and column not in source.columns
    if values is None or (absent and arr.size and np.isnan(arr).all()):
        raise ContagionInputError(f"{file}: missing column '{column}' (needed by {model})")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        k = int(bad[0])
        v = float(arr[k])
        problem = "not given" if math.isnan(v) else f"{v!r}; expected a finite number"
        if source is not None:
            where = f"{file} row {row_of(k, file)}, field '{column}': "
        else:
            where = f"{column} of '{network.ids[k]}' is "
        raise ContagionInputError(f"{where}{problem} (needed by {model})")
    return arr


def starting_equity(network: ExposureNetwork, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the equity ``model`` starts from (negative values as 0) and who is insolvent.

    Negative equity is valid input: the node is insolvent before the shock, so the
    equity-reading models start it in default (see :data:`INSOLVENT`) with nothing left
    to lose.
    """
    equity = node_column(network, "equity", model)
    return np.maximum(equity, 0.0), equity < 0.0


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
    """Read a CSV (multi-threaded) or a Parquet file (by suffix) into one arrow table.

    In CSV, ``text_columns`` are kept as strings, and only an empty cell is null ("not
    given"): ``nan``, ``inf`` or ``NA`` stay what they say, so they can be refused by name.
    Parquet columns keep their types; :func:`text_column` turns ids into strings. Column
    names are stripped of surrounding spaces; an unreadable file raises
    :class:`ContagionInputError` naming it.
    """
    import pyarrow as pa

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path.name}: no such file")
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in text_columns},
                    strings_can_be_null=False,
                    null_values=[""],
                ),
            )
    except (pa.ArrowInvalid, OSError) as err:
        kind = "Parquet" if _is_parquet(path) else "CSV"
        first = str(err).strip().splitlines()[0] if str(err).strip() else f"unreadable {kind}"
        raise ContagionInputError(f"{path.name}: {first}") from err
    names = [str(c).strip() for c in table.column_names]
    if names != table.column_names:
        table = table.rename_columns(names)
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
        raise ContagionInputError(f"{file} row {row_of(k, file)}, field '{column}': empty {what}")
    # the size bound of every id and name, shared with the facts (graph.validation)
    if len(arr) and pc.max(pc.utf8_length(arr)).as_py() > MAX_NAME_CHARS:
        long = pc.greater(pc.utf8_length(arr), MAX_NAME_CHARS)
        k = int(np.flatnonzero(long.to_numpy(zero_copy_only=False))[0])
        raise ContagionInputError(
            f"{where(file, row=row_of(k, file), field=column)}: {what} of "
            f"{text_problem(arr[k].as_py())}"
        )
    return arr


def _floats(raw: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(values, blank, text)``: float64 values, blank cells, cells that are not numbers.

    Numeric arrow columns convert directly (null is blank). Text columns (CSV cells that
    did not all parse, Parquet strings) are trimmed; an empty cell is blank, and a cell
    that does not parse as a number is ``text`` (``NaN`` and ``inf`` do parse).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = raw.type
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_null(kind)
        or (pa.types.is_decimal(kind))
    ):
        values = np.asarray(raw.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
        blank = np.asarray(raw.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return values, blank, np.zeros(len(values), dtype=bool)
    import pandas as pd

    trimmed = pc.utf8_trim_whitespace(raw.cast(pa.string()))
    blank = np.asarray(
        pc.fill_null(pc.equal(pc.utf8_length(trimmed), 0), True).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    texts = pd.Series(trimmed.to_pandas(), dtype=object)
    values = np.array(
        pd.to_numeric(texts, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    unparsed = np.isnan(values) & ~blank
    if unparsed.any():
        spelled = texts[unparsed].str.lower().str.lstrip("+-").isin(("nan",)).to_numpy(bool)
        unparsed[np.flatnonzero(unparsed)[spelled]] = False
    values[blank] = np.nan
    return values, blank, unparsed


def numeric_column(
    table: pa.Table,
    column: str,
    file: str,
    *,
    nonnegative: bool = True,
    fraction: bool = False,
    blank: float | None = None,
) -> np.ndarray:
    """Return ``column`` as float64, naming the file, row and field of the first bad value.

    A blank cell becomes ``blank`` (``math.nan``: "not given", for the model to judge);
    with ``blank=None`` it is refused as not given. Text that is not a number, NaN, inf,
    a negative value (with ``nonnegative``) and a value above 1 (with ``fraction``) are
    refused, each by name.
    """
    require_column(table, column, file)
    raw = table[column]
    values, empty, text = _floats(raw)

    def fail(k: int, problem: str) -> ContagionInputError:
        return ContagionInputError(f"{file} row {row_of(k, file)}, field '{column}': {problem}")

    if blank is None and empty.any():
        raise fail(int(np.flatnonzero(empty)[0]), "not given")
    if text.any():
        k = int(np.flatnonzero(text)[0])
        raise fail(k, f"non-numeric value {str(raw[k].as_py())!r}")
    bad = np.flatnonzero(~np.isfinite(values) & ~empty)
    if bad.size:
        k = int(bad[0])
        named = "NaN" if math.isnan(values[k]) else repr(float(values[k]))
        raise fail(k, f"{named}; expected a finite number")
    if nonnegative:
        neg = np.flatnonzero(values < 0.0)
        if neg.size:
            raise fail(int(neg[0]), f"negative amount {float(values[neg[0]])!r}")
    if fraction:
        out = np.flatnonzero(values > 1.0)
        if out.size:
            raise fail(int(out[0]), f"{float(values[out[0]])!r} is not a fraction in [0, 1]")
    if blank is not None and empty.any():
        values[empty] = blank
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
            f"{file} row {row_of(k, file)}, field '{column}': unknown {kind} id '{arr[k].as_py()}'"
        )
    return pos
