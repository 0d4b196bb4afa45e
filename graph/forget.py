"""Forget documents, and replace the older versions of edited ones, in either store.

A document's id is the hash of its text, so an edited file is a new document from the
same ``source``. Before an edited file's facts are loaded, :func:`superseded` finds the
stored documents of the same sources under other ids, and :func:`forget_documents`
removes them: their statements (relationships), their ``Document`` nodes, and the
entities that no other document supports, that is entities the forgotten documents
named (each ``Document`` lists its ``entities``) or that a removed statement touched,
which are left with no statement and which no remaining document names. Attributes
(equity, total assets, deposits) that a forgotten document supplied are cleared.
Finding the entities other documents name reads every document's list once.

The version of a statement is its ``document_id`` (the content hash of the text it was
read from), the document is the ``source`` of that ``Document``, and ``ingested_at`` on
the ``Document`` is when the statement was loaded: a load writes both in one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ForgetSummary", "documents_of", "forget_documents", "superseded"]

_ENDS = (
    "MATCH (h:Entity)-[r]->(t:Entity) WHERE r.document_id IN $ids "
    "RETURN DISTINCT h.id AS head, t.id AS tail"
)
_COUNT = "MATCH (:Entity)-[r]->(:Entity) WHERE r.document_id IN $ids RETURN count(r) AS n"
_DELETE_RELS = "MATCH (:Entity)-[r]->(:Entity) WHERE r.document_id IN $ids DELETE r"
_DELETE_DOCS = "MATCH (d:Document) WHERE d.id IN $ids DELETE d"
_CLEAR_ATTRS = (
    "MATCH (e:Entity) WHERE e.attr_source IN $ids SET e.equity = null, "
    "e.total_assets = null, e.deposits = null, e.attr_source = null"
)
_NAMED = "MATCH (d:Document) WHERE d.id IN $ids UNWIND d.entities AS x RETURN DISTINCT x AS id"
_STILL_NAMED = (
    "MATCH (d:Document) WHERE NOT d.id IN $ids UNWIND d.entities AS x "
    "WITH x WHERE x IN $candidates RETURN DISTINCT x AS id"
)
_ORPHANS = "MATCH (e:Entity) WHERE e.id IN $ids AND COUNT { MATCH (e)-[]-() } = 0 RETURN e.id AS id"
_DELETE_ORPHANS = "MATCH (e:Entity) WHERE e.id IN $ids AND COUNT { MATCH (e)-[]-() } = 0 DELETE e"
_BY_SOURCE = "MATCH (d:Document) WHERE d.source IN $sources RETURN d.id AS id, d.source AS source"
_BY_ID = "MATCH (d:Document) WHERE d.id IN $ids RETURN d.id AS id"


@dataclass(frozen=True)
class ForgetSummary:
    """What :func:`forget_documents` removed."""

    documents: int = 0
    relations: int = 0
    entities: int = 0


def _run(store: Any, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
    """Run statements in one write transaction; return each one's rows (lists of dicts)."""
    from graph.store.embedded import EmbeddedStore
    from graph.store.neo4j import Neo4jStore

    if isinstance(store, EmbeddedStore):
        out: list[list[Any]] = []
        store._execute("BEGIN TRANSACTION")
        try:
            for query, params in statements:
                out.append(store._read(query, params))
            store._execute("COMMIT")
        except BaseException:
            store._rollback()
            raise
        if store.path is not None:
            store._execute("CHECKPOINT")
        return out
    if isinstance(store, Neo4jStore):

        def work(tx: Any) -> list[list[Any]]:
            return [[dict(r) for r in tx.run(q, p)] for q, p in statements]

        with store._driver.session(database=store.database) as session:
            result: list[list[Any]] = session.execute_write(work)
            return result
    raise TypeError(f"cannot write to {type(store).__name__}; open the store to write")


def _read(store: Any, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = store._read(query, params)
    return rows


def documents_of(store: Any, keys: Iterable[str]) -> list[str]:
    """Return the stored document ids named by ``keys``: each a document id or a source."""
    names = sorted(set(keys))
    found = {r["id"] for r in _read(store, _BY_ID, {"ids": names})}
    found |= {r["id"] for r in _read(store, _BY_SOURCE, {"sources": names})}
    return sorted(found)


def superseded(store: Any, documents: Iterable[tuple[str, str]]) -> list[str]:
    """Return stored document ids that an incoming version of the same source replaces.

    ``documents`` pairs each incoming document id with its source.
    """
    incoming = dict(documents)
    sources = sorted({s for s in incoming.values()})
    if not sources:
        return []
    keep = set(incoming)
    rows = _read(store, _BY_SOURCE, {"sources": sources})
    return sorted(r["id"] for r in rows if r["id"] not in keep)


def forget_documents(store: Any, ids: Sequence[str]) -> ForgetSummary:
    """Remove documents, their statements and the entities left without any, in one go.

    One write transaction on either store; forgetting an unknown id does nothing.
    """
    ids = sorted(set(ids))
    if not ids:
        return ForgetSummary()
    present = [r["id"] for r in _read(store, _BY_ID, {"ids": ids})]
    ends = _read(store, _ENDS, {"ids": ids})
    named = {r["id"] for r in _read(store, _NAMED, {"ids": ids})}
    candidates = sorted({r["head"] for r in ends} | {r["tail"] for r in ends} | named)
    kept = {r["id"] for r in _read(store, _STILL_NAMED, {"ids": ids, "candidates": candidates})}
    args, ends_args = {"ids": ids}, {"ids": [c for c in candidates if c not in kept]}
    count, _, _, _, orphans, _ = _run(
        store,
        [
            (_COUNT, args),
            (_DELETE_RELS, args),
            (_DELETE_DOCS, args),
            (_CLEAR_ATTRS, args),
            (_ORPHANS, ends_args),
            (_DELETE_ORPHANS, ends_args),
        ],
    )
    relations = int(count[0]["n"]) if count else 0
    return ForgetSummary(documents=len(present), relations=relations, entities=len(orphans))
