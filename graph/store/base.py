"""The ``GraphStore`` protocol and the records it returns, shared by every backend.

Schema (portable across LadybugDB and Neo4j)::

    (:Entity {id, name, type, aliases, equity, total_assets, deposits, attr_source})
    (:Document {id, title, source, ingested_at, entities})
    (:Entity)-[:<RELATION_TYPE> {id, document_id, confidence, amount, currency, asset,
               quantity, date, status, to, negated, hedged, speaker,
               evidence, start, end}]->(:Entity)

One relationship is one statement: a relation as stated by one sentence of one
document. The same (head, type, tail) stated by several documents is several
relationships, so conflicting amounts are all kept with their sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from extract.model import Facts

__all__ = [
    "DocumentRecord",
    "EntityRecord",
    "EvidenceRecord",
    "GraphDump",
    "GraphStore",
    "LoadSummary",
    "QueryResult",
    "RelationRecord",
    "Subgraph",
]


@dataclass(frozen=True)
class EntityRecord:
    """An entity node as stored."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    equity: float | None = None
    total_assets: float | None = None
    deposits: float | None = None
    attr_source: str | None = None


@dataclass(frozen=True)
class RelationRecord:
    """One stated relation (one relationship in the store), with its evidence."""

    id: str
    head: str
    type: str
    tail: str
    document_id: str
    confidence: float
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    amount: float | None = None
    currency: str | None = None
    asset: str | None = None
    quantity: float | None = None
    date: str | None = None
    status: str | None = None
    to: str | None = None
    negated: bool = False
    hedged: bool = False
    speaker: str | None = None


@dataclass(frozen=True)
class EvidenceRecord:
    """A sentence supporting a relation and the document it comes from."""

    relation_id: str
    text: str
    start: int | None
    end: int | None
    document_id: str
    document_title: str
    document_source: str
    speaker: str | None = None


@dataclass(frozen=True)
class Subgraph:
    """Entities and the relations among them (a neighbourhood, a query result)."""

    entities: tuple[EntityRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()


@dataclass(frozen=True)
class DocumentRecord:
    """A document node as stored."""

    id: str
    title: str
    source: str
    ingested_at: str = ""


@dataclass(frozen=True)
class GraphDump:
    """The whole graph, for export, projection and reports."""

    entities: tuple[EntityRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()
    documents: tuple[DocumentRecord, ...] = ()


@dataclass(frozen=True)
class QueryResult:
    """Rows of a Cypher query: column names and one dict per row."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class LoadSummary:
    """What one ``load`` call wrote."""

    documents: int = 0
    entities: int = 0
    relations: int = 0
    skipped_documents: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class GraphStore(Protocol):
    """What every backend offers; see ``graph.store.open_store`` for the URLs."""

    url: str

    def load(
        self,
        facts: Iterable[Facts],
        *,
        batch_size: int | None = None,
        on_batch: Callable[[LoadSummary], None] | None = None,
    ) -> LoadSummary:
        """Write facts idempotently (MERGE by stable ids); each batch lands whole or not.

        ``batch_size`` is the number of relations per batch (whole documents each); the
        default suits the backend (docs/benchmarks.md). ``on_batch`` is called with each
        committed batch's summary (progress bars).
        """
        ...

    def counts(self) -> Mapping[str, int]:
        """Return ``{"entities": n, "relations": n, "documents": n}``."""
        ...

    def entity(self, id: str) -> EntityRecord | None:
        """Return one entity by id, or ``None``."""
        ...

    def search(
        self, text: str, *, types: Sequence[str] | None = None, limit: int = 20
    ) -> list[EntityRecord]:
        """Find entities whose name or an alias contains ``text`` (case-insensitive)."""
        ...

    def neighbourhood(
        self,
        id: str,
        depth: int = 1,
        *,
        relation_types: Sequence[str] | None = None,
        limit: int = 2000,
    ) -> Subgraph:
        """Entities within ``depth`` hops of ``id`` (either direction) and their relations."""
        ...

    def relations(
        self,
        *,
        entity: str | None = None,
        head: str | None = None,
        tail: str | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[RelationRecord]:
        """Stated relations filtered by endpoint and type."""
        ...

    def evidence(self, relation_id: str) -> list[EvidenceRecord]:
        """Return the sentences and documents that support one relation."""
        ...

    def cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run Cypher; refused with ``QueryRefused`` unless read-only or ``write=True``."""
        ...

    def dump(self) -> GraphDump:
        """Every entity, relation and document (for export, projection, reports)."""
        ...

    def close(self) -> None:
        """Release the connection or database handle."""
        ...

    def __enter__(self) -> GraphStore: ...

    def __exit__(self, *exc: object) -> None: ...
