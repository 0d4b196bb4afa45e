"""Shared by every page: the cached store and pipeline, query wrappers, state keys, graph view.

Caching follows the house rules: ``st.cache_resource`` only on :func:`get_store` and
:func:`get_nlp`; ``st.cache_data`` on query wrappers, which take the store as ``_store``
(not hashed) plus a ``store_key`` that tells stores apart.

An embedded store on disk is not held for the server's lifetime: :func:`get_store` gives
a ``SharedStore``, which :func:`store_interaction` opens read-only for one run of a page
and releases after it, so that ``fallout query`` reads and ``fallout load`` writes
between two clicks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import streamlit as st

from extract.model import Facts
from graph.scenario import Scenario
from graph.store.base import (
    EntityRecord,
    EvidenceRecord,
    GraphDump,
    GraphStore,
    RelationRecord,
    Subgraph,
)

__all__ = [
    "ASSUMPTIONS_KEY",
    "CYPHER_RESULT_KEY",
    "MATCH_KEY",
    "RUN_REQUEST_KEY",
    "EDGE_COLOURS",
    "INGEST_KEY",
    "KIND_COLOURS",
    "LAYOUTS",
    "RESULT_KEY",
    "SCENARIO_KEY",
    "SELECTED_KEY",
    "STORE_KEY",
    "Scenario",
    "assumed_figure",
    "cached_counts",
    "cached_document_titles",
    "cached_dump",
    "cached_entity",
    "cached_evidence",
    "cached_neighbourhood",
    "cached_relations",
    "cached_search",
    "current_store",
    "entity_review_rows",
    "facts_from_review",
    "get_nlp",
    "get_scenario",
    "get_store",
    "graph_elements",
    "graph_positions",
    "highlight_mention",
    "highlight_mentions",
    "md_escape",
    "init_state",
    "money",
    "relation_review_rows",
    "render_graph",
    "result_subgraph",
    "set_scenario",
    "store_busy_message",
    "store_interaction",
    "store_key",
    "store_label",
    "store_url",
]

# --- session-state keys ---------------------------------------------------------------
STORE_KEY = "fallout_store"
"""A ``GraphStore`` placed here wins over ``FALLOUT_STORE`` (tests seed it)."""
SELECTED_KEY = "fallout_selected"
"""Id of the entity selected on Explore (search result or click on the graph)."""
SCENARIO_KEY = "fallout_scenario"
"""The current :class:`Scenario`, mirrored in ``st.query_params``."""
RESULT_KEY = "fallout_result"
"""The last simulation run: ``(scenario, result)``."""
INGEST_KEY = "fallout_ingest"
"""Facts extracted on Ingest and awaiting review."""
ASSUMPTIONS_KEY = "fallout_assumptions"
"""Rows of the assumptions table as last edited on Simulate (``None``: the defaults)."""
RUN_REQUEST_KEY = "fallout_run_request"
"""Set when a button asked Simulate to run the current scenario on this rerun."""
CYPHER_RESULT_KEY = "fallout_cypher_result"
"""The last successful Cypher result."""
MATCH_KEY = "fallout_last_match"
"""The search match last picked on Explore (so a graph click is not undone)."""


def init_state() -> None:
    """Create every session-state key the pages read, once per session."""
    for key in (SELECTED_KEY, RESULT_KEY, INGEST_KEY, ASSUMPTIONS_KEY, CYPHER_RESULT_KEY,
                MATCH_KEY):
        if key not in st.session_state:
            st.session_state[key] = None
    if RUN_REQUEST_KEY not in st.session_state:
        st.session_state[RUN_REQUEST_KEY] = False
    if SCENARIO_KEY not in st.session_state:
        st.session_state[SCENARIO_KEY] = Scenario.from_query(st.query_params.to_dict(),
                                                             st.query_params.get_all)


# --- the store ----------------------------------------------------------------------
def store_url() -> str:
    """The store URL in force: ``FALLOUT_STORE``, else the default embedded store."""
    from graph.store import default_store_url

    return default_store_url()


@st.cache_resource(show_spinner="Opening the graph store…")
def get_store(url: str) -> GraphStore:
    """Open the store at ``url`` once per server process.

    An embedded store on disk comes as a ``SharedStore``: it holds the store only
    during a call or a :func:`store_interaction`, never for the server's lifetime.
    """
    from graph.store import open_store

    store: GraphStore = open_store(url, shared=True)
    return store


@st.cache_resource(show_spinner="Loading the extraction pipeline…")
def get_nlp() -> Any:
    """Build the spaCy pipeline once per server process."""
    from extract.pipeline import build_nlp

    return build_nlp()


def current_store() -> GraphStore:
    """The store of this session: one seeded in ``STORE_KEY``, else :func:`get_store`."""
    seeded = st.session_state.get(STORE_KEY)
    if seeded is not None:
        return seeded  # type: ignore[no-any-return]
    return get_store(store_url())


def store_key(store: GraphStore) -> str:
    """A cache key that tells two stores apart (two in-memory stores share a URL).

    For a ``SharedStore`` it also changes when the database files change, so cached
    reads show what another process (``fallout load``) wrote.
    """
    generation = getattr(store, "generation", None)
    suffix = "" if generation is None else "@" + ".".join(map(str, generation))
    return f"{getattr(store, 'url', '?')}#{id(store)}{suffix}"


def store_busy_message(err: Exception) -> str:
    """What the app says when another process holds the store (``StoreBusy``), escaped."""
    return (f"The graph store is busy: {md_escape(str(err))}. It is free again when that "
            "process finishes; then reload the page.")


@contextmanager
def store_interaction() -> Iterator[None]:
    """Hold the session's store for one run of a page, then release it.

    Inside, the page's reads share one read-only handle of an embedded store on disk;
    at the end it is closed, so no lock outlives the run. When another process holds
    the store, the page stops with a message naming it instead of a traceback.
    """
    from graph.errors import StoreBusy

    store = current_store()
    hold = getattr(store, "interaction", None)
    try:
        if hold is None:
            yield
        else:
            with hold():
                yield
    except StoreBusy as err:
        st.warning(store_busy_message(err), icon=":material/lock:")


def store_label(store: GraphStore) -> str:
    """How the sidebar names the store: the embedded path or the Neo4j URI."""
    url = str(getattr(store, "url", "") or "")
    if url in ("", ":memory:", "embedded::memory:"):
        return "embedded, in memory"
    if url.startswith(("neo4j://", "neo4j+s://", "bolt://", "bolt+s://")):
        return f"Neo4j at {url.split('@')[-1]}"
    return f"embedded at {url.removeprefix('embedded:')}"


# --- cached query wrappers ----------------------------------------------------------
@st.cache_data(ttl=60, show_spinner=False)
def cached_counts(_store: GraphStore, store_key: str) -> dict[str, int]:
    """Entity, relation and document counts."""
    return dict(_store.counts())


@st.cache_data(ttl=60, show_spinner=False)
def cached_last_update(_store: GraphStore, store_key: str) -> str | None:
    """When the store was last loaded into: the latest ``ingested_at`` of its documents."""
    rows = _store.cypher("MATCH (d:Document) RETURN max(d.ingested_at) AS last").rows
    return str(rows[0]["last"]) if rows and rows[0]["last"] else None


@st.cache_data(ttl=300, show_spinner=False)
def cached_search(
    _store: GraphStore, store_key: str, text: str, types: tuple[str, ...], limit: int = 20
) -> list[EntityRecord]:
    """Entities whose name or an alias contains ``text``."""
    return _store.search(text, types=list(types) or None, limit=limit)


@st.cache_data(ttl=300, show_spinner=False)
def cached_entity(_store: GraphStore, store_key: str, id: str) -> EntityRecord | None:
    """One entity by id."""
    return _store.entity(id)


@st.cache_data(ttl=300, show_spinner=False)
def cached_neighbourhood(
    _store: GraphStore, store_key: str, id: str, depth: int, relation_types: tuple[str, ...]
) -> Subgraph:
    """Entities within ``depth`` hops of ``id`` and the relations among them."""
    return _store.neighbourhood(id, depth, relation_types=list(relation_types) or None)


@st.cache_data(ttl=300, show_spinner=False)
def cached_relations(
    _store: GraphStore, store_key: str, entity: str, types: tuple[str, ...]
) -> list[RelationRecord]:
    """Every stated relation of ``entity``."""
    return _store.relations(entity=entity, types=list(types) or None)


@st.cache_data(ttl=300, show_spinner=False)
def cached_evidence(_store: GraphStore, store_key: str, relation_id: str) -> list[EvidenceRecord]:
    """Sentences and documents supporting one relation."""
    return _store.evidence(relation_id)


@st.cache_data(ttl=300, show_spinner=False)
def cached_document_titles(_store: GraphStore, store_key: str, ids: tuple[str, ...]) -> Any:
    """Titles and sources of documents, by id (``graph.evidence.document_titles``)."""
    from graph.evidence import document_titles

    return document_titles(_store, ids)


@st.cache_data(ttl=300, show_spinner=False)
def cached_dump(_store: GraphStore, store_key: str) -> GraphDump:
    """The whole graph (for the scenario form, projection and reports)."""
    return _store.dump()


def assumed_figure(kind: str, field: str) -> Any:
    """The documented assumption for ``field`` of an entity of ``kind``, or ``None``."""
    from graph.assumptions import AssumptionBook, default_assumptions

    return AssumptionBook(default_assumptions()).lookup("entity_type", kind, field)


# --- the scenario, mirrored in the URL ------------------------------------------------
# the one scenario object of the command line and the app: graph.scenario.Scenario


def get_scenario() -> Scenario:
    """The current scenario of this session."""
    init_state()
    scenario: Scenario = st.session_state[SCENARIO_KEY]
    return scenario


_SCENARIO_KEYS = ("default", "shock", "price", "model", "runs", "choice")


def set_scenario(scenario: Scenario) -> None:
    """Make ``scenario`` current and mirror it in the URL."""
    st.session_state[SCENARIO_KEY] = scenario
    wanted = scenario.to_query()
    for key in list(st.query_params.keys()):
        if (key in _SCENARIO_KEYS or key.startswith("p.")) and key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        st.query_params[key] = value


# --- ingest review ------------------------------------------------------------------
def entity_review_rows(facts: Facts) -> list[dict[str, Any]]:
    """One editable row per extracted entity."""
    return [
        {"accept": True, "id": e.id, "name": e.name, "type": e.type.value,
         "aliases": ", ".join(e.aliases), "mentions": len(e.mentions)}
        for e in facts.entities
    ]


def relation_review_rows(facts: Facts) -> list[dict[str, Any]]:
    """One editable row per extracted relation, with its evidence sentence."""
    return [
        {"accept": True, "head": r.head, "type": r.type.value, "tail": r.tail,
         "amount": r.amount, "currency": r.currency or "",
         "confidence": round(r.confidence, 2),
         "evidence": " … ".join(ev.text for ev in r.evidence)}
        for r in facts.relations
    ]


def facts_from_review(
    facts: Facts,
    entity_rows: Sequence[Mapping[Any, Any]],
    relation_rows: Sequence[Mapping[Any, Any]],
    *,
    source: str | None = None,
) -> Facts:
    """Apply a reviewer's accept/reject/edit rows to ``facts`` (rows in extraction order).

    Relations whose endpoints were rejected are dropped with them; evidence is kept.
    Raises ``ValueError`` (pydantic's) naming the field when an edit is invalid.
    """
    entities = []
    for ent, row in zip(facts.entities, entity_rows, strict=True):
        if not row.get("accept"):
            continue
        aliases = tuple(a.strip() for a in str(row.get("aliases") or "").split(",") if a.strip())
        entities.append(ent.model_copy(update={
            "name": str(row.get("name") or ent.name),
            "type": type(ent.type)(row.get("type") or ent.type.value),
            "aliases": aliases,
        }))
    kept = {e.id for e in entities}
    relations = []
    for rel, row in zip(facts.relations, relation_rows, strict=True):
        if not row.get("accept") or row.get("head") not in kept or row.get("tail") not in kept:
            continue
        amount = row.get("amount")
        amount = None if amount is None or amount != amount else float(amount)
        data = rel.model_dump()
        data.update(head=row["head"], tail=row["tail"], type=row.get("type") or data["type"],
                    amount=amount, currency=(row.get("currency") or None))
        relations.append(type(rel).model_validate(data))
    document = facts.document
    if source:
        document = document.model_copy(update={"source": source})
    return Facts(document=document, entities=tuple(entities), relations=tuple(relations))




from pages._graphview import (  # noqa: E402  (re-exported: pages import them from here)
    EDGE_COLOURS,
    KIND_COLOURS,
    LAYOUTS,
    graph_elements,
    graph_positions,
    highlight_mention,
    highlight_mentions,
    md_escape,
    money,
    render_graph,
    result_subgraph,
)
