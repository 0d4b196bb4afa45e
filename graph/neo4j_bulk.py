"""Neo4j loads in parallel sessions that never wait on each other's locks.

Creating a relationship locks both of its nodes. Two transactions that lock the same
nodes in different orders deadlock, and the driver then retries one of them. Here no
two transactions that run at once share a node:

- every entity id is hashed into one of ``2 * parallel`` groups;
- a relationship belongs to the cell of its two groups, ``{g(head), g(tail)}``;
- the cells are run in rounds made by the circle method of round-robin tournaments:
  each round pairs every group with exactly one other, so its cells share no group
  and therefore no node; a last round holds the cells ``{g, g}``.

Cells of one round run side by side, one session each, ``parallel`` at a time; the
rounds run one after another. Within a cell, rows go in chunks of ``batch_size``.

Node-disjoint is not lock-disjoint in every case: Neo4j also locks the first record of
each endpoint's relationship chain, and a relationship written in an earlier round can
sit in the chains of two nodes of two cells running now. Such a rare deadlock is
detected by the server and the transaction runs again (``LoadStats.retried`` counts
them; docs/benchmarks.md gives the figures).

Documents are written first and marked ``loading``, and the mark is removed when every
relationship is in; a load that stopped half-way leaves marked documents, which the next
load forgets before it starts (so relationships are never created twice). ``initial``
(an empty database only) creates entities with ``CREATE`` instead of ``MERGE``.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from extract.model import Facts
from graph.errors import StoreError
from graph.load import Batch, batches
from graph.store import cypher
from graph.store.base import LoadSummary

__all__ = ["LoadStats", "cells", "parallel_load", "rounds"]

_PENDING = "MATCH (d:Document) WHERE d.loading = true RETURN d.id AS id"
_DOCS = (
    "UNWIND $rows AS row MERGE (d:Document {id: row.id}) SET d.title = row.title, "
    "d.source = row.source, d.ingested_at = row.ingested_at, d.entities = row.entities, "
    "d.loading = true"
)
_DONE = "UNWIND $ids AS x MATCH (d:Document {id: x}) REMOVE d.loading"


@dataclass
class LoadStats:
    """Transactions run, and how many of them the driver had to run again (deadlocks)."""

    transactions: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def retried(self) -> int:
        """Attempts beyond the first of each transaction."""
        return self.attempts - self.transactions


def rounds(groups: int) -> list[list[tuple[int, int]]]:
    """Return rounds of cells ``(a, b)``; within a round no group appears twice.

    Examples
    --------
    >>> rounds(4)
    [[(0, 3), (1, 2)], [(0, 1), (2, 3)], [(0, 2), (1, 3)], [(0, 0), (1, 1), (2, 2), (3, 3)]]
    >>> all(len({g for c in r for g in c}) == 2 * len(r) for r in rounds(8)[:-1])
    True
    """
    if groups < 2 or groups % 2:
        raise ValueError(f"groups is {groups}; expected an even number of at least 2")
    ring = list(range(1, groups))
    out = []
    for _ in range(groups - 1):
        line = [0, *ring]
        pairs = [tuple(sorted((line[i], line[groups - 1 - i]))) for i in range(groups // 2)]
        out.append(sorted((a, b) for a, b in pairs))
        ring = ring[1:] + ring[:1]
    out.append([(g, g) for g in range(groups)])
    return out


def _group(entity_id: str, groups: int) -> int:
    return zlib.crc32(entity_id.encode("utf-8")) % groups


def cells(rows: Sequence[dict[str, Any]], groups: int) -> dict[tuple[int, int], list[Any]]:
    """Sort relationship rows into the cells of their endpoints' groups.

    Examples
    --------
    >>> out = cells([{"head": "a", "tail": "b"}, {"head": "b", "tail": "a"}], 2)
    >>> sum(len(v) for v in out.values()), len(out)
    (2, 1)
    """
    out: dict[tuple[int, int], list[Any]] = {}
    for row in rows:
        a, b = _group(row["head"], groups), _group(row["tail"], groups)
        out.setdefault((min(a, b), max(a, b)), []).append(row)
    return out


def _create_entities(kind: str, cols: cypher.Neo4jColumns) -> str:
    """CREATE entities of one kind (an empty database: none can exist yet)."""
    if kind not in cypher.ENTITY_TYPES:
        raise ValueError(f"unknown entity type {kind!r}")
    x = cols.expr
    props = ", ".join(f"{f}: {x[f]}" for f in cypher.NEO4J_ENTITY_COLUMNS if x[f] != "null")
    return f"{cols.unwind()} CREATE (:Entity:{kind} {{{props}, type: '{kind}'}})"


class _Writer:
    """Runs write transactions on the store's driver and counts their attempts."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.stats = LoadStats()

    def write(self, statements: list[tuple[str, dict[str, Any]]]) -> int:
        """Run statements in one write transaction; return the nodes it created."""
        self.stats.transactions += 1
        with self.store._driver.session(database=self.store.database) as session:
            for attempt in range(1, 11):
                self.stats.attempts += 1
                try:
                    with session.begin_transaction() as tx:
                        created = 0
                        for query, params in statements:
                            summary = tx.run(query, params).consume()
                            created += int(summary.counters.nodes_created)
                        tx.commit()
                    return created
                except Exception as err:
                    first = (str(err).strip().splitlines() or [""])[0]
                    self.stats.errors.append(f"{type(err).__name__}: {first[:300]}")
                    if attempt == 10 or not getattr(err, "is_retryable", lambda: False)():
                        raise
                    time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")


def _entity_statements(batch: Batch, initial: bool) -> list[tuple[str, dict[str, Any]]]:
    from graph.store.neo4j import _entity_columns

    out = []
    for kind, cols in _entity_columns(batch):
        query = _create_entities(kind, cols) if initial else cypher.neo4j_merge_entities(kind, cols)
        out.append((query, cols.params))
    return out


def _relation_chunks(rows: list[dict[str, Any]], size: int) -> list[list[tuple[str, Any]]]:
    from graph.store.neo4j import _relation_columns

    chunks = []
    for i in range(0, len(rows), size):
        by_type: dict[str, list[dict[str, Any]]] = {}
        for row in rows[i : i + size]:
            by_type.setdefault(row["type"], []).append(row)
        statements = []
        for rel_type, part in sorted(by_type.items()):
            cols = _relation_columns(part)
            statements.append((cypher.neo4j_create_relations(rel_type, cols), cols.params))
        chunks.append(statements)
    return chunks


def parallel_load(
    store: Any,
    facts: Sequence[Facts],
    *,
    parallel: int = 4,
    initial: bool = False,
    batch_size: int = 20_000,
    stats: LoadStats | None = None,
) -> LoadSummary:
    """Load facts into Neo4j with relationship chunks in ``parallel`` sessions at once.

    Documents already stored are forgotten first and written again (their statements
    replaced). ``initial`` refuses a database that holds any node.
    """
    from graph.forget import forget_documents

    writer = _Writer(store)
    if initial and store._read("MATCH (n) RETURN count(n) AS n")[0]["n"]:
        raise StoreError(f"{store.url}: --initial needs an empty database; this one has nodes")
    pending = [r["id"] for r in store._read(_PENDING)]
    again = [
        r["id"]
        for r in store._read(
            "UNWIND $ids AS x MATCH (d:Document {id: x}) RETURN d.id AS id",
            {"ids": sorted({f.document.id for f in facts})},
        )
    ]
    if pending or again:
        forget_documents(store, sorted(set(pending) | set(again)))
    summary = LoadSummary()
    for batch in batches(facts, batch_size=2**62):  # one batch: entities created once
        writer.write([(_DOCS, {"rows": batch.documents})])
        entities = 0
        for statement in _entity_statements(batch, initial):
            entities += writer.write([statement])
        groups = 2 * max(1, parallel)
        by_cell = cells(batch.relations, groups)
        with ThreadPoolExecutor(max(1, parallel), thread_name_prefix="fallout-neo4j") as pool:
            for turn in rounds(groups):
                work = [
                    pool.submit(_write_cell, writer, by_cell[c], batch_size)
                    for c in turn
                    if c in by_cell
                ]
                for future in work:
                    future.result()
        writer.write([(_DONE, {"ids": [d["id"] for d in batch.documents]})])
        summary = LoadSummary(
            documents=summary.documents + len(batch.documents),
            entities=summary.entities + entities,
            relations=summary.relations + len(batch.relations),
        )
    if stats is not None:
        stats.transactions, stats.attempts = writer.stats.transactions, writer.stats.attempts
        stats.errors = writer.stats.errors
    return summary


def _write_cell(writer: _Writer, rows: list[dict[str, Any]], size: int) -> None:
    for statements in _relation_chunks(rows, size):
        writer.write(statements)
