"""One validation for facts: what ``fallout load`` refuses, one line per problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extract.model import Facts
from graph.errors import SchemaViolation
from graph.store import open_store
from graph.validation import (
    MAX_DEPTH,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    FactsRefused,
    check_facts,
    json_depth,
    parse_facts,
)

ROOT = Path(__file__).resolve().parents[2]


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )


def _facts(**relation: Any) -> dict[str, Any]:
    rel = {"head": "ftx", "type": "LENT_TO", "tail": "alameda", "confidence": 0.9,
           "evidence": [{"text": "FTX lent to Alameda.", "start": 0, "end": 20}], **relation}
    return {
        "document": {"id": "d1", "source": "d1.txt"},
        "entities": [{"id": "ftx", "name": "FTX", "type": "Exchange"},
                     {"id": "alameda", "name": "Alameda Research", "type": "TradingFirm"}],
        "relations": [rel],
    }


def test_load_refuses_what_the_product_refuses_one_line_each(tmp_path: Path) -> None:
    bad = _facts(amount=-5e8)
    bad["relations"] += [
        {"head": "ftx", "type": "OWNS", "tail": "ftx", "confidence": 0.5,
         "evidence": [{"text": "FTX owns FTX.", "start": 30, "end": 43}]},
        {"head": "alameda", "type": "HOLDS", "tail": "ftx", "confidence": 0.5},
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    store = tmp_path / "store"
    done = fallout("load", str(path), "--store", str(store))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"fallout: refused: {path}: document 'd1', relation 0 (ftx LENT_TO alameda), "
        "field 'amount': negative amount -500000000.0; expected a number >= 0",
        f"fallout: refused: {path}: document 'd1', relation 1 (ftx OWNS ftx), field 'tail': "
        "'ftx' is the head too; a relation cannot point at its own head",
        f"fallout: refused: {path}: document 'd1', relation 2 (alameda HOLDS ftx), "
        "field 'evidence': no evidence; every relation needs the sentence that states it",
        "fallout: error: 3 problem(s) in the facts; nothing was loaded",
    ]
    assert not store.exists()  # refused before any store was opened


def test_load_refuses_a_document_without_its_source_and_oversized_strings(
    tmp_path: Path,
) -> None:
    bad = _facts(currency="U" * (MAX_NAME_CHARS + 1))
    bad["document"]["source"] = " "
    bad["relations"][0]["evidence"][0]["text"] = "x" * (MAX_TEXT_CHARS + 1)
    bad["entities"][0]["aliases"] = ["F" * (MAX_NAME_CHARS + 1)]
    problems = check_facts(Facts.from_dict(bad), file="f.json")
    assert [(p.field, p.entity or p.relation) for p in problems] == [
        ("document.source", None),
        ("aliases[0]", "0 ('ftx')"),
        ("evidence[0].text", "0 (ftx LENT_TO alameda)"),
        ("currency", "0 (ftx LENT_TO alameda)"),
    ]
    assert str(problems[2]).endswith(f"{MAX_TEXT_CHARS + 1} characters; at most "
                                     f"{MAX_TEXT_CHARS} are accepted")


def test_good_facts_pass_and_negative_equity_is_allowed() -> None:
    good = _facts(amount=4e9, quantity=0.0)
    good["entities"][0]["equity"] = -1e9  # insolvent before the shock: valid
    assert check_facts(Facts.from_dict(good)) == []
    bad = _facts()
    bad["entities"][0]["deposits"] = -1.0
    [problem] = check_facts(Facts.from_dict(bad))
    assert (problem.entity, problem.field) == ("0 ('ftx')", "deposits")


def test_deeply_nested_json_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    deep = tmp_path / "d.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    done = fallout("load", str(deep), "--store", str(tmp_path / "store"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"fallout: error: {deep}: nested 100000 levels deep; at most {MAX_DEPTH} are accepted "
        "(the facts format has six)"
    ]


def test_depth_counts_structure_not_brackets_inside_strings() -> None:
    text = json.dumps([_facts(speaker="[" * 500)])
    assert json_depth(text) == 6
    facts, problems = parse_facts(text, "f.json")
    assert problems == [] and len(facts) == 1
    _, problems = parse_facts("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "f.json")
    assert [p.message for p in problems] == [
        f"nested {MAX_DEPTH + 1} levels deep; at most {MAX_DEPTH} are accepted "
        "(the facts format has six)"
    ]


@pytest.mark.parametrize("backend", ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
@pytest.mark.parametrize(
    ("relation", "named"),
    [
        ({"amount": -1.0}, r"field 'amount': negative amount -1\.0"),
        ({"tail": "ftx"}, r"field 'tail': 'ftx' is the head too"),
        ({"evidence": []}, r"field 'evidence': no evidence"),
        ({"evidence": [{"text": "  ", "start": 0, "end": 2}]}, r"evidence\[0\]\.text': empty"),
    ],
)
def test_the_store_itself_refuses_and_writes_nothing(
    request: pytest.FixtureRequest, backend: str, relation: dict[str, Any], named: str
) -> None:
    url = ":memory:" if backend == "embedded" else request.getfixturevalue("neo4j_url")
    with open_store(url) as store:
        if backend == "neo4j":
            store.cypher("MATCH (n) DETACH DELETE n", write=True)
        store.load([Facts.from_dict(_facts(amount=1.0))])
        before = dict(store.counts())
        bad = _facts(**relation)
        bad["document"]["id"] = "d2"
        with pytest.raises(FactsRefused, match=rf"document 'd2', relation 0 .*{named}") as caught:
            store.load([Facts.from_dict(bad)])
        assert isinstance(caught.value, SchemaViolation)
        assert dict(store.counts()) == before


def test_ingest_skips_a_document_whose_facts_break_the_rules(tmp_path: Path) -> None:
    # a "sentence" longer than any evidence may be: extracted, then refused by name
    text = tmp_path / "long.txt"
    filler = " and".join([" more words"] * (MAX_TEXT_CHARS // 14))
    text.write_text(f"Harbor Bank lent $9 million to Quarry Capital{filler}.\n", encoding="utf-8")
    ok = tmp_path / "ok.txt"
    ok.write_text("Quarry Capital lent $4 million to Bellwether Exchange.\n", encoding="utf-8")
    store = tmp_path / "store"
    done = fallout("ingest", str(text), str(ok), "--store", str(store))
    assert done.returncode == 1, done.stderr
    skipped = [ln for ln in done.stderr.splitlines() if ln.startswith("fallout: skipped")]
    assert len(skipped) == 1 and skipped[0].startswith(f"fallout: skipped {text}: document ")
    assert "field 'evidence[0].text'" in skipped[0] and "at most 100000" in skipped[0]
    with open_store(store) as opened:
        assert [d.source for d in opened.dump().documents] == [str(ok)]


def test_contagion_run_bounds_ids_as_the_facts_are_bounded(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.csv"
    long_id = "b" * (MAX_NAME_CHARS + 1)
    nodes.write_text(f"id,equity\na,1\n{long_id},2\n", encoding="utf-8")
    exposures = tmp_path / "exposures.csv"
    exposures.write_text(f"creditor,debtor,amount\na,{long_id},1\n", encoding="utf-8")
    done = fallout("contagion", "run", "--nodes", str(nodes), "--exposures", str(exposures),
                   "--model", "debtrank", "--json")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"fallout: error: nodes.csv row 3, field 'id': id of {MAX_NAME_CHARS + 1} characters; "
        f"at most {MAX_NAME_CHARS} are accepted"
    ]
