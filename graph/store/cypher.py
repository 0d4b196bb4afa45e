"""Every Cypher statement the stores run, parameterised; labels come only from the enums.

Most statements are valid on both backends. Where the dialects differ (DDL, the
relationship-type function, list union) there is one constant per backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from extract.model import EntityType, RelationType
from graph.errors import UsageError

__all__ = [
    "ENTITY_FIELDS",
    "EXAMPLE_QUERIES",
    "LADYBUG_DDL",
    "NEO4J_DDL",
    "NEO4J_ENTITY_COLUMNS",
    "NEO4J_SETTING",
    "Neo4jColumns",
    "RELATION_FIELDS",
    "TRACE_QUERY",
    "count_queries",
    "document_query",
    "documents_query",
    "entities_by_id_query",
    "entity_query",
    "hop_query",
    "ladybug_offsets_query",
    "ladybug_update_entities",
    "neo4j_create_relations",
    "neo4j_delete_stale",
    "neo4j_merge_documents",
    "neo4j_merge_entities",
    "neo4j_merge_relations",
    "one_row",
    "relation_return",
    "relations_query",
    "search_query",
]

RELATION_TYPES = tuple(t.value for t in RelationType)
ENTITY_TYPES = tuple(t.value for t in EntityType)

ENTITY_FIELDS = (
    "id", "name", "type", "aliases", "equity", "total_assets", "deposits", "attr_source",
)  # fmt: skip
"""Properties of an ``Entity`` node, in table order."""

RELATION_FIELDS = (
    "id", "document_id", "confidence", "amount", "currency", "asset", "quantity", "date",
    "status", "to", "negated", "hedged", "speaker", "evidence", "start", "end",
)  # fmt: skip
"""Properties of every relationship, in table order (``to``, ``start``, ``end`` are
reserved words in LadybugDB, so statements quote them with backticks)."""

_REL_COLUMNS = (
    "id STRING, document_id STRING, confidence DOUBLE, amount DOUBLE, currency STRING, "
    "asset STRING, quantity DOUBLE, date STRING, status STRING, `TO` STRING, "
    "negated BOOLEAN, hedged BOOLEAN, speaker STRING, evidence STRING, "
    "`start` INT64, `end` INT64"
)

LADYBUG_DDL: tuple[str, ...] = (
    "CREATE NODE TABLE IF NOT EXISTS Entity(id STRING PRIMARY KEY, name STRING, "
    "type STRING, aliases STRING[], equity DOUBLE, total_assets DOUBLE, deposits DOUBLE, "
    "attr_source STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Document(id STRING PRIMARY KEY, title STRING, "
    "source STRING, ingested_at STRING, entities STRING[])",
    # stores made before documents listed their entities (graph.forget reads the list)
    "ALTER TABLE Document ADD IF NOT EXISTS entities STRING[]",
    *(
        f"CREATE REL TABLE IF NOT EXISTS {t}(FROM Entity TO Entity, {_REL_COLUMNS})"
        for t in RELATION_TYPES
    ),
)
"""LadybugDB schema: one node table per node label, one rel table per relation type.

The ``to`` property is declared as ``TO``: property names are case-insensitive in
queries (``r.`to``` reads it), but ``COPY`` into a rel table would otherwise fill a
property spelled ``to`` with the target node's key.
"""

NEO4J_DDL: tuple[str, ...] = (
    "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT document_id IF NOT EXISTS FOR (d:Document) REQUIRE d.id IS UNIQUE",
    "CREATE INDEX entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name)",
    # stores written before relationship ids were indexed instead of constrained
    *(f"DROP CONSTRAINT rel_id_{t.lower()} IF EXISTS" for t in RELATION_TYPES),
    *(
        f"CREATE INDEX rel_id_{t.lower()} IF NOT EXISTS FOR ()-[r:{t}]-() ON (r.id)"
        for t in RELATION_TYPES
    ),
)
"""Neo4j constraints and indexes (``IF NOT EXISTS``, so opening a store twice is harmless).

Entity and document ids are unique constraints. Relationship ids have a range index per
type, not a uniqueness constraint: the loader keeps them unique itself (a document new to
the store gets new relationships, a re-loaded one has its relationships merged by id),
and checking the constraint made a bulk load about 10 % slower.
"""

NEO4J_SETTING = "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value"
"""The value of one server setting (``db.memory.transaction.max`` for user queries)."""


_ENTITY_RETURN = ", ".join(f"e.{f} AS {f}" for f in ENTITY_FIELDS)


def relation_return(type_fn: str) -> str:
    """Return the columns of one relation ``(h)-[r]->(t)``; ``type_fn``: ``type``/``label``."""
    props = ", ".join(f"r.`{f}` AS `{f}`" for f in RELATION_FIELDS)
    return f"h.id AS head, {type_fn}(r) AS type, t.id AS tail, {props}"


def _rel_pattern(types: tuple[str, ...] | None) -> str:
    if not types:
        return "[r]"
    return "[r:" + "|".join(types) + "]"


TRACE_QUERY = (
    "MATCH (h:Entity)-[r]->(t:Entity), (d:Document)\n"
    "WHERE d.id = r.document_id\n"
    "RETURN h.name AS head, type(r) AS relation, t.name AS tail, r.amount AS amount,\n"
    "       r.evidence AS sentence, r.`start` AS `start`, r.`end` AS `end`,\n"
    "       d.title AS document, d.source AS source\n"
    "ORDER BY head, relation, tail"
)
"""Every relationship with the sentence and document that state it (both backends)."""

EXAMPLE_QUERIES: dict[str, str] = {
    "trace every edge to its sentence and document": TRACE_QUERY,
    "who lent to whom, largest first": (
        "MATCH (h:Entity)-[r:LENT_TO]->(t:Entity)\n"
        "WHERE r.amount IS NOT NULL\n"
        "RETURN h.name AS lender, t.name AS borrower, r.amount AS amount, r.currency AS currency\n"
        "ORDER BY amount DESC"
    ),
    "lenders holding collateral issued by a given firm": (
        "MATCH (issuer:Entity {id: $issuer})-[:ISSUED]->(token:Entity)\n"
        "MATCH (pledger:Entity)-[p:PLEDGED_COLLATERAL]->(token)\n"
        "RETURN DISTINCT pledger.name AS pledger, token.name AS token, p.`to` AS lender"
    ),
    "relations per type": (
        "MATCH ()-[r]->()\nRETURN type(r) AS relation, count(*) AS n\nORDER BY n DESC, relation"
    ),
}
"""Example queries tested on both backends and quoted in docs/queries.md.

LadybugDB spells ``type(r)`` as ``label(r)``; the embedded store rewrites the
function call (outside literals), so these texts run unchanged on both.
"""


def count_queries() -> dict[str, str]:
    """Return the three count queries of ``GraphStore.counts``."""
    return {
        "entities": "MATCH (e:Entity) RETURN count(e) AS n",
        "relations": "MATCH (:Entity)-[r]->(:Entity) RETURN count(r) AS n",
        "documents": "MATCH (d:Document) RETURN count(d) AS n",
    }


def entity_query() -> str:
    """One entity by id."""
    return f"MATCH (e:Entity {{id: $id}}) RETURN {_ENTITY_RETURN}"


def entities_by_id_query() -> str:
    """Entities for a list of ids (``$ids``), one index lookup each."""
    return f"UNWIND $ids AS x MATCH (e:Entity {{id: x}}) RETURN {_ENTITY_RETURN}"


def search_query(types: tuple[str, ...] | None, *, text: bool = True) -> str:
    """Case-insensitive substring search over name and aliases (``$q`` lower case).

    Without ``text`` every entity matches (LadybugDB finds no match for ``CONTAINS ''``).
    """
    # LadybugDB refuses a parameter inside a list predicate, hence ``WITH $q AS q``
    conditions = []
    if text:
        conditions.append(
            "(lower(e.name) CONTAINS q OR any(a IN e.aliases WHERE lower(a) CONTAINS q))"
        )
    if types:
        conditions.append("e.type IN $types")
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    head = "WITH $q AS q MATCH (e:Entity)" if text else "MATCH (e:Entity)"
    return f"{head}{where} RETURN {_ENTITY_RETURN} ORDER BY size(e.name), e.name, e.id LIMIT $limit"


def hop_query(
    type_fn: str,
    types: tuple[str, ...] | None,
    *,
    outgoing: bool,
    mode: Literal["unwind", "one", "list"] = "unwind",
    skip: bool = False,
) -> str:
    """At most ``$limit`` relations leaving (or entering) some entities; one hop.

    With ``skip`` the relations whose ids are in ``$walked`` are passed over (a walk
    does not spend its limit on relations it has already followed).

    ``unwind`` takes the ids as ``$ids`` and looks each up (Neo4j). LadybugDB plans
    an ``UNWIND`` joined to a relationship pattern badly (a second per hop), so it
    uses ``one`` (a single ``$id``, found through the index) for a few entities and
    ``list`` for many: a filter on the entities' offsets in their table, ``$offsets``
    (from :func:`ladybug_offsets_query`), then the adjacency lists; that is three
    times faster than the same filter on the ``id`` strings.
    """
    end = "h" if outgoing else "t"
    pattern = _rel_pattern(types)
    conditions = ["NOT r.id IN $walked"] if skip else []
    if mode == "list":
        conditions.insert(0, f"offset(id({end})) IN $offsets")
        match = f"MATCH (h:Entity)-{pattern}->(t:Entity)"
    else:
        key = "$id" if mode == "one" else "x"
        start = f"(h:Entity {{id: {key}}})" if outgoing else "(h:Entity)"
        stop = "(t:Entity)" if outgoing else f"(t:Entity {{id: {key}}})"
        unwind = "UNWIND $ids AS x " if mode == "unwind" else ""
        match = f"{unwind}MATCH {start}-{pattern}->{stop}"
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"{match}{where} RETURN {relation_return(type_fn)} LIMIT $limit"


def ladybug_offsets_query() -> str:
    """Return the offsets of the entities ``$ids`` in LadybugDB's entity table."""
    return "UNWIND $ids AS x MATCH (e:Entity {id: x}) RETURN offset(id(e)) AS offset"


def one_row(query: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite ``... RETURN a AS x, b AS y [LIMIT $limit]`` to return one row, ``rows``.

    ``rows`` is the list of ``[x, y]``; the names come back as the second item. Neo4j's
    Python driver spends most of a many-row read building one record per row: one row
    holding a list is about twice as fast for a few thousand rows. Only for the
    statements of this module (their select lists hold no commas inside expressions).

    Examples
    --------
    >>> one_row("MATCH (e:Entity) RETURN e.id AS id, e.name AS `name` LIMIT $limit")
    ('MATCH (e:Entity) WITH e.id AS id, e.name AS `name` LIMIT $limit RETURN collect([id, `name`]) AS rows', ('id', 'name'))
    """  # noqa: E501
    head, sep, select = query.rpartition(" RETURN ")
    if not sep:
        raise UsageError("the statement has no RETURN clause")
    select, limit, count = select.partition(" LIMIT ")
    names = tuple(item.rpartition(" AS ")[2] for item in select.split(", "))
    collected = ", ".join(names)
    tail = f"{limit}{count}"
    return (
        f"{head} WITH {select}{tail} RETURN collect([{collected}]) AS rows",
        tuple(n.strip("`") for n in names),
    )


def relations_query(
    type_fn: str,
    *,
    head: bool,
    tail: bool,
    types: tuple[str, ...] | None,
    limit: bool,
    by_id: bool = False,
) -> str:
    """Relations filtered by ``$head``, ``$tail``, ``$id`` and types, ordered by id."""
    h = "(h:Entity {id: $head})" if head else "(h:Entity)"
    t = "(t:Entity {id: $tail})" if tail else "(t:Entity)"
    where = " WHERE r.id = $id" if by_id else ""
    tail_clause = " LIMIT $limit" if limit else ""
    return (
        f"MATCH {h}-{_rel_pattern(types)}->{t}{where} RETURN {relation_return(type_fn)} "
        f"ORDER BY head, type, tail, id{tail_clause}"
    )


def document_query() -> str:
    """One document by id."""
    return (
        "MATCH (d:Document {id: $id}) RETURN d.id AS id, d.title AS title, "
        "d.source AS source, d.ingested_at AS ingested_at"
    )


def documents_query() -> str:
    """Every document, ordered by id."""
    return (
        "MATCH (d:Document) RETURN d.id AS id, d.title AS title, d.source AS source, "
        "d.ingested_at AS ingested_at ORDER BY id"
    )


def ladybug_update_entities() -> str:
    """Overwrite merged entity properties from a scanned table ``$rows`` (LadybugDB)."""
    return (
        "LOAD FROM $rows MATCH (e:Entity {id: id}) SET e.aliases = aliases, "
        "e.equity = equity, e.total_assets = total_assets, e.deposits = deposits, "
        "e.attr_source = attr_source"
    )


# --- Neo4j writes ---------------------------------------------------------------------


def neo4j_merge_documents() -> str:
    """MERGE documents by id."""
    return (
        "UNWIND $rows AS row MERGE (d:Document {id: row.id}) "
        "SET d.title = row.title, d.source = row.source, d.ingested_at = row.ingested_at, "
        "d.entities = row.entities"
    )


_READ_BACK = {str: "{}", int: "toInteger({})", float: "toFloat({})"}


class Neo4jColumns:
    """The column parameters of one Neo4j ``UNWIND`` statement, one column per field.

    The Python driver packs parameters value by value in pure Python: a list of 20,000
    short strings costs about a hundred times what the same strings joined into one
    string cost. Each column therefore travels in the cheapest form that keeps its values
    exact, and ``expr[name]`` is the Cypher expression of its value on row ``i``:

    - every value null: no parameter, ``null`` (Neo4j stores no null property);
    - booleans, all the same: one value, ``$c_<name>``;
    - strings, 64-bit integers or finite floats, none of them null: one string joined
      with ``SEP`` and split once by the server, numbers read back with ``toInteger`` or
      ``toFloat`` (``repr`` of a float round-trips exactly); a string column holding
      ``SEP`` itself is sent as a list;
    - anything else: a list, ``$c_<name>[i]``.

    Examples
    --------
    >>> cols = Neo4jColumns({"start": [0, 7], "to": [None, None], "hedged": [False, False]})
    >>> cols.expr
    {'start': 'toInteger(c_start[i])', 'to': 'null', 'hedged': '$c_hedged'}
    >>> cols.unwind()
    'WITH split($c_start, $sep) AS c_start UNWIND range(0, $n - 1) AS i'
    >>> cols.params["c_start"].split(Neo4jColumns.SEP)
    ['0', '7']
    """

    SEP = "\x1f"

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        sizes = {len(values) for values in columns.values()}
        if len(sizes) > 1:
            raise UsageError(f"columns of different lengths: {sorted(sizes)}")
        self.params: dict[str, Any] = {"n": sizes.pop() if sizes else 0}
        self.expr: dict[str, str] = {}
        self._split: list[str] = []
        for name, values in columns.items():
            if not name.isidentifier():
                raise UsageError(f"column name {name!r} is not an identifier")
            self.expr[name] = self._column(f"c_{name}", list(values))

    def _column(self, key: str, values: list[Any]) -> str:
        first = values[0] if values else None
        kind = type(first)
        if all(v is None for v in values):
            return "null"
        if kind is bool and all(v is first for v in values):
            self.params[key] = first
            return f"${key}"
        if kind in _READ_BACK and all(type(v) is kind for v in values):
            text = self._joined(kind, values)
            if text is not None and text.count(self.SEP) == len(values) - 1:
                self.params[key] = text
                self.params["sep"] = self.SEP
                self._split.append(key)
                return _READ_BACK[kind].format(f"{key}[i]")
        self.params[key] = values
        return f"${key}[i]"

    def _joined(self, kind: type, values: list[Any]) -> str | None:
        if kind is str:
            return self.SEP.join(values)
        if kind is int:
            if -(2**63) <= min(values) and max(values) < 2**63:
                return self.SEP.join(map(str, values))
            return None
        if all(map(math.isfinite, values)):
            return self.SEP.join(map(repr, values))
        return None

    def unwind(self) -> str:
        """Split the joined columns once, then one row ``i`` per value."""
        split = ", ".join(f"split(${k}, $sep) AS {k}" for k in self._split)
        return (f"WITH {split} " if split else "") + "UNWIND range(0, $n - 1) AS i"


NEO4J_ENTITY_COLUMNS = (
    "id", "name", "aliases", "equity", "total_assets", "deposits", "attr_source",
)  # fmt: skip
"""Columns of :func:`neo4j_merge_entities` (the kind is the statement's own)."""


def neo4j_merge_entities(kind: str, cols: Neo4jColumns) -> str:
    """MERGE entities of one kind by id; a new one is labelled ``:Entity:<kind>`` at once.

    ``cols`` holds :data:`NEO4J_ENTITY_COLUMNS`. Names and kinds stay, aliases are a
    union, attributes fill gaps.
    """
    if kind not in ENTITY_TYPES:
        raise UsageError(f"unknown entity type {kind!r}")
    x = {f: cols.expr[f] for f in NEO4J_ENTITY_COLUMNS}
    aliases = "[]" if x["aliases"] == "null" else x["aliases"]
    create = "".join(f", e.{f} = {x[f]}" for f in NEO4J_ENTITY_COLUMNS[1:] if x[f] != "null")
    return (
        f"{cols.unwind()} MERGE (e:Entity {{id: {x['id']}}}) "
        f"ON CREATE SET e:{kind}, e.type = '{kind}'{create} "
        "ON MATCH SET e.aliases = reduce(acc = coalesce(e.aliases, []), "
        f"a IN {aliases} + [{x['name']}] | "
        "CASE WHEN a IN acc OR a = e.name THEN acc ELSE acc + a END), "
        "e.attr_source = CASE WHEN e.equity IS NULL AND e.total_assets IS NULL "
        f"AND e.deposits IS NULL THEN {x['attr_source']} ELSE e.attr_source END, "
        f"e.equity = coalesce(e.equity, {x['equity']}), "
        f"e.total_assets = coalesce(e.total_assets, {x['total_assets']}), "
        f"e.deposits = coalesce(e.deposits, {x['deposits']})"
    )


def neo4j_merge_relations(rel_type: str) -> str:
    """MERGE relationships of one type by their stable id between existing entities."""
    if rel_type not in RELATION_TYPES:
        raise UsageError(f"unknown relation type {rel_type!r}")
    return (
        "UNWIND $rows AS row MATCH (h:Entity {id: row.head}) MATCH (t:Entity {id: row.tail}) "
        f"MERGE (h)-[r:{rel_type} {{id: row.id}}]->(t) SET r = row.props"
    )


def neo4j_create_relations(rel_type: str, cols: Neo4jColumns) -> str:
    """CREATE relationships of one type for documents new to the store (ids cannot exist).

    ``cols`` holds ``head``, ``tail`` and every field of :data:`RELATION_FIELDS`; a
    column that is null on every row is left out.
    """
    if rel_type not in RELATION_TYPES:
        raise UsageError(f"unknown relation type {rel_type!r}")
    x = cols.expr
    props = ", ".join(f"`{f}`: {x[f]}" for f in RELATION_FIELDS if x[f] != "null")
    return (
        f"{cols.unwind()} MATCH (h:Entity {{id: {x['head']}}}) "
        f"MATCH (t:Entity {{id: {x['tail']}}}) CREATE (h)-[:{rel_type} {{{props}}}]->(t)"
    )


def neo4j_delete_stale() -> str:
    """Delete relationships of re-loaded documents ``$docs`` whose id is not in ``$keep``.

    One scan of the relationships for the whole batch (not one per document).
    """
    return "MATCH ()-[r]->() WHERE r.document_id IN $docs AND NOT r.id IN $keep DELETE r"
