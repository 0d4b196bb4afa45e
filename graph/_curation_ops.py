"""Small, idempotent graph edits that curation records are made of, on either store.

Every edit goes through ``store.cypher(..., write=True)`` with one text valid on both
LadybugDB and Neo4j, so the same record changes either store the same way. A relation is
found by its stable id whatever its type and direction, because an earlier record may
have moved, reversed or retyped it; :func:`rewrite_relation` also folds the copies a
re-load can leave behind (the raw statement beside its curated form) into one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from extract.model import EntityType, RelationType
from graph.errors import UsageError
from graph.store.cypher import ENTITY_FIELDS, RELATION_FIELDS, relation_return

__all__ = [
    "Row",
    "create_entity",
    "create_relation",
    "delete_entity",
    "delete_relations",
    "entity_row",
    "relation_rows",
    "rewrite_relation",
    "rows_touching",
    "update_entity",
]

Row = dict[str, Any]
"""A relation as a dict: ``head``, ``type``, ``tail`` and every relation field."""

_RETURN = relation_return("type")
_ENTITY_RETURN = ", ".join(f"e.{f} AS {f}" for f in ENTITY_FIELDS)
_RELATION_TYPES = frozenset(t.value for t in RelationType)
_ENTITY_TYPES = frozenset(t.value for t in EntityType)


def _write(store: Any, query: str, params: dict[str, Any]) -> None:
    store.cypher(query, params, write=True)


def _rows(store: Any, query: str, params: dict[str, Any]) -> list[Row]:
    return [dict(r) for r in store.cypher(query, params, write=True).rows]


def entity_row(store: Any, entity_id: str) -> Row | None:
    """Return one entity's properties, or ``None`` when the store has no such entity."""
    found = _rows(
        store, f"MATCH (e:Entity) WHERE e.id = $p_id RETURN {_ENTITY_RETURN}", {"p_id": entity_id}
    )
    if not found:
        return None
    row = found[0]
    row["aliases"] = list(row.get("aliases") or [])
    return row


def create_entity(store: Any, row: Row) -> None:
    """Create an entity from ``row`` (``id``, ``name``, ``type``, ``aliases``, figures)."""
    if row["type"] not in _ENTITY_TYPES:
        raise UsageError(f"unknown entity kind {row['type']!r}")
    params = {f"p_{f}": row.get(f) for f in ENTITY_FIELDS}
    params["p_aliases"] = list(row.get("aliases") or [])
    sets = ", ".join(f"e.{f} = $p_{f}" for f in ENTITY_FIELDS if f not in ("id", "aliases"))
    _write(
        store,
        f"CREATE (e:Entity {{id: $p_id, aliases: $p_aliases}}) SET {sets}",
        params,
    )


def update_entity(store: Any, entity_id: str, **changes: Any) -> None:
    """Set some properties of one entity (``name``, ``type``, ``aliases``, figures)."""
    if not changes:
        return
    unknown = set(changes) - set(ENTITY_FIELDS)
    if unknown or "id" in changes:
        raise UsageError(f"cannot set {sorted(unknown | {'id'} & set(changes))} on an entity")
    if "type" in changes and changes["type"] not in _ENTITY_TYPES:
        raise UsageError(f"unknown entity kind {changes['type']!r}")
    sets = ", ".join(f"e.{f} = $p_{f}" for f in changes)
    params = {f"p_{f}": v for f, v in changes.items()} | {"p_id": entity_id}
    _write(store, f"MATCH (e:Entity) WHERE e.id = $p_id SET {sets}", params)


def delete_entity(store: Any, entity_id: str) -> None:
    """Delete one entity and every relation that touches it."""
    _write(store, "MATCH (e:Entity) WHERE e.id = $p_id DETACH DELETE e", {"p_id": entity_id})


def relation_rows(store: Any, relation_id: str) -> list[Row]:
    """Every relationship carrying ``relation_id`` (usually one), whatever its type."""
    return _rows(
        store,
        f"MATCH (h:Entity)-[r]->(t:Entity) WHERE r.id = $p_id RETURN {_RETURN}",
        {"p_id": relation_id},
    )


def rows_touching(store: Any, entity_id: str) -> list[Row]:
    """Every relationship that starts or ends at one entity."""
    return _rows(
        store,
        f"MATCH (h:Entity)-[r]->(t:Entity) WHERE h.id = $p_id OR t.id = $p_id RETURN {_RETURN}",
        {"p_id": entity_id},
    )


def delete_relations(store: Any, relation_id: str) -> None:
    """Delete every relationship carrying ``relation_id``."""
    _write(store, "MATCH ()-[r]->() WHERE r.id = $p_id DELETE r", {"p_id": relation_id})


def create_relation(store: Any, row: Row) -> None:
    """Create one relationship from ``row`` between two existing entities."""
    kind = row["type"]
    if kind not in _RELATION_TYPES:
        raise UsageError(f"unknown relation type {kind!r}")
    sets = ", ".join(f"r.`{f}` = $p_{f}" for f in RELATION_FIELDS if f != "id")
    params = {f"p_{f}": row.get(f) for f in RELATION_FIELDS}
    params["p_negated"] = bool(row.get("negated"))
    params["p_hedged"] = bool(row.get("hedged"))
    params |= {"p_head": row["head"], "p_tail": row["tail"]}
    _write(
        store,
        "MATCH (h:Entity), (t:Entity) WHERE h.id = $p_head AND t.id = $p_tail "
        f"CREATE (h)-[r:{kind} {{id: $p_id}}]->(t) SET {sets}",
        params,
    )


def _shape(row: Row) -> tuple[str, str, str]:
    return (row["head"], row["type"], row["tail"])


def rewrite_relation(store: Any, relation_id: str, change: Callable[[Row], Row | None]) -> bool:
    """Rewrite the relationships carrying ``relation_id`` with ``change``; fold copies.

    ``change(row)`` returns the row as it should be (a changed copy, or ``row`` itself),
    or ``None`` to drop it. The store is touched only when something differs: a second
    application of the same change is a no-op. A change that would make a self-loop drops
    the relationship (no relation joins an entity to itself). Returns whether it wrote.
    """
    rows = relation_rows(store, relation_id)
    if not rows:
        return False
    wanted: dict[tuple[str, str, str], Row] = {}
    for row in rows:
        new = change(dict(row))
        if new is None or new["head"] == new["tail"]:
            continue
        wanted.setdefault(_shape(new), new)
    same_shapes = sorted(map(_shape, rows)) == sorted(wanted)
    same_fields = all(
        {f: row.get(f) for f in RELATION_FIELDS}
        == {f: wanted[_shape(row)].get(f) for f in RELATION_FIELDS}
        for row in rows
        if _shape(row) in wanted
    )
    if same_shapes and same_fields:
        return False
    delete_relations(store, relation_id)
    for row in wanted.values():
        create_relation(store, row)
    return True
