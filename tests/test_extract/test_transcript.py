from __future__ import annotations

import pytest

from extract.pipeline import extract_text
from extract.transcript import handle_to_name, parse_transcript

_TRANSCRIPT = (
    "Harbour Talk, episode 3\n"
    "Speakers: Ada Quist (host, Harbour Media); Ben Osei (partner, Tamsin Capital)\n\n"
    "Ada Quist: Ben, what happened at Ostrava Exchange?\n"
    "Ben Osei: Pellam Research borrowed from Ostrava Exchange and he lost it.\n"
    "Ada Quist: Thanks.\n"
)


@pytest.mark.parametrize("text", [_TRANSCRIPT])
def test_transcript_turns_and_header(text):
    t = parse_transcript(text)
    assert t is not None
    assert [s.name for s in t.speakers] == ["Ada Quist", "Ben Osei"]
    assert [s.firm for s in t.speakers] == ["Harbour Media", "Tamsin Capital"]
    assert [turn.label for turn in t.turns] == ["Ada Quist", "Ben Osei", "Ada Quist"]


@pytest.mark.parametrize("text", ["Plain prose. Note: nothing here.\nAnother line."])
def test_transcript_prose_is_not_a_transcript(text):
    assert parse_transcript(text) is None


@pytest.mark.parametrize(("handle", "name"), [("LD_Capital", "LD Capital"), ("OFRfund", "OFR")])
def test_transcript_handle_to_name(handle, name):
    assert handle_to_name(handle) == name


@pytest.mark.parametrize("text", [_TRANSCRIPT])
def test_transcript_relations_carry_speaker_and_firms(nlp_rules, text):
    facts = extract_text(text, nlp=nlp_rules)
    rels = {(r.head, r.type.value, r.tail): r for r in facts.relations}
    assert ("ben-osei", "WORKS_FOR", "tamsin-capital") in rels
    loan = rels[("ostrava-exchange", "LENT_TO", "pellam-research")]
    assert loan.speaker == "Ben Osei"
