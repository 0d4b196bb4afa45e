"""Documented assumptions: the values used where the text states no amount or equity.

An :class:`Assumption` is one row ``kind, target, field, value, rule``:

- ``kind`` is ``entity`` (``target`` an entity id), ``entity_type`` (``target`` an
  entity kind such as ``Exchange``), ``relation`` (``target`` a relation id or
  ``TYPE:head->tail``, e.g. ``LENT_TO:ftx->alameda``; fields ``amount``, ``quantity``,
  ``fraction``), ``relation_type`` (``target`` a relation type such as ``LENT_TO``) or ``token``
  (``target`` a token id);
- ``target`` may be ``*`` for every target of that kind;
- ``rule`` says in words why the value is what it is; it is shown beside every
  number the assumption produces.

The defaults ship as data in ``ontologies/assumptions.csv``; a user CSV with the same
columns (``fallout shock --assumptions FILE``) or a list of rows passed to
:func:`merge_assumptions` overrides them row by row.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from graph.errors import ContagionInputError

__all__ = [
    "ASSUMPTION_COLUMNS",
    "ASSUMPTION_KINDS",
    "Assumption",
    "AssumptionBook",
    "default_assumptions",
    "merge_assumptions",
    "read_assumptions",
]

ASSUMPTION_COLUMNS = ("kind", "target", "field", "value", "rule")
ASSUMPTION_KINDS = ("entity", "entity_type", "relation", "relation_type", "token")


@dataclass(frozen=True)
class Assumption:
    """One assumption row: ``value`` for ``field`` of ``target`` (of ``kind``), with its rule."""

    kind: str
    target: str
    field: str
    value: float
    rule: str
    source: str = "default"

    def key(self) -> tuple[str, str, str]:
        """Return ``(kind, target, field)``, the identity a later row overrides."""
        return (self.kind, self.target, self.field)

    def to_dict(self) -> dict[str, object]:
        """Return the row as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "target": self.target,
            "field": self.field,
            "value": self.value,
            "rule": self.rule,
            "source": self.source,
        }


def _parse_rows(rows: Iterable[dict[str, str]], source: str) -> list[Assumption]:
    out: list[Assumption] = []
    for line, row in enumerate(rows, start=2):
        kind = (row.get("kind") or "").strip()
        if kind not in ASSUMPTION_KINDS:
            raise ContagionInputError(
                f"{source}: row {line}, field 'kind': {kind!r} is not one of "
                f"{', '.join(ASSUMPTION_KINDS)}"
            )
        target = (row.get("target") or "").strip()
        field = (row.get("field") or "").strip()
        for name, value in (("target", target), ("field", field)):
            if not value:
                raise ContagionInputError(f"{source}: row {line}, field '{name}' is empty")
        raw = (row.get("value") or "").strip()
        try:
            number = float(raw)
        except ValueError:
            raise ContagionInputError(
                f"{source}: row {line}, field 'value': {raw!r} is not a number"
            ) from None
        if not math.isfinite(number) or number < 0:
            raise ContagionInputError(
                f"{source}: row {line}, field 'value': {raw!r} must be finite and >= 0"
            )
        rule = (row.get("rule") or "").strip() or f"set in {source}"
        out.append(Assumption(kind, target, field, number, rule, source))
    return out


def read_assumptions(path: str | Path) -> list[Assumption]:
    """Read assumption rows from a CSV with columns ``kind,target,field,value,rule``.

    Parameters
    ----------
    path : str or Path
        The CSV file; ``rule`` may be left empty.

    Returns
    -------
    list of Assumption
        The rows in file order, each with ``source`` set to the file name.

    Raises
    ------
    ContagionInputError
        A column is missing, or a row has an unknown kind, an empty field or a value
        that is not a non-negative number; the message names the file, row and field.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ASSUMPTION_COLUMNS[:4] if c not in (reader.fieldnames or ())]
        if missing:
            raise ContagionInputError(f"{path.name}: missing column '{missing[0]}'")
        return _parse_rows(reader, path.name)


def default_assumptions() -> list[Assumption]:
    """Return the shipped default rules (``ontologies/assumptions.csv``).

    Examples
    --------
    >>> rows = default_assumptions()
    >>> any(a.kind == "entity_type" and a.field == "equity" for a in rows)
    True
    """
    text = files("ontologies").joinpath("assumptions.csv").read_text(encoding="utf-8")
    return _parse_rows(csv.DictReader(text.splitlines()), "assumptions.csv")


class AssumptionBook:
    """Assumption rows indexed for lookup, most specific target first.

    Parameters
    ----------
    rows : sequence of Assumption
        Later rows override earlier ones with the same ``(kind, target, field)``.

    Examples
    --------
    >>> book = AssumptionBook([Assumption("entity_type", "*", "equity", 5.0, "any")])
    >>> book.lookup("entity_type", "Lender", "equity").value
    5.0
    """

    def __init__(self, rows: Sequence[Assumption]) -> None:
        self._rows: dict[tuple[str, str, str], Assumption] = {}
        for row in rows:
            self._rows[row.key()] = row

    @property
    def rows(self) -> tuple[Assumption, ...]:
        """Every row in force, in insertion order."""
        return tuple(self._rows.values())

    def get(self, kind: str, target: str, field: str) -> Assumption | None:
        """Return the row for exactly this target (no wildcard), or ``None``."""
        return self._rows.get((kind, target, field))

    def lookup(self, kind: str, target: str, field: str) -> Assumption | None:
        """Return the row for ``target``, else the wildcard ``*`` row, else ``None``."""
        return self._rows.get((kind, target, field)) or self._rows.get((kind, "*", field))


def merge_assumptions(*layers: Iterable[Assumption]) -> list[Assumption]:
    """Merge layers of rows; a row of a later layer replaces one with the same key.

    Examples
    --------
    >>> base = [Assumption("token", "*", "price", 1.0, "index")]
    >>> user = [Assumption("token", "*", "price", 2.0, "mine", "user.csv")]
    >>> [a.value for a in merge_assumptions(base, user)]
    [2.0]
    """
    merged: dict[tuple[str, str, str], Assumption] = {}
    for layer in layers:
        for row in layer:
            merged[row.key()] = row
    return list(merged.values())
