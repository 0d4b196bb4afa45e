"""The query worker: runs one user Cypher statement on an embedded store, inside its limits.

Started by :func:`graph.store.bounded.run_query` as ``python -m graph.store._query_worker``.
It reads the pickled request from standard input, opens the store (read-only unless the
request writes), caps its own address space at what it holds then plus the memory
ceiling, writes ``R`` when the query starts, and ends with the pickled outcome:
``("ok", QueryResult)``, ``("memory",)`` or ``("error", class name, message)``.
Anything else the libraries print goes to standard error.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any, BinaryIO

__all__ = ["main"]

_OUT_OF_MEMORY = ("bad_alloc", "unable to allocate memory", "buffer pool is full")


def _address_space() -> int | None:
    """Bytes of address space this process has mapped (``VmSize``), or ``None``."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _cap_memory(memory: int) -> None:
    """Let this process map at most ``memory`` more bytes (``RLIMIT_AS``), where it can."""
    import resource

    mapped = _address_space()
    if mapped is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = mapped + memory
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _run(request: dict[str, Any], out: BinaryIO) -> tuple[Any, ...]:
    from graph.errors import GraphError, QueryRefused
    from graph.store import open_store

    try:
        store = open_store(request["path"], read_only=not request["write"], wait=request["wait"])
    except GraphError as err:
        return ("error", type(err).__name__, str(err))
    try:
        _cap_memory(int(request["memory"]))
        out.write(b"R")
        out.flush()
        result = store.cypher(
            request["query"], request["params"], write=request["write"],
            timeout=request["timeout"],
        )  # fmt: skip
        return ("ok", result)
    except MemoryError:
        return ("memory",)
    except QueryRefused as err:
        if any(mark in str(err).lower() for mark in _OUT_OF_MEMORY):
            return ("memory",)
        return ("error", "QueryRefused", str(err))
    except GraphError as err:
        return ("error", type(err).__name__, str(err))
    finally:
        store.close()


def main() -> None:
    """Serve one request from standard input; always exit 0 with an outcome on stdout."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # the protocol owns standard output
    try:
        request = pickle.load(sys.stdin.buffer)  # noqa: S301 (sent by our own parent)
        outcome = _run(request, out)
    except MemoryError:
        outcome = ("memory",)
    except Exception as err:  # noqa: BLE001 - reported as one line, never a traceback
        lines = str(err).strip().splitlines()
        first = lines[0] if lines else type(err).__name__
        outcome = ("error", "QueryRefused", f"query failed: {first}")
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        data = pickle.dumps(("memory",))
    out.write(data)
    out.flush()
    os._exit(0)  # the store is closed: skip the interpreter's teardown


if __name__ == "__main__":
    main()
