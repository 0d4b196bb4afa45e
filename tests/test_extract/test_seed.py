from __future__ import annotations

from pathlib import Path

import pytest

from extract.evaluate import evaluate_file
from extract.pipeline import doc_to_facts
from extract.readers import read_file

GOLD = Path(__file__).resolve().parents[1] / "data" / "seed_gold.json"

_MUST_FIND = [
    "ftx",
    "alameda-research",
    "ftt",
    "binance",
    "changpeng-zhao",
    "sam-bankman-fried",
    "three-arrows-capital",
    "solana",
    "luna",
    "coindesk",
    "coin-metrics",
    "ld-capital",
    "hashkey-capital",
]


@pytest.mark.model
@pytest.mark.parametrize("entity_id", _MUST_FIND)
def test_seed_transcript_entities(seed_transcript, nlp_model, entity_id):
    read = read_file(seed_transcript)
    facts, _ = doc_to_facts(nlp_model(read.text), read.document)
    ids = {e.id for e in facts.entities}
    assert entity_id in ids or (entity_id == "solana" and "sol" in ids)


@pytest.mark.model
def test_seed_transcript_relations(seed_transcript, nlp_model):
    read = read_file(seed_transcript)
    facts, _ = doc_to_facts(nlp_model(read.text), read.document)
    rels = {(r.head, r.type.value, r.tail): r for r in facts.relations if not r.negated}
    assert ("ftx", "LENT_TO", "alameda-research") in rels
    assert ("alameda-research", "PLEDGED_COLLATERAL", "ftt") in rels
    assert ("ftx", "LIQUIDATED", "alameda-research") in rels
    deal = rels[("binance", "ACQUIRED", "ftx")]
    assert deal.hedged and deal.status == "proposed"
    assert {("joy-lou", "WORKS_FOR", "ld-capital"), ("rui", "WORKS_FOR", "hashkey-capital")} <= set(
        rels
    )
    assert all(r.speaker for r in facts.relations if r.type.value != "WORKS_FOR")


@pytest.mark.model
def test_seed_transcript_scores(seed_transcript, nlp_model):
    score = evaluate_file(seed_transcript, GOLD, nlp=nlp_model)
    assert score.entities.f1 >= 0.85
    assert score.relations.f1 >= 0.6
