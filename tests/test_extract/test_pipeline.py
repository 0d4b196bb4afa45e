from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract.model import Facts
from extract.pipeline import doc_to_facts, extract_files, extract_text
from extract.readers import read_text


def _check_offsets(facts: Facts, text: str) -> None:
    for ent in facts.entities:
        for m in ent.mentions:
            assert 0 <= m.start <= m.end <= len(text)
            assert text[m.start : m.end] == m.text
    ids = {e.id for e in facts.entities}
    for rel in facts.relations:
        assert rel.head in ids and rel.tail in ids
        for ev in rel.evidence:
            assert 0 <= ev.start <= ev.end <= len(text)
            assert text[ev.start : ev.end] == ev.text


_WORDS = st.sampled_from(
    [
        "FTX",
        "Alameda",
        "Research",
        "Capital",
        "lent",
        "borrowed",
        "from",
        "to",
        "$4bn",
        "the",
        "exchange",
        "he",
        "BWX",
        "tokens",
        "2",
        "million",
        "against",
        "not",
        "reportedly",
        ",",
        "and",
        ".",
        "\n",
        "Speaker:",
        "Quarry",
        "Bellwether",
        "Exchange",
        "June",
        "21",
        "'s",
        "CEO",
        "of",
        "Jane",
        "Doe",
        "acquired",
        "by",
        "\u2019s",
        "@X_Y",
        "%",
        "\ufffd",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(_WORDS, max_size=60).map(" ".join)))
def test_pipeline_arbitrary_text_offsets_inside(nlp_rules, text):
    facts, _ = doc_to_facts(nlp_rules(text), read_text(text).document)
    _check_offsets(facts, text)
    Facts.from_dict(json.loads(facts.to_json()))


@pytest.mark.parametrize(
    "text",
    ["Quarry Capital borrowed $40 million from Bellwether Exchange against 2 million BWX tokens."],
)
def test_pipeline_json_round_trip(nlp_rules, text):
    facts = extract_text(text, source="q.txt", nlp=nlp_rules)
    again = Facts.from_dict(json.loads(facts.to_json()))
    assert again == facts
    assert facts.document.source == "q.txt"


def test_pipeline_extract_files_reports_bad_and_keeps_good(tmp_path, nlp_rules):
    good = tmp_path / "good.txt"
    good.write_text("Quarry Capital lent $3 million to Bellwether Exchange.")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01" * 50)
    missing = tmp_path / "nope.txt"
    results = extract_files([good, empty, binary, missing], nlp=nlp_rules)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in results}
    assert by_name["good.txt"].facts is not None and by_name["good.txt"].error is None
    assert "empty" in by_name["empty.txt"].error
    assert "binary" in by_name["blob.txt"].error
    assert "no such file" in by_name["nope.txt"].error
    assert [r.path for r in results] == [str(p) for p in (good, empty, binary, missing)]


def test_pipeline_workers_match_single_process(tmp_path):
    paths = []
    for i in range(6):
        p = tmp_path / f"d{i}.txt"
        p.write_text(f"Firm{i} Capital lent ${i + 1} million to Bellwether Exchange.")
        paths.append(p)
    one = extract_files(paths, workers=1)
    two = extract_files(paths, workers=2)
    assert [r.facts for r in one] == [r.facts for r in two]
