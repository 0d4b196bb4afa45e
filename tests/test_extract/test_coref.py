"""Coreference: pronouns and descriptions linked to entities, and their scoring."""

from __future__ import annotations

import json

import pytest

from extract.evaluate import evaluate_dir


def _links(nlp, text):
    doc = nlp(text)
    records = doc._.fallout_entities
    return [
        (doc.text[o.start : o.end], records[o.entity_id].name) for o in doc._.fallout_refs if o.ref
    ]


@pytest.mark.parametrize(
    ("text", "mention", "entity"),
    [
        (
            "Quarry Capital lent to Ostrava Exchange. The lender had also lent to Bellwether "
            "Exchange.",
            "The lender",
            "Quarry Capital",
        ),
        (
            "Ostrava Exchange halted withdrawals. The embattled exchange said it would repay.",
            "The embattled exchange",
            "Ostrava Exchange",
        ),
        (
            "Quarry Capital collapsed in June. It owed Bellwether Exchange $75m.",
            "It",
            "Quarry Capital",
        ),
        (
            "Dana Whitfield, the founder of Quarry Capital, resigned. She later sold her stake.",
            "She",
            "Dana Whitfield",
        ),
        (
            "Quarry Capital, which Ostrava Exchange backed, said its losses were small.",
            "its",
            "Quarry Capital",
        ),
    ],
)
def test_coref_links_mention_to_entity(nlp_rules, text, mention, entity):
    """A description or pronoun goes to the latest entity of a fitting kind, by agreement."""
    assert (mention, entity) in _links(nlp_rules, text)


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("Ostrava Exchange said the exchange rate had moved. It is unclear why.", "It"),
        ("Ostrava Exchange said the exchange rate had moved.", "the exchange"),
        ("Quarry Capital lent money. He said nothing.", "He"),  # no person to refer to
    ],
)
def test_coref_leaves_non_references_alone(nlp_rules, text, mention):
    """Expletive "it", "the exchange rate" and a pronoun with no fitting antecedent link nothing."""
    assert mention not in [m for m, _ in _links(nlp_rules, text)]


def test_coref_apposition_is_not_a_reference(nlp_rules):
    """'the exchange Ostrava Exchange' names the firm; the description is not linked apart."""
    text = "Quarry Capital lent to Bellwether Exchange. Then the exchange Ostrava Exchange failed."
    assert "the exchange" not in [m for m, _ in _links(nlp_rules, text)]


def test_coref_scores_count_links_against_gold(tmp_path, nlp_rules):
    """Precision and recall of mention links come from the gold file's ``coref`` list."""
    text = (
        "Quarry Capital lent $5m to Ostrava Exchange. The lender later lent to Bellwether "
        "Exchange. It said the exchange would repay.\n"
    )
    (tmp_path / "doc.txt").write_text(text, encoding="utf-8")
    gold = {
        "source": "test",
        "entities": [
            {"name": "Quarry Capital", "type": "InvestmentFirm", "aliases": []},
            {"name": "Ostrava Exchange", "type": "Exchange", "aliases": []},
            {"name": "Bellwether Exchange", "type": "Exchange", "aliases": []},
        ],
        "relations": [],
        "coref": [
            {
                "mention": "The lender",
                "sentence": "The lender later lent",
                "entity": "Quarry Capital",
            },
            {"mention": "It", "sentence": "It said the exchange", "entity": "Quarry Capital"},
            {
                "mention": "the exchange",
                "sentence": "It said the exchange would",
                "entity": "Ostrava Exchange",
            },
        ],
    }
    (tmp_path / "doc.json").write_text(json.dumps(gold), encoding="utf-8")
    report = evaluate_dir(tmp_path, nlp=nlp_rules)
    coref = report.to_dict()["micro"]["coref"]
    assert coref["gold"] == 3
    # "the exchange" goes to the latest exchange (Bellwether), which the gold does not say
    assert coref["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert coref["precision"] == pytest.approx(2 / 3, abs=1e-3)
