"""Scenarios on the graph: name resolution, model dispatch, JSON with paths and evidence."""

from __future__ import annotations

import json

import pytest

from graph.errors import ContagionInputError
from graph.scenario import Scenario, resolve_entity, run_scenario
from tests.test_graph._scenario import ftx_dump


@pytest.mark.parametrize("text", ["ftx", "FTX", "ftx.com", "FTX.COM"])
def test_resolve_by_id_name_or_alias(text: str) -> None:
    assert resolve_entity(text, dump=ftx_dump()) == "ftx"


def test_resolve_partial_and_tokens() -> None:
    assert resolve_entity("alameda", dump=ftx_dump()) == "alameda"
    assert resolve_entity("Research", dump=ftx_dump()) == "alameda"
    assert resolve_entity("FTT", dump=ftx_dump(), assets=True) == "ftt"
    with pytest.raises(ContagionInputError, match="no token named 'FTX'"):
        resolve_entity("FTX", dump=ftx_dump(), assets=True)
    with pytest.raises(ContagionInputError, match="no entity named 'Celsius'"):
        resolve_entity("Celsius", dump=ftx_dump())


def test_run_scenario_json_has_paths_with_evidence() -> None:
    run = run_scenario(ftx_dump(), Scenario(defaults=("ftx",)))
    out = json.loads(json.dumps(run.to_dict()))
    assert {"model", "params", "rounds", "totals", "nodes", "paths", "scenario"} <= set(out)
    deposit = next(p for p in out["paths"] if p["channel"] == "deposit")
    assert {e["relation_id"] for e in deposit["evidence"]} == {"r-dep", "r-dep-old"}
    assert all(e["text"] for e in deposit["evidence"])
    assert any(a["subject"] == "ftx" and a["field"] == "equity" for a in out["assumed"])


def test_run_scenario_other_models_and_price_refusal() -> None:
    run = run_scenario(ftx_dump(), Scenario(defaults=("ftx",), model="debtrank"))
    assert run.result.model == "debtrank"
    with pytest.raises(ContagionInputError, match="takes no price shocks"):
        run_scenario(ftx_dump(), Scenario(prices={"ftt": -0.5}, model="debtrank"))
    with pytest.raises(ContagionInputError, match="unknown model"):
        run_scenario(ftx_dump(), Scenario(model="nope"))


def test_run_scenario_monte_carlo_is_seeded() -> None:
    a = run_scenario(ftx_dump(), Scenario(prices={"ftt": -0.8}), monte_carlo_scenarios=10,
                     seed=4)
    b = run_scenario(ftx_dump(), Scenario(prices={"ftt": -0.8}), monte_carlo_scenarios=10,
                     seed=4)
    assert a.to_dict()["monte_carlo"] == b.to_dict()["monte_carlo"]


def _story(scenario: Scenario):
    from graph.assumptions import Assumption
    from tests.test_graph._scenario import gold_dump

    rows = [
        Assumption("relation", "HOLDS:alameda-research->ftt", "amount", 5e9, "analyst: stake"),
        Assumption("relation", "LENT_TO:ftx->alameda-research", "amount", 8e9, "analyst: loan"),
    ]
    return run_scenario(gold_dump(), scenario, assumptions=rows)


@pytest.mark.parametrize("scenario", [Scenario(defaults=("ftx",)),
                                      Scenario(prices={"ftt": -0.8})])
def test_corpus_ftx_story_cascades_through_alameda_to_the_lenders(scenario: Scenario) -> None:
    run = _story(scenario)
    res = run.result
    assert res.node("alameda-research").defaulted
    assert res.node("ftx").defaulted
    # lenders that held FTT collateral from Alameda lose the shortfall
    collateral = {s.target for s in res.paths if s.channel == "collateral"}
    assert {"genesis", "blockfi", "ftx"} <= collateral
    # depositors on FTX lose their deposits
    deposit = {s.target for s in res.paths if s.channel == "deposit"}
    assert {"genesis", "blockfi"} <= deposit
    # the analyst's numbers are assumed, never shown as extracted
    loan = next(f for f in run.projection.figures
                if f.subject == "ftx->alameda-research" and f.field == "secured_loan")
    assert loan.assumed
    # every step names the statements that carried it
    assert all(s.relation_ids for s in res.paths)
