"""The graph as known on a date: statements by the day they refer to, and a day-by-day replay.

A statement's day is its ``date`` (from the text or the document's own date, as the
extractor resolved it). A month (``2022-11``) counts from its first day, a quarter
(``2022-Q4``) from the first day of the quarter, a year from 1 January. Statements with
no date are kept at every date: nothing says when they became known.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from graph.store.base import GraphDump, RelationRecord, Subgraph

__all__ = ["as_of", "day_of", "days", "dump_as_of", "new_on"]


def day_of(text: str | None) -> date | None:
    """Return the first day a statement's date covers (``None``: no date, or unreadable).

    Examples
    --------
    >>> day_of("2022-11-08"), day_of("2022-11"), day_of("2022-Q4"), day_of("2022")
    (datetime.date(2022, 11, 8), datetime.date(2022, 11, 1), datetime.date(2022, 10, 1), datetime.date(2022, 1, 1))
    >>> day_of(None), day_of("soon")
    (None, None)
    """  # noqa: E501
    if not text:
        return None
    t = text.strip()
    try:
        if len(t) == 10:
            return date.fromisoformat(t)
        if len(t) == 7 and t[5] == "Q":
            return date(int(t[:4]), 3 * (int(t[6]) - 1) + 1, 1)
        if len(t) == 7:
            return date(int(t[:4]), int(t[5:7]), 1)
        if len(t) == 4:
            return date(int(t), 1, 1)
    except ValueError:
        return None
    return None


def _known(rel: RelationRecord, day: date) -> bool:
    when = day_of(rel.date)
    return when is None or when <= day


def as_of(sub: Subgraph, day: date) -> Subgraph:
    """Return the subgraph as known on ``day``: statements dated after it are left out.

    Examples
    --------
    >>> from graph.store.base import EntityRecord as E
    >>> sub = Subgraph((E("a", "A", "Bank"), E("b", "B", "Bank")),
    ...     (RelationRecord("r1", "a", "LENT_TO", "b", "d", 0.9, date="2022-11-02"),
    ...      RelationRecord("r2", "b", "LENT_TO", "a", "d", 0.9, date="2022-11-10")))
    >>> [r.id for r in as_of(sub, date(2022, 11, 5)).relations]
    ['r1']
    """
    return Subgraph(sub.entities, tuple(r for r in sub.relations if _known(r, day)))


def dump_as_of(dump: GraphDump, day: date) -> GraphDump:
    """Return the whole graph as known on ``day`` (a cascade run with what was known then)."""
    return GraphDump(
        dump.entities, tuple(r for r in dump.relations if _known(r, day)), dump.documents
    )


def days(relations: Iterable[RelationRecord]) -> list[date]:
    """Return the distinct days the statements refer to, in order."""
    return sorted({d for d in (day_of(r.date) for r in relations) if d is not None})


def new_on(relations: Iterable[RelationRecord], day: date) -> list[RelationRecord]:
    """Return the statements that refer to ``day`` itself: the edges a replay adds that day."""
    return [r for r in relations if day_of(r.date) == day]
