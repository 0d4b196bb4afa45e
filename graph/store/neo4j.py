"""The Neo4j store: the official driver, batched ``UNWIND ... MERGE`` writes, gated reads.

Entities carry their kind as a second label (``:Entity:Exchange``). Each batch of
whole documents is written in one write transaction. User Cypher without ``write``
passes the text check, then its ``EXPLAIN`` plan must pass :func:`check_neo4j_plan`
(no ``LoadCSV``, no procedure outside the allow-list, no ``SHOW``, query type ``"r"``),
and it runs in a ``READ`` access-mode session and transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from extract.model import Facts
from graph.errors import QueryRefused, StoreUnavailable
from graph.load import Batch, EntityRow, batches
from graph.store import cypher
from graph.store._guard import check_neo4j_plan, check_read_only
from graph.store._reader import CypherReader
from graph.store.base import LoadSummary, QueryResult

__all__ = ["BATCH_SIZE", "Neo4jStore"]

# the driver logs connection failures too; a store reports them itself, in one line,
# so without a logging set-up of the application's own they are not printed twice
logging.getLogger("neo4j").addHandler(logging.NullHandler())

BATCH_SIZE = 20_000
"""Relations per transaction by default (measured in docs/benchmarks.md)."""


def _plain(value: Any, ids: Mapping[str, Any] | None = None) -> Any:
    """Turn driver values (nodes, relationships, paths) into JSON-ready Python values.

    A relationship carries ``_type`` and its endpoints' entity ids as ``_start`` and
    ``_end`` (looked up in ``ids``, element id -> ``id`` property, when the driver did
    not hydrate the end nodes); a path becomes ``{"nodes": [...], "relationships": [...]}``.
    """
    from neo4j.graph import Node, Path, Relationship

    ids = ids or {}
    if isinstance(value, Node):
        return {"_labels": sorted(value.labels), **{k: _plain(v, ids) for k, v in value.items()}}
    if isinstance(value, Relationship):
        return {
            "_type": value.type,
            "_start": _end_id(value.start_node, ids),
            "_end": _end_id(value.end_node, ids),
            **{k: _plain(v, ids) for k, v in value.items()},
        }
    if isinstance(value, Path):
        return {
            "nodes": [_plain(n, ids) for n in value.nodes],
            "relationships": [_plain(r, ids) for r in value.relationships],
        }
    if isinstance(value, list):
        return [_plain(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, ids) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def _end_id(node: Any, ids: Mapping[str, Any]) -> Any:
    if node is None:
        return None
    own = node.get("id")
    return own if own is not None else ids.get(node.element_id)


def _unhydrated_ends(value: Any) -> set[str]:
    """Element ids of relationship end nodes whose properties the result did not carry."""
    from neo4j.graph import Path, Relationship

    if isinstance(value, Relationship):
        ends = (value.start_node, value.end_node)
        return {n.element_id for n in ends if n is not None and n.get("id") is None}
    if isinstance(value, Path):
        return set().union(*(_unhydrated_ends(r) for r in value.relationships))
    if isinstance(value, (list, tuple)):
        return set().union(*(_unhydrated_ends(v) for v in value))
    if isinstance(value, dict):
        return set().union(*(_unhydrated_ends(v) for v in value.values()))
    return set()


def _entity_columns(batch: Batch) -> list[tuple[str, cypher.Neo4jColumns]]:
    """Return the batch's entities as columns, one set per kind (it becomes a label)."""
    by_kind: dict[str, list[EntityRow]] = {}
    for row in batch.entities.values():
        by_kind.setdefault(row.type, []).append(row)
    return [
        (
            kind,
            cypher.Neo4jColumns(
                {f: [getattr(r, f) for r in rows] for f in cypher.NEO4J_ENTITY_COLUMNS}
            ),
        )
        for kind, rows in sorted(by_kind.items())
    ]


def _relation_columns(rows: list[dict[str, Any]]) -> cypher.Neo4jColumns:
    """Return relation rows as the columns of :func:`cypher.neo4j_create_relations`."""
    fields = ("head", "tail", *cypher.RELATION_FIELDS)
    return cypher.Neo4jColumns({f: [r[f] for r in rows] for f in fields})


class Neo4jStore(CypherReader):
    """A graph store on a Neo4j server.

    Parameters
    ----------
    url
        ``neo4j://``, ``bolt://`` or ``neo4j+s://`` URL.
    user, password
        Credentials; authentication is off when ``user`` is ``None``.
    database
        The database name (the server default when ``None``).
    connection_timeout
        Seconds to wait for the server before raising ``StoreUnavailable``.
    """

    type_fn = "type"

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        connection_timeout: float = 5.0,
    ) -> None:
        import neo4j
        from neo4j.exceptions import AuthError, DriverError, Neo4jError

        self.url = url
        self.database = database
        auth = (user, password or "") if user else None
        try:
            self._driver = neo4j.GraphDatabase.driver(
                url,
                auth=auth,
                connection_timeout=connection_timeout,
                connection_acquisition_timeout=connection_timeout,
                max_transaction_retry_time=max(30.0, connection_timeout),
                # absent properties (nulls are not stored) would each log a warning
                notifications_min_severity="OFF",
            )
            self._driver.verify_connectivity()
            for statement in cypher.NEO4J_DDL:
                self._driver.execute_query(statement, database_=database)
        except (AuthError, DriverError, Neo4jError, OSError, ValueError) as err:
            driver = self.__dict__.pop("_driver", None)
            if driver is not None:
                driver.close()
            reason = _line(str(err)).rstrip(":")
            if isinstance(err, AuthError):
                who = f"user {user!r}" if user else "no credentials"
                raise StoreUnavailable(
                    f"{url}: Neo4j refused the credentials ({who}; set NEO4J_USER and "
                    f"NEO4J_PASSWORD): {reason}"
                ) from None
            raise StoreUnavailable(f"{url}: cannot open the Neo4j store: {reason}") from None

    def close(self) -> None:
        """Close the driver (idempotent)."""
        driver = self.__dict__.pop("_driver", None)
        if driver is not None:
            driver.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        import neo4j

        records, _, _ = self._driver.execute_query(
            query,
            dict(params or {}),
            database_=self.database,
            routing_=neo4j.RoutingControl.READ,
        )
        return [dict(r) for r in records]

    def _read_many(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Read many rows as one row holding a list (see :func:`cypher.one_row`)."""
        collected, names = cypher.one_row(query)
        [row] = self._read(collected, params)
        return [dict(zip(names, values, strict=True)) for values in row["rows"]]

    # --- writes -------------------------------------------------------------------------

    def load(
        self,
        facts: Iterable[Facts],
        *,
        batch_size: int | None = None,
        on_batch: Callable[[LoadSummary], None] | None = None,
    ) -> LoadSummary:
        """Write facts; each batch of whole documents is one write transaction."""
        docs = ents = rels = 0
        with self._driver.session(database=self.database) as session:
            for batch in batches(facts, batch_size=batch_size or BATCH_SIZE):
                done: LoadSummary = session.execute_write(self._write_batch, batch)
                docs += done.documents
                ents += done.entities
                rels += done.relations
                if on_batch is not None:
                    on_batch(done)
        # --- curation hook: analysts' records (graph/curation.py) re-applied after a load
        from graph.curation import apply_curation

        apply_curation(self)
        return LoadSummary(documents=docs, entities=ents, relations=rels)

    @staticmethod
    def _write_batch(tx: Any, batch: Batch) -> LoadSummary:
        doc_ids = [d["id"] for d in batch.documents]
        old_docs = [
            r["id"]
            for r in tx.run(
                "UNWIND $ids AS x MATCH (d:Document {id: x}) RETURN d.id AS id", ids=doc_ids
            )
        ]
        reloaded = set(old_docs)
        if old_docs:
            keep = [r["id"] for r in batch.relations if r["document_id"] in reloaded]
            tx.run(cypher.neo4j_delete_stale(), docs=old_docs, keep=keep).consume()
        tx.run(cypher.neo4j_merge_documents(), rows=batch.documents).consume()
        created = 0
        for kind, cols in _entity_columns(batch):
            summary = tx.run(cypher.neo4j_merge_entities(kind, cols), cols.params).consume()
            created += summary.counters.nodes_created
        for rel_type, rels in sorted(batch.relations_by_type().items()):
            # a document new to the store cannot have relationships yet: CREATE them
            fresh = [r for r in rels if r["document_id"] not in reloaded]
            if fresh:
                cols = _relation_columns(fresh)
                tx.run(cypher.neo4j_create_relations(rel_type, cols), cols.params).consume()
            again = [
                {
                    "id": r["id"],
                    "head": r["head"],
                    "tail": r["tail"],
                    "props": {f: r[f] for f in cypher.RELATION_FIELDS if r[f] is not None},
                }
                for r in rels
                if r["document_id"] in reloaded
            ]
            if again:
                tx.run(cypher.neo4j_merge_relations(rel_type), rows=again).consume()
        return LoadSummary(
            documents=len(batch.documents), entities=created, relations=len(batch.relations)
        )

    # --- user Cypher --------------------------------------------------------------------

    def cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run Cypher; unless ``write``, checked by text and by plan, and run read-only.

        The query runs in one explicit transaction with ``timeout`` seconds, never
        retried: a query over the server's ``db.memory.transaction.max`` fails at once
        with that message instead of being run again for half a minute.
        """
        import neo4j
        from neo4j.exceptions import ClientError, DriverError, Neo4jError

        args = dict(params or {})
        if not write:
            check_read_only(query, dialect="neo4j")
        try:
            with self._driver.session(
                database=self.database,
                default_access_mode=neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS,
            ) as session:
                if not write:
                    self._check_plan(session, query, args)
                with session.begin_transaction(timeout=timeout) as tx:
                    result: Any = tx.run(query, args)
                    columns = tuple(result.keys())
                    records = [dict(r.items()) for r in result]
                    missing = _unhydrated_ends(records)
                    ids: dict[str, Any] = {}
                    if missing:
                        found = tx.run(
                            "UNWIND $ids AS x MATCH (n) WHERE elementId(n) = x "
                            "RETURN x AS key, n.id AS id",
                            ids=sorted(missing),
                        )
                        ids = {r["key"]: r["id"] for r in found}
                    rows = tuple({k: _plain(v, ids) for k, v in r.items()} for r in records)
                    if write:
                        tx.commit()
        except ClientError as err:
            raise QueryRefused(f"query failed: {_query_error(err, timeout)}") from None
        except (Neo4jError, DriverError) as err:
            raise QueryRefused(f"query failed: {_query_error(err, timeout)}") from None
        return QueryResult(columns=columns, rows=rows)

    def memory_limit(self) -> str | None:
        """Return the server's ``db.memory.transaction.max`` as it says it (``0B``: none).

        ``None`` when the setting cannot be read (a user without the privilege to list
        settings). Read once per store.
        """
        if "_memory_limit" not in self.__dict__:
            try:
                rows = self._read(cypher.NEO4J_SETTING, {"name": "db.memory.transaction.max"})
            except Exception:  # noqa: BLE001 - any refusal means "unknown"
                rows = []
            self._memory_limit = str(rows[0]["value"]) if rows else None
        return self._memory_limit

    @staticmethod
    def _check_plan(session: Any, query: str, args: Mapping[str, Any]) -> None:
        """Plan ``query`` with ``EXPLAIN`` in a read transaction; refuse what is no plain read."""

        def explain(tx: Any) -> Any:
            return tx.run("EXPLAIN " + query, args).consume()

        summary = session.execute_read(explain)
        check_neo4j_plan(summary.query_type, summary.plan)


def _query_error(err: Exception, timeout: float | None) -> str:
    """One line for a failed user query; a timeout says its seconds."""
    code = str(getattr(err, "code", "") or "")
    if timeout is not None and ("TransactionTimedOut" in code or "Terminated" in code):
        return f"timed out after {timeout:g} s"
    message = getattr(err, "message", None) or str(err)
    return _line(str(message))


def _line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "unknown error"
