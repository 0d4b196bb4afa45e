"""``fallout export --format ftm``: FollowTheMoney entities checked by the library's schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from followthemoney import model

from graph.ftm import ftm_id, to_ftm, validate_ftm
from graph.sample import load_sample_corpus
from graph.store import open_store
from tests.test_graph.test_rdf import sample_dump

ROOT = Path(__file__).resolve().parents[2]


def _items(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def test_ftm_sample_maps_kinds_and_relations() -> None:
    dump = sample_dump()
    items = _items(to_ftm(dump))
    assert validate_ftm(items) == []
    by_id = {i["id"]: i for i in items}
    assert by_id[ftm_id("entity", "ftx")]["schema"] == "Company"
    assert by_id[ftm_id("entity", "sbf")]["schema"] == "Person"
    assert by_id[ftm_id("entity", "bahamas")]["schema"] == "Address"
    ftt = by_id[ftm_id("entity", "ftt")]
    assert ftt["schema"] == "Security"
    schemas = {i["schema"] for i in items}
    assert {"Company", "Person", "Security"} <= schemas
    edges = [i for i in items if model.get(i["schema"]).edge]
    assert edges, "relations become edge entities"
    for edge in edges:
        proxy = model.get_proxy(edge)  # the library reads each line back
        assert proxy.schema.edge and proxy.id == edge["id"]
        assert edge["properties"]["recordId"][0] in {r.id for r in dump.relations}


@pytest.mark.slow
def test_ftm_corpus_export_through_the_cli_validates(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with open_store(str(store)) as opened:
        load_sample_corpus(opened)
        relations = opened.dump().relations
    out = tmp_path / "graph.ftm.json"
    done = subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", "export", "--format",
         "ftm", "--store", str(store), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    items = _items(out.read_bytes())
    assert validate_ftm(items) == []
    schemas = {i["schema"] for i in items}
    for expected in ("Company", "Person", "Debt", "Ownership"):
        assert expected in schemas, schemas
    assert {"Directorship", "Employment"} & schemas
    debts = [i for i in items if i["schema"] == "Debt" and "amount" in i["properties"]]
    assert debts and all("creditor" in d["properties"] for d in debts)
    edges = [i for i in items if model.get(i["schema"]).edge]
    recorded = {e["properties"]["recordId"][0] for e in edges}
    securities = {i["id"] for i in items if i["schema"] == "Security"}
    for rel in relations:  # every relation the text asserts is in the export
        if not rel.negated and rel.id not in recorded:
            assert rel.type == "ISSUED" and ftm_id("entity", rel.tail) in securities
    print(f"ftm: {len(items)} entities, {len(edges)} edges, schemas {sorted(schemas)}")


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"id": "a", "schema": "Company", "properties": {"colour": ["red"]}}, "no property"),
        ({"id": "a", "schema": "Debt", "properties": {"debtor": ["nobody"]}}, "not exported"),
        ({"id": "a", "schema": "Debt", "properties": {"creditor": ["a"]}}, "needs a LegalEntity"),
        ({"id": "a", "schema": "Planet", "properties": {}}, "unknown schema"),
    ],
)
def test_ftm_validation_catches_what_the_schema_forbids(item: dict, problem: str) -> None:
    problems = validate_ftm([item])
    assert any(problem in p for p in problems), problems
