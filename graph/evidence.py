"""Evidence as a reader sees it: titles, documents, pages, and the sentence in its source.

Relation titles say when a statement is hedged or denied; the documents behind relations
are read in one query; relations are paged with no silent cap; a source document is read
back so that the app can show a sentence in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from graph.numbers import money, when
from graph.store.base import RelationRecord

__all__ = [
    "DocumentTitle",
    "Page",
    "document_text",
    "document_titles",
    "page_of",
    "relation_title",
]


def relation_title(rel: RelationRecord, names: Mapping[str, str]) -> str:
    """Title a relation as it is stated: denied ("not:") and hedged ones say so.

    Examples
    --------
    >>> r = RelationRecord("r1", "binance", "ACQUIRED", "ftx", "d1", 0.7, negated=True,
    ...                    hedged=True, date="2022-11-09")
    >>> relation_title(r, {"binance": "Binance", "ftx": "FTX"})
    'not: Binance ACQUIRED FTX · hedged · 9 Nov 2022'
    >>> relation_title(RelationRecord("r2", "a", "LENT_TO", "b", "d1", 0.9, amount=4e9), {})
    'a LENT_TO b · $4.0bn'
    """
    parts = [
        ("not: " if rel.negated else "")
        + f"{names.get(rel.head, rel.head)} {rel.type} {names.get(rel.tail, rel.tail)}"
    ]
    if rel.hedged:
        parts.append("hedged")
    if rel.amount is not None:
        parts.append(money(rel.amount, rel.currency))
    if rel.date:
        parts.append(when(rel.date))
    return " · ".join(parts)


@dataclass(frozen=True)
class DocumentTitle:
    """A document's id, title and source, as the evidence table shows it."""

    id: str
    title: str
    source: str


def document_titles(store: Any, ids: Iterable[str]) -> dict[str, DocumentTitle]:
    """Titles and sources of the documents ``ids`` in one read (missing ids left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    result = store.cypher(
        "MATCH (d:Document) WHERE d.id IN $ids RETURN d.id AS id, d.title AS title, "
        "d.source AS source",
        {"ids": wanted},
    )
    return {
        r["id"]: DocumentTitle(r["id"], r["title"] or "", r["source"] or "") for r in result.rows
    }


@dataclass(frozen=True)
class Page:
    """One page of a list: the items, which page, how many pages, and the range shown."""

    items: tuple[Any, ...]
    number: int
    pages: int
    first: int
    last: int
    total: int

    def describe(self, noun: str = "relations") -> str:
        """Say what the page shows.

        Examples
        --------
        >>> page_of(list(range(66)), 3, 25).describe()
        'relations 51–66 of 66 (page 3 of 3)'
        """
        if not self.total:
            return f"no {noun}"
        return (f"{noun} {self.first}–{self.last} of {self.total} "
                f"(page {self.number} of {self.pages})")  # fmt: skip


def page_of(items: Sequence[Any], number: int, size: int = 25) -> Page:
    """Return page ``number`` (from 1, clamped) of ``items``, ``size`` a page: nothing dropped.

    Examples
    --------
    >>> p = page_of(list(range(66)), 1, 25)
    >>> (len(p.items), p.pages, p.first, p.last)
    (25, 3, 1, 25)
    """
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    chunk = tuple(items[start : start + size])
    return Page(chunk, number, pages, start + 1 if chunk else 0, start + len(chunk), len(items))


def document_text(source: str) -> str | None:
    """Read a document's text back from its source, if it is still there.

    A path as given (absolute, or relative to the working directory), then the sample
    corpus shipped in the package (``ontologies/corpus/...`` or ``sample/NAME``). ``None``
    when neither is.

    Examples
    --------
    >>> document_text("sample/ftx-wire-01.txt")[:3] != ""
    True
    >>> document_text("nowhere/at-all.txt") is None
    True
    """
    path = Path(source)
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
        root = files("ontologies")
        if source.startswith("ontologies/"):
            candidates = [root.joinpath(*source.split("/")[1:])]
        elif source.startswith("sample/"):  # the sample corpus, as the app loads it
            name = source.removeprefix("sample/")
            candidates = [root.joinpath("corpus", split, name) for split in ("train", "heldout")]
        else:
            candidates = []
        for shipped in candidates:
            if shipped.is_file():
                return shipped.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return None
