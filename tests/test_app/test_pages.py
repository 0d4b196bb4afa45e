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
         "pages/report.py", "pages/ingest.py"]


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
