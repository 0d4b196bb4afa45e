"""An embedded store held only while in use, so that the app leaves it free between clicks.

A long-running process (the app) that kept an embedded store open would keep every
writer out for its lifetime. :class:`SharedStore` opens the store for each call, or for
one :meth:`~SharedStore.interaction` (one run of a page), and releases it after: reads
open it read-only beside other readers (``fallout query``, ``fallout report``), writes
open it alone. In between, nothing is held, and ``fallout load`` can write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from extract.model import Facts
from graph.store.base import (
    EntityRecord,
    EvidenceRecord,
    GraphDump,
    LoadSummary,
    QueryResult,
    RelationRecord,
    Subgraph,
)
from graph.store.embedded import DATABASE_FILE, EmbeddedStore

__all__ = ["SharedStore"]


class SharedStore:
    """A ``GraphStore`` over an embedded store on disk that holds it only while in use.

    Parameters
    ----------
    path
        The store directory. It is opened once here (created when missing), so that a
        store that cannot be opened is reported at once.
    wait
        Seconds a read waits while a writer holds the store (0: ``StoreBusy`` at once).
    write_wait
        Seconds a write waits for readers and writers to finish.

    Notes
    -----
    Each call of a read method opens the store read-only and closes it on return.
    Inside ``with store.interaction():`` the calls of the current thread share one
    read-only handle, opened at the first call and closed when the block ends. A
    write (``load``, ``cypher(write=True)``) first closes that handle, then holds the
    store alone for the call. ``generation`` changes whenever the database files
    change, so caches keyed on it see what other processes wrote.

    Examples
    --------
    >>> import tempfile
    >>> store = SharedStore(tempfile.mkdtemp() + "/store")
    >>> with store.interaction():
    ...     store.counts()
    {'entities': 0, 'relations': 0, 'documents': 0}
    """

    def __init__(self, path: str | Path, *, wait: float = 0.0, write_wait: float = 10.0) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self.wait = wait
        self.write_wait = write_wait
        self._local = threading.local()
        EmbeddedStore(self.path, read_only=True, wait=wait).close()

    # --- holding and releasing ----------------------------------------------------------

    @property
    def generation(self) -> tuple[int, ...]:
        """Modification times and sizes of the database files (changes after a write)."""
        out: list[int] = []
        for name in (DATABASE_FILE, DATABASE_FILE + ".wal"):
            try:
                stat = (self.path / name).stat()
            except OSError:
                out += [0, 0]
            else:
                out += [stat.st_mtime_ns, stat.st_size]
        return tuple(out)

    @property
    def held(self) -> bool:
        """Whether the current thread holds the store open now."""
        return getattr(self._local, "store", None) is not None

    @contextmanager
    def interaction(self) -> Iterator[SharedStore]:
        """Share one read-only handle among this thread's calls until the block ends."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield self
        finally:
            self._local.depth = depth
            if depth == 0:
                self._drop()

    def _drop(self) -> None:
        store = getattr(self._local, "store", None)
        self._local.store = None
        if store is not None:
            store.close()

    def _read(self, action: Callable[[EmbeddedStore], Any]) -> Any:
        store = getattr(self._local, "store", None)
        if store is None:
            store = EmbeddedStore(self.path, read_only=True, wait=self.wait)
            if getattr(self._local, "depth", 0) > 0:
                self._local.store = store
            else:
                with store:
                    return action(store)
        return action(store)

    def _write(self, action: Callable[[EmbeddedStore], Any]) -> Any:
        self._drop()  # this thread's own shared lock would keep the writer out
        with EmbeddedStore(self.path, wait=self.write_wait) as store:
            return action(store)

    def close(self) -> None:
        """Release the current thread's handle, if any (the store stays usable)."""
        self._drop()

    def __enter__(self) -> SharedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- GraphStore ---------------------------------------------------------------------

    def load(
        self,
        facts: Iterable[Facts],
        *,
        batch_size: int | None = None,
        on_batch: Callable[[LoadSummary], None] | None = None,
    ) -> LoadSummary:
        """Write facts, holding the store alone for the call (``EmbeddedStore.load``)."""
        summary: LoadSummary = self._write(
            lambda s: s.load(facts, batch_size=batch_size, on_batch=on_batch)
        )
        return summary

    def counts(self) -> Mapping[str, int]:
        """Return ``{"entities": n, "relations": n, "documents": n}``."""
        counts: Mapping[str, int] = self._read(lambda s: s.counts())
        return counts

    def entity(self, id: str) -> EntityRecord | None:
        """Return one entity by id, or ``None``."""
        found: EntityRecord | None = self._read(lambda s: s.entity(id))
        return found

    def search(
        self, text: str, *, types: Sequence[str] | None = None, limit: int = 20
    ) -> list[EntityRecord]:
        """Find entities whose name or an alias contains ``text`` (case-insensitive)."""
        found: list[EntityRecord] = self._read(lambda s: s.search(text, types=types, limit=limit))
        return found

    def neighbourhood(
        self,
        id: str,
        depth: int = 1,
        *,
        relation_types: Sequence[str] | None = None,
        limit: int = 2000,
    ) -> Subgraph:
        """Entities within ``depth`` hops of ``id`` and their relations."""
        sub: Subgraph = self._read(
            lambda s: s.neighbourhood(id, depth, relation_types=relation_types, limit=limit)
        )
        return sub

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
        found: list[RelationRecord] = self._read(
            lambda s: s.relations(entity=entity, head=head, tail=tail, types=types, limit=limit)
        )
        return found

    def evidence(self, relation_id: str) -> list[EvidenceRecord]:
        """Return the sentences and documents that support one relation."""
        found: list[EvidenceRecord] = self._read(lambda s: s.evidence(relation_id))
        return found

    def cypher(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run Cypher (``EmbeddedStore.cypher``); a write holds the store alone."""
        run = self._write if write else self._read
        result: QueryResult = run(
            lambda s: s.cypher(query, params, write=write, timeout=timeout)
        )
        return result

    def dump(self) -> GraphDump:
        """Every entity, relation and document."""
        dump: GraphDump = self._read(lambda s: s.dump())
        return dump
