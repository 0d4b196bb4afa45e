"""Scenario runs for the Simulate and Reports pages: one call from a page, a view back.

``run_scenario`` projects the graph (``graph.projection``), runs the model
(``graph.contagion``) and builds the report (``graph.report``); ``SimulationView`` shapes
that for tables, the chart and the graph highlights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from graph.numbers import BLANK
from graph.store.base import GraphDump, GraphStore, Subgraph
from pages._graphview import money
from pages._shared import Scenario, cached_dump, store_key

__all__ = [
    "MODELS",
    "RenderedReport",
    "SimulationView",
    "assumption_rows",
    "cached_report",
    "render_report",
    "run_scenario",
]

MODELS = ("combined", "debtrank", "cascade")
"""Models the Simulate page offers on the knowledge graph."""



@st.cache_data(ttl=300, show_spinner=False)
def assumption_rows(_store: GraphStore, store_key: str) -> list[dict[str, Any]]:
    """The assumptions table shown for editing.

    Every default rule (``origin`` assumed) and every balance-sheet figure the documents
    state (``origin`` extracted); editing an extracted value overrides it for the run.
    """
    from graph.assumptions import default_assumptions
    from graph.projection import project

    rows = [
        {"kind": a.kind, "target": a.target, "field": a.field, "value": a.value,
         "rule": a.rule, "origin": "assumed"}
        for a in default_assumptions()
    ]
    projection = project(_store.dump())
    for fig in projection.figures:
        if fig.provenance == "extracted" and fig.field == "equity":
            rows.append({"kind": "entity", "target": fig.subject, "field": "equity",
                         "value": fig.value, "rule": "stated in the documents",
                         "origin": "extracted"})
    return rows


@dataclass
class SimulationView:
    """A scenario run on the graph: the model result and the report built from it."""

    scenario: Scenario
    result: Any
    report: Any
    dump: GraphDump

    @property
    def total_loss(self) -> float:
        """Equity lost across all nodes."""
        return float(self.report.headline.get("total_loss", 0.0))

    @property
    def montecarlo(self) -> list[dict[str, Any]] | None:
        """Per node loss percentiles and default probability, when Monte Carlo ran."""
        if not self.report.monte_carlo:
            return None
        return [
            {"entity": r.name, "loss p5": money(r.loss_p5), "loss p95": money(r.loss_p95),
             "P(default)": r.default_probability}
            for r in self.report.ranking
            if r.default_probability is not None and (r.loss_p95 or r.default_probability)
        ]

    def states_at(self, k: int) -> dict[str, str]:
        """``id -> "defaulted" | "stressed"`` after round ``k``."""
        states = {i: "defaulted" for i in self.scenario.defaults}
        for rnd in self.result.rounds[: k + 1]:
            states.update({i: "defaulted" for i in rnd.new_defaults})
        if self.result.rounds:
            rnd = self.result.rounds[min(k, len(self.result.rounds) - 1)]
            for i, h in rnd.relative_loss.items():
                if h and h > 0 and i not in states:
                    states[i] = "stressed"
        return states

    def loss_edges_until(self, k: int) -> list[str | tuple[str, str]]:
        """Relation ids (or node pairs) that carried loss up to round ``k``."""
        out: list[str | tuple[str, str]] = []
        for t in self.result.paths:
            if t.round <= k:
                out.extend(t.relation_ids or [(t.source, t.target)])
        return out

    @property
    def subgraph(self) -> Subgraph:
        """The shocked and hit nodes and the relations among them."""
        hit = set(self.scenario.defaults) | set(self.scenario.prices)
        hit.update(r.id for r in self.report.ranking if r.equity_loss > 0 or r.defaulted)
        for t in self.result.paths:
            hit.update((t.source, t.target))
        entities = tuple(e for e in self.dump.entities if e.id in hit)
        relations = tuple(r for r in self.dump.relations if r.head in hit and r.tail in hit)
        return Subgraph(entities=entities, relations=relations)

    def loss_rows(self) -> list[dict[str, Any]]:
        """Nodes that lost anything, largest loss first."""
        return [
            {"entity": r.name, "kind": r.type, "defaulted": bool(r.defaulted),
             "defaulted in round": BLANK if r.default_round is None else str(r.default_round),
             "equity loss": money(r.equity_loss),
             "relative loss": round(float(r.relative_loss), 4),
             "equity": f"{money(r.equity)} ({r.equity_provenance})"}
            for r in self.report.ranking
            if r.equity_loss > 0 or r.defaulted
        ]

    def round_rows(self) -> list[dict[str, Any]]:
        """Per round: new defaults, defaults so far, and equity lost so far."""
        rows = [
            {"round": p.round, "new defaults": len(p.new_defaults), "defaults": p.defaults,
             "cumulative loss": p.total_loss}
            for p in self.report.series
        ]
        return rows or [{"round": 0, "new defaults": 0, "defaults": 0, "cumulative loss": 0.0}]

    def path_rows(self) -> list[dict[str, Any]]:
        """Every edge that carried loss, with the sentence and document that state it."""
        rows = []
        for e in self.report.edges:
            ev = e.evidence[0] if e.evidence else None
            rows.append({
                "rounds": ", ".join(str(r) for r in e.rounds), "from": e.source_name,
                "to": e.target_name, "channel": e.channel, "loss": money(e.loss),
                "evidence": ev.text if ev else "(no sentence: assumed link)",
                "document": (ev.document_title or ev.document_source) if ev else "",
            })
        return rows


def run_scenario(
    store: GraphStore, scenario: Scenario, edited: Sequence[Mapping[str, Any]] | None = None
) -> SimulationView:
    """Run the scenario on the graph (``graph.scenario``) and build its report."""
    from graph.assumptions import Assumption
    from graph.report import report_for
    from graph.scenario import run_scenario as run_on_graph

    skey = store_key(store)
    original = {(r["kind"], r["target"], r["field"]): r["value"]
                for r in assumption_rows(store, skey) if r["origin"] == "extracted"}
    rows = [
        Assumption(str(r["kind"]), str(r["target"]), str(r["field"]), float(r["value"]),
                   str(r.get("rule") or "edited in the app"), "app")
        for r in (edited or ())
        if r.get("kind") and r.get("value") == r.get("value")
        and (r.get("origin") != "extracted"
             or original.get((r["kind"], r["target"], r["field"])) != r["value"])
    ]
    dump = cached_dump(store, skey)
    # the one scenario and parameter translation of the command line (graph.scenario);
    # parameters a model does not take are dropped, as the form offers one set for all
    run = run_on_graph(dump, scenario, assumptions=rows, strict=False)
    report = report_for(run)
    return SimulationView(scenario=scenario, result=run.result, report=report, dump=dump)


# --- reports ------------------------------------------------------------------------
@dataclass(frozen=True)
class RenderedReport:
    """One report in the three formats offered for download."""

    html: str
    markdown: str
    pdf: bytes


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def cached_report(
    _store: GraphStore,
    store_key: str,
    scenario_key: str,
    _scenario: Scenario,
    edited: tuple[tuple[tuple[str, Any], ...], ...] = (),
) -> RenderedReport:
    """Run the scenario and render its report as HTML, Markdown and PDF."""
    view = run_scenario(_store, _scenario, [dict(r) for r in edited])
    return render_report(view)


def render_report(view: SimulationView) -> RenderedReport:
    """Render a simulation's report as HTML, Markdown and PDF (``graph.report``)."""
    import tempfile
    from pathlib import Path

    from graph.report import render_html, render_markdown, write_pdf

    with tempfile.TemporaryDirectory(prefix="fallout-report-") as tmp:
        pdf = write_pdf(view.report, Path(tmp) / "report.pdf").read_bytes()
    return RenderedReport(html=render_html(view.report), markdown=render_markdown(view.report),
                          pdf=pdf)

