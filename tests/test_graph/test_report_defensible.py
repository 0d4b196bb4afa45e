"""A report an analyst can defend: ranges by default, the stated share, the sensitivity table."""

from __future__ import annotations

from graph.report import render_markdown, report_for
from graph.scenario import Scenario, run_scenario
from graph.store.base import EntityRecord, GraphDump, RelationRecord
from tests.test_graph._scenario import ftx_dump


def _with_person() -> GraphDump:
    d = ftx_dump()
    person = EntityRecord("sbf", "Sam Bankman-Fried", "Person")
    loan = RelationRecord("r-sbf", "sbf", "LENT_TO", "alameda", "doc1", 0.9, amount=1.0e9,
                          evidence="Bankman-Fried lent Alameda $1 billion.")
    return GraphDump((*d.entities, person), (*d.relations, loan), d.documents)


def test_report_shows_ranges_stated_share_and_sensitivity_by_default() -> None:
    run = run_scenario(_with_person(), Scenario(defaults=("ftx",)))
    assert run.monte_carlo is not None and run.monte_carlo.scenarios == 200
    report = report_for(run)
    assert "90% range" in report.summary and "The text states" in report.summary
    assert report.sensitivity, "no sensitivity rows"
    swings = [r["swing"] for r in report.sensitivity]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0
    md = render_markdown(report)
    first = [p for p in md.split("\n\n") if p.strip()][2]
    assert "The text states" in first  # the stated share is in the first paragraph
    assert "Which numbers move the answer" in md and "Conflicting statements" in md
    # a person gets no assumed equity
    assert all(f.subject != "sbf" for f in run.projection.assumed_figures())
    assert run.projection.figure("sbf", "equity").provenance == "none"


def test_point_estimate_on_request_and_seeded_ranges_repeat() -> None:
    point = run_scenario(ftx_dump(), Scenario(defaults=("ftx",), runs=0))
    assert point.monte_carlo is None
    assert "point estimate" in report_for(point).summary
    a = run_scenario(ftx_dump(), Scenario(defaults=("ftx",), runs=30, seed=3))
    b = run_scenario(ftx_dump(), Scenario(defaults=("ftx",), runs=30, seed=3))
    assert a.monte_carlo is not None and b.monte_carlo is not None
    assert a.monte_carlo.total_loss_percentiles == b.monte_carlo.total_loss_percentiles


def test_removing_a_stated_edge_is_a_sensitivity_test() -> None:
    run = run_scenario(ftx_dump(), Scenario(defaults=("ftx",), runs=0))
    tests = {(r.figure.subject, r.test) for r in run.sensitivity}
    assert ("blockfi->ftx", "statement removed") in tests
