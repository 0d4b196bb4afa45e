"""The learned relation scorer: candidates, features, training, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest

from extract.components.scorer import (
    LABELS,
    RelationScorer,
    candidates,
    coordinated_lists,
    document_topics,
)
from extract.resolve import Occurrence
from extract.train import fit_scorer


def _occ(start, end, ident, kind="Exchange", ref=False):
    return Occurrence(start, end, ident, kind, ref)


def test_candidates_within_across_and_topic():
    """Pairs within a sentence, across two adjacent ones, and with the main firm."""
    sentences = [(0, 40), (41, 80), (81, 120)]
    occs = [
        _occ(0, 5, "a"),
        _occ(10, 15, "b"),
        _occ(20, 25, "a"),
        _occ(45, 50, "c", "Person"),
        _occ(90, 95, "d"),
    ]
    found = candidates(sentences, occs, across=True, topics=["a"])
    within = {(c.a.entity_id, c.b.entity_id) for c in found if not c.across and not c.topic}
    across = {(c.a.entity_id, c.b.entity_id) for c in found if c.across}
    topic = {(c.a.entity_id, c.b.entity_id) for c in found if c.topic}
    assert within == {("a", "b")}  # "a" twice in one sentence is one occurrence
    assert across == {("a", "c"), ("b", "c"), ("c", "d")}
    assert topic == {("a", "c"), ("a", "d")}  # never with the sentence that names "a"


def test_document_topics_are_the_most_mentioned_organisations():
    """The main firms are the organisations named (or referred to) at least three times."""
    occs = [_occ(i, i + 1, "ftx") for i in range(0, 8, 2)]
    occs += [_occ(20, 21, "sbf", "Person")] * 5 + [_occ(30, 31, "alameda")] * 2
    assert document_topics(occs) == ["ftx"]


def test_coordinated_lists_share_one_extent():
    """ "A ($5m), B ($3m) and C" is one list; a name after a verb is not part of it."""
    text = "Creditors include Orchard ($5m), Kestrel ($3m) and Quarry, said Ostrava."
    names = ["Orchard", "Kestrel", "Quarry", "Ostrava"]
    occs = [_occ(text.index(n), text.index(n) + len(n), n.lower()) for n in names]
    lists = coordinated_lists(text, [(0, len(text))], occs)
    extent = (text.index("Orchard"), text.index("Quarry") + len("Quarry"))
    assert [lists.get(o) for o in occs] == [extent, extent, extent, None]


def test_fit_scorer_is_deterministic_and_learns_a_cue():
    """The same examples give the same weights, and a cue word drives its label."""
    lent = LABELS.index("LENT_TO>")
    feats = [["K=Lender|Exchange", "w=lent"]] * 20 + [["K=Lender|Exchange", "w=met"]] * 20
    y = np.zeros((40, len(LABELS)), dtype=np.float32)
    y[:20, lent] = 1.0
    vocab_a, w_a = fit_scorer(feats, y, l2=0.1)
    vocab_b, w_b = fit_scorer(feats, y, l2=0.1)
    assert vocab_a == vocab_b and np.array_equal(w_a, w_b)
    scorer = RelationScorer("s")
    scorer.set_model(vocab_a, w_a, 0.5)
    p = scorer.scores(
        [scorer.rows(["K=Lender|Exchange", "w=lent"]), scorer.rows(["K=Lender|Exchange", "w=met"])]
    )
    assert p[0, lent] > 0.9 > 0.1 > p[1, lent]


def test_scorer_round_trips_through_disk(tmp_path):
    """Weights, feature table and threshold are saved with the pipeline and read back."""
    scorer = RelationScorer("s")
    rng = np.random.default_rng(0)
    scorer.set_model({11: 0, 22: 1, 33: 2}, rng.normal(size=(4, len(LABELS))), 0.35)
    scorer.to_disk(tmp_path)
    again = RelationScorer("s").from_disk(tmp_path)
    assert again.threshold == pytest.approx(0.35)
    assert again.vocab == scorer.vocab
    assert np.array_equal(again.weights, scorer.weights)


def test_untrained_scorer_passes_rule_relations_through(nlp_rules):
    """Built from config.cfg without weights, the component leaves the rules' output alone."""
    doc = nlp_rules("Quarry Capital lent $4 million to Bellwether Exchange.")
    assert not nlp_rules.get_pipe("fallout_relation_scorer").trained
    assert [(r["head"], r["type"], r["tail"]) for r in doc._.fallout_relations] == [
        ("quarry-capital", "LENT_TO", "bellwether-exchange")
    ]


def test_shipped_pipeline_has_a_trained_scorer(nlp_model):
    """The model in the package scores relations offline, with a threshold picked on dev."""
    scorer = nlp_model.get_pipe("fallout_relation_scorer")
    assert scorer.trained and 0.0 < scorer.threshold < 1.0
    assert len(scorer.vocab) > 1000


def test_pipeline_declares_what_it_assigns_and_requires(nlp_model):
    """spaCy's pipe analysis finds no attribute required before it is assigned."""
    problems = nlp_model.analyze_pipes(pretty=False)["problems"]
    assert all(not found for found in problems.values()), problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Quarry Capital collapsed in June. It owed Bellwether Exchange $75 million.",
            ("bellwether-exchange", "LENT_TO", "quarry-capital"),
        ),
        (
            "Bellwether Exchange was bought by Orchard Holdings in 2021.",
            ("orchard-holdings", "ACQUIRED", "bellwether-exchange"),
        ),
    ],
)
def test_shipped_pipeline_finds_relations_across_wording(nlp_model, text, expected):
    """A pronoun subject and the passive voice with the agent after the verb."""
    from extract.pipeline import doc_to_facts
    from extract.readers import read_text

    read = read_text(text)
    facts, _ = doc_to_facts(nlp_model(read.text), read.document)
    assert expected in {(r.head, r.type.value, r.tail) for r in facts.relations}
