"""The app and the command line share one embedded store on disk.

The app opens the store for each run of a page and releases it after, so ``fallout
query`` reads and ``fallout load`` writes while the app is open, and the app then shows
what was written. When another process writes, the app names it instead of hanging.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from graph.store import open_store
from graph.store._lock import holders
from tests.fixtures.browser import free_port
from tests.fixtures.holder import AT_ONCE, Holder, fallout, lending_facts, process_env

ROOT = Path(__file__).resolve().parents[2]


def _store(path: Path) -> Path:
    with open_store(path) as graph:
        graph.load([lending_facts("d1", "FTX", "Alameda")])
    return path


def _more(tmp: Path) -> Path:
    path = tmp / "more.json"
    path.write_text(lending_facts("d2", "Binance", "Genesis").to_json(), encoding="utf-8")
    return path


def _entities(at: AppTest) -> int:
    return int(next(m for m in at.sidebar.metric if m.label == "Entities").value)


def test_app_leaves_the_store_free_between_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store")
    monkeypatch.setenv("FALLOUT_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert _entities(at) == 2
    assert holders(store) == ()  # the run is over: nothing holds the store
    started = time.monotonic()
    query = fallout("query", "MATCH (e:Entity) RETURN count(e) AS n", "--json",
                    "--store", str(store), timeout=AT_ONCE * 4)
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["rows"] == [{"n": 2}]
    load = fallout("load", str(_more(tmp_path)), "--store", str(store), timeout=AT_ONCE * 4)
    assert load.returncode == 0, load.stderr
    assert time.monotonic() - started < AT_ONCE * 4
    # the next visit shows what the command line wrote (the cached counts are keyed on
    # the database files, which the load changed); a fresh AppTest, because a second
    # run of the same one draws no sidebar
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert _entities(at) == 4


def test_app_names_the_process_that_writes_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store")
    monkeypatch.setenv("FALLOUT_STORE", str(store))
    holder = Holder(tmp_path, store, "write")
    try:
        started = time.monotonic()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert time.monotonic() - started < AT_ONCE
    finally:
        holder.release()
    assert not at.exception, at.exception
    warning = " ".join(str(w.value) for w in at.warning)
    assert "The graph store is busy" in warning
    assert f"held by pid {holder.pid}" in warning
    assert "writing since" in warning
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception  # the writer is gone: the app reads again
    assert _entities(at) == 2


def test_explore_reads_in_one_interaction_and_releases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store")
    monkeypatch.setenv("FALLOUT_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.text_input(key="explore_query").input("FTX").run()
    assert not at.exception, at.exception
    assert any("FTX" in str(h.value) for h in [*at.header, *at.subheader]), [
        h.value for h in [*at.header, *at.subheader]]
    assert holders(store) == ()


# --- the real app in a real browser -----------------------------------------------------


@pytest.fixture
def served_store() -> Iterator[tuple[str, Path]]:
    """``streamlit run app.py`` on a store that already holds one document."""
    workdir = Path(tempfile.mkdtemp(prefix="fallout-shared-"))
    store = _store(workdir / "store")
    port = free_port()
    log = (workdir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "streamlit", "run", "app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**process_env(), "FALLOUT_STORE": str(store)},
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (workdir / "streamlit.log").read_text()[-800:]
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "streamlit did not answer within 60 s"
            time.sleep(0.25)
        yield url, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.browser
def test_open_app_and_command_line_share_the_store(
    served_store: tuple[str, Path], browser_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url, store = served_store
    page = browser_page
    page.goto(url)
    metric = page.get_by_test_id("stSidebar").get_by_test_id("stMetricValue").first
    expect(metric).to_have_text("2", timeout=120_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # the page is open in the browser; the store is free for the command line
    started = time.monotonic()
    query = fallout("query", "MATCH (e:Entity) RETURN e.name AS name ORDER BY name", "--json",
                    "--store", str(store), timeout=AT_ONCE * 4)
    assert query.returncode == 0, query.stderr
    assert [r["name"] for r in json.loads(query.stdout)["rows"]] == ["Alameda", "FTX"]
    load = fallout("load", str(_more(tmp_path)), "--store", str(store), timeout=AT_ONCE * 4)
    assert load.returncode == 0, load.stderr
    assert time.monotonic() - started < AT_ONCE * 4
    page.reload()
    expect(metric).to_have_text("4", timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
