"""Graph stores: ``open_store(url)`` picks the embedded LadybugDB store or Neo4j.

URLs: a directory (an embedded store on disk), ``embedded::memory:`` or ``:memory:``
(in memory), or ``neo4j://``, ``neo4j+s://``, ``neo4j+ssc://``, ``bolt://``,
``bolt+s://``, ``bolt+ssc://`` (Neo4j; credentials from ``NEO4J_USER``,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``). Without a URL, ``FALLOUT_STORE`` is used, then
an embedded store in the user data directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from graph.store.base import (
    DocumentRecord,
    EntityRecord,
    EvidenceRecord,
    GraphDump,
    GraphStore,
    LoadSummary,
    QueryResult,
    RelationRecord,
    Subgraph,
)

if TYPE_CHECKING:  # pragma: no cover
    from graph.store._lock import OnWait
    from graph.store.embedded import EmbeddedStore
    from graph.store.neo4j import Neo4jStore
    from graph.store.shared import SharedStore

__all__ = [
    "MEMORY_URLS",
    "NEO4J_SCHEMES",
    "DocumentRecord",
    "EntityRecord",
    "EvidenceRecord",
    "GraphDump",
    "GraphStore",
    "LoadSummary",
    "QueryResult",
    "RelationRecord",
    "Subgraph",
    "default_store_url",
    "open_store",
]

MEMORY_URLS = frozenset({"embedded::memory:", ":memory:"})
NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def default_store_url(env: Mapping[str, str] | None = None) -> str:
    """Return ``FALLOUT_STORE``, else ``NEO4J_URI``, else ``store`` in the user data directory.

    Examples
    --------
    >>> default_store_url({"NEO4J_URI": "bolt://db:7687"})
    'bolt://db:7687'
    >>> default_store_url({"FALLOUT_STORE": "/data/g", "NEO4J_URI": "bolt://db:7687"})
    '/data/g'
    """
    env = os.environ if env is None else env
    for key in ("FALLOUT_STORE", "NEO4J_URI"):
        if env.get(key, "").strip():
            return env[key].strip()
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("fallout")) / "store")


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    read_only: bool = False,
    wait: float = 0.0,
    on_wait: OnWait | None = None,
    shared: bool = False,
) -> EmbeddedStore | Neo4jStore | SharedStore:
    """Open the store at ``url`` (see the module docstring for the forms).

    Refuse, don't create: opened ``read_only``, an embedded store's directory must
    already hold a store; opened to write, it may also be a new path or an empty
    directory, never a directory of other files (:func:`graph.store._paths.check_store_dir`).
    Raises ``StoreUnavailable`` with one line when the store cannot be opened;
    a Neo4j server that does not answer is reported within about ``timeout`` seconds.
    An embedded store on disk opened ``read_only`` is shared with other readers; opened
    to write, it is held alone. When another process holds it, ``StoreBusy`` names the
    holders at once, or after waiting ``wait`` seconds (``on_wait`` is called about once
    a second meanwhile with the holders and the seconds left). Neo4j ignores the three.
    With ``shared`` an embedded store on disk comes as a ``SharedStore``, which opens it
    for each call or interaction and releases it after (for long-running processes such
    as the app).

    Examples
    --------
    >>> with open_store(":memory:") as store:
    ...     store.url
    'embedded::memory:'
    """
    env = os.environ if env is None else env
    target = str(url) if url is not None else default_store_url(env)
    if target in MEMORY_URLS:
        from graph.store.embedded import EmbeddedStore

        return EmbeddedStore(None)
    if target.startswith(NEO4J_SCHEMES):
        from graph.store.neo4j import Neo4jStore

        return Neo4jStore(
            target,
            user=env.get("NEO4J_USER") or None,
            password=env.get("NEO4J_PASSWORD") or None,
            database=env.get("NEO4J_DATABASE") or None,
            connection_timeout=timeout,
        )
    if "://" in target:
        from graph.errors import StoreUnavailable

        raise StoreUnavailable(
            f"{target}: unknown store URL; expected a directory, :memory: or one of "
            + ", ".join(NEO4J_SCHEMES)
        )
    path = target.removeprefix("embedded::")
    from graph.store._paths import check_store_dir

    check_store_dir(path, create=not read_only)
    if shared:
        from graph.store.shared import SharedStore

        return SharedStore(path, wait=wait)
    from graph.store.embedded import EmbeddedStore

    return EmbeddedStore(path, read_only=read_only, wait=wait, on_wait=on_wait)
