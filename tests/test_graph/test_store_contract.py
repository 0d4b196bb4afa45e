"""One contract, two real databases: LadybugDB (in memory) and Neo4j (the test server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from extract.model import Facts
from graph.errors import QueryRefused
from graph.store import GraphStore, open_store
from graph.store.cypher import EXAMPLE_QUERIES, TRACE_QUERY


def facts(doc: str, entities: list[dict[str, Any]], relations: list[dict[str, Any]]) -> Facts:
    return Facts.from_dict(
        {
            "document": {"id": doc, "source": f"{doc}.txt", "title": f"Title {doc}"},
            "entities": entities,
            "relations": relations,
        }
    )


FTX = {"id": "ftx", "name": "FTX", "type": "Exchange", "aliases": ["FTX.com"]}
ALAMEDA = {"id": "alameda", "name": "Alameda Research", "type": "TradingFirm"}
FTT = {"id": "ftt", "name": "FTT", "type": "Token"}
BLOCKFI = {"id": "blockfi", "name": "BlockFi", "type": "Lender"}


def rel(head: str, kind: str, tail: str, text: str, start: int, **extra: Any) -> dict[str, Any]:
    return {
        "head": head,
        "type": kind,
        "tail": tail,
        "confidence": 0.8,
        "evidence": [{"text": text, "start": start, "end": start + len(text)}],
        **extra,
    }


DOC1 = facts(
    "d1",
    [FTX, ALAMEDA, FTT],
    [
        rel("ftx", "LENT_TO", "alameda", "FTX lent Alameda $10bn.", 0, amount=1e10, currency="USD"),
        rel("ftx", "ISSUED", "ftt", "FTX issued FTT.", 30),
        rel("alameda", "PLEDGED_COLLATERAL", "ftt", "Alameda pledged FTT.", 50, to="ftx"),
    ],
)
DOC2 = facts(
    "d2",
    [{**FTX, "name": "FTX Trading", "aliases": ["FTX"]}, ALAMEDA, BLOCKFI],
    [
        rel("ftx", "LENT_TO", "alameda", "FTX lent Alameda $8bn.", 5, amount=8e9, currency="USD"),
        rel("ftx", "LENT_TO", "blockfi", "FTX offered BlockFi a credit line.", 60, hedged=True),
    ],
)


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "embedded":
        url = ":memory:"
    else:
        url = request.getfixturevalue("neo4j_url")
    with open_store(url) as opened:
        if request.param == "neo4j":
            opened.cypher("MATCH (n) DETACH DELETE n", write=True)
        yield opened


def test_empty_store_counts_zero(store: GraphStore) -> None:
    assert dict(store.counts()) == {"entities": 0, "relations": 0, "documents": 0}
    assert store.search("ftx") == []
    assert store.entity("ftx") is None


def test_load_counts_and_reload_is_idempotent(store: GraphStore) -> None:
    first = store.load([DOC1, DOC2])
    assert (first.documents, first.relations) == (2, 5)
    counts = dict(store.counts())
    assert counts == {"entities": 4, "relations": 5, "documents": 2}
    store.load([DOC1, DOC2])
    store.load([DOC2], batch_size=1)
    assert dict(store.counts()) == counts


def test_same_entity_from_two_documents_is_one_node_with_aliases_merged(
    store: GraphStore,
) -> None:
    store.load([DOC1, DOC2])
    ftx = store.entity("ftx")
    assert ftx is not None
    assert ftx.name == "FTX" and ftx.type == "Exchange"
    assert set(ftx.aliases) == {"FTX.com", "FTX Trading"}


def test_conflicting_amounts_are_kept_with_their_sources(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    lent = store.relations(head="ftx", tail="alameda", types=["LENT_TO"])
    assert sorted((r.amount, r.document_id) for r in lent) == [(8e9, "d2"), (1e10, "d1")]
    assert {r.evidence for r in lent} == {"FTX lent Alameda $10bn.", "FTX lent Alameda $8bn."}


def test_relation_properties_round_trip(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    (pledge,) = store.relations(types=["PLEDGED_COLLATERAL"])
    assert (pledge.head, pledge.tail, pledge.to, pledge.start) == ("alameda", "ftt", "ftx", 50)
    assert pledge.end == 50 + len("Alameda pledged FTT.")
    (line,) = store.relations(tail="blockfi")
    assert line.hedged is True and line.negated is False and line.to is None
    assert line.amount is None


def test_evidence_traces_relation_to_sentence_and_document(store: GraphStore) -> None:
    store.load([DOC1])
    (issued,) = store.relations(types=["ISSUED"])
    (ev,) = store.evidence(issued.id)
    assert ev.text == "FTX issued FTT."
    assert (ev.document_id, ev.document_title, ev.document_source) == ("d1", "Title d1", "d1.txt")
    assert store.evidence("no-such-relation") == []


def test_search_is_case_insensitive_over_names_and_aliases_with_type_filter(
    store: GraphStore,
) -> None:
    store.load([DOC1, DOC2])
    assert [e.id for e in store.search("ftx.COM")] == ["ftx"]
    assert {e.id for e in store.search("fT")} == {"ftx", "ftt"}
    assert [e.id for e in store.search("LOCKf")] == ["blockfi"]
    assert [e.id for e in store.search("", types=["Token"])] == ["ftt"]
    with pytest.raises(ValueError, match="Bogus"):
        store.search("x", types=["Bogus"])


def test_neighbourhood_depths(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    one = store.neighbourhood("blockfi", 1)
    assert {e.id for e in one.entities} == {"blockfi", "ftx"}
    assert len(one.relations) == 1
    two = store.neighbourhood("blockfi", 2)
    assert {e.id for e in two.entities} == {"blockfi", "ftx", "alameda", "ftt"}
    # relations on walks of at most two hops: not alameda -> ftt (three hops away)
    assert len(two.relations) == 4
    assert len(store.neighbourhood("blockfi", 3).relations) == 5
    capped = store.neighbourhood("blockfi", 2, limit=3)
    assert len(capped.entities) == 3
    assert {e.id for e in capped.entities} >= {r.head for r in capped.relations}
    only = store.neighbourhood("blockfi", 2, relation_types=["LENT_TO"])
    assert {e.id for e in only.entities} == {"blockfi", "ftx", "alameda"}
    assert store.neighbourhood("nobody", 2).entities == ()
    with pytest.raises(ValueError, match="depth"):
        store.neighbourhood("ftx", 4)


def test_relations_by_entity_either_end(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    assert len(store.relations(entity="alameda")) == 3
    assert len(store.relations(entity="ftx", types=["LENT_TO"])) == 3
    assert len(store.relations(limit=2)) == 2


def test_reloading_a_changed_document_replaces_its_relations(store: GraphStore) -> None:
    store.load([DOC1])
    smaller = facts("d1", [FTX, FTT], [rel("ftx", "ISSUED", "ftt", "FTX issued FTT.", 30)])
    store.load([smaller])
    assert dict(store.counts())["relations"] == 1


def test_names_with_quotes_backticks_braces_keywords_newlines_are_literal(
    store: GraphStore,
) -> None:
    odd = 'O\'Brien "`x`" {MATCH (n) DETACH DELETE n}\nRETURN; -- \\ $p'
    doc = facts(
        "odd",
        [{"id": "odd'`}", "name": odd, "type": "Person", "aliases": [odd + " alias"]}, FTX],
        [rel("odd'`}", "LEADS", "ftx", odd, 0)],
    )
    store.load([doc])
    entity = store.entity("odd'`}")
    assert entity is not None and entity.name == odd
    assert entity.aliases == (odd + " alias",)
    (lead,) = store.relations(head="odd'`}")
    assert lead.evidence == odd
    assert [e.id for e in store.search("detach delete")] == ["odd'`}"]


def test_dump_holds_everything(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    dump = store.dump()
    assert [d.id for d in dump.documents] == ["d1", "d2"]
    assert len(dump.entities) == 4 and len(dump.relations) == 5
    assert all(d.ingested_at for d in dump.documents)


def test_example_queries_run_unchanged(store: GraphStore) -> None:
    store.load([DOC1, DOC2])
    trace = store.cypher(TRACE_QUERY)
    assert len(trace.rows) == 5
    first = trace.rows[0]
    assert (first["head"], first["relation"], first["tail"]) == (
        "Alameda Research",
        "PLEDGED_COLLATERAL",
        "FTT",
    )
    assert first["sentence"] == "Alameda pledged FTT." and first["document"] == "Title d1"
    per_type = store.cypher(EXAMPLE_QUERIES["relations per type"]).rows
    assert per_type[0] == {"relation": "LENT_TO", "n": 3}
    lenders = store.cypher(
        EXAMPLE_QUERIES["lenders holding collateral issued by a given firm"], {"issuer": "ftx"}
    ).rows
    assert lenders == ({"pledger": "Alameda Research", "token": "FTT", "lender": "ftx"},)
    largest = store.cypher(EXAMPLE_QUERIES["who lent to whom, largest first"]).rows
    assert [r["amount"] for r in largest] == [1e10, 8e9]


@pytest.mark.parametrize(
    "query",
    [
        "CREATE (n:Entity {id: 'x'})",
        "MATCH (n:Entity) SET n.name = 'x'",
        "MATCH (n) DETACH DELETE n",
        "MERGE (n:Entity {id: 'x'})",
        "MATCH (n:Entity) REMOVE n.name",
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "CALL dbms.components()",
        "MATCH (n) RETURN n // harmless comment\n;CREATE (m:Entity {id: 'y'})",
    ],
)
def test_writes_are_refused_without_write(store: GraphStore, query: str) -> None:
    store.load([DOC1])
    before = dict(store.counts())
    with pytest.raises(QueryRefused, match="refused"):
        store.cypher(query)
    assert dict(store.counts()) == before


def test_read_only_query_with_keywords_in_strings_and_params(store: GraphStore) -> None:
    store.load([DOC1])
    rows = store.cypher(
        "MATCH (e:Entity) WHERE e.name <> 'CREATE (x)' AND e.id = $id RETURN e.name AS name",
        {"id": "ftx"},
    ).rows
    assert rows == ({"name": "FTX"},)


def test_write_allowed_with_write_true(store: GraphStore) -> None:
    store.cypher("CREATE (n:Entity {id: 'x', name: 'X', type: 'Company'})", write=True)
    assert dict(store.counts())["entities"] == 1


def test_bad_query_is_refused_with_one_line(store: GraphStore) -> None:
    with pytest.raises(QueryRefused) as err:
        store.cypher("MATCH (n RETURN n")
    assert "\n" not in str(err.value)


def test_query_relationships_carry_endpoint_ids_and_paths_their_edges(store: GraphStore) -> None:
    store.load([DOC1])
    rows = store.cypher("MATCH (:Entity)-[r]->(:Entity) RETURN r ORDER BY r.`start`").rows
    ends = [(r["r"]["_start"], r["r"]["_type"], r["r"]["_end"]) for r in rows]
    assert ends == [
        ("ftx", "LENT_TO", "alameda"),
        ("ftx", "ISSUED", "ftt"),
        ("alameda", "PLEDGED_COLLATERAL", "ftt"),
    ]
    assert rows[2]["r"]["to"] == "ftx"
    (path,) = store.cypher(
        "MATCH p = (:Entity {id: 'ftx'})-[:ISSUED]->(:Entity) RETURN p AS p"
    ).rows
    assert [n["id"] for n in path["p"]["nodes"]] == ["ftx", "ftt"]
    (edge,) = path["p"]["relationships"]
    assert (edge["_start"], edge["_type"], edge["_end"]) == ("ftx", "ISSUED", "ftt")


def test_query_result_draws_as_a_subgraph_with_edges(store: GraphStore) -> None:
    from pages._graphview import result_subgraph

    store.load([DOC1])
    result = store.cypher("MATCH (:Entity {id: 'ftx'})-[r:LENT_TO]->(:Entity) RETURN r")
    sub = result_subgraph(result)
    assert [(r.head, r.type, r.tail) for r in sub.relations] == [("ftx", "LENT_TO", "alameda")]


@pytest.mark.neo4j
def test_two_loads_into_neo4j_at_once_lose_nothing(neo4j_url: str) -> None:
    """Two writers at once, sharing entities (the hub ``x``): every node and edge lands once."""
    import threading

    def doc(i: int) -> Facts:
        return facts(
            f"c{i}",
            [
                {"id": "x", "name": "X", "type": "Bank", "aliases": [f"X{i}"]},
                {"id": f"y{i}", "name": f"Y {i}", "type": "Lender"},
            ],
            [rel("x", "LENT_TO", f"y{i}", f"X lent to Y {i}.", k) for k in range(5)],
        )

    with open_store(neo4j_url) as store:
        store.cypher("MATCH (n) DETACH DELETE n", write=True)
    errors: list[BaseException] = []

    def writer(first: int) -> None:
        try:
            with open_store(neo4j_url) as store:
                for n in range(first, first + 40, 4):
                    store.load([doc(i) for i in range(n, n + 4)], batch_size=1)
        except BaseException as err:  # reported below, with the thread's error
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k * 40,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    with open_store(neo4j_url) as store:
        assert dict(store.counts()) == {"entities": 81, "relations": 400, "documents": 80}
        hub = store.entity("x")
        assert hub is not None and set(hub.aliases) == {f"X{i}" for i in range(80)}
        labels = store.cypher("MATCH (e:Entity:Bank {id: 'x'}) RETURN count(e) AS n").rows
        assert labels[0]["n"] == 1


def test_values_round_trip_exactly_in_bulk(store: GraphStore) -> None:
    """Numbers, mixed nulls and booleans, and text holding control characters come back as given.

    (The Neo4j loader joins whole columns into one string parameter where it can; a value
    holding the separator makes that column travel as a list instead.)
    """
    amounts = [0.1, 1e-300, 1.7976931348623157e308, 123456789.123456789, 2.0]
    odd = "unit\x1fseparator\x1e record\x1d group"
    doc = facts(
        "bulk",
        [
            {"id": "a", "name": "A\x1fA", "type": "Bank", "aliases": ["A \x1f"]},
            {"id": "b", "name": "B", "type": "Lender"},
        ],
        [
            rel(
                "a",
                "LENT_TO",
                "b",
                odd if k == 2 else f"A lent B {k}.",
                10**12 + k,
                amount=amounts[k],
                currency="USD" if k % 2 else None,
                hedged=k == 3,
            )
            for k in range(5)
        ],
    )
    store.load([doc])
    got = sorted(store.relations(head="a"), key=lambda r: r.start or 0)
    assert [r.amount for r in got] == amounts
    assert [r.start for r in got] == [10**12 + k for k in range(5)]
    assert [r.currency for r in got] == [None, "USD", None, "USD", None]
    assert [r.hedged for r in got] == [False, False, False, True, False]
    assert got[2].evidence == odd
    entity = store.entity("a")
    assert entity is not None and entity.name == "A\x1fA" and entity.aliases == ("A \x1f",)
    store.load([doc])
    assert dict(store.counts()) == {"entities": 2, "relations": 5, "documents": 1}


@pytest.mark.neo4j
def test_neo4j_schema_and_a_store_from_the_previous_version(neo4j_url: str) -> None:
    """Ids of entities and documents are unique constraints, relationship ids are indexed.

    A store written when relationship ids had uniqueness constraints is opened, loaded
    into and re-loaded like any other: the old constraints give way to the indexes.
    """
    from graph.store.cypher import RELATION_TYPES

    with open_store(neo4j_url) as store:
        store.cypher("MATCH (n) DETACH DELETE n", write=True)
        for t in RELATION_TYPES:
            store.cypher(f"DROP INDEX rel_id_{t.lower()} IF EXISTS", write=True)
            store.cypher(
                f"CREATE CONSTRAINT rel_id_{t.lower()} IF NOT EXISTS "
                f"FOR ()-[r:{t}]-() REQUIRE r.id IS UNIQUE",
                write=True,
            )
    with open_store(neo4j_url) as store:
        constraints = store.cypher(
            "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
            "RETURN name, type, labelsOrTypes AS on, properties ORDER BY name",
            write=True,  # SHOW commands are refused by the read-only guard
        ).rows
        found = [(c["type"], c["on"], c["properties"]) for c in constraints]
        # curation records bring their own constraint once a curation has been made
        assert [x for x in found if x[1] != ["Curation"]] == [
            ("UNIQUENESS", ["Document"], ["id"]),
            ("UNIQUENESS", ["Entity"], ["id"]),
        ]
        indexes = store.cypher(
            "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, "
            "owningConstraint WHERE entityType = 'RELATIONSHIP' AND type = 'RANGE' "
            "RETURN labelsOrTypes AS on, properties, owningConstraint AS owner",
            write=True,
        ).rows
        assert sorted(i["on"][0] for i in indexes) == sorted(RELATION_TYPES)
        assert {(tuple(i["properties"]), i["owner"]) for i in indexes} == {(("id",), None)}
        store.load([DOC1, DOC2])
        counts = dict(store.counts())
        store.load([DOC2, DOC1], batch_size=1)
        assert dict(store.counts()) == counts == {"entities": 4, "relations": 5, "documents": 2}
        kinds = store.cypher(
            "MATCH (e:Entity) RETURN e.id AS id, [x IN labels(e) WHERE x <> 'Entity'] AS kind "
            "ORDER BY id"
        ).rows
        assert [(k["id"], k["kind"]) for k in kinds] == [
            ("alameda", ["TradingFirm"]),
            ("blockfi", ["Lender"]),
            ("ftt", ["Token"]),
            ("ftx", ["Exchange"]),
        ]
