"""Every page under AppTest, against a real in-memory store holding the sample corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from graph.sample import EXAMPLE_QUERIES, load_sample_corpus
from pages._shared import RESULT_KEY, SCENARIO_KEY, STORE_KEY, Scenario

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["app.py", "pages/explore.py", "pages/cypher.py", "pages/simulate.py",
         "pages/report.py", "pages/ingest.py", "pages/curate.py", "pages/compare.py"]


@pytest.fixture(scope="module")
def sample_store() -> Iterator[Any]:
    from graph.store import open_store

    store = open_store(":memory:")
    load_sample_corpus(store)
    try:
        yield store
    finally:
        store.close()


def _app(page: str, store: Any, **state: Any) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    at.session_state[STORE_KEY] = store
    for key, value in state.items():
        at.session_state[key] = value
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [h.value for h in at.header]
    parts += [h.value for h in at.title] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page: str, sample_store: Any) -> None:
    at = _app(page, sample_store).run()
    assert not at.exception, at.exception


def test_app_frame_shows_store_and_counts(sample_store: Any) -> None:
    at = _app("app.py", sample_store).run()
    assert not at.exception
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown)
    assert "fallout" in sidebar
    assert "embedded, in memory" in sidebar
    entities = next(m for m in at.sidebar.metric if m.label == "Entities")
    assert int(entities.value) == sample_store.counts()["entities"] > 0
    last = sample_store.cypher("MATCH (d:Document) RETURN max(d.ingested_at) AS t").rows[0]["t"]
    captions = [str(c.value) for c in at.sidebar.caption]
    assert f"Last update: {last.replace('T', ' ').replace('+00:00', ' UTC')}" in captions


def test_explore_search_finds_ftx(sample_store: Any) -> None:
    at = _app("pages/explore.py", sample_store).run()
    at.text_input(key="explore_query").input("FTX").run()
    assert not at.exception
    match = at.selectbox(key="explore_match")
    assert any(str(o).startswith("FTX (") for o in match.options), match.options
    # picking FTX shows its card: its kind and its relations with evidence
    ftx = next(i for i, o in enumerate(match.options) if str(o).startswith("FTX ("))
    match.select_index(ftx).run()
    assert any(h.value == "FTX" for h in at.header)
    assert "Exchange" in _text(at)
    assert at.expander, "no evidence shown for FTX's relations"


def test_cypher_read_query_returns_rows(sample_store: Any) -> None:
    at = _app("pages/cypher.py", sample_store).run()
    at.text_area(key="cypher_text").input(
        "MATCH (e:Entity) WHERE e.name = 'FTX' RETURN e.name AS name, e.type AS kind"
    )
    at.button[0].click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    frame = at.dataframe[0].value
    assert list(frame["name"]) == ["FTX"]


def test_cypher_write_query_is_refused_with_a_message(sample_store: Any) -> None:
    before = dict(sample_store.counts())
    at = _app("pages/cypher.py", sample_store).run()
    at.text_area(key="cypher_text").input("CREATE (e:Entity {id: 'intruder', name: 'X'})")
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "refused" in at.error[0].value.lower()
    assert dict(sample_store.counts()) == before


@pytest.mark.parametrize("name", sorted(EXAMPLE_QUERIES))
def test_cypher_examples_run_on_the_embedded_store(name: str, sample_store: Any) -> None:
    result = sample_store.cypher(EXAMPLE_QUERIES[name], timeout=30)
    assert result.columns


def test_simulate_ftx_default_lists_alameda_among_losses(sample_store: Any) -> None:
    at = _app("pages/simulate.py", sample_store).run()
    at.button(key="quick_ftx").click().run()
    assert not at.exception, at.exception
    losses = next(d.value for d in at.dataframe if "equity loss" in d.value.columns)
    assert "Alameda Research" in set(losses["entity"])
    alameda = losses[losses["entity"] == "Alameda Research"].iloc[0]
    assert alameda["relative loss"] > 0
    assert at.query_params.get("default") in (["ftx"], "ftx")


def test_simulate_reads_the_scenario_from_the_url(sample_store: Any) -> None:
    at = _app("pages/simulate.py", sample_store)
    at.query_params["default"] = "ftx"
    at.run()
    assert not at.exception
    assert [h.value for h in at.subheader][0] == "Cascade: ftx defaults (combined)"


def test_report_offers_three_download_formats(sample_store: Any) -> None:
    at = _app("pages/report.py", sample_store,
              **{SCENARIO_KEY: Scenario(defaults=["ftx"]), RESULT_KEY: None}).run()
    assert not at.exception, at.exception
    labels = sorted(str(b.proto.label) for b in at.get("download_button"))
    assert labels == ["Download HTML", "Download Markdown", "Download PDF"], labels


def test_ingest_extracts_reviews_and_loads_pasted_text() -> None:
    from graph.store import open_store

    with open_store(":memory:") as store:
        at = _app("pages/ingest.py", store).run()
        at.text_area(key="ingest_text").input(
            "FTX lent $4 billion to Alameda Research, the trading firm, in 2022."
        )
        next(b for b in at.button if b.label == "Extract").click().run()
        assert not at.exception, at.exception
        frames = [d.value for d in at.dataframe]
        entities = next(f for f in frames if "mentions" in f.columns)
        assert {"FTX", "Alameda Research"} <= set(entities["name"])
        relations = next(f for f in frames if "evidence" in f.columns)
        assert any("FTX lent" in e for e in relations["evidence"])
        next(b for b in at.button if b.label.startswith("Load accepted")).click().run()
        assert not at.exception, at.exception
        assert at.success and "Loaded 1 document" in at.success[0].value
        assert store.search("Alameda")


@pytest.mark.parametrize("kind", ["file-not-directory", "neo4j-unreachable"])
def test_app_frame_explains_a_store_it_cannot_open(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.browser import free_port

    if kind == "file-not-directory":
        target = tmp_path / "not-a-store"
        target.write_text("x", encoding="utf-8")
        url = str(target)
    else:
        url = f"bolt://127.0.0.1:{free_port()}"
    monkeypatch.setenv("FALLOUT_STORE", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    message = at.sidebar.error[0].value
    assert url in message and "To fix" in message


def test_simulate_price_shock_with_monte_carlo_from_the_url(sample_store: Any) -> None:
    at = _app("pages/simulate.py", sample_store)
    at.query_params["default"] = "ftx"
    at.query_params["price"] = "sol:-0.5"
    at.query_params["runs"] = "20"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert [h.value for h in at.subheader][0] == "Cascade: ftx defaults; sol price -50% (combined)"
    mc = next(d.value for d in at.dataframe if "P(default)" in d.value.columns)
    assert len(mc) > 0
    assert ((mc["P(default)"] >= 0) & (mc["P(default)"] <= 1)).all()


@pytest.mark.neo4j
def test_cypher_examples_and_pages_work_on_neo4j(neo4j_url: str) -> None:
    from graph.store import open_store

    with open_store(neo4j_url) as store:
        load_sample_corpus(store)
        for name, query in EXAMPLE_QUERIES.items():
            assert store.cypher(query, timeout=30).columns, name
        at = _app("pages/cypher.py", store).run()
        at.text_area(key="cypher_text").input(EXAMPLE_QUERIES[next(iter(EXAMPLE_QUERIES))])
        at.button[0].click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert "Alameda Research" in set(at.dataframe[0].value["borrower"])
        explore = _app("pages/explore.py", store).run()
        explore.text_input(key="explore_query").input("FTX").run()
        assert not explore.exception
        assert any(h.value == "FTX" for h in explore.header)
        simulate = _app("pages/simulate.py", store).run()
        simulate.button(key="quick_ftx").click().run()
        assert not simulate.exception and not simulate.error
        losses = next(d.value for d in simulate.dataframe if "equity loss" in d.value.columns)
        assert "Alameda Research" in set(losses["entity"])


def test_cypher_timeout_stops_a_runaway_query(sample_store: Any) -> None:
    at = _app("pages/cypher.py", sample_store).run()
    at.text_area(key="cypher_text").input(
        "MATCH (a:Entity), (b:Entity), (c:Entity), (d:Entity)\n"
        "WHERE (a.name + b.name + c.name + d.name) CONTAINS 'zzzz' RETURN count(*) AS n"
    )
    at.number_input(key="cypher_timeout").set_value(1.0)
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "timed out after 1 s" in at.error[0].value


def test_cypher_nodes_and_paths_come_back_as_a_graph(sample_store: Any) -> None:
    from pages._shared import result_subgraph

    at = _app("pages/cypher.py", sample_store).run()
    one_hop = EXAMPLE_QUERIES["Everything one hop from FTX (as a graph)"]
    at.text_area(key="cypher_text").input(one_hop)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert "As a graph" in [h.value for h in at.subheader]
    paths = sample_store.cypher(
        "MATCH p = (a:Entity)-[*1..2]->(b:Entity) WHERE a.name = 'FTX' RETURN p LIMIT 20"
    )
    sub = result_subgraph(paths)
    ids = {e.id for e in sub.entities}
    assert "ftx" in ids and sub.relations
    assert all(r.head in ids and r.tail in ids for r in sub.relations)
