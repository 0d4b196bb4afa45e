"""RDF export and import: the ontology matches the enums, SHACL shapes, round trips."""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, SKOS

from extract.model import EntityType, RelationType
from graph.errors import SchemaViolation
from graph.rdf import (
    FALLOUT,
    KIND_CLASSES,
    RELATION_PROPERTIES,
    export,
    from_rdf,
    load_ontology,
    serialize,
    to_rdf,
    to_turtle,
    validate,
    write_csv,
)
from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord

ROOT = Path(__file__).resolve().parents[2]
DOC = "sha256:" + "ab" * 32


def sample_dump() -> GraphDump:
    """A small graph in canonical order (ids sorted, aliases sorted)."""
    entities = (
        EntityRecord("alameda-research", "Alameda Research", "TradingFirm", ("Alameda",),
                     equity=1.5e9, total_assets=1.46e10, attr_source="assumption"),
        EntityRecord("blockfi", "BlockFi", "Lender", deposits=2.0e9),
        EntityRecord("bahamas", "The Bahamas", "Place"),
        EntityRecord("ftt", "FTT", "Token", ("FTX Token",)),
        EntityRecord("ftx", "FTX", "Exchange", ("FTX International", "FTX.com")),
        EntityRecord("sbf", "Sam Bankman-Fried", "Person", ("SBF",)),
        EntityRecord("usdc", "USD Coin", "Stablecoin", ("USDC",)),
    )
    entities = tuple(sorted(entities, key=lambda e: e.id))
    relations = (
        RelationRecord("r1", "ftx", "LENT_TO", "alameda-research", DOC, 0.82,
                       evidence="FTX lent customer money to Alameda.", start=10, end=46,
                       amount=1.0e10, currency="USD"),
        RelationRecord("r2", "ftx", "ISSUED", "ftt", DOC, 0.95, evidence="FTX issued FTT."),
        RelationRecord("r3", "alameda-research", "PLEDGED_COLLATERAL", "ftt", DOC, 0.7,
                       asset="ftt", quantity=1.2e8, to="blockfi", hedged=True, date="2022-11"),
        RelationRecord("r4", "sbf", "LEADS", "ftx", DOC, 0.9, speaker="Host"),
        RelationRecord("r5", "ftx", "AFFILIATED_WITH", "alameda-research", DOC, 0.6),
        RelationRecord("r6", "blockfi", "LENT_TO", "ftx", DOC, 0.4, negated=True),
        RelationRecord("r7", "alameda-research", "HOLDS", "usdc", DOC, 0.5, amount=0.0),
        RelationRecord("r8", "ftx", "ACQUIRED", "blockfi", DOC, 0.55, status="proposed"),
    )
    documents = (DocumentRecord(DOC, "How FTX fell", "articles/ftx.txt", "2026-01-01T00:00:00Z"),)
    return GraphDump(entities=entities, relations=relations, documents=documents)


# --- the ontology and the enums -------------------------------------------------------

def _notations(graph: Graph, kind: URIRef) -> dict[str, URIRef]:
    return {
        str(graph.value(s, SKOS.notation)): s
        for s in graph.subjects(RDF.type, kind)
        if graph.value(s, SKOS.notation) is not None
    }


def test_entity_types_equal_the_ontology_kind_classes() -> None:
    kinds = _notations(load_ontology(), OWL.Class)
    assert set(kinds) == {t.value for t in EntityType}
    assert kinds == dict(KIND_CLASSES)


def test_relation_types_equal_the_ontology_object_properties() -> None:
    onto = load_ontology()
    props = _notations(onto, OWL.ObjectProperty)
    assert set(props) == {t.value for t in RelationType}
    assert props == dict(RELATION_PROPERTIES)
    for prop in props.values():
        for annotation in ("label", "comment", "domain", "range"):
            assert onto.value(prop, URIRef(f"http://www.w3.org/2000/01/rdf-schema#{annotation}"))


def test_organisations_and_people_reuse_w3c_vocabularies() -> None:
    onto = load_ontology()
    org = URIRef("http://www.w3.org/ns/org#Organization")
    assert (FALLOUT.Organisation, URIRef(str(RDF.type)), OWL.Class) in onto
    assert (FALLOUT.Organisation, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            org) in onto
    assert (FALLOUT.Stablecoin, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            FALLOUT.Token) in onto


def test_defined_namespace_lists_exactly_the_ontology_terms() -> None:
    ns = str(FALLOUT._NS)
    declared = {
        str(s)[len(ns):] for s in load_ontology().subjects()
        if isinstance(s, URIRef) and str(s).startswith(ns)
    }
    assert declared == set(FALLOUT.__annotations__)
    with pytest.raises(AttributeError):
        _ = FALLOUT.lentTO


def test_gazetteer_labels_are_entity_types() -> None:
    path = ROOT / "ontologies" / "gazetteer.jsonl"
    if not path.exists():
        pytest.skip("ontologies/gazetteer.jsonl is not written yet")
    kinds = {t.value for t in EntityType}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert rows
    bad = [(row.get("id"), row.get("label")) for row in rows if row.get("label") not in kinds]
    assert bad == []


# --- SHACL --------------------------------------------------------------------------

def test_shapes_accept_a_sample_export() -> None:
    conforms, report = validate(to_rdf(sample_dump()))
    assert conforms, report


def test_shapes_reject_lent_to_a_token() -> None:
    dump = sample_dump()
    bad = RelationRecord("bad", "alameda-research", "LENT_TO", "ftt", DOC, 0.5)
    conforms, report = validate(to_rdf(replace(dump, relations=dump.relations + (bad,))))
    assert not conforms
    assert "LENT_TO ends at an organisation or a person" in report


def test_shapes_reject_issued_ending_at_a_company() -> None:
    dump = sample_dump()
    bad = RelationRecord("bad", "ftx", "ISSUED", "blockfi", DOC, 0.5)
    conforms, report = validate(to_rdf(replace(dump, relations=dump.relations + (bad,))))
    assert not conforms
    assert "ISSUED ends at a Token or a Stablecoin" in report


def test_shapes_reject_a_confidence_above_one() -> None:
    dump = sample_dump()
    relations = (replace(dump.relations[0], confidence=1.5),) + dump.relations[1:]
    conforms, report = validate(to_rdf(replace(dump, relations=relations)))
    assert not conforms
    assert "confidence is one number in [0, 1]" in report


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        (RelationRecord("bad", "blockfi", "LEADS", "ftx", DOC, 0.5),
         "LEADS starts at a person"),
        (RelationRecord("bad", "sbf", "WORKS_FOR", "ftt", DOC, 0.5),
         "WORKS_FOR ends at an organisation"),
        (RelationRecord("bad", "ftx", "DEPOSITED_WITH", "bahamas", DOC, 0.5),
         "DEPOSITED_WITH ends at an organisation"),
        (RelationRecord("bad", "ftt", "HOLDS", "usdc", DOC, 0.5),
         "HOLDS starts at an organisation or a person"),
        (RelationRecord("bad", "ftx", "ACQUIRED", "blockfi", DOC, 0.5, status="maybe"),
         "status is one of completed, agreed, proposed, rumoured, abandoned"),
        (RelationRecord("bad", "ftx", "ISSUED", "ftt", "sha256:unknown", 0.5),
         "a statement comes from exactly one document"),
        (RelationRecord("bad", "ftx", "LENT_TO", "blockfi", DOC, 0.5, amount=-3.0),
         "an amount is one non-negative number"),
    ],
)
def test_shapes_reject_broken_statements(relation: RelationRecord, message: str) -> None:
    dump = sample_dump()
    conforms, report = validate(to_rdf(replace(dump, relations=dump.relations + (relation,))))
    assert not conforms
    assert message in report


def test_shapes_reject_an_entity_with_two_names() -> None:
    graph = to_rdf(sample_dump())
    graph.add((URIRef("https://w3id.org/fallout/id/entity/ftx"), FALLOUT.name,
               Literal("FTX Trading")))
    conforms, report = validate(graph)
    assert not conforms
    assert "exactly one non-empty name" in report


def test_unknown_type_is_refused_with_the_id() -> None:
    dump = GraphDump(entities=(EntityRecord("x", "X", "Hedgefund"),))
    with pytest.raises(SchemaViolation, match="entity 'x' has type 'Hedgefund'"):
        to_rdf(dump)


# --- round trips --------------------------------------------------------------------

def test_negated_statement_has_no_direct_edge() -> None:
    graph = to_rdf(sample_dump())
    blockfi = URIRef("https://w3id.org/fallout/id/entity/blockfi")
    ftx = URIRef("https://w3id.org/fallout/id/entity/ftx")
    assert (blockfi, FALLOUT.lentTo, ftx) not in graph
    assert (ftx, FALLOUT.issued, URIRef("https://w3id.org/fallout/id/entity/ftt")) in graph


# rdflib 7's own JSON-LD parser still builds a ConjunctiveGraph, which rdflib deprecates.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_export_then_parse_is_isomorphic(fmt: str) -> None:
    dump = sample_dump()
    parsed = Graph().parse(data=serialize(dump, fmt), format="json-ld" if fmt == "jsonld" else fmt)
    assert isomorphic(parsed, to_rdf(dump))


def test_rdflib_turtle_is_isomorphic_to_the_fast_writer() -> None:
    dump = sample_dump()
    slow = Graph().parse(data=to_rdf(dump).serialize(format="turtle"), format="turtle")
    fast = Graph().parse(data=to_turtle(dump), format="turtle")
    assert isomorphic(slow, fast)


def test_dump_to_rdf_to_dump_round_trip() -> None:
    dump = sample_dump()
    assert from_rdf(to_rdf(dump)) == dump
    assert from_rdf(Graph().parse(data=to_turtle(dump), format="turtle")) == dump


def test_graphml_export_keeps_every_relation(tmp_path: Path) -> None:
    dump = sample_dump()
    export(dump, "graphml", tmp_path / "g.graphml")
    graph = nx.read_graphml(tmp_path / "g.graphml", force_multigraph=True)
    assert graph.number_of_nodes() == len(dump.entities)
    assert graph.number_of_edges() == len(dump.relations)
    assert graph.nodes["ftx"]["type"] == "Exchange"
    assert graph.edges["ftx", "alameda-research", "r1"]["amount"] == pytest.approx(1.0e10)


def test_csv_export_to_directory_and_zip(tmp_path: Path) -> None:
    dump = sample_dump()
    written = write_csv(dump, tmp_path / "out")
    assert sorted(p.name for p in written) == ["documents.csv", "entities.csv", "relations.csv"]
    with (tmp_path / "out" / "relations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == [r.id for r in dump.relations]
    assert rows[5]["negated"] == "true" and rows[0]["amount"] == "10000000000.0"
    export(dump, "csv", tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == ["documents.csv", "entities.csv", "relations.csv"]
        entities = archive.read("entities.csv").decode().splitlines()
    assert entities[0].startswith("id,name,type,aliases")
    assert len(entities) == 1 + len(dump.entities)


def test_csv_export_needs_a_destination() -> None:
    with pytest.raises(ValueError, match="csv export needs --out"):
        export(sample_dump(), "csv", None)


# --- the command line ---------------------------------------------------------------

def _run(argv: list[str]) -> int:
    from graph.cli import main

    try:
        main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_cli_validate_accepts_a_conforming_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "graph.ttl"
    path.write_bytes(to_turtle(sample_dump()))
    assert _run(["validate", str(path)]) == 0
    assert "conforms" in capsys.readouterr().out


def test_cli_validate_exits_non_zero_on_violations(tmp_path: Path, capsys) -> None:
    dump = sample_dump()
    bad = RelationRecord("bad", "alameda-research", "LENT_TO", "usdc", DOC, 0.5)
    path = tmp_path / "graph.ttl"
    path.write_bytes(to_turtle(replace(dump, relations=dump.relations + (bad,))))
    assert _run(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "LENT_TO ends at an organisation or a person" in captured.out
    assert "breaks the SHACL shapes" in captured.err


def test_cli_export_rejects_an_unknown_format(capsys) -> None:
    assert _run(["export", "--format", "rdfxml"]) != 0
    assert "unknown export format 'rdfxml'; available: turtle" in capsys.readouterr().err


def _facts() -> object:
    from extract.model import Document, Entity, Evidence, Facts, Relation

    text = "FTX issued FTT. Alameda Research pledged FTT as collateral."
    return Facts(
        document=Document(id=DOC, source="articles/ftx.txt", title="How FTX fell"),
        entities=(
            Entity(id="ftx", name="FTX", type=EntityType.EXCHANGE),
            Entity(id="ftt", name="FTT", type=EntityType.TOKEN),
            Entity(id="alameda-research", name="Alameda Research",
                   type=EntityType.TRADING_FIRM, aliases=("Alameda",)),
        ),
        relations=(
            Relation(head="ftx", type=RelationType.ISSUED, tail="ftt", confidence=0.9,
                     evidence=(Evidence(text=text[:15], start=0, end=15),)),
            Relation(head="alameda-research", type=RelationType.PLEDGED_COLLATERAL, tail="ftt",
                     confidence=0.8, evidence=(Evidence(text=text[16:], start=16, end=59),)),
        ),
    )


def test_cli_export_and_validate_read_the_embedded_store(tmp_path: Path, capsys) -> None:
    import graph.store as stores

    store_dir = str(tmp_path / "store")
    with stores.open_store(store_dir) as store:
        store.load([_facts()])
    out = tmp_path / "graph.ttl"
    assert _run(["export", "--format", "turtle", "--store", store_dir, "--out", str(out)]) == 0
    dump = from_rdf(Graph().parse(out, format="turtle"))
    assert [e.id for e in dump.entities] == ["alameda-research", "ftt", "ftx"]
    assert sorted(r.type for r in dump.relations) == ["ISSUED", "PLEDGED_COLLATERAL"]
    assert {r.document_id for r in dump.relations} == {DOC}
    capsys.readouterr()
    assert _run(["validate", "--store", store_dir]) == 0
    assert "conforms" in capsys.readouterr().out
    assert _run(["export", "--format", "csv", "--store", store_dir,
                 "--out", str(tmp_path / "tables.zip")]) == 0
    assert zipfile.is_zipfile(tmp_path / "tables.zip")


def test_shapes_allow_exactly_the_kinds_of_each_domain_and_range() -> None:
    from rdflib.collection import Collection
    from rdflib.namespace import RDFS

    from graph.rdf import load_shapes

    onto, shapes = load_ontology(), load_shapes()
    sh = "http://www.w3.org/ns/shacl#"

    def members(cls: URIRef) -> set[URIRef]:
        """Kind classes under ``cls``, following subclasses and owl:unionOf."""
        found = {cls} if cls in KIND_CLASSES.values() else set()
        for sub in onto.subjects(RDFS.subClassOf, cls):
            found |= members(sub)
        for equivalent in onto.objects(cls, OWL.equivalentClass):
            for part in Collection(onto, onto.value(equivalent, OWL.unionOf)):
                found |= members(part)
        return found

    def allowed(prop: URIRef, tail: bool) -> set[URIRef]:
        shape = shapes.value(predicate=URIRef(sh + "targetSubjectsOf"), object=prop)
        for constraint in shapes.objects(shape, URIRef(sh + "property")):
            path = shapes.value(constraint, URIRef(sh + "path"))
            if (path != RDF.type) == tail:
                return set(Collection(shapes, shapes.value(constraint, URIRef(sh + "in"))))
        raise AssertionError(f"no shape for {prop}")

    for name, prop in RELATION_PROPERTIES.items():
        domain, range_ = onto.value(prop, RDFS.domain), onto.value(prop, RDFS.range)
        assert allowed(prop, tail=False) == members(domain), name
        assert allowed(prop, tail=True) == members(range_), name
