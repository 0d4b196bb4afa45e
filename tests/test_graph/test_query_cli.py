"""``fallout load``, ``ingest`` and ``query`` end to end on a real on-disk store."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from extract.model import Facts
from graph.store import open_store

ROOT = Path(__file__).resolve().parents[2]
TEXTS = sorted((ROOT / "ontologies" / "corpus").rglob("*.txt"))[:13]


def fallout(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


@pytest.fixture
def facts_file(tmp_path: Path) -> Path:
    facts = Facts.from_dict(
        {
            "document": {"id": "d1", "source": "a.txt", "title": "A"},
            "entities": [
                {"id": "ftx", "name": "FTX", "type": "Exchange"},
                {"id": "alameda", "name": 'Alameda, "Research"', "type": "TradingFirm"},
            ],
            "relations": [
                {
                    "head": "ftx",
                    "type": "LENT_TO",
                    "tail": "alameda",
                    "confidence": 0.9,
                    "amount": 1e10,
                    "evidence": [{"text": "FTX lent.", "start": 0, "end": 9}],
                }
            ],
        }
    )
    path = tmp_path / "facts.json"
    path.write_text(facts.to_json(), encoding="utf-8")
    return path


@pytest.fixture
def loaded(tmp_path: Path, facts_file: Path) -> Path:
    store = tmp_path / "store"
    done = fallout("load", str(facts_file), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "1 documents" in done.stderr
    return store


def test_load_twice_changes_no_count(loaded: Path, facts_file: Path) -> None:
    done = fallout("load", str(facts_file), "--store", str(loaded))
    assert done.returncode == 0, done.stderr
    with open_store(loaded) as store:
        assert dict(store.counts()) == {"entities": 2, "relations": 1, "documents": 1}


def test_query_json_with_param(loaded: Path) -> None:
    done = fallout(
        "query",
        "MATCH (e:Entity {id: $id}) RETURN e.name AS name",
        "--param",
        "id=alameda",
        "--json",
        "--store",
        str(loaded),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": [{"name": 'Alameda, "Research"'}]}


def test_query_csv_and_table(loaded: Path) -> None:
    query = "MATCH (h)-[r]->(t) RETURN h.id AS h, type(r) AS rel, t.name AS t, r.amount AS amt"
    done = fallout("query", query, "--csv", "--store", str(loaded))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows == [
        ["h", "rel", "t", "amt"],
        ["ftx", "LENT_TO", 'Alameda, "Research"', "10000000000.0"],
    ]
    table = fallout("query", query, "--store", str(loaded))
    assert table.returncode == 0 and "LENT_TO" in table.stdout
    assert "10.0bn" in table.stdout and "10000000000" not in table.stdout  # the CSV keeps it


def test_query_store_from_environment(loaded: Path) -> None:
    import os

    env = {**os.environ, "FALLOUT_STORE": str(loaded)}
    done = fallout("query", "MATCH (d:Document) RETURN d.title AS t", "--json", env=env)
    assert json.loads(done.stdout) == {"rows": [{"t": "A"}]}


def test_write_query_without_write_is_refused_and_changes_nothing(loaded: Path) -> None:
    done = fallout("query", "CREATE (n:Entity {id:'x'})", "--store", str(loaded))
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "refused" in done.stderr
    assert "Traceback" not in done.stderr
    with open_store(loaded) as store:
        assert store.entity("x") is None and dict(store.counts())["entities"] == 2
    allowed = fallout("query", "CREATE (n:Entity {id:'x'})", "--write", "--store", str(loaded))
    assert allowed.returncode == 0, allowed.stderr
    with open_store(loaded) as store:
        assert store.entity("x") is not None


def test_bad_query_and_bad_param_are_one_line(loaded: Path) -> None:
    for args in (["MATCH (n RETURN n"], ["MATCH (n) RETURN n", "--param", "novalue"]):
        done = fallout("query", *args, "--store", str(loaded))
        assert done.returncode != 0
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_unreachable_neo4j_is_one_line_quickly() -> None:
    import time

    for url in ("bolt://127.0.0.1:9", "neo4j://127.0.0.1:9"):  # direct, and with routing
        started = time.monotonic()
        done = fallout("query", "RETURN 1", "--store", url)
        assert time.monotonic() - started < 10
        assert done.returncode != 0
        assert url in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_ingest_thirteen_texts_twice_gives_identical_counts(tmp_path: Path) -> None:
    assert len(TEXTS) == 13
    store = tmp_path / "store"
    counts = []
    for _ in range(2):
        done = fallout("ingest", *map(str, TEXTS), "--store", str(store))
        assert done.returncode == 0, done.stderr
        with open_store(store) as opened:
            counts.append(dict(opened.counts()))
    assert counts[0] == counts[1]
    assert counts[0]["documents"] == 13 and counts[0]["relations"] > 0


@pytest.mark.neo4j
def test_wrong_neo4j_password_is_one_line_quickly_and_writes_nothing(
    neo4j_auth_url: str, facts_file: Path
) -> None:
    import os
    import time

    from tests.fixtures.neo4j_server import NEO4J_TEST_PASSWORD

    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "FALLOUT_"))}
    wrong = {**base, "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": "not-the-password"}
    for args in (["load", str(facts_file)], ["query", "RETURN 1"]):
        started = time.monotonic()
        done = fallout(*args, "--store", neo4j_auth_url, env=wrong)
        assert time.monotonic() - started < 10
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "refused the credentials" in lines[0], done.stderr
        assert "not-the-password" not in done.stderr
    right = {**base, "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": NEO4J_TEST_PASSWORD}
    count = "MATCH (n) RETURN count(n) AS n"
    done = fallout("query", count, "--json", "--store", neo4j_auth_url, env=right)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == [{"n": 0}]  # the refused load wrote nothing
    done = fallout("load", str(facts_file), "--store", neo4j_auth_url, env=right)
    assert done.returncode == 0, done.stderr
    done = fallout("query", count, "--json", "--store", neo4j_auth_url, env=right)
    assert json.loads(done.stdout)["rows"] == [{"n": 3}]  # two entities, one document
