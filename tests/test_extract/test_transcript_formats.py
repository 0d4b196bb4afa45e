"""Speaker turns in every transcript shape, and speaker attribution on annotated files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract.errors import ReaderError
from extract.pipeline import extract_files
from extract.readers import read_file
from extract.transcript import parse_transcript

DATA = Path(__file__).parents[1] / "data" / "transcripts"
GOLD = json.loads((DATA / "gold.json").read_text(encoding="utf-8"))["files"]


def _turns(name: str) -> list[tuple[str, float | None]]:
    read = read_file(DATA / name)
    t = parse_transcript(read.text)
    assert t is not None, name
    return [(t.speaker_for(turn.label), turn.time) for turn in t.turns]


def test_transcript_plain_name_labels():
    assert [who for who, _ in _turns("plain.txt")] == ["Mara Velde", "Tomas Brink"] * 3


def test_transcript_timestamped_labels_give_times():
    assert _turns("timestamped.txt") == [
        ("Ines Garro", 4.0),
        ("Lukas Ferreira", 11.0),
        ("Ines Garro", 62.0),
        ("Lukas Ferreira", 69.0),
        ("Ines Garro", 150.0),
    ]


@pytest.mark.parametrize(
    ("line", "name", "time"),
    [
        ("00:01:05 Ann Lee: Quarry lent.", "Ann Lee", 65.0),
        ("(12:30) Ann Lee: Quarry lent.", "Ann Lee", 750.0),
        ("Ann Lee [1:02:03.5]: Quarry lent.", "Ann Lee", 3723.5),
    ],
)
def test_transcript_timestamp_shapes(line, name, time):
    t = parse_transcript(line + "\n")
    assert t is not None
    assert [(turn.label, turn.time) for turn in t.turns] == [(name, time)]


def test_transcript_firm_in_parentheses():
    t = parse_transcript((DATA / "firms.txt").read_text(encoding="utf-8"))
    assert t is not None
    assert [turn.label for turn in t.turns] == ["Nadia Holm", "Oskar Lind", "Nadia Holm"]
    assert [(s.name, s.role, s.firm) for s in t.speakers] == [
        ("Nadia Holm", "partner", "Tamsin Capital"),
        ("Oskar Lind", "", "Ostrava Exchange"),
    ]


def test_transcript_guest_header_names_first_name_labels():
    t = parse_transcript((DATA / "header.txt").read_text(encoding="utf-8"))
    assert t is not None
    assert [(s.name, s.firm) for s in t.speakers] == [
        ("Priya Anand", "Marlow Bank"),
        ("Jonas Weir", "Quarry Capital"),
    ]
    assert [t.speaker_for(turn.label) for turn in t.turns] == [
        "Priya Anand",
        "Jonas Weir",
        "Priya Anand",
    ]


def test_transcript_two_turns_are_a_transcript():
    assert [who for who, _ in _turns("short.txt")] == ["Helena Marsh", "Viktor Sand"]


@pytest.mark.parametrize(
    "text",
    [
        "Breaking News: Quarry Capital fails.\nBottom Line: nobody is paid.\n",
        "Update: the exchange paused withdrawals.\n",
        "Plain prose. Note: nothing here.\nAnother line.",
    ],
)
def test_transcript_headings_are_not_turns(text):
    assert parse_transcript(text) is None


def test_transcript_srt_speakers_and_times():
    read = read_file(DATA / "interview.srt")
    assert read.document.title == "interview"
    assert _turns("interview.srt") == [
        ("Ines Garro", 1.0),
        ("Lukas Ferreira", 4.0),
        ("Ines Garro", 14.0),
        ("Lukas Ferreira", 17.0),
    ]
    # a cue that names nobody continues the turn before it
    assert "January. The loan is now in default." in read.text


def test_transcript_webvtt_voices_and_times():
    assert _turns("panel.vtt") == [
        ("Nadia Holm", 2.0),
        ("Oskar Lind", 6.0),
        ("Nadia Holm", 80.0),
        ("Oskar Lind", 87.0),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bad.srt", "1\nnot a time line\nhello\n", "not a readable SRT file"),
        ("bad.vtt", "no header here\n\n00:00 --> nonsense\n", "not a readable WebVTT file"),
    ],
)
def test_transcript_broken_subtitles_named(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ReaderError, match=reason) as info:
        read_file(path)
    assert name in str(info.value)


def _offsets(text: str, says: str) -> tuple[int, int]:
    start = text.index(says)
    return start, start + len(says)


def attribution_scores(nlp=None) -> dict[str, float]:
    """Accuracy of speaker (and time) attribution over the annotated statements.

    ``turns``: the transcript's own attribution of each annotated statement.
    ``relations``: every extracted relation whose evidence covers an annotated statement
    must name that statement's speaker and time.
    """
    names = list(GOLD)
    results = extract_files([DATA / n for n in names], nlp=nlp)
    turns_ok = turns_all = rel_ok = rel_all = 0
    for name, result in zip(names, results, strict=True):
        assert result.facts is not None, result.error
        text = read_file(DATA / name).text
        t = parse_transcript(text)
        assert t is not None
        for statement in GOLD[name]:
            lo, hi = _offsets(text, statement["says"])
            found = t.statement_turn(text, lo, hi)
            turns_all += 1
            if found is not None:
                turn = found[0]
                turns_ok += (t.speaker_for(turn.label), turn.time) == (
                    statement["speaker"],
                    statement["time"],
                )
            for rel in result.facts.relations:
                if any(ev.start <= lo and hi <= ev.end for ev in rel.evidence):
                    rel_all += 1
                    rel_ok += (rel.speaker, rel.speaker_time) == (
                        statement["speaker"],
                        statement["time"],
                    )
    return {
        "statements": turns_all,
        "turn_accuracy": turns_ok / turns_all,
        "relations": rel_all,
        "relation_accuracy": rel_ok / max(1, rel_all),
    }


def test_transcript_speaker_attribution_accuracy(nlp_rules):
    scores = attribution_scores(nlp_rules)
    print("speaker attribution:", scores)
    assert scores["statements"] == 16
    assert scores["turn_accuracy"] >= 0.95
    assert scores["relations"] >= 12
    assert scores["relation_accuracy"] >= 0.95


def test_transcript_answer_not_question_names_the_speaker(nlp_rules):
    (result,) = extract_files([DATA / "question.txt"], nlp=nlp_rules)
    assert result.facts is not None
    (loan,) = [r for r in result.facts.relations if r.type.value == "LENT_TO"]
    assert loan.evidence[0].text.endswith("?")  # the question is cited first
    assert loan.speaker == "Tomas Brink"
