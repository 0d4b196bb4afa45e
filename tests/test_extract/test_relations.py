from __future__ import annotations

import pytest

from extract.pipeline import extract_text


def _rels(facts, negated=False):
    return {(r.head, r.type.value, r.tail) for r in facts.relations if r.negated == negated}


@pytest.mark.parametrize(
    "text",
    ["Quarry Capital borrowed $40 million from Bellwether Exchange against 2 million BWX tokens."],
)
def test_relations_invented_firms(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    kinds = {e.id: e.type.value for e in facts.entities}
    assert kinds["quarry-capital"] == "InvestmentFirm"
    assert kinds["bellwether-exchange"] == "Exchange"
    assert kinds["bwx"] == "Token"
    loan = next(r for r in facts.relations if r.type.value == "LENT_TO")
    assert (loan.head, loan.tail) == ("bellwether-exchange", "quarry-capital")
    assert loan.amount == 40_000_000 and loan.currency == "USD"
    pledge = [r for r in facts.relations if r.type.value == "PLEDGED_COLLATERAL"]
    assert [(p.head, p.tail) for p in pledge] == [("quarry-capital", "bwx")]
    assert pledge[0].quantity == 2_000_000 and pledge[0].to == "bellwether-exchange"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Harlow Capital, Mistral Finance and Corvid Trading lent to Pellam Research.",
            {
                ("harlow-capital", "LENT_TO", "pellam-research"),
                ("mistral-finance", "LENT_TO", "pellam-research"),
                ("corvid-trading", "LENT_TO", "pellam-research"),
            },
        ),
        (
            "Ostrava Exchange was acquired by Lindqvist Group in March 2021.",
            {("lindqvist-group", "ACQUIRED", "ostrava-exchange")},
        ),
        (
            "Pellam Research borrowed heavily from Ostrava Exchange.",
            {("ostrava-exchange", "LENT_TO", "pellam-research")},
        ),
        (
            "Ostrava Exchange liquidated Pellam Research on June 3.",
            {("ostrava-exchange", "LIQUIDATED", "pellam-research")},
        ),
        (
            "Ostrava Exchange issued the OSX token to its users.",
            {("ostrava-exchange", "ISSUED", "osx")},
        ),
    ],
)
def test_relations_patterns(nlp_rules, text, expected):
    facts = extract_text(text, nlp=nlp_rules)
    assert expected <= _rels(facts)


@pytest.mark.parametrize("text", ["Ostrava Exchange denied lending anything to Pellam Research."])
def test_relations_negation_kept_and_flagged(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    assert ("ostrava-exchange", "LENT_TO", "pellam-research") in _rels(facts, negated=True)
    assert not _rels(facts)


@pytest.mark.parametrize(
    "text", ["Lindqvist Group reportedly agreed to buy Ostrava Exchange for $1.1bn."]
)
def test_relations_hedged_lower_confidence_with_status(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    rel = next(r for r in facts.relations if r.type.value == "ACQUIRED")
    assert rel.hedged and rel.confidence < 0.7
    assert rel.status == "agreed"
    assert rel.amount == 1_100_000_000


@pytest.mark.parametrize(
    "text", ["Ostrava Exchange lent the OSX token to Pellam Research on June 21, 2022."]
)
def test_relations_date_normalised(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    rel = next(r for r in facts.relations if r.type.value == "LENT_TO")
    assert rel.date == "2022-06-21"
    assert rel.head == "ostrava-exchange" and rel.asset == "osx"


@pytest.mark.parametrize("text", ["Pellam Research lent to Pellam Research."])
def test_relations_self_loop_dropped(nlp_rules, text):
    from extract.pipeline import doc_to_facts
    from extract.readers import read_text

    facts, stats = doc_to_facts(nlp_rules(text), read_text(text).document)
    assert not facts.relations
    assert stats.dropped["self_loop"] == 1


@pytest.mark.parametrize("text", ["The OSX token lent to Pellam Research."])
def test_relations_type_constraint_drops_token_lender(nlp_rules, text):
    from extract.pipeline import doc_to_facts
    from extract.readers import read_text

    facts, stats = doc_to_facts(nlp_rules(text), read_text(text).document)
    assert not [r for r in facts.relations if r.type.value == "LENT_TO"]
    assert stats.dropped["off_schema_pattern"] >= 1


@pytest.mark.parametrize(
    "text",
    ["Ostrava Exchange grew fast. Pellam Research kept $5 million with the exchange."],
)
def test_relations_definite_description_resolves(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    assert ("pellam-research", "DEPOSITED_WITH", "ostrava-exchange") in _rels(facts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FTX US, the American arm of FTX, froze withdrawals.", ("ftx", "OWNS", "ftx-us")),
        (
            "Regulators questioned Sam Bankman-Fried's exchange about withdrawals at FTX.",
            ("sam-bankman-fried", "LEADS", "ftx"),
        ),
        (
            "Caroline Ellison, chief executive of Alameda Research, testified.",
            ("caroline-ellison", "LEADS", "alameda-research"),
        ),
        (
            "Genesis, the lender owned by Digital Currency Group, had lent $2.4bn to 3AC.",
            ("genesis-global-capital", "LENT_TO", "three-arrows-capital"),
        ),
    ],
)
def test_relations_appositions_possessives_roles(nlp_rules, text, expected):
    facts = extract_text(text, nlp=nlp_rules)
    assert expected in _rels(facts)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Quarry Capital lent $4 million to Bellwether Exchange.", 4e6),
        ("Quarry Capital lent to Bellwether Exchange, which later raised $40 million.", None),
        ("Quarry Capital lent to Bellwether Exchange; Ostrava Exchange lost $9 million.", None),
    ],
)
def test_relations_amount_only_from_the_same_clause(text, amount):
    """An amount stated in another clause or for another deal is not attached."""
    from extract.pipeline import extract_text

    rels = [r for r in extract_text(text).relations if r.type.value == "LENT_TO"]
    assert rels and rels[0].amount == amount
