"""The relation schema agrees with the ontology, and the extractor keeps to it."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph

from extract._data import load_cues, ontology_path
from extract._schema import load_relation_schema, schema_from_ontology
from extract.model import EntityType, RelationType
from extract.pipeline import doc_to_facts, extract_text
from extract.readers import read_text

_KINDS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?type ?end ?kind WHERE {
  ?prop a owl:ObjectProperty ; skos:notation ?type .
  { ?prop rdfs:domain ?cls . BIND("head" AS ?end) }
  UNION { ?prop rdfs:range ?cls . BIND("tail" AS ?end) }
  { ?cls (owl:equivalentClass/owl:unionOf/rdf:rest*/rdf:first)? ?part . }
  ?k rdfs:subClassOf* ?part ; skos:notation ?kind .
}
"""


def _ontology_table():
    g = Graph().parse(str(ontology_path("fallout.ttl")), format="turtle")
    table: dict[str, dict[str, set[str]]] = {}
    for row in g.query(_KINDS):
        table.setdefault(str(row.type), {"head": set(), "tail": set()})[str(row.end)].add(
            str(row.kind)
        )
    return table


def test_schema_file_matches_ontology_domain_and_range():
    """ontologies/relation_schema.json is what the ontology's domain and range allow."""
    expected = _ontology_table()
    stored = json.loads(ontology_path("relation_schema.json").read_text(encoding="utf-8"))
    got = {t: {k: set(v) for k, v in ends.items()} for t, ends in stored["relations"].items()}
    assert got == expected
    assert set(got) == {t.value for t in RelationType}
    assert schema_from_ontology() == {
        t: {k: sorted(v) for k, v in ends.items()} for t, ends in expected.items()
    }


@pytest.mark.parametrize(
    ("rtype", "head", "tail"),
    [
        ("WORKS_FOR", "Person", "Place"),
        ("LENT_TO", "TradingFirm", "Token"),
        ("EXPOSED_TO", "Token", "Exchange"),
        ("LEADS", "Exchange", "Bank"),
    ],
)
def test_schema_refuses_off_ontology_pairs(rtype, head, tail):
    heads, tails = load_relation_schema()[rtype]
    assert not (head in heads and tail in tails)


def test_schema_cue_kinds_within_ontology():
    """The kinds each cue type is trusted for never exceed what the ontology allows."""
    schema = load_relation_schema()
    kinds = {k.value for k in EntityType}
    for rtype, (heads, tails) in load_cues().type_kinds.items():
        assert heads <= schema[rtype][0] and tails <= schema[rtype][1], rtype
        assert heads | tails <= kinds


@pytest.mark.parametrize(
    "text",
    [
        "Harbour Notes, episode 4\n"
        "Speakers: Ada Quist (host, Lisbon); Ben Osei (partner, Tamsin Capital)\n\n"
        "Ada Quist: Welcome, Ben. What happened?\n"
        "Ben Osei: Tamsin Capital lent $2 million to Pellam Research.\n"
        "Ada Quist: Thanks.\n"
    ],
)
def test_schema_off_schema_relation_dropped_and_counted(nlp_rules, text):
    read = read_text(text, source="talk.txt")
    facts, stats = doc_to_facts(nlp_rules(read.text), read.document)
    types = {e.id: e.type.value for e in facts.entities}
    for rel in facts.relations:
        heads, tails = load_relation_schema()[rel.type.value]
        assert types[rel.head] in heads and types[rel.tail] in tails
    assert ("ben-osei", "WORKS_FOR", "tamsin-capital") in {
        (r.head, r.type.value, r.tail) for r in facts.relations
    }
    assert not any(r.tail == "lisbon" for r in facts.relations)
    assert stats.dropped["off_schema_pattern"] >= 1


def _rels(facts):
    return {(r.head, r.type.value, r.tail) for r in facts.relations if not r.negated}


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        (
            "Quarry Capital, the fund run by Ada Quist, kept $5 million on Bellwether Exchange.",
            ("quarry-capital", "DEPOSITED_WITH", "bellwether-exchange"),
            "ada-quist",
        ),
        (
            "Mr Ben Osei said Tamsin Capital was in trouble. Ben Osei, the founder of "
            "Tamsin Capital, lent $3 million to Pellam Research.",
            ("tamsin-capital", "LENT_TO", "pellam-research"),
            "ben-osei",
        ),
    ],
)
def test_relations_person_stands_for_firm(nlp_rules, text, expected, absent):
    rels = _rels(extract_text(text, nlp=nlp_rules))
    assert expected in rels
    assert not any(h == absent and t != "LEADS" for h, t, _ in rels)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Founder Ada Quist deposited $5 million with Bellwether Exchange.", False),
        ("Founder Ada Quist personally deposited $5 million with Bellwether Exchange.", True),
    ],
)
def test_relations_person_depositor_only_when_stated(nlp_rules, text, kept):
    read = read_text(text)
    facts, stats = doc_to_facts(nlp_rules(read.text), read.document)
    found = ("ada-quist", "DEPOSITED_WITH", "bellwether-exchange") in _rels(facts)
    assert found is kept
    if not kept:
        assert stats.dropped["unresolved_endpoint"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Bellwether Exchange grew fast in 2021. Its chief executive, Ada Quist, "
            "hired forty traders.",
            ("ada-quist", "LEADS", "bellwether-exchange"),
        ),
        (
            "Mira Sol, Quarry Capital's head trader, and Ben Osei, its chief risk officer, "
            "resigned.",
            ("ben-osei", "WORKS_FOR", "quarry-capital"),
        ),
        (
            "Ada Quist, a partner at Tamsin Capital, declined to comment.",
            ("ada-quist", "WORKS_FOR", "tamsin-capital"),
        ),
        (
            "Pellam Research lent heavily to Quarry Capital, the fund run by Ada Quist and "
            "Ben Osei.",
            ("ben-osei", "LEADS", "quarry-capital"),
        ),
        (
            "The Harbour Financial Authority closed Tamsin Bank on March 3.",
            ("harbour-financial-authority", "LIQUIDATED", "tamsin-bank"),
        ),
        (
            "Quarry Capital and Pellam Research sold the shares underlying their Tamsin "
            "Capital positions.",
            ("pellam-research", "LIQUIDATED", "tamsin-capital"),
        ),
    ],
)
def test_relations_roles_and_closures(nlp_model, text, expected):
    assert expected in _rels(extract_text(text, nlp=nlp_model))


@pytest.mark.parametrize("text", ["- Customer balances on the exchange are frozen.\n"])
def test_issue3_sentence_initial_word_is_not_a_name(nlp_model, text):
    facts = extract_text("Market notes.\n" + text, nlp=nlp_model)
    assert not [e for e in facts.entities if e.name == "Customer"]


def test_relation_channels_come_from_the_ontology():
    from extract._schema import channels_from_ontology, load_relation_channels
    from graph.projection import CHANNEL_OF

    stored = json.loads(ontology_path("relation_schema.json").read_text(encoding="utf-8"))
    assert stored["channels"] == channels_from_ontology() == load_relation_channels()
    assert dict(CHANNEL_OF) == stored["channels"]
    assert CHANNEL_OF["LENT_TO"] == CHANNEL_OF["DEPOSITED_WITH"] == "credit"
    assert {"market", "collateral", "ownership", "issuer"} <= set(CHANNEL_OF.values())
    assert set(CHANNEL_OF) <= {t.value for t in RelationType}
