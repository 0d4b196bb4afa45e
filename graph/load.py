"""Facts -> store rows: stable relation ids, entity merging, and batches of whole documents.

A batch never splits a document, so a store can replace a re-loaded document's
relationships inside the batch's transaction. One relationship is one statement:
a relation as stated by one evidence sentence of one document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from extract.model import Facts
from graph.errors import UsageError
from graph.validation import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    FactsRefused,
    check_facts,
    read_checked_facts,
)

__all__ = [
    "REL_COLUMNS",
    "Batch",
    "INGESTED_AT",
    "EntityRow",
    "batches",
    "merge_entity",
    "read_facts",
    "relation_id",
]

_ATTRS = ("equity", "total_assets", "deposits")
_ENTITY_GET = itemgetter("id", "name", "type", "aliases", *_ATTRS)
_EVIDENCE_GET = attrgetter("evidence")


INGESTED_AT: ContextVar[str | None] = ContextVar("fallout_ingested_at", default=None)
"""When set, the ingest time the documents loaded now keep (an import of an export)."""


def relation_id(document_id: str, rel_type: str, head: str, tail: str, start: int | None) -> str:
    """Stable id of one stated relation: a hash of document, type, endpoints, evidence start.

    Examples
    --------
    >>> relation_id("doc1", "LENT_TO", "ftx", "alameda", 40)
    'r-099bd600b22ad2293b8d3d9d'
    >>> relation_id("doc1", "LENT_TO", "ftx", "alameda", 40) == relation_id(
    ...     "doc1", "LENT_TO", "ftx", "alameda", 41)
    False
    """
    key = "\x1f".join((document_id, rel_type, head, tail, "" if start is None else str(start)))
    return "r-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass
class EntityRow:
    """An entity as it will be written: the union of what the batch's documents say."""

    id: str
    name: str
    type: str
    aliases: list[str] = field(default_factory=list)
    equity: float | None = None
    total_assets: float | None = None
    deposits: float | None = None
    attr_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the row as a plain dict (the driver and table parameters)."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "aliases": list(self.aliases),
            "equity": self.equity,
            "total_assets": self.total_assets,
            "deposits": self.deposits,
            "attr_source": self.attr_source,
        }


def merge_entity(old: EntityRow, new: EntityRow) -> EntityRow:
    """Merge ``new`` into ``old``: the first name and kind stay, aliases are a union.

    Attributes (equity, total assets, deposits) fill gaps only, and ``attr_source``
    names the document that supplied the first of them.

    Examples
    --------
    >>> a = EntityRow("ftx", "FTX", "Exchange", ["FTX.com"])
    >>> b = EntityRow("ftx", "FTX Trading", "Company", ["FTX"], equity=1.0, attr_source="d2")
    >>> m = merge_entity(a, b)
    >>> (m.name, m.type, m.aliases, m.equity, m.attr_source)
    ('FTX', 'Exchange', ['FTX.com', 'FTX Trading'], 1.0, 'd2')
    """
    aliases = list(old.aliases)
    for alias in (*new.aliases, new.name):
        if alias != old.name and alias not in aliases:
            aliases.append(alias)
    has_attrs = any(getattr(old, a) is not None for a in _ATTRS)
    return EntityRow(
        id=old.id,
        name=old.name,
        type=old.type,
        aliases=aliases,
        equity=old.equity if old.equity is not None else new.equity,
        total_assets=old.total_assets if old.total_assets is not None else new.total_assets,
        deposits=old.deposits if old.deposits is not None else new.deposits,
        attr_source=old.attr_source if has_attrs else new.attr_source,
    )


REL_COLUMNS = (
    "head", "tail", "id", "document_id", "confidence", "amount", "currency", "asset",
    "quantity", "date", "status", "to", "negated", "hedged", "speaker", "evidence",
    "start", "end",
)  # fmt: skip
"""Columns of a :meth:`Batch.relation_tables` table, in order."""

_FLOAT = ("confidence", "amount", "quantity")
_BOOL = ("negated", "hedged")
_INT = ("start", "end")


def _arrow_type(pa: Any, column: str) -> Any:
    if column in _FLOAT:
        return pa.float64()
    if column in _BOOL:
        return pa.bool_()
    if column in _INT:
        return pa.int64()
    return pa.string()


@dataclass
class Batch:
    """Whole documents, ready to write in one transaction (or one journalled append).

    ``entities`` is the union of what the documents say of each entity. The relations
    come in two shapes from the same facts: :attr:`relations`, one dict per statement
    (parameter rows for Neo4j), and :meth:`relation_tables`, one Arrow table per
    relation type, built with no Python object per row (bulk ``COPY`` for LadybugDB).
    """

    ingested_at: str
    facts: dict[str, Facts] = field(default_factory=dict)
    entities: dict[str, EntityRow] = field(default_factory=dict)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The batch's documents as rows, in loading order."""
        return [
            {
                "id": f.document.id,
                "title": f.document.title,
                "source": f.document.source,
                "ingested_at": self.ingested_at,
                # the entities it names, so forgetting it can tell which are left unsupported
                "entities": sorted({e.id for e in f.entities}),
            }
            for f in self.facts.values()
        ]

    def check(self) -> None:
        """Raise ``FactsRefused`` listing every problem of the batch's documents.

        The rules are :func:`graph.validation.check_facts`. :attr:`relations` (the rows
        Neo4j is given) checks every document first. :meth:`relation_tables` checks the
        relation rules on its Arrow columns (no Python per row: the embedded load stays
        as fast as before) and calls this only to name what it found.
        """
        problems = [p for facts in self.facts.values() for p in check_facts(facts)]
        if problems:
            raise FactsRefused(problems)

    @cached_property
    def relations(self) -> list[dict[str, Any]]:
        """One row per statement (relation and evidence sentence), documents in order."""
        self.check()
        return [row for facts in self.facts.values() for row in _relation_rows(facts)]

    def relations_by_type(self) -> dict[str, list[dict[str, Any]]]:
        """Relation rows grouped by relation type."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.relations:
            grouped.setdefault(row["type"], []).append(row)
        return grouped

    def relation_tables(self) -> dict[str, Any]:
        """One ``pyarrow.Table`` per relation type, columns in :data:`REL_COLUMNS` order.

        A relation stated by several evidence sentences is one row per sentence, and a
        row repeated within a document (same id) is kept once, as :func:`batches` does.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        rels: list[dict[str, Any]] = []  # the relations' fields, one dict each
        evidence: list[dict[str, Any] | None] = []  # one per statement
        take: list[int] = []  # statement -> relation
        doc_col: list[str] = []
        for doc, facts in self.facts.items():
            fields = [r.__dict__ for r in facts.relations]
            evs = [f["evidence"] for f in fields]
            if all(len(e) == 1 for e in evs):  # the usual case: one sentence per relation
                take += range(len(rels), len(rels) + len(fields))
                evidence += [e[0].__dict__ for e in evs]
                doc_col += [doc] * len(fields)
            else:
                for n, statements in enumerate(evs, start=len(rels)):
                    for ev in statements or (None,):
                        take.append(n)
                        evidence.append(None if ev is None else ev.__dict__)
                        doc_col.append(doc)
            rels += fields
        if not take:
            return {}
        own = [c for c in REL_COLUMNS if c not in ("id", "document_id", "evidence", "start", "end")]
        struct = pa.struct([(c, _arrow_type(pa, c)) for c in (*own, "type")])
        table = pa.Table.from_struct_array(pa.array(rels, type=struct))
        if len(take) != len(rels) or take[-1] != len(rels) - 1:
            table = table.take(pa.array(take, pa.int64()))
        ev_type = pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
        ev = pa.Table.from_struct_array(pa.array(evidence, type=ev_type))
        documents = pa.array(doc_col, pa.string())
        keys = pc.binary_join_element_wise(
            documents,
            table["type"],
            table["head"],
            table["tail"],
            pc.fill_null(pc.cast(ev["start"], pa.string()), ""),
            "\x1f",
        )
        sha = hashlib.sha256
        ids = ["r-" + sha(k.encode()).hexdigest()[:24] for k in keys.to_pylist()]
        columns = {c: table[c] for c in own}
        columns["id"] = pa.array(ids, pa.string())
        columns["document_id"] = documents
        columns["evidence"] = pc.fill_null(ev["text"], "")
        columns["start"] = ev["start"]
        columns["end"] = ev["end"]
        columns["type"] = table["type"]
        whole = pa.table({c: columns[c] for c in (*REL_COLUMNS, "type")})
        if not _rows_pass(whole):
            self.check()  # names each problem (raises FactsRefused)
        if len(set(ids)) != len(ids):  # a statement repeated within a document
            first: dict[str, int] = {}
            for i, rid in enumerate(ids):
                first.setdefault(rid, i)
            whole = whole.take(pa.array(sorted(first.values()), pa.int64()))
        kinds = whole["type"]
        whole = whole.drop_columns(["type"])
        return {
            str(kind): whole.filter(pc.equal(kinds, kind))
            for kind in sorted(pc.unique(kinds).to_pylist())
        }


def _rows_pass(table: Any) -> bool:
    """Whether the statements of a relation table keep the relation rules, column-wise.

    Amounts and quantities >= 0, no self-loop, evidence (a sentence, not blank, no longer
    than the limit, ending after it starts) for every statement, short fields within
    their limit: the rules of :func:`graph.validation.check_facts` that rows can break.
    """
    import pyarrow.compute as pc

    if not table.num_rows:
        return True
    for column in ("amount", "quantity"):
        low = pc.min(table[column]).as_py()
        if low is not None and not low >= 0:
            return False
    if pc.any(pc.equal(table["head"], table["tail"])).as_py():
        return False
    if table["start"].null_count or table["end"].null_count:
        return False  # a relation without evidence
    text = table["evidence"]
    if pc.min(pc.utf8_length(pc.utf8_trim_whitespace(text))).as_py() == 0:
        return False
    if pc.max(pc.utf8_length(text)).as_py() > MAX_TEXT_CHARS:
        return False
    if pc.any(pc.greater(table["start"], table["end"])).as_py():
        return False
    for column in ("currency", "asset", "date", "status", "to", "speaker"):
        longest = pc.max(pc.utf8_length(table[column])).as_py()
        if longest is not None and longest > MAX_NAME_CHARS:
            return False
    return True


def _endpoints_known(facts: Facts) -> bool:
    """Whether every relation's head and tail is an entity of its own document."""
    known = {e.id for e in facts.entities}
    rels = facts.relations
    return known.issuperset(r.head for r in rels) and known.issuperset(r.tail for r in rels)


def _entity_row(entity: Any, document_id: str) -> EntityRow:
    id_, name, kind, aliases, equity, total_assets, deposits = _ENTITY_GET(entity.__dict__)
    if name in aliases or len(set(aliases)) != len(aliases):
        aliases = dict.fromkeys(a for a in aliases if a != name)
    has_attrs = equity is not None or total_assets is not None or deposits is not None
    return EntityRow(
        id_,
        name,
        kind.value,
        list(aliases),
        equity,
        total_assets,
        deposits,
        document_id if has_attrs else None,
    )


def _relation_rows(facts: Facts) -> list[dict[str, Any]]:
    """One dict per statement of one document; a statement repeated is kept once."""
    doc = facts.document.id
    rows: dict[str, dict[str, Any]] = {}
    for rel in facts.relations:
        kind = rel.type.value
        for ev in rel.evidence or (None,):
            start = ev.start if ev is not None else None
            rid = relation_id(doc, kind, rel.head, rel.tail, start)
            if rid in rows:
                continue
            rows[rid] = {
                "id": rid,
                "head": rel.head,
                "type": kind,
                "tail": rel.tail,
                "document_id": doc,
                "confidence": rel.confidence,
                "amount": rel.amount,
                "currency": rel.currency,
                "asset": rel.asset,
                "quantity": rel.quantity,
                "date": rel.date,
                "status": rel.status,
                "to": rel.to,
                "negated": rel.negated,
                "hedged": rel.hedged,
                "speaker": rel.speaker,
                "evidence": ev.text if ev is not None else "",
                "start": start,
                "end": ev.end if ev is not None else None,
            }
    return list(rows.values())


def _statement_count(facts: Facts) -> int:
    """Statements of one document (a relation without evidence is one), at least 1."""
    sizes = list(map(len, map(_EVIDENCE_GET, facts.relations)))
    return max(sum(sizes) + sizes.count(0), 1)


def batches(
    facts: Iterable[Facts], *, batch_size: int = 5000, ingested_at: str | None = None
) -> Iterator[Batch]:
    """Group facts into batches of whole documents holding about ``batch_size`` statements.

    A document stated twice in one batch is kept once (the last one wins). A relation
    that points at an entity its document does not list raises ``FactsRefused`` before
    the batch is yielded. The other rules of :func:`graph.validation.check_facts` are
    checked before a row of the batch is written: all of them, document by document, for
    the rows Neo4j is given (:attr:`Batch.relations`); the relation rules (amounts >= 0,
    no self-loop, evidence for every relation, field sizes) column-wise on the embedded
    store's tables (:meth:`Batch.relation_tables`).

    Examples
    --------
    >>> from extract.model import Facts
    >>> f = Facts.model_validate({"document": {"id": "d1", "source": "d1.txt"},
    ...     "entities": [{"id": "a", "name": "A", "type": "Bank"},
    ...                  {"id": "b", "name": "B", "type": "Bank"}],
    ...     "relations": [{"head": "a", "type": "OWNS", "tail": "b", "confidence": 0.9,
    ...                    "evidence": [{"text": "A owns B.", "start": 0, "end": 9}]}]})
    >>> [b] = batches([f])
    >>> row = b.relation_tables()["OWNS"].to_pylist()[0]
    >>> row["id"] == b.relations[0]["id"] == relation_id("d1", "OWNS", "a", "b", 0)
    True
    """
    if batch_size < 1:
        raise UsageError(f"batch_size is {batch_size}; expected a positive number")
    stamp = ingested_at or INGESTED_AT.get() or datetime.now(UTC).isoformat(timespec="seconds")
    batch = Batch(stamp)
    size = 0
    for item in facts:
        doc = item.document.id
        if not _endpoints_known(item):
            raise FactsRefused(check_facts(item))
        if doc in batch.facts:
            # the same document again in this batch: drop the earlier copy's rows
            size -= _statement_count(batch.facts.pop(doc))
        batch.facts[doc] = item
        for entity in item.entities:
            row = _entity_row(entity, doc)
            old = batch.entities.get(row.id)
            batch.entities[row.id] = row if old is None else merge_entity(old, row)
        size += _statement_count(item)
        if size >= batch_size:
            yield batch
            batch, size = Batch(stamp), 0
    if batch.facts:
        yield batch


def read_facts(paths: Sequence[str | Path]) -> Iterator[Facts]:
    """Read and check facts JSON files (one object or a list each), naming the file on errors.

    Raises ``FactsRefused`` (a ``SchemaViolation``) listing every problem of every file,
    before any document is yielded; see :func:`graph.validation.read_checked_facts`.
    """
    yield from read_checked_facts(paths)
