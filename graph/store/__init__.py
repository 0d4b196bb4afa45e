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
    from graph.store.embedded import EmbeddedStore
    from graph.store.neo4j import Neo4jStore

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
) -> EmbeddedStore | Neo4jStore:
    """Open the store at ``url`` (see the module docstring for the forms).

    Raises ``StoreUnavailable`` with one line when the store cannot be opened;
    a Neo4j server that does not answer is reported within about ``timeout`` seconds.

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
    from graph.store.embedded import EmbeddedStore

    return EmbeddedStore(target.removeprefix("embedded::"))
