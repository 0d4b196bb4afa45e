"""The embedded store: LadybugDB, on disk for users and in memory for tests and the app.

A store directory holds ``graph.lbug`` (the database), ``.lock`` and ``.holders/``.
Opened to read (``read_only=True``) the store shares the lock with other readers; opened
to write it holds the lock alone, for as long as it is open (``graph.store._lock``). A
process that finds the store held gets ``StoreBusy`` at once, naming the holders, or
waits up to ``wait`` seconds for them. Each batch is written in one transaction
with ``COPY ... FROM`` Arrow tables for new nodes and relationships, the fastest path
LadybugDB offers (measured in docs/benchmarks.md). ``COPY`` is only given rows that
cannot violate a key, because a failing ``COPY`` inside a transaction brings LadybugDB
down.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from extract.model import Facts
from graph.errors import QueryRefused, StoreError, StoreUnavailable
from graph.load import Batch, EntityRow, batches, merge_entity
from graph.store import cypher
from graph.store._columns import written_columns
from graph.store._guard import check_ladybug_plan, check_read_only, rewrite_type
from graph.store._lock import OnWait, StoreLock
from graph.store._paths import DATABASE_FILE
from graph.store._reader import CypherReader
from graph.store.base import LoadSummary, QueryResult

__all__ = ["BATCH_SIZE", "DATABASE_FILE", "EmbeddedStore"]

BATCH_SIZE = 1_000_000
"""Relations per batch by default: LadybugDB copies one large batch far faster than many
small ones, since each later batch makes the checkpoint rewrite the relationship pages."""


_JOURNAL_FILE = "pending-batch.json"
_FEW_IDS = 8  # up to this many ids, a hop looks each up through the index
_TABLES = frozenset(("Entity", "Document", *cypher.RELATION_TYPES))


class EmbeddedStore(CypherReader):
    """A LadybugDB graph store.

    Parameters
    ----------
    path
        The store directory, created when missing; ``None`` keeps the graph in memory.
    read_only
        Open the store to read only, beside other readers (on disk; ignored in memory).
    wait
        Seconds to wait while another process holds the store; 0 (the default) raises
        ``StoreBusy`` at once, naming the holders.
    on_wait
        Called about once a second while waiting, with the holders and the seconds left.

    Examples
    --------
    >>> with EmbeddedStore(None) as store:
    ...     store.counts()
    {'entities': 0, 'relations': 0, 'documents': 0}
    """

    type_fn = "label"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        wait: float = 0.0,
        on_wait: OnWait | None = None,
    ) -> None:
        import ladybug

        self.path = Path(path) if path is not None else None
        self.url = "embedded::memory:" if self.path is None else str(self.path)
        self.read_only = read_only and self.path is not None
        self._lock: StoreLock | None = None
        try:
            if self.path is None:
                self._db = ladybug.Database()
                self._conn = ladybug.Connection(self._db)
                self._create_schema()
                return
            if self.path.exists() and not self.path.is_dir():
                raise StoreUnavailable(f"{self.path}: not a directory (an embedded store)")
            self.path.mkdir(parents=True, exist_ok=True)
            if self.read_only:
                self._open_reader(wait, on_wait)
                return
            self._lock = StoreLock(self.path, "write")
            self._lock.acquire(wait, on_wait)
            # ``load`` checkpoints after each batch itself: rows written by COPY
            # reach the disk only at a checkpoint, not through the write-ahead log
            # uncompressed columns: a checkpoint writes them twice as fast (the file
            # is larger); stores written either way open either way
            self._db = ladybug.Database(
                str(self.path / DATABASE_FILE), auto_checkpoint=False, compression=False
            )
            self._conn = ladybug.Connection(self._db)
            self._create_schema()
            self._recover()
        except RuntimeError as err:
            self.close()
            raise StoreUnavailable(f"{self.url}: cannot open the store: {_line(err)}") from err
        except BaseException:
            self.close()
            raise

    def _create_schema(self) -> None:
        for statement in cypher.LADYBUG_DDL:
            self._conn.execute(statement)

    def _open_reader(self, wait: float, on_wait: OnWait | None) -> None:
        """Open the database read-only under a shared lock.

        A store that a writer must first touch (no database yet, tables missing, or the
        journal of a load that crashed) is opened once for writing, then read-only.
        """
        assert self.path is not None
        for prepared in (False, True):
            self._lock = StoreLock(self.path, "read")
            self._lock.acquire(wait, on_wait)
            if self._open_read_only(need_ready=not prepared):
                return
            self.close()
            EmbeddedStore(self.path, wait=wait, on_wait=on_wait).close()

    def _open_read_only(self, *, need_ready: bool) -> bool:
        """Open the database read-only; ``False`` when it needs a writer first."""
        import ladybug

        assert self.path is not None
        journal = self.path / _JOURNAL_FILE
        if need_ready and (not (self.path / DATABASE_FILE).exists() or journal.exists()):
            return False
        self._db = ladybug.Database(str(self.path / DATABASE_FILE), read_only=True)
        self._conn = ladybug.Connection(self._db)
        if need_ready:
            tables = {r["name"] for r in self._read("CALL show_tables() RETURN name")}
            return tables >= _TABLES
        return True

    # --- plumbing -----------------------------------------------------------------------

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        """Close the database and release the lock and its note (idempotent)."""
        conn = self.__dict__.pop("_conn", None)
        db = self.__dict__.pop("_db", None)
        if conn is not None:
            conn.close()
        if db is not None:
            db.close()
        self._release()

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, query: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self._conn.execute(query, dict(params) if params else None)
        except AttributeError:
            raise StoreError(f"{self.url}: the store is closed") from None

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        result = self._execute(query, params)
        columns = result.get_column_names()
        rows = [dict(zip(columns, values, strict=True)) for values in result.get_all()]
        result.close()
        return rows

    def _frontier(self, ids: list[str]) -> dict[str, Any]:
        """Return a few ids as they are, more as their offsets in the entity table.

        A few ids are then looked up one statement each (an index lookup, under a
        millisecond); more take one statement filtering the entities' offsets (a scan,
        10 to 30 ms on 200,000 entities).
        """
        if len(ids) <= _FEW_IDS:
            return {"ids": ids}
        found = self._read(cypher.ladybug_offsets_query(), {"ids": ids})
        return {"offsets": [r["offset"] for r in found]}

    def _hop_rows(
        self,
        frontier: dict[str, Any],
        kinds: tuple[str, ...] | None,
        outgoing: bool,
        limit: int,
        walked: list[str],
    ) -> list[dict[str, Any]]:
        """Rows of at most ``limit`` relations one way from ``frontier``, none ``walked``."""
        extra = {"walked": walked} if walked else {}
        skip = bool(walked)
        if "offsets" in frontier:
            query = cypher.hop_query(self.type_fn, kinds, outgoing=outgoing, mode="list", skip=skip)
            return self._read(query, {**frontier, "limit": limit, **extra})
        query = cypher.hop_query(self.type_fn, kinds, outgoing=outgoing, mode="one", skip=skip)
        rows: list[dict[str, Any]] = []
        for id in frontier["ids"]:
            if len(rows) >= limit:
                break
            rows += self._read(query, {"id": id, "limit": limit - len(rows), **extra})
        return rows

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except RuntimeError:
            pass  # an error inside a transaction already rolled it back

    # --- writes -------------------------------------------------------------------------

    def load(
        self,
        facts: Iterable[Facts],
        *,
        batch_size: int | None = None,
        on_batch: Callable[[LoadSummary], None] | None = None,
    ) -> LoadSummary:
        """Write facts; each batch of whole documents lands whole or not at all.

        Re-loading a document replaces its relationships (same ids), so counts do not
        change; entities are merged by id (aliases are a union).
        """
        if self.read_only:
            raise StoreError(f"{self.url}: the store was opened read-only; open it to write")
        docs = ents = rels = 0
        # building rows allocates millions of tuples and no cycles: the cyclic collector
        # would re-walk every live object (all the facts) again and again, for nothing
        collecting = gc.isenabled()
        gc.disable()
        try:
            for batch in batches(facts, batch_size=batch_size or BATCH_SIZE):
                done = self._write_batch(batch)
                docs += done.documents
                ents += done.entities
                rels += done.relations
                if on_batch is not None:
                    on_batch(done)
        finally:
            if collecting:
                gc.enable()
        # --- curation hook: analysts' records (graph/curation.py) re-applied after a load
        from graph.curation import apply_curation

        apply_curation(self)
        return LoadSummary(documents=docs, entities=ents, relations=rels)

    def _write_batch(self, batch: Batch) -> LoadSummary:
        """Write one batch: journalled bulk ``COPY`` when it only adds, else one transaction.

        The relation tables are built in a second thread while LadybugDB copies the
        entities (it releases the GIL meanwhile).
        """
        from concurrent.futures import ThreadPoolExecutor

        doc_ids = [d["id"] for d in batch.documents]
        old_docs = {
            r["id"]
            for r in self._read(
                "UNWIND $ids AS x MATCH (d:Document {id: x}) RETURN d.id AS id", {"ids": doc_ids}
            )
        }
        new, changed = self._entity_rows(batch)
        with ThreadPoolExecutor(1, thread_name_prefix="fallout-arrow") as pool:
            tables = pool.submit(batch.relation_tables)
            if old_docs or changed:
                return self._write_transaction(batch, old_docs, new, changed, tables)
            return self._write_appending(batch, new, tables)

    def _write_appending(
        self, batch: Batch, new: list[dict[str, Any]], tables: Future[Any]
    ) -> LoadSummary:
        """Add new documents with one auto-committed ``COPY`` per table.

        A ``COPY`` outside a transaction goes straight to the table's pages: two to
        three times faster than inside one, whose rows the checkpoint must rewrite
        (docs/benchmarks.md). The batch stays all-or-nothing through a journal: it
        names the batch's documents and new entities before the first ``COPY``, and
        :meth:`_undo_pending` removes them if the batch fails, here or, after a crash,
        when the store is next opened. The documents are copied last, so a document
        node means its relationships are in.
        """
        journal = {
            "documents": [d["id"] for d in batch.documents],
            "entities": [e["id"] for e in new],
        }
        self._write_journal(journal)
        try:
            self._copy("Entity", new)
            relations = self._copy_relations(tables.result())
            self._copy("Document", batch.documents)
            if self.path is not None:
                self._execute("CHECKPOINT")  # the batch is on disk from here on
        except BaseException:
            self._undo_pending(journal)
            raise
        self._clear_journal()
        return LoadSummary(documents=len(batch.documents), entities=len(new), relations=relations)

    def _write_transaction(
        self,
        batch: Batch,
        old_docs: set[str],
        new: list[dict[str, Any]],
        changed: list[dict[str, Any]],
        tables: Future[Any],
    ) -> LoadSummary:
        """Write a batch that replaces documents or merges entities, in one transaction."""
        self._execute("BEGIN TRANSACTION")
        try:
            if old_docs:
                self._execute(
                    "UNWIND $ids AS x MATCH (:Entity)-[r]->(:Entity) "
                    "WHERE r.document_id = x DELETE r",
                    {"ids": sorted(old_docs)},
                )
                self._execute(
                    "UNWIND $rows AS row MATCH (d:Document {id: row.id}) "
                    "SET d.title = row.title, d.source = row.source, "
                    "d.ingested_at = row.ingested_at, d.entities = row.entities",
                    {"rows": [d for d in batch.documents if d["id"] in old_docs]},
                )
            self._copy("Document", [d for d in batch.documents if d["id"] not in old_docs])
            self._copy("Entity", new)
            if changed:
                table = _node_table("Entity", changed)
                self._execute(cypher.ladybug_update_entities(), {"rows": table})
            relations = self._copy_relations(tables.result())
            self._execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        if self.path is not None:
            self._execute("CHECKPOINT")  # the batch is on disk from here on
        return LoadSummary(documents=len(batch.documents), entities=len(new), relations=relations)

    def _copy(self, label: str, rows: list[dict[str, Any]]) -> None:
        """Bulk-insert rows into a node table (nothing when there are none)."""
        if rows:
            self._execute(f"COPY {label} FROM $t", {"t": _node_table(label, rows)})

    def _copy_relations(self, tables: Mapping[str, Any]) -> int:
        """``COPY`` each relation type's Arrow table; returns the row count."""
        relations = 0
        for rel_type, table in tables.items():
            relations += table.num_rows
            self._execute(f"COPY {rel_type} FROM $t", {"t": _rel_table(table)})
        return relations

    def _entity_rows(self, batch: Batch) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Split the batch's entities into new rows and stored ones that the batch changes."""
        ids = sorted(batch.entities)
        if self._read(cypher.count_queries()["entities"])[0]["n"] == 0:
            return [batch.entities[i].as_dict() for i in ids], []
        stored = {
            r["id"]: EntityRow(**{f: r[f] for f in cypher.ENTITY_FIELDS})
            for r in self._read(cypher.entities_by_id_query(), {"ids": ids})
        }
        new = [batch.entities[i].as_dict() for i in ids if i not in stored]
        changed = []
        for i in ids:
            if i in stored:
                old = stored[i]
                old.aliases = list(old.aliases or [])
                merged = merge_entity(old, batch.entities[i])
                if merged != old:
                    changed.append(merged.as_dict())
        return new, changed

    # --- the journal of an appending batch ----------------------------------------------

    def _journal_path(self) -> Path | None:
        return None if self.path is None else self.path / _JOURNAL_FILE

    def _write_journal(self, journal: dict[str, list[str]]) -> None:
        path = self._journal_path()
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(journal, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _clear_journal(self) -> None:
        path = self._journal_path()
        if path is not None:
            path.unlink(missing_ok=True)

    def _recover(self) -> None:
        """Undo a batch that a crashed process left half-written (named by its journal)."""
        path = self._journal_path()
        if path is None or not path.exists():
            return
        try:
            journal = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise StoreUnavailable(
                f"{path}: an unreadable journal of an interrupted load; the store may "
                "hold part of that batch (remove the file to open the store anyway)"
            ) from None
        self._undo_pending(journal)
        self._clear_journal()

    def _undo_pending(self, journal: Mapping[str, list[str]]) -> None:
        """Delete what an appending batch wrote: its relationships, documents, new entities."""
        docs, ents = journal.get("documents", []), journal.get("entities", [])
        self._execute(
            "MATCH (:Entity)-[r]->(:Entity) WHERE r.document_id IN $ids DELETE r", {"ids": docs}
        )
        self._execute("MATCH (d:Document) WHERE d.id IN $ids DELETE d", {"ids": docs})
        self._execute("MATCH (e:Entity) WHERE e.id IN $ids DETACH DELETE e", {"ids": ents})
        if self.path is not None:
            self._execute("CHECKPOINT")

    # --- user Cypher --------------------------------------------------------------------

    def cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run one Cypher statement; unless ``write``, checked and run read-only.

        Without ``write`` the text must pass :func:`check_read_only` first (binding a
        statement already acts: ``EXPLAIN EXPORT DATABASE`` creates the directory), then
        its ``EXPLAIN`` plan :func:`check_ladybug_plan`, and it runs inside
        ``BEGIN TRANSACTION READ ONLY``. ``type(r)`` is accepted and run as LadybugDB's
        ``label(r)``. Unaliased columns are named as the query wrote them, as Neo4j
        names them (:func:`~graph.store._columns.written_columns`).
        """
        text = rewrite_type(query)
        if not write:
            check_read_only(text, dialect="ladybug")
        if timeout is not None:
            self._conn.set_query_timeout(max(1, int(timeout * 1000)))
        try:
            if not write:
                self._execute("BEGIN TRANSACTION READ ONLY")
            try:
                if not write:
                    self._check_plan(text, params)
                result = self._execute(text, params)
                if isinstance(result, list):
                    raise QueryRefused("query refused: run one statement at a time")
                columns = written_columns(query, result.get_column_names())
                raw = [dict(zip(columns, values, strict=True)) for values in result.get_all()]
                result.close()
                rows = tuple(self._plain_rows(raw))
            finally:
                if not write:
                    self._rollback()
        except RuntimeError as err:
            message = _line(err)
            if "interrupt" in message.lower():
                message = f"timed out after {timeout:g} s"
            raise QueryRefused(f"query failed: {message}") from None
        finally:
            if timeout is not None:
                self._conn.set_query_timeout(0)
        return QueryResult(columns=columns, rows=rows)

    def _check_plan(self, text: str, params: Mapping[str, Any] | None) -> None:
        """Refuse ``text`` unless LadybugDB's ``EXPLAIN`` plan for it is a plain read."""
        explained = self._execute("EXPLAIN " + text, params)
        if isinstance(explained, list):
            for part in explained:
                part.close()
            raise QueryRefused("query refused: run one statement at a time")
        plan = "\n".join(str(row[0]) for row in explained.get_all())
        explained.close()
        check_ladybug_plan(plan)

    def _plain_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Shape rows as Neo4j results are shaped.

        Relationships gain ``_type``, ``_start`` and ``_end`` (entity ids); paths become
        ``{"nodes": [...], "relationships": [...]}``.
        """
        known: dict[tuple[int, int], str] = {}
        wanted: set[tuple[int, int]] = set()
        for row in rows:
            for item in _dicts(row):
                if "_SRC" in item:
                    wanted |= {_key(item["_SRC"]), _key(item["_DST"])}
                elif "_ID" in item and item.get("_LABEL") == "Entity" and "id" in item:
                    known[_key(item["_ID"])] = item["id"]
        missing = wanted - known.keys()
        for table in sorted({t for t, _ in missing}):
            offsets = sorted(o for t, o in missing if t == table)
            found = self._read(
                "UNWIND $o AS x MATCH (e:Entity) WHERE id(e) = internal_id($t, x) "
                "RETURN x AS o, e.id AS id",
                {"o": offsets, "t": table},
            )
            known.update({(table, r["o"]): r["id"] for r in found})
        return [{k: _plain(v, known) for k, v in row.items()} for row in rows]


def _key(internal: Mapping[str, int]) -> tuple[int, int]:
    return (internal["table"], internal["offset"])


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _dicts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _dicts(inner)


def _plain(value: Any, ids: Mapping[tuple[int, int], str]) -> Any:
    """Return a LadybugDB value with relationships and paths shaped as on Neo4j."""
    if isinstance(value, list):
        return [_plain(v, ids) for v in value]
    if not isinstance(value, dict):
        return value
    if "_NODES" in value and "_RELS" in value:
        return {
            "nodes": [_plain(n, ids) for n in value["_NODES"]],
            "relationships": [_plain(r, ids) for r in value["_RELS"]],
        }
    out = {k: _plain(v, ids) for k, v in value.items()}
    if "_SRC" in value and "_DST" in value:
        out["_type"] = value.get("_LABEL")
        out["_start"] = ids.get(_key(value["_SRC"]))
        out["_end"] = ids.get(_key(value["_DST"]))
        if "TO" in out:  # declared ``TO`` for COPY; read back under its own name
            out["to"] = out.pop("TO")
    return out


def _line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_DOCUMENT_FIELDS = ("id", "title", "source", "ingested_at", "entities")
_FLOAT_FIELDS = ("equity", "total_assets", "deposits")


def _node_table(label: str, rows: list[dict[str, Any]]) -> Any:
    """Rows of the ``Entity`` or ``Document`` table as Arrow, typed as its columns are."""
    import pyarrow as pa

    fields = cypher.ENTITY_FIELDS if label == "Entity" else _DOCUMENT_FIELDS
    lists = {f: pa.list_(pa.string()) for f in ("aliases", "entities")}
    types = {**lists, **{f: pa.float64() for f in _FLOAT_FIELDS}}
    schema = pa.schema([(f, types.get(f, pa.string())) for f in fields])
    return pa.Table.from_pylist(rows, schema=schema)


def _rel_table(table: Any) -> Any:
    """Rename a relation table for ``COPY``: source key, target key, then properties."""
    return table.select(["head", "tail", *cypher.RELATION_FIELDS]).rename_columns(
        ["from_key", "to_key", *(f"p_{f}" for f in cypher.RELATION_FIELDS)]
    )
