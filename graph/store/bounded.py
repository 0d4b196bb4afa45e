"""Bounded user queries: a wall-clock limit and a memory ceiling that the query cannot escape.

Where user Cypher runs, by store:

- **Embedded, on disk**: in a worker process (``python -m graph.store._query_worker``)
  that opens the store itself, read-only unless ``write``, beside other readers. The
  worker caps its own address space (``RLIMIT_AS``) once the store is open, and gives
  LadybugDB the timeout; this process watches the worker's resident memory and the
  clock every 20 ms and kills it past either. The caller's memory holds only the rows
  the worker sent back, which fitted under the ceiling there.
- **Embedded, in memory**: in the calling process, since a worker cannot see its
  memory; the timeout applies, the memory ceiling does not (:func:`memory_bound` says so).
- **Neo4j**: on the server, in one explicit read transaction with the timeout (never
  retried), under the server's own per-transaction limit ``db.memory.transaction.max``
  (a server setting a client cannot change; :func:`memory_bound` reads it).

The limits come from :class:`QueryLimits`: ``FALLOUT_QUERY_TIMEOUT`` (seconds) and
``FALLOUT_QUERY_MEMORY`` (``1GiB``, ``512M`` ...), or ``--timeout`` and ``--max-memory``.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import QueryRefused, StoreBusy, StoreUnavailable, UsageError
from graph.store.base import GraphStore, QueryResult

__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "MIN_MEMORY",
    "QueryLimits",
    "format_size",
    "memory_bound",
    "parse_size",
    "run_query",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds a user query may run by default."""
DEFAULT_MEMORY = 1 << 30
"""Bytes the query worker may hold by default (1 GiB), the store's pages included."""
MIN_MEMORY = 256 << 20
"""The lowest ceiling accepted: a worker with the store open holds about 100 MiB."""

_POLL = 0.02  # seconds between two looks at the worker's memory and the clock
_GRACE = 1.0  # seconds past the timeout before the worker is killed (LadybugDB stops first)
_OPEN_ALLOWANCE = 60.0  # seconds the worker may take to start and open the store
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


def parse_size(text: str, *, name: str = "memory") -> int:
    """Return the bytes in ``text``: a number with an optional unit (binary multiples).

    Raises ``UsageError`` (a ``ValueError``) naming ``name`` and the value when it does not
    parse or is below :data:`MIN_MEMORY`.

    Examples
    --------
    >>> parse_size("1GiB"), parse_size("512M"), parse_size("1.5g"), parse_size("300000000")
    (1073741824, 536870912, 1610612736, 300000000)
    >>> parse_size("lots", name="FALLOUT_QUERY_MEMORY")
    Traceback (most recent call last):
    ...
    graph.errors.UsageError: FALLOUT_QUERY_MEMORY: 'lots' is not a size; expected a number with an optional unit such as 512MiB or 2GiB
    """  # noqa: E501
    found = _SIZE.fullmatch(str(text))
    if found is None:
        raise UsageError(
            f"{name}: {text!r} is not a size; expected a number with an optional unit "
            "such as 512MiB or 2GiB"
        )
    size = int(float(found.group(1)) * _UNITS[found.group(2).lower()])
    if size < MIN_MEMORY:
        raise UsageError(f"{name}: {text!r} is below the lowest ceiling, {format_size(MIN_MEMORY)}")
    return size


def format_size(size: int) -> str:
    """Write ``size`` bytes in the largest binary unit that keeps it readable.

    Examples
    --------
    >>> format_size(1 << 30), format_size(3 << 29), format_size(256 << 20)
    ('1 GiB', '1.5 GiB', '256 MiB')
    """
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class QueryLimits:
    """How long a user query may run and how much memory its worker may hold.

    Examples
    --------
    >>> QueryLimits.from_env({"FALLOUT_QUERY_TIMEOUT": "5", "FALLOUT_QUERY_MEMORY": "2GiB"})
    QueryLimits(timeout=5.0, memory=2147483648)
    >>> QueryLimits().describe()
    '30 s wall clock, 1 GiB memory'
    """

    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise UsageError(f"timeout: {self.timeout!r}; expected a number of seconds above 0")
        if self.memory < MIN_MEMORY:
            raise UsageError(f"memory: {format_size(self.memory)} is below the lowest ceiling, "
                             f"{format_size(MIN_MEMORY)}")

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
        memory: int | str | None = None,
    ) -> QueryLimits:
        """Limits from ``timeout`` and ``memory`` where given, else the environment, else defaults.

        ``FALLOUT_QUERY_TIMEOUT`` is in seconds, ``FALLOUT_QUERY_MEMORY`` a size
        (:func:`parse_size`); a value that does not parse raises ``ValueError`` naming it.
        """
        env = os.environ if env is None else env
        if timeout is None:
            raw = env.get("FALLOUT_QUERY_TIMEOUT", "").strip()
            try:
                timeout = float(raw) if raw else DEFAULT_TIMEOUT
            except ValueError:
                raise UsageError(
                    f"FALLOUT_QUERY_TIMEOUT: {raw!r} is not a number of seconds"
                ) from None
            if not timeout > 0:
                raise UsageError(f"FALLOUT_QUERY_TIMEOUT: {raw!r}; expected seconds above 0")
        if memory is None:
            raw = env.get("FALLOUT_QUERY_MEMORY", "").strip()
            memory = parse_size(raw, name="FALLOUT_QUERY_MEMORY") if raw else DEFAULT_MEMORY
        elif isinstance(memory, str):
            memory = parse_size(memory, name="--max-memory")
        return cls(timeout=float(timeout), memory=int(memory))

    def describe(self) -> str:
        """One line: the wall-clock limit and the memory ceiling."""
        return f"{self.timeout:g} s wall clock, {format_size(self.memory)} memory"


# --- which store runs where -------------------------------------------------------------


def _worker_path(store: GraphStore | str | os.PathLike[str]) -> Path | None:
    """Return the directory of an embedded store on disk (run in a worker), else ``None``."""
    if isinstance(store, str | os.PathLike):
        from graph.store import MEMORY_URLS

        url = str(store)
        if url in MEMORY_URLS or "://" in url:
            return None
        return Path(url.removeprefix("embedded::"))
    path = getattr(store, "path", None)
    return Path(path) if path is not None else None


def _is_neo4j(store: object) -> bool:
    return hasattr(store, "memory_limit")


def memory_bound(store: GraphStore | str, limits: QueryLimits) -> str:
    """Say how the memory of a user query on ``store`` is bounded, in one line.

    Examples
    --------
    >>> memory_bound("/data/store", QueryLimits())
    'a worker process, stopped past 1 GiB'
    >>> memory_bound(":memory:", QueryLimits())
    'none: an in-memory store runs queries in this process (the timeout still applies)'
    """
    if _worker_path(store) is not None:
        return f"a worker process, stopped past {format_size(limits.memory)}"
    if _is_neo4j(store):
        setting = store.memory_limit()  # type: ignore[union-attr]
        if setting is None:
            return "the Neo4j server's db.memory.transaction.max (it could not be read)"
        if setting in ("0", "0B", "0b"):
            return ("none: the Neo4j server sets no db.memory.transaction.max "
                    "(set it in neo4j.conf)")
        return f"the Neo4j server's db.memory.transaction.max, {setting} per transaction"
    return "none: an in-memory store runs queries in this process (the timeout still applies)"


def run_query(
    store: GraphStore | str | os.PathLike[str],
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    limits: QueryLimits | None = None,
    write: bool = False,
    wait: float = 0.0,
) -> QueryResult:
    """Run user Cypher on ``store`` (a store or its URL) within ``limits``.

    An embedded store on disk runs it in a worker process, killed past the timeout or
    the memory ceiling; an in-memory store and Neo4j run it as the module docstring
    says. ``wait`` is how long the worker waits for a writer that holds the store.
    Raises ``QueryRefused`` (refused, failed, timed out, over the ceiling, one line) or
    ``StoreUnavailable``/``StoreBusy`` when the store cannot be opened.
    """
    limits = limits or QueryLimits()
    path = _worker_path(store)
    if path is not None:
        if not write:  # refused here at once, without starting a worker
            from graph.store._guard import check_read_only, rewrite_type

            check_read_only(rewrite_type(query), dialect="ladybug")
        return _in_worker(path, query, params, limits=limits, write=write, wait=wait)
    if isinstance(store, str | os.PathLike):
        from graph.store import open_store

        with open_store(store) as opened:
            return opened.cypher(query, params, write=write, timeout=limits.timeout)
    return store.cypher(query, params, write=write, timeout=limits.timeout)


# --- the worker, seen from here ------------------------------------------------------------


def _rss(pid: int) -> int | None:
    """Resident bytes of process ``pid`` (Linux ``/proc``), or ``None`` where unknown."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _memory_message(limits: QueryLimits) -> str:
    return (
        f"query failed: it needed more than the {format_size(limits.memory)} memory ceiling "
        "and was stopped (raise it with --max-memory or FALLOUT_QUERY_MEMORY, or add a LIMIT)"
    )


def _timeout_message(limits: QueryLimits) -> str:
    return f"query failed: timed out after {limits.timeout:g} s and was stopped"


class _Pipe:
    """Reads the worker's answer: one byte when the query starts, then the pickled outcome."""

    def __init__(self, stream: Any) -> None:
        self.started_at: float | None = None
        self.payload = b""
        self._stream = stream
        self.thread = threading.Thread(target=self._read, name="query-worker", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        first = self._stream.read(1)
        if first == b"R":
            self.started_at = time.monotonic()
            first = b""
        self.payload = first + self._stream.read()


def _in_worker(
    path: Path,
    query: str,
    params: Mapping[str, Any] | None,
    *,
    limits: QueryLimits,
    write: bool,
    wait: float,
) -> QueryResult:
    request = {
        "path": str(path), "query": query, "params": dict(params or {}), "write": write,
        "timeout": limits.timeout, "memory": limits.memory, "wait": wait,
    }  # fmt: skip
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.store._query_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    pipe = _Pipe(proc.stdout)
    stopped: str | None = None
    peak = 0
    try:
        try:
            proc.stdin.write(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the worker died at start: its exit code says so below
        opened_by = time.monotonic() + wait + _OPEN_ALLOWANCE
        while proc.poll() is None:
            now = time.monotonic()
            if pipe.started_at is not None:
                if now > pipe.started_at + limits.timeout + _GRACE:
                    stopped = "timeout"
            elif now > opened_by:
                stopped = "open"
            rss = _rss(proc.pid)
            if rss is not None:
                peak = max(peak, rss)
                if rss > limits.memory:
                    stopped = "memory"
            if stopped is not None:
                proc.kill()
                break
            time.sleep(_POLL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        pipe.thread.join()
        proc.stdout.close()
    if stopped == "memory":
        raise QueryRefused(_memory_message(limits))
    if stopped == "timeout":
        raise QueryRefused(_timeout_message(limits))
    if stopped == "open":
        raise StoreUnavailable(f"{path}: the store did not open within {_OPEN_ALLOWANCE:g} s")
    return _outcome(pipe.payload, proc.returncode, limits, path)


def _outcome(payload: bytes, code: int, limits: QueryLimits, path: Path) -> QueryResult:
    """Turn the worker's answer (or its silent death) into rows or one exception."""
    try:
        outcome = pickle.loads(payload) if payload else None  # noqa: S301 (our own worker)
    except (pickle.UnpicklingError, EOFError, ValueError):
        outcome = None
    if outcome is None:
        if code < 0:
            raise QueryRefused(f"query failed: the query worker stopped on signal {-code}")
        raise QueryRefused(f"query failed: the query worker exited with code {code}")
    kind = outcome[0]
    if kind == "ok":
        result: QueryResult = outcome[1]
        return result
    if kind == "memory":
        raise QueryRefused(_memory_message(limits))
    if kind == "timeout":
        raise QueryRefused(_timeout_message(limits))
    name, message = outcome[1], outcome[2]
    if name == "StoreBusy":
        raise StoreBusy(message)
    if name == "StoreUnavailable":
        raise StoreUnavailable(message)
    raise QueryRefused(message)
