"""``fallout curate`` end to end on a real on-disk store, and duplicate suggestions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extract.model import Facts
from graph.duplicates import (
    alias_clusters,
    normalise,
    score_suggestions,
    suggest_duplicates,
)
from graph.store import open_store
from graph.store.base import EntityRecord, GraphDump, RelationRecord

ROOT = Path(__file__).resolve().parents[2]


def fallout(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FALLOUT_STORE": str(store), "FALLOUT_USER": "ana"}
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip


def _facts() -> list[Facts]:
    def rel(h: str, t: str, text: str, **extra: object) -> dict[str, object]:
        return {"head": h, "type": "LENT_TO", "tail": t, "confidence": 0.9,
                "evidence": [{"text": text, "start": 0, "end": len(text)}], **extra}  # fmt: skip

    return [
        Facts.from_dict({
            "document": {"id": "d1", "source": "a.txt", "title": "A"},
            "entities": [{"id": "amb", "name": "Amberlode Lending", "type": "Lender"},
                         {"id": "quill", "name": "Quillfeather", "type": "TradingFirm"}],
            "relations": [rel("amb", "quill", "Amberlode lent to Quillfeather.", amount=4e7)],
        }),
        Facts.from_dict({
            "document": {"id": "d2", "source": "b.txt", "title": "B"},
            "entities": [{"id": "amb-llc", "name": "Amberlode Lending LLC", "type": "Lender"},
                         {"id": "quill", "name": "Quillfeather", "type": "TradingFirm"}],
            "relations": [rel("amb-llc", "quill", "Amberlode Lending LLC lent to Quillfeather.")],
        }),
    ]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with open_store(str(path)) as st:
        st.load(_facts())
    return path


def test_curate_suggest_merge_list_reload_undo(store: Path) -> None:
    out = fallout("curate", "suggest", store=store)
    assert out.returncode == 0, out.stderr
    assert "Amberlode Lending (amb)  ~  Amberlode Lending LLC (amb-llc)" in out.stdout
    assert "fallout curate merge amb-llc amb" in out.stdout
    merged = fallout("curate", "merge", "amb", "amb-llc", "--why", "same lender", store=store)
    assert merged.returncode == 0, merged.stderr
    record = merged.stdout.split()[0]
    listed = fallout("curate", "list", store=store)
    assert "ana  merge amb-llc into amb  because: same lender" in listed.stdout
    with open_store(str(store)) as st:
        st.load(_facts())  # a re-ingest
        assert st.entity("amb-llc") is None
        assert {r.head for r in st.relations()} == {"amb"}
    assert fallout("curate", "suggest", store=store).stdout.strip() == "No likely duplicates."
    undone = fallout("curate", "undo", record, store=store)
    assert undone.returncode == 0, undone.stderr
    shown = json.loads(fallout("curate", "list", "--all", "--json", store=store).stdout)
    assert [(r["id"], r["undone"]) for r in shown] == [(record, True)]
    with open_store(str(store), read_only=True) as st:
        assert st.entity("amb-llc") is not None


def test_curate_errors_are_one_line_and_exit_1(store: Path) -> None:
    out = fallout("curate", "merge", "amb", "nobody", store=store)
    assert out.returncode == 1
    assert out.stderr.strip() == "fallout: error: no entity with id 'nobody' in the store"
    out = fallout("curate", "undo", "c-missing", store=store)
    assert out.returncode == 1 and "no curation record 'c-missing'" in out.stderr


def test_distinct_pair_is_not_suggested_again(store: Path) -> None:
    assert fallout("curate", "distinct", "amb", "amb-llc", store=store).returncode == 0
    assert "No likely duplicates" in fallout("curate", "suggest", store=store).stdout


def test_suggestions_use_neighbours_and_split_an_ambiguous_short_name() -> None:
    e = [
        EntityRecord("liu", "Mr. Liu", "Person"),
        EntityRecord("lf", "Liu Fangzhou", "Person"),
        EntityRecord("lw", "Liu Wenjun", "Person"),
        EntityRecord("x", "Firm X", "Company"),
    ]
    rels = tuple(
        RelationRecord(f"r{n}", h, "WORKS_FOR", "x", doc, 0.9)
        for n, (h, doc) in enumerate([("liu", "d1"), ("lf", "d1"), ("lw", "d2")])
    )
    found = suggest_duplicates(GraphDump(entities=tuple(e), relations=rels), min_score=0.3)
    assert [(s.a, s.b) for s in found][:1] == [("lf", "liu")]
    first, second = found[0], found[1]
    assert first.neighbours == 1.0 and first.documents == 1.0
    assert first.score > second.score  # shared documents break the tie of the name


def test_gold_clusters_from_training_annotations() -> None:
    gold = alias_clusters([ROOT / "ontologies/corpus/train"])
    assert any({"silvergate bank", "silvergate"} <= c for c in gold.clusters)
    assert normalise("Amberlode Lending, LLC") == "amberlode lending"
    score = score_suggestions([], [], gold)
    assert (score.judged, score.precision) == (0, 1.0)
