"""Bounded user queries: a wall clock and a memory ceiling that a query cannot run past."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extract.model import Facts
from graph.errors import QueryRefused
from graph.store import open_store
from graph.store.bounded import QueryLimits, memory_bound, parse_size, run_query

ROOT = Path(__file__).resolve().parents[2]
RUNAWAY_MEMORY = "UNWIND range(1, 300000000) AS x RETURN collect(x)[0] AS first"
MANY_ROWS = "UNWIND range(1, 3000000) AS x RETURN x"


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )


@pytest.fixture(scope="module")
def disk_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bounded") / "store"
    facts = Facts.from_dict({
        "document": {"id": "d1", "source": "a.txt", "title": "A"},
        "entities": [{"id": "ftx", "name": "FTX", "type": "Exchange"},
                     {"id": "alameda", "name": "Alameda Research", "type": "TradingFirm"}],
        "relations": [{"head": "ftx", "type": "LENT_TO", "tail": "alameda", "confidence": 0.9,
                       "amount": 1e10, "evidence": [{"text": "FTX lent.", "start": 0, "end": 9}]}],
    })
    with open_store(path) as store:
        store.load([facts])
    return path


def test_limits_come_from_the_environment_and_bad_ones_are_named() -> None:
    limits = QueryLimits.from_env({"FALLOUT_QUERY_TIMEOUT": "4", "FALLOUT_QUERY_MEMORY": "2GiB"})
    assert limits == QueryLimits(timeout=4.0, memory=2 << 30)
    assert QueryLimits.from_env({}, timeout=2, memory="512M") == QueryLimits(2.0, 512 << 20)
    with pytest.raises(ValueError, match="FALLOUT_QUERY_MEMORY: 'lots' is not a size"):
        QueryLimits.from_env({"FALLOUT_QUERY_MEMORY": "lots"})
    with pytest.raises(ValueError, match="FALLOUT_QUERY_TIMEOUT: 'soon'"):
        QueryLimits.from_env({"FALLOUT_QUERY_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="below the lowest ceiling"):
        parse_size("10MiB")


def test_a_read_runs_in_a_worker_and_returns_the_rows(disk_store: Path) -> None:
    query = "MATCH (h:Entity)-[r]->(t:Entity) RETURN h.id AS h, type(r) AS rel, t.name AS t"
    rows = run_query(disk_store, query).rows
    assert rows == ({"h": "ftx", "rel": "LENT_TO", "t": "Alameda Research"},)
    assert memory_bound(str(disk_store), QueryLimits()) == "a worker process, stopped past 1 GiB"


def test_a_worker_reads_beside_a_reader_that_holds_the_store(disk_store: Path) -> None:
    with open_store(disk_store, read_only=True) as holder:  # as the app holds it for a page
        rows = run_query(holder, "MATCH (e:Entity) RETURN count(*) AS n").rows
    assert rows == ({"n": 2},)


def test_the_issue_reproduction_stops_at_the_memory_ceiling(disk_store: Path) -> None:
    with pytest.raises(QueryRefused, match="more than the 1 GiB memory ceiling"):
        run_query(disk_store, RUNAWAY_MEMORY, limits=QueryLimits(timeout=3, memory=1 << 30))


def test_rows_past_the_ceiling_stop_the_worker(disk_store: Path) -> None:
    # LadybugDB's own timeout does not cover turning rows into Python objects: the worker
    # grows past 256 MiB while converting them, and is stopped there
    with pytest.raises(QueryRefused, match="more than the 256 MiB memory ceiling"):
        run_query(disk_store, "UNWIND range(1, 30000000) AS x RETURN x",
                  limits=QueryLimits(timeout=600, memory=256 << 20))


def test_rows_past_the_wall_clock_stop_the_worker(disk_store: Path) -> None:
    # in the caller's process this ran for about 40 s and 1.3 GB despite timeout=2
    with pytest.raises(QueryRefused, match="timed out after 2 s"):
        run_query(disk_store, MANY_ROWS, limits=QueryLimits(timeout=2, memory=16 << 30))


def test_a_write_is_refused_before_any_worker_starts(disk_store: Path) -> None:
    with pytest.raises(QueryRefused, match="CREATE is not allowed"):
        run_query(disk_store, "CREATE (:Entity {id: 'x'})")


def test_an_in_memory_store_runs_here_under_the_timeout() -> None:
    with open_store(":memory:") as store:
        assert run_query(store, "RETURN 1 AS one").rows == ({"one": 1},)
        assert memory_bound(store, QueryLimits()).startswith("none: an in-memory store")


def test_cli_query_stops_the_issue_reproduction_with_one_line(disk_store: Path) -> None:
    done = fallout("query", RUNAWAY_MEMORY, "--store", str(disk_store), "--timeout", "3")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "1 GiB memory ceiling" in lines[0], done.stderr
    capped = fallout("query", MANY_ROWS, "--store", str(disk_store), "--timeout", "2")
    assert capped.returncode != 0 and "timed out after 2 s" in capped.stderr, capped.stderr
    bad = fallout("query", "RETURN 1", "--store", str(disk_store), "--max-memory", "lots")
    assert bad.returncode != 0 and "--max-memory: 'lots' is not a size" in bad.stderr
    ok = fallout("query", "MATCH (e:Entity) RETURN e.id AS id ORDER BY id", "--json",
                 "--store", str(disk_store), "--max-memory", "512MiB")
    assert ok.returncode == 0 and '"ftx"' in ok.stdout, ok.stderr


def test_cypher_page_shows_the_limits_and_stops_a_runaway_query(
    disk_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from pages._shared import STORE_KEY

    monkeypatch.setenv("FALLOUT_QUERY_TIMEOUT", "5")
    monkeypatch.setenv("FALLOUT_QUERY_MEMORY", "768MiB")
    store: Any = open_store(disk_store, shared=True)
    at = AppTest.from_file(str(ROOT / "pages" / "cypher.py"), default_timeout=120)
    at.session_state[STORE_KEY] = store
    at.run()
    limits = next(c.value for c in at.caption if c.value.startswith("Limits:"))
    assert "5 s wall clock" in limits and "768 MiB" in limits and "worker process" in limits
    assert at.number_input(key="cypher_timeout").max == 5.0
    at.text_area(key="cypher_text").input(RUNAWAY_MEMORY)
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "768 MiB memory ceiling" in at.error[0].value.replace("\\", "")


@pytest.mark.neo4j
def test_neo4j_applies_the_servers_memory_limit_at_once(neo4j_url: str) -> None:
    with open_store(neo4j_url) as store:
        assert "512.00MiB per transaction" in memory_bound(store, QueryLimits())
        with pytest.raises(QueryRefused, match="db.memory.transaction.max"):
            run_query(store, "UNWIND range(1, 30000000) AS x RETURN collect(x)[0] AS first",
                      limits=QueryLimits(timeout=60))
        with pytest.raises(QueryRefused, match="timed out after 1 s"):
            run_query(store, "UNWIND range(1, 200000000) AS x WITH x WHERE x < 0 "
                             "RETURN count(*) AS n", limits=QueryLimits(timeout=1))
