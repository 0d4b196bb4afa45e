"""Analysts' corrections kept beside the graph and applied again after every load.

A :class:`CurationRecord` says who changed what, when and why: merge two entities, split
an alias off, rename, change a kind; reverse, retype or reject a relation; edit an
amount or a date; or mark two entities as distinct (a rejected duplicate suggestion).
Records are ``Curation`` nodes in the same store as the graph (a node table in LadybugDB,
a label in Neo4j), so they travel with it. Each one is applied when it is made, and
:func:`apply_curation` applies every active record again, oldest first, at the end of
each load, so a re-ingest that brings back the extractor's raw statements never undoes
an analyst's work. Every application is idempotent: it looks at the graph as it is
and changes only what still differs. :func:`undo` marks a record undone and reverts
its effect from the snapshot the record kept.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from extract.model import EntityType, RelationType
from graph import _curation_ops as ops
from graph.errors import GraphError, QueryRefused

__all__ = [
    "ACTIONS",
    "EDITABLE_FIELDS",
    "CurationError",
    "CurationRecord",
    "apply_curation",
    "curate",
    "list_records",
    "undo",
]

ACTIONS = ("merge", "split", "rename", "kind", "reverse", "retype", "reject", "edit", "distinct")
"""Every kind of record: five on entities, four on relations, one on a pair."""

EDITABLE_FIELDS = ("amount", "date")
"""Relation fields an ``edit`` record may set."""

_LADYBUG_TABLE = (
    "CREATE NODE TABLE IF NOT EXISTS Curation(id STRING PRIMARY KEY, seq INT64, "
    "action STRING, target STRING, payload STRING, who STRING, at STRING, why STRING, "
    "undone BOOLEAN)"
)
_NEO4J_CONSTRAINT = (
    "CREATE CONSTRAINT curation_id IF NOT EXISTS FOR (c:Curation) REQUIRE c.id IS UNIQUE"
)
_FIELDS = ("id", "seq", "action", "target", "payload", "who", "at", "why", "undone")
_RETURN = ", ".join(f"c.{f} AS {f}" for f in _FIELDS)


class CurationError(GraphError):
    """A curation action cannot be made: unknown entity or relation, bad value."""


@dataclass(frozen=True)
class CurationRecord:
    """One analyst's correction: who, when, why, and what (``action`` on ``target``).

    ``payload`` holds the action's arguments and, under ``"before"``, what the graph
    held before, so that :func:`undo` can put it back.
    """

    id: str
    seq: int
    action: str
    target: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    who: str = ""
    at: str = ""
    why: str = ""
    undone: bool = False

    def describe(self) -> str:
        """Return the record in one line of plain words.

        Examples
        --------
        >>> CurationRecord("c-1", 1, "merge", "b", {"keep": "a", "drop": "b"}).describe()
        'merge b into a'
        >>> CurationRecord("c-2", 2, "edit", "r-9", {"field": "amount", "value": 5.0}).describe()
        'edit r-9: amount = 5.0'
        """
        p = self.payload
        words: dict[str, Callable[[], str]] = {
            "merge": lambda: f"merge {p.get('drop')} into {p.get('keep')}",
            "split": lambda: (
                f"split alias {p.get('alias')!r} off {self.target} as {p.get('new_id')}"
            ),
            "rename": lambda: f"rename {self.target} to {p.get('name')!r}",
            "kind": lambda: f"change the kind of {self.target} to {p.get('type')}",
            "reverse": lambda: f"reverse {self.target} ({p.get('head')} -> {p.get('tail')})",
            "retype": lambda: f"retype {self.target} from {p.get('from')} to {p.get('to')}",
            "reject": lambda: f"reject {self.target}",
            "edit": lambda: f"edit {self.target}: {p.get('field')} = {p.get('value')}",
            "distinct": lambda: f"keep {p.get('a')} and {p.get('b')} apart",
        }
        return words.get(self.action, lambda: f"{self.action} {self.target}")()


# --- where records live -----------------------------------------------------------------


def _is_ladybug(store: Any) -> bool:
    return getattr(store, "type_fn", "label") == "label"


def _session(store: Any, action: Callable[[Any], Any], *, write: bool) -> Any:
    """Run ``action`` on one open handle: a ``SharedStore`` is opened once, not per call."""
    from graph.store.shared import SharedStore

    if isinstance(store, SharedStore):
        # one exclusive (or shared) open for every statement of the action
        return store._write(action) if write else store._read(action)
    return action(store)


def _ensure_table(store: Any) -> None:
    store.cypher(_LADYBUG_TABLE if _is_ladybug(store) else _NEO4J_CONSTRAINT, write=True)


def _record(row: Mapping[str, Any]) -> CurationRecord:
    return CurationRecord(
        id=str(row["id"]),
        seq=int(row["seq"] or 0),
        action=str(row["action"]),
        target=str(row["target"] or ""),
        payload=json.loads(row["payload"] or "{}"),
        who=str(row["who"] or ""),
        at=str(row["at"] or ""),
        why=str(row["why"] or ""),
        undone=bool(row["undone"]),
    )


def _read_records(store: Any, *, write: bool) -> list[CurationRecord]:
    try:
        result = store.cypher(f"MATCH (c:Curation) RETURN {_RETURN} ORDER BY c.seq", write=write)
    except QueryRefused as err:
        if "Curation" in str(err):  # an embedded store nobody has curated yet
            return []
        raise
    return [_record(r) for r in result.rows]


def list_records(store: Any, *, include_undone: bool = True) -> list[CurationRecord]:
    """Return the store's curation records, oldest first.

    Examples
    --------
    >>> from graph.store.embedded import EmbeddedStore
    >>> with EmbeddedStore(None) as store:
    ...     list_records(store)
    []
    """
    records: list[CurationRecord] = _session(
        store, lambda s: _read_records(s, write=False), write=False
    )
    return [r for r in records if include_undone or not r.undone]


def _save(store: Any, rec: CurationRecord) -> None:
    params = {f"p_{f}": getattr(rec, f) for f in _FIELDS}
    params["p_payload"] = json.dumps(rec.payload, sort_keys=True)
    store.cypher(
        "CREATE (c:Curation {id: $p_id}) SET "
        + ", ".join(f"c.{f} = $p_{f}" for f in _FIELDS if f != "id"),
        params,
        write=True,
    )


def _mark_undone(store: Any, record_id: str) -> None:
    store.cypher(
        "MATCH (c:Curation) WHERE c.id = $p_id SET c.undone = true",
        {"p_id": record_id},
        write=True,
    )


# --- applying records ----------------------------------------------------------------------


def _moved(row: ops.Row, old: str, new: str) -> ops.Row:
    if row["head"] == old:
        row["head"] = new
    if row["tail"] == old:
        row["tail"] = new
    return row


def _apply_merge(store: Any, p: Mapping[str, Any]) -> None:
    keep, drop = p["keep"], p["drop"]
    gone = ops.entity_row(store, drop)
    kept = ops.entity_row(store, keep)
    if gone is None or kept is None:
        return
    for rid in sorted({r["id"] for r in ops.rows_touching(store, drop)}):
        ops.rewrite_relation(store, rid, lambda row: _moved(row, drop, keep))
    aliases = list(kept["aliases"])
    for alias in (gone["name"], *gone["aliases"]):
        if alias != kept["name"] and alias not in aliases:
            aliases.append(alias)
    figures = {
        f: gone[f]
        for f in ("equity", "total_assets", "deposits")
        if kept.get(f) is None and gone.get(f) is not None
    }
    ops.update_entity(store, keep, aliases=aliases, **figures)
    ops.delete_entity(store, drop)


def _apply_split(store: Any, target: str, p: Mapping[str, Any]) -> None:
    owner = ops.entity_row(store, target)
    if owner is None:
        return
    if p["alias"] in owner["aliases"]:
        ops.update_entity(store, target, aliases=[a for a in owner["aliases"] if a != p["alias"]])
    if ops.entity_row(store, p["new_id"]) is None:
        ops.create_entity(
            store, {"id": p["new_id"], "name": p["alias"], "type": p["kind"], "aliases": []}
        )
    for rid in p.get("relations", ()):
        ops.rewrite_relation(store, rid, lambda row: _moved(row, target, p["new_id"]))


def _apply_rename(store: Any, target: str, p: Mapping[str, Any]) -> None:
    row = ops.entity_row(store, target)
    if row is None or row["name"] == p["name"]:
        return
    aliases = [a for a in row["aliases"] if a != p["name"]]
    if row["name"] not in aliases:
        aliases.append(row["name"])
    ops.update_entity(store, target, name=p["name"], aliases=aliases)


def _apply_kind(store: Any, target: str, p: Mapping[str, Any]) -> None:
    row = ops.entity_row(store, target)
    if row is not None and row["type"] != p["type"]:
        ops.update_entity(store, target, type=p["type"])


def _reversed(row: ops.Row, head: str, tail: str) -> ops.Row:
    if (row["head"], row["tail"]) == (head, tail):
        row["head"], row["tail"] = tail, head
    return row


def _retyped(row: ops.Row, old: str, new: str) -> ops.Row:
    if row["type"] == old:
        row["type"] = new
    return row


def _edited(row: ops.Row, name: str, value: Any) -> ops.Row:
    row[name] = value
    return row


def _apply(store: Any, rec: CurationRecord) -> None:
    """Bring the graph in line with one record (a no-op when it already is)."""
    p, target = rec.payload, rec.target
    if rec.action == "merge":
        _apply_merge(store, p)
    elif rec.action == "split":
        _apply_split(store, target, p)
    elif rec.action == "rename":
        _apply_rename(store, target, p)
    elif rec.action == "kind":
        _apply_kind(store, target, p)
    elif rec.action == "reverse":
        ops.rewrite_relation(store, target, lambda r: _reversed(r, p["head"], p["tail"]))
    elif rec.action == "retype":
        ops.rewrite_relation(store, target, lambda r: _retyped(r, p["from"], p["to"]))
    elif rec.action == "reject":
        ops.rewrite_relation(store, target, lambda r: None)
    elif rec.action == "edit":
        ops.rewrite_relation(store, target, lambda r: _edited(r, p["field"], p["value"]))


def apply_curation(store: Any) -> int:
    """Apply every active record to ``store``, oldest first; return how many there are.

    The stores call this at the end of every ``load`` (the curation hook), so that what
    a re-ingest brought back in its raw form is corrected again. With no records it
    costs one query.

    Examples
    --------
    >>> from graph.store.embedded import EmbeddedStore
    >>> with EmbeddedStore(None) as store:
    ...     apply_curation(store)
    0
    """

    def run(s: Any) -> int:
        active = [r for r in _read_records(s, write=True) if not r.undone]
        for rec in active:
            _apply(s, rec)
        return len(active)

    count: int = _session(store, run, write=True)
    return count


# --- making records ---------------------------------------------------------------------------


def _who() -> str:
    try:
        return os.environ.get("FALLOUT_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid
        return "unknown"


def _slug(text: str) -> str:
    """Return an entity id made from a name.

    Examples
    --------
    >>> _slug("Mr. Liu")
    'mr-liu'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "entity"


def _need_entity(store: Any, entity_id: str) -> ops.Row:
    row = ops.entity_row(store, entity_id)
    if row is None:
        raise CurationError(f"no entity with id {entity_id!r} in the store")
    return row


def _need_relation(store: Any, relation_id: str) -> ops.Row:
    rows = ops.relation_rows(store, relation_id)
    if not rows:
        raise CurationError(f"no relation with id {relation_id!r} in the store")
    return rows[0]


def _merge_payload(store: Any, target: str, args: Mapping[str, Any]) -> dict[str, Any]:
    keep = str(args["keep"])
    if keep == target:
        raise CurationError(f"cannot merge {target!r} into itself")
    kept, gone = _need_entity(store, keep), _need_entity(store, target)
    moved = [[r["id"], r["head"], r["tail"]] for r in ops.rows_touching(store, target)]
    return {
        "keep": keep,
        "drop": target,
        "before": {"drop": gone, "keep_aliases": kept["aliases"], "moved": moved},
    }


def _split_payload(store: Any, target: str, args: Mapping[str, Any]) -> dict[str, Any]:
    owner = _need_entity(store, target)
    alias = str(args["alias"])
    if alias not in owner["aliases"]:
        raise CurationError(f"{alias!r} is not an alias of {target!r}: {owner['aliases']}")
    kind = str(args.get("kind") or owner["type"])
    new_id = str(args.get("new_id") or _slug(alias))
    while ops.entity_row(store, new_id) is not None:
        new_id += "-2"
    relations = [str(r) for r in args.get("relations", ())]
    for rid in relations:
        row = _need_relation(store, rid)
        if target not in (row["head"], row["tail"]):
            raise CurationError(f"relation {rid!r} does not touch {target!r}")
    return {"alias": alias, "new_id": new_id, "kind": kind, "relations": relations}


def _relation_payload(store: Any, action: str, target: str, args: Mapping[str, Any]) -> Any:
    row = _need_relation(store, target)
    if action == "reverse":
        return {"head": row["head"], "tail": row["tail"]}
    if action == "retype":
        return {"from": row["type"], "to": str(args["type"])}
    if action == "reject":
        return {"before": {"rows": ops.relation_rows(store, target)}}
    name = str(args["field"])
    if name not in EDITABLE_FIELDS:
        raise CurationError(f"cannot edit {name!r}; editable fields: {', '.join(EDITABLE_FIELDS)}")
    value = args.get("value")
    if name == "amount" and value is not None:
        value = float(value)
        if not value >= 0:
            raise CurationError(f"amount {value} is not a non-negative number")
    if (
        name == "date"
        and value is not None
        and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?|-Q[1-4])?", str(value))
    ):
        raise CurationError(f"date {value!r}: expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-Qn")
    return {"field": name, "value": value, "before": {"value": row.get(name)}}


def _payload(store: Any, action: str, target: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Check an action against the graph and return its payload, with what it replaces."""
    if action == "merge":
        return _merge_payload(store, target, args)
    if action == "split":
        return _split_payload(store, target, args)
    if action == "rename":
        row = _need_entity(store, target)
        name = str(args["name"]).strip()
        if not name:
            raise CurationError("a new name cannot be blank")
        return {"name": name, "before": {"name": row["name"], "aliases": row["aliases"]}}
    if action == "kind":
        row = _need_entity(store, target)
        kind = str(args["type"])
        if kind not in {k.value for k in EntityType}:
            raise CurationError(f"unknown kind {kind!r}; kinds: {', '.join(EntityType)}")
        return {"type": kind, "before": {"type": row["type"]}}
    if action == "distinct":
        return {"a": target, "b": str(args["other"])}
    if action == "retype" and str(args["type"]) not in {t.value for t in RelationType}:
        raise CurationError(f"unknown relation type {args['type']!r}")
    if action in ("reverse", "retype", "reject", "edit"):
        payload: dict[str, Any] = _relation_payload(store, action, target, args)
        return payload
    raise CurationError(f"unknown curation action {action!r}; actions: {', '.join(ACTIONS)}")


def curate(
    store: Any,
    action: str,
    target: str,
    *,
    why: str = "",
    who: str | None = None,
    **args: Any,
) -> CurationRecord:
    """Record one correction in ``store`` and apply it to the graph now.

    Parameters
    ----------
    store
        Any ``GraphStore`` (embedded, shared or Neo4j).
    action
        One of :data:`ACTIONS`.
    target
        The entity id (merge: the entity that goes; split, rename, kind) or the
        relation id (reverse, retype, reject, edit).
    why, who
        The reason, and who made it (``FALLOUT_USER`` or the login name by default).
    **args
        ``keep=`` (merge), ``alias=``, ``kind=``, ``relations=`` (split), ``name=``
        (rename), ``type=`` (kind, retype), ``field=``, ``value=`` (edit), ``other=``
        (distinct).

    Returns
    -------
    CurationRecord

    Raises
    ------
    CurationError
        Unknown action, entity, relation, kind or type, or a bad value.

    Examples
    --------
    >>> from graph.store.embedded import EmbeddedStore
    >>> from extract.model import Facts
    >>> f = Facts.model_validate({"document": {"id": "d1", "source": "d1.txt"},
    ...     "entities": [{"id": "a", "name": "A Lending", "type": "Lender"},
    ...                  {"id": "a-llc", "name": "A Lending LLC", "type": "Lender"},
    ...                  {"id": "b", "name": "B", "type": "Bank"}],
    ...     "relations": [{"head": "a-llc", "type": "LENT_TO", "tail": "b", "confidence": 0.9,
    ...                    "evidence": [{"text": "A Lending LLC lent to B.", "start": 0,
    ...                                  "end": 24}]}]})
    >>> with EmbeddedStore(None) as store:
    ...     _ = store.load([f])
    ...     rec = curate(store, "merge", "a-llc", keep="a", why="same firm")
    ...     _ = store.load([f])  # a re-ingest brings the raw entity back ...
    ...     [(r.head, r.tail) for r in store.relations()], store.entity("a-llc")
    ([('a', 'b')], None)
    """
    if action not in ACTIONS:
        raise CurationError(f"unknown curation action {action!r}; actions: {', '.join(ACTIONS)}")

    def run(s: Any) -> CurationRecord:
        _ensure_table(s)
        payload = _payload(s, action, target, args)
        seq = max((r.seq for r in _read_records(s, write=True)), default=0) + 1
        rec = CurationRecord(
            id="c-" + uuid.uuid4().hex[:12],
            seq=seq,
            action=action,
            target=target,
            payload=payload,
            who=who or _who(),
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            why=why,
        )
        _save(s, rec)
        _apply(s, rec)
        return rec

    record: CurationRecord = _session(store, run, write=True)
    return record


# --- undoing records -------------------------------------------------------------------------


def _revert_merge(store: Any, p: Mapping[str, Any]) -> None:
    keep, drop, before = p["keep"], p["drop"], p["before"]
    if ops.entity_row(store, drop) is None:
        ops.create_entity(store, before["drop"])
    for rid, head, tail in before["moved"]:

        def back(row: ops.Row, head: str = head, tail: str = tail) -> ops.Row:
            if head == drop and row["head"] == keep:
                row["head"] = drop
            if tail == drop and row["tail"] == keep:
                row["tail"] = drop
            return row

        ops.rewrite_relation(store, rid, back)
    kept = ops.entity_row(store, keep)
    if kept is not None:
        added = {before["drop"]["name"], *before["drop"]["aliases"]} - set(before["keep_aliases"])
        ops.update_entity(store, keep, aliases=[a for a in kept["aliases"] if a not in added])


def _revert_split(store: Any, target: str, p: Mapping[str, Any]) -> None:
    for rid in p.get("relations", ()):
        ops.rewrite_relation(store, rid, lambda row: _moved(row, p["new_id"], target))
    owner = ops.entity_row(store, target)
    if owner is not None and p["alias"] not in owner["aliases"]:
        ops.update_entity(store, target, aliases=[*owner["aliases"], p["alias"]])
    if ops.entity_row(store, p["new_id"]) is not None and not ops.rows_touching(store, p["new_id"]):
        ops.delete_entity(store, p["new_id"])


def _revert(store: Any, rec: CurationRecord) -> None:
    """Put back what one record changed, from the snapshot it kept."""
    p, target = rec.payload, rec.target
    before = p.get("before", {})
    if rec.action == "merge":
        _revert_merge(store, p)
    elif rec.action == "split":
        _revert_split(store, target, p)
    elif rec.action == "rename":
        row = ops.entity_row(store, target)
        if row is not None:
            aliases = [a for a in row["aliases"] if a != before["name"]]
            if p["name"] in before["aliases"] and p["name"] not in aliases:
                aliases.append(p["name"])
            ops.update_entity(store, target, name=before["name"], aliases=aliases)
    elif rec.action == "kind":
        if ops.entity_row(store, target) is not None:
            ops.update_entity(store, target, type=before["type"])
    elif rec.action == "reverse":
        ops.rewrite_relation(store, target, lambda r: _reversed(r, p["tail"], p["head"]))
    elif rec.action == "retype":
        ops.rewrite_relation(store, target, lambda r: _retyped(r, p["to"], p["from"]))
    elif rec.action == "reject":
        if not ops.relation_rows(store, target):
            for row in before["rows"]:
                ops.create_relation(store, row)
    elif rec.action == "edit":
        ops.rewrite_relation(store, target, lambda r: _edited(r, p["field"], before["value"]))


def undo(store: Any, record_id: str) -> CurationRecord:
    """Mark one record undone and revert its effect; return the record as it was.

    Later records stay; they are applied again on top of what the undo restored.

    Raises
    ------
    CurationError
        No such record, or it is already undone.
    """

    def run(s: Any) -> CurationRecord:
        records = _read_records(s, write=True)
        found = [r for r in records if r.id == record_id]
        if not found:
            raise CurationError(f"no curation record {record_id!r} (see `fallout curate list`)")
        rec = found[0]
        if rec.undone:
            raise CurationError(f"curation record {record_id!r} is already undone")
        _mark_undone(s, rec.id)
        _revert(s, rec)
        for later in records:
            if later.seq > rec.seq and not later.undone:
                _apply(s, later)
        return rec

    record: CurationRecord = _session(store, run, write=True)
    return record
