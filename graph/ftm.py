"""The graph as FollowTheMoney entities, which Aleph and OpenSanctions tooling read.

``fallout export --format ftm`` writes one FtM entity per line (JSON lines). Firms
become ``Company`` (a regulator ``PublicBody``, a protocol ``Organization``), people
``Person``, tokens ``Security`` (with their ``issuer``), places ``Address``. Each stated
relation becomes an edge entity carrying its evidence as ``description`` and its id as
``recordId``:

========================  ==============================================================
fallout                   FollowTheMoney
========================  ==============================================================
LENT_TO                   ``Debt`` (creditor = lender, debtor = borrower, amount, currency)
DEPOSITED_WITH            ``Debt`` (creditor = depositor, debtor = platform)
OWNS, HOLDS, INVESTED_IN  ``Ownership`` (owner, asset; role holder/investor)
ACQUIRED                  ``Ownership`` (role acquirer, status as stated)
LEADS                     ``Directorship`` (director, organization)
WORKS_FOR                 ``Employment`` (employee, employer)
ISSUED                    the token's ``issuer`` property
the others                ``UnknownLink`` (subject, object, role)
========================  ==============================================================

A relation whose ends do not fit the FtM schema's ranges becomes an ``UnknownLink``; a
relation the text denies is left out. Every entity is checked by the library's own
schema before it is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from graph.errors import SchemaViolation
from graph.store.base import EntityRecord, GraphDump, RelationRecord

__all__ = ["ftm_entities", "ftm_id", "to_ftm", "validate_ftm"]

_ENTITY_SCHEMA = {
    "Person": "Person",
    "Regulator": "PublicBody",
    "Protocol": "Organization",
    "Token": "Security",
    "Stablecoin": "Security",
    "Place": "Address",
}
"""FtM schema of each fallout kind; every other kind (firms, banks, outlets) is Company."""

_EDGES: dict[str, tuple[str, str, str, str]] = {
    # type: (schema, property of the head, property of the tail, role)
    "LENT_TO": ("Debt", "creditor", "debtor", "loan"),
    "DEPOSITED_WITH": ("Debt", "creditor", "debtor", "deposit"),
    "OWNS": ("Ownership", "owner", "asset", "owner"),
    "HOLDS": ("Ownership", "owner", "asset", "holder"),
    "INVESTED_IN": ("Ownership", "owner", "asset", "investor"),
    "ACQUIRED": ("Ownership", "owner", "asset", "acquirer"),
    "LEADS": ("Directorship", "director", "organization", "leads"),
    "WORKS_FOR": ("Employment", "employee", "employer", "works for"),
}
_LINK = ("UnknownLink", "subject", "object")


def ftm_id(kind: str, id: str) -> str:
    """Return an FtM id (letters, digits, dots and dashes) for a fallout id.

    Examples
    --------
    >>> ftm_id("entity", "quarry-capital")
    'fallout-quarry-capital'
    >>> ftm_id("entity", "Tamsin_Bank")  # an underscore is not allowed: a hash instead
    'fallout-entity-15956a9e257056e88865328333e1bf46aa9cc91a'
    """
    from followthemoney.types import registry

    plain = f"fallout-{id}"
    if registry.entity.clean(plain) == plain and len(plain) < 200:
        return plain
    return f"fallout-{kind}-" + hashlib.sha1(id.encode("utf-8")).hexdigest()


def _entity(model: Any, e: EntityRecord) -> Any:
    schema = _ENTITY_SCHEMA.get(e.type, "Company")
    proxy = model.make_entity(schema)
    proxy.id = ftm_id("entity", e.id)
    proxy.add("full" if schema == "Address" else "name", e.name)
    if schema != "Address":
        proxy.add("alias", list(e.aliases))
    if schema == "Security":
        proxy.add("type", "stablecoin" if e.type == "Stablecoin" else "token")
    proxy.add("notes", f"fallout kind: {e.type}")
    return proxy


def _fits(model: Any, schema: str, prop: str, target: Any) -> bool:
    rng = model.get(schema).get(prop).range
    return bool(target is not None and target.schema.is_a(rng))


def _edge(model: Any, r: RelationRecord, ends: dict[str, Any]) -> Any:
    head, tail = ends[r.head], ends[r.tail]
    schema, hp, tp, role = _EDGES.get(r.type, (*_LINK, r.type.replace("_", " ").lower()))
    if not (_fits(model, schema, hp, head) and _fits(model, schema, tp, tail)):
        schema, hp, tp = _LINK
        role = r.type.replace("_", " ").lower()
    proxy = model.make_entity(schema)
    proxy.id = ftm_id("statement", r.id)
    proxy.add(hp, head.id)
    proxy.add(tp, tail.id)
    if schema != "Debt":
        proxy.add("role", role)
    else:
        proxy.add("summary", role)
    if schema == "Debt" and r.amount is not None:
        proxy.add("amount", f"{r.amount:g}" if r.amount < 1e15 else str(r.amount))
        if r.currency:
            proxy.add("currency", r.currency)
    if r.date:
        proxy.add("date", r.date)
    if r.status and schema != "Debt":
        proxy.add("status", r.status)
    proxy.add("description", r.evidence)
    proxy.add("recordId", r.id)
    if r.hedged:
        proxy.add("summary", "hedged: reported as rumour or possibility")
    return proxy


def ftm_entities(dump: GraphDump) -> Iterator[Any]:
    """Yield the FtM entity proxies of a graph: entities first, then relation edges."""
    from followthemoney import model

    ends = {e.id: _entity(model, e) for e in dump.entities}
    for rel in dump.relations:
        if rel.type == "ISSUED" and rel.tail in ends and not rel.negated:
            token = ends[rel.tail]
            if token.schema.name == "Security" and rel.head in ends:
                token.add("issuer", ends[rel.head].id)
                continue
    yield from ends.values()
    for rel in dump.relations:
        if rel.negated or rel.head not in ends or rel.tail not in ends:
            continue
        if rel.type == "ISSUED" and ends[rel.tail].schema.name == "Security":
            continue
        yield _edge(model, rel, ends)


def validate_ftm(items: list[dict[str, Any]]) -> list[str]:
    """Check FtM entity dicts against the library's schema; return one line per problem.

    Every schema and property must exist, every value must be valid for the property's
    type, every entity reference must name an entity of the export whose schema fits
    the property's range, and every edge must have both ends.
    """
    from followthemoney import model
    from followthemoney.types import registry

    problems: list[str] = []
    by_id = {item["id"]: item for item in items}
    for item in items:
        schema = model.get(item.get("schema", ""))
        if schema is None:
            problems.append(f"{item.get('id')}: unknown schema {item.get('schema')!r}")
            continue
        if schema.abstract:
            problems.append(f"{item['id']}: abstract schema {schema.name}")
        for name, values in item.get("properties", {}).items():
            prop = schema.get(name)
            if prop is None:
                problems.append(f"{item['id']}: {schema.name} has no property {name!r}")
                continue
            for value in values:
                if not prop.type.validate(value):
                    problems.append(f"{item['id']}: {name}={value!r} is not a valid {prop.type}")
                if prop.type == registry.entity:
                    target = by_id.get(value)
                    kind = model.get(target["schema"]) if target is not None else None
                    if kind is None:
                        problems.append(f"{item['id']}: {name} names {value!r}, not exported")
                    elif prop.range is not None and not kind.is_a(prop.range):
                        problems.append(
                            f"{item['id']}: {name} needs a {prop.range.name}, got {kind.name}"
                        )
        if schema.edge:
            for end in (schema.edge_source, schema.edge_target):
                if not item.get("properties", {}).get(end):
                    problems.append(f"{item['id']}: {schema.name} without {end}")
    return problems


def to_ftm(dump: GraphDump) -> bytes:
    """Serialise a graph as FtM JSON lines, checked by the library's schema first.

    Raises
    ------
    SchemaViolation
        If an entity breaks the FtM schema (a bug in the mapping, never user input).
    """
    items = [proxy.to_dict() for proxy in ftm_entities(dump)]
    problems = validate_ftm(items)
    if problems:
        raise SchemaViolation(f"FollowTheMoney export: {problems[0]}")
    lines = (json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items)
    return "".join(line + "\n" for line in lines).encode("utf-8")
