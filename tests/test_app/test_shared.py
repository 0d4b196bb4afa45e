"""The app's plain helpers: scenario URL round trip, review edits, graph elements, `fallout app`."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.model import Document, Entity, EntityType, Evidence, Facts, Relation, RelationType
from graph.commands.run_cmds import app_script
from graph.scenario import DEFAULT_RUNS
from graph.store.base import EntityRecord, QueryResult, RelationRecord, Subgraph
from pages._shared import (
    Scenario,
    entity_review_rows,
    facts_from_review,
    graph_elements,
    highlight_mention,
    highlight_mentions,
    md_escape,
    money,
    relation_review_rows,
    result_subgraph,
)

ROOT = Path(__file__).resolve().parents[2]


class _Params(dict[str, list[str]]):
    """Query parameters as Streamlit keeps them: several values per key."""

    def flat(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.items()}

    def get_all(self, key: str) -> list[str]:
        return list(self.get(key, []))


def test_scenario_round_trips_through_query_params() -> None:
    scenario = Scenario(defaults=["ftx", "alameda-research"], prices={"ftt": -0.8},
                        model="combined", params={"recovery": 0.25, "impact": "linear"},
                        runs=200)
    query = scenario.to_query()
    params = _Params({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    again = Scenario.from_query(params.flat(), params.get_all)
    assert again == scenario


def test_scenario_from_a_hand_edited_url_ignores_bad_values() -> None:
    params = _Params({"default": ["ftx"], "price": ["ftt:abc", "sol:-0.5"], "runs": ["x"]})
    scenario = Scenario.from_query(params.flat(), params.get_all)
    assert scenario.defaults == ("ftx",)
    assert scenario.prices == {"sol": -0.5}
    # ranges by default: a bad run count falls back to the default, not to a point
    assert scenario.runs == DEFAULT_RUNS
    assert scenario.describe() == "ftx defaults; sol price -50%"


def test_empty_scenario_writes_nothing_to_the_url() -> None:
    assert Scenario().to_query() == {}
    assert Scenario().describe() == "no shock"


def test_the_app_uses_the_scenario_of_the_command_line() -> None:
    import graph.scenario
    import pages._shared

    assert pages._shared.Scenario is graph.scenario.Scenario
    s = Scenario(defaults=["ftx"], model="cascade", params={"recovery": 0.25, "impact": "linear"},
                 shocks={"genesis": 0.3}, choice="median")
    assert s.model_params(strict=False) == {"recovery": 0.25}
    query = s.to_query()
    params = _Params({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    assert Scenario.from_query(params.flat(), params.get_all) == s


def _facts() -> Facts:
    text = "FTX lent $4bn to Alameda Research. Binance held FTT."
    return Facts(
        document=Document(id="sha256:x", source="/tmp/000-note.txt", title="note"),
        entities=(
            Entity(id="ftx", name="FTX", type=EntityType.EXCHANGE),
            Entity(id="alameda-research", name="Alameda Research",
                   type=EntityType.TRADING_FIRM, aliases=("Alameda",)),
            Entity(id="binance", name="Binance", type=EntityType.EXCHANGE),
        ),
        relations=(
            Relation(head="ftx", type=RelationType.LENT_TO, tail="alameda-research",
                     confidence=0.8, amount=4e9, currency="USD",
                     evidence=(Evidence(text=text[:34], start=0, end=34),)),
            Relation(head="binance", type=RelationType.HOLDS, tail="ftx", confidence=0.5),
        ),
    )


def test_review_applies_rejections_and_edits() -> None:
    facts = _facts()
    ents = entity_review_rows(facts)
    rels = relation_review_rows(facts)
    assert rels[0]["evidence"].startswith("FTX lent $4bn")
    ents[2]["accept"] = False  # reject Binance: its relation goes with it
    ents[1]["type"] = "InvestmentFirm"
    rels[0]["amount"] = 5e9
    rels[0]["type"] = "EXPOSED_TO"
    out = facts_from_review(facts, ents, rels, source="note.txt")
    assert [e.id for e in out.entities] == ["ftx", "alameda-research"]
    assert out.entities[1].type is EntityType.INVESTMENT_FIRM
    assert out.entities[1].aliases == ("Alameda",)
    assert len(out.relations) == 1
    rel = out.relations[0]
    assert (rel.type, rel.amount) == (RelationType.EXPOSED_TO, 5e9)
    assert rel.evidence == facts.relations[0].evidence
    assert out.document.source == "note.txt"


def test_review_rejects_an_unknown_kind() -> None:
    facts = _facts()
    ents = entity_review_rows(facts)
    ents[0]["type"] = "Spaceship"
    with pytest.raises(ValueError, match="Spaceship"):
        facts_from_review(facts, ents, relation_review_rows(facts))


def test_graph_elements_colour_by_kind_and_width_by_amount() -> None:
    sub = Subgraph(
        entities=(EntityRecord("a", "A", "Exchange"), EntityRecord("b", "B", "Lender")),
        relations=(
            RelationRecord("r1", "a", "LENT_TO", "b", "d", 0.9, amount=1e9),
            RelationRecord("r2", "b", "HOLDS", "a", "d", 0.9),
            RelationRecord("r3", "a", "OWNS", "zz", "d", 0.9),  # endpoint not drawn
        ),
    )
    els = graph_elements(sub, node_states={"b": "defaulted"}, loss_edges=["r1"])
    assert [n["data"]["kind"] for n in els["nodes"]] == ["Exchange", "Lender"]
    assert [n["data"]["label"] for n in els["nodes"]] == ["A", "B"]
    assert els["nodes"][1]["data"]["state"] == "defaulted"
    edges = {e["data"]["id"]: e["data"] for e in els["edges"]}
    assert set(edges) == {"r1", "r2"}
    assert edges["r1"]["width"] > edges["r2"]["width"]
    assert edges["r1"]["loss"] == "yes" and "loss" not in edges["r2"]


PAYLOADS = (
    "[Verify your account](http://127.0.0.1:1/x)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "see http://127.0.0.1:1/auto or www.example.invalid or mail@example.invalid",
    ":red[styled] :material/warning: $x^2$ **bold** `code` # heading | cell |",
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_escape_leaves_no_markdown_construct(payload: str) -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    escaped = md_escape(payload)
    rendered = md.render(escaped)
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    assert "<strong>" not in rendered and "<code>" not in rendered and "<h1>" not in rendered
    assert "<table>" not in rendered
    # remark-gfm (Streamlit's renderer) also links URLs and addresses found in the text
    # after escapes are resolved: its own patterns must find nothing there
    import html as html_module
    import re

    text = html_module.unescape(rendered.removeprefix("<p>").removesuffix("</p>\n"))
    assert not re.search(r"(?i)(https?://|www(?=\.))[-.\w]+", text)
    assert not re.search(r"(?:^|(?<=[\s\W]))[-.\w+]+@[-\w]+(?:\.[-\w]+)+", text)
    # and nothing is lost: the text reads as it was written
    assert text.replace("\u2060", "") == payload


def test_graph_elements_escape_what_the_side_panel_parses() -> None:
    import html as html_module

    evil = "<img src=x onerror=alert(1)>"
    sub = Subgraph(
        entities=(EntityRecord(evil, evil, evil), EntityRecord("b", "B", "Lender")),
        relations=(RelationRecord(evil + "r", evil, "LENT_TO", "b", "d", 0.9, amount=1e9,
                                  currency=evil),),
    )
    els = graph_elements(sub)
    for element in els["nodes"] + els["edges"]:
        for key, value in element["data"].items():
            if key != "label":  # shown as text by the component, and drawn on the canvas
                assert "<" not in str(value), (key, value)
    node = els["nodes"][0]["data"]
    assert node["label"] == evil and html_module.unescape(node["id"]) == evil
    edge = els["edges"][0]["data"]
    assert edge["source"] == node["id"]


def test_result_subgraph_reads_nodes_and_relationships() -> None:
    a = {"_id": "0:1", "id": "ftx", "name": "FTX", "type": "Exchange"}
    b = {"_id": "0:2", "id": "alameda", "name": "Alameda", "type": "TradingFirm"}
    r = {"_src": "0:1", "_dst": "0:2", "_label": "LENT_TO", "id": "r1", "amount": 4e9}
    sub = result_subgraph(QueryResult(columns=("a", "r", "b"), rows=({"a": a, "r": r, "b": b},)))
    assert {e.id for e in sub.entities} == {"ftx", "alameda"}
    assert [(x.head, x.type, x.tail) for x in sub.relations] == [("ftx", "LENT_TO", "alameda")]
    # LadybugDB's own shape: upper-case internal keys, internal ids as mappings
    a2 = {"_ID": {"offset": 1, "table": 0}, "_LABEL": "Entity", "id": "ftx", "name": "FTX",
          "type": "Exchange"}
    b2 = {"_ID": {"offset": 2, "table": 0}, "_LABEL": "Entity", "id": "alameda",
          "name": "Alameda", "type": "TradingFirm"}
    r2 = {"_SRC": {"offset": 1, "table": 0}, "_DST": {"offset": 2, "table": 0},
          "_LABEL": "LENT_TO", "_ID": {"offset": 9, "table": 2}, "id": "r1", "amount": 4e9}
    sub2 = result_subgraph(QueryResult(columns=("a", "r", "b"),
                                       rows=({"a": a2, "r": r2, "b": b2},)))
    assert [(x.head, x.type, x.tail) for x in sub2.relations] == [("ftx", "LENT_TO", "alameda")]
    plain = result_subgraph(QueryResult(columns=("n",), rows=({"n": 3},)))
    assert plain.entities == ()


def test_helpers_format_money_and_highlight() -> None:
    assert money(4e9, "USD") == "$4.0bn"
    assert money(None) == "—"
    assert money(1500, "EUR") == "€1.5k"
    assert highlight_mention("ftx and FTX", "FTX") == "**ftx** and **FTX**"
    # article text shows literally: no maths from "$", no links, no emphasis
    assert md_escape("$250m and $4bn [x](y) *a*") == (
        "\\$250m and \\$4bn \\[x\\](y) \\*a\\*"
    )
    assert highlight_mentions("FTX lent $4bn to Alameda Research.", ["FTX", "Alameda"]) == (
        "**FTX** lent \\$4bn to **Alameda** Research."
    )


def test_fallout_app_finds_the_checkout_app() -> None:
    assert app_script() == ROOT / "app.py"


def test_fallout_app_without_a_checkout_says_so(tmp_path: Path) -> None:
    from graph.errors import GraphError

    with pytest.raises(GraphError, match="the app is not installed"):
        app_script(tmp_path)


def test_fallout_app_serves_the_app(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.fixtures.browser import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "app", "--headless", "--port", str(port),
         "--store", str(tmp_path / "store")],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # one process group: fallout app and its streamlit child
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "fallout app did not serve within 60 s"
                time.sleep(0.25)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        if proc.stderr:
            proc.stderr.close()
