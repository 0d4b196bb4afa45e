"""The combined engine: credit, deposit, price, collateral and ownership channels together."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.contagion.combined import Channels, OwnershipLink, combined
from graph.contagion.network import CollateralLoan, ExposureNetwork
from graph.errors import ContagionInputError, ConvergenceError
from graph.projection import project
from tests.test_graph._scenario import ftx_dump


def _run(**kw):
    p = project(ftx_dump())
    return combined(p.network, channels=p.channels, **kw)


def test_ftx_default_hits_alameda_and_the_lenders() -> None:
    res = _run(defaults=["ftx"])
    assert res.node("ftx").defaulted
    assert res.node("alameda").defaulted
    assert res.node("genesis").equity_loss > 0
    assert res.node("blockfi").equity_loss == pytest.approx(0.4e9 * 0.6, abs=1)
    steps = {(s.source, s.target, s.channel): s for s in res.paths}
    assert set(steps[("ftx", "blockfi", "deposit")].relation_ids) == {"r-dep-old", "r-dep"}
    assert steps[("ftx", "ftt", "issuer")].relation_ids == ("r-issued",)
    assert steps[("ftt", "alameda", "price")].relation_ids == ("r-holds",)
    assert steps[("ftx", "ftt", "issuer")].round == 1
    # FTT fell by the issuer drop when FTX defaulted (3 bn held, 80% lost), then the
    # margin call Alameda could not meet sent 2.5 bn units of collateral into the market
    assert steps[("ftx", "ftt", "issuer")].loss == pytest.approx(2.4e9, abs=1)
    # linear impact (the default): 2.5 bn sold at 0.2 into a depth of 2 bn
    assert res.rounds[1].prices["ftt"] == pytest.approx(0.2 * (1 - 0.5e9 / 2e9), abs=1e-12)
    exp = _run(defaults=["ftx"], impact="exponential")
    assert exp.rounds[1].prices["ftt"] == pytest.approx(0.2 * np.exp(-0.5e9 / 2e9), abs=1e-12)
    assert res.params["issuer_drop"] == 0.8


def test_price_shock_breaches_the_collateral_loan() -> None:
    res = _run(prices={"ftt": -0.8})
    assert res.node("alameda").defaulted
    collateral = [s for s in res.paths if s.channel == "collateral"]
    assert collateral and collateral[0].source == "alameda" and collateral[0].target == "genesis"
    assert set(collateral[0].relation_ids) == {"r-pledge", "r-lent"}
    assert res.node("genesis").equity_loss > 0
    # FTX is hit only through its (hedged) ownership of Alameda, one round later
    (own,) = [s for s in res.paths if s.target == "ftx"]
    assert (own.source, own.channel, own.relation_ids) == ("alameda", "ownership", ("r-own",))
    assert all(s.channel != "issuer" or s.loss > 0 for s in res.paths)


def test_small_price_fall_is_met_by_a_margin_call() -> None:
    net = ExposureNetwork(
        ids=("lender", "borrower"),
        equity=np.array([10.0, 100.0]),
        exposures=sp.csr_array((2, 2)),
        asset_ids=("tok",),
        holdings=sp.csr_array(np.array([[0.0], [20.0]])),
        prices=np.array([1.0]),
        depth=np.array([1e6]),
        loans=(CollateralLoan("lender", "borrower", 10.0, "tok", 20.0),),
    )
    res = combined(net, prices={"tok": -0.5})
    # LTV 10 / 10 = 1 > 0.9: a call of 10 - 0.7 * 10 = 3, met from equity 100 - 10
    assert res.totals["margin_calls_met"] == 1
    assert res.node("lender").equity_loss == 0
    assert res.node("borrower").equity_loss == pytest.approx(10.0, abs=1e-9)
    assert not res.node("borrower").defaulted


def test_no_shock_means_nothing_happens() -> None:
    res = _run()
    assert all(n.equity_loss == 0 and not n.defaulted for n in res.nodes)
    assert res.paths == ()
    assert res.totals["total_loss"] == 0


def test_credit_chain_closed_form() -> None:
    # c owes b 3, b owes a 4; equity 1 each; recovery 0.5
    a = np.zeros((3, 3))
    a[0, 1], a[1, 2] = 4.0, 3.0
    net = ExposureNetwork(("a", "b", "c"), np.array([1.0, 1.0, 1.0]), sp.csr_array(a))
    res = combined(net, defaults=["c"], recovery=0.5)
    assert [n.defaulted for n in res.nodes] == [True, True, True]
    assert [len(r.new_defaults) for r in res.rounds] == [1, 1, 1]
    assert [s.loss for s in res.paths] == pytest.approx([1.5, 2.0], abs=1e-12)
    res = combined(net, defaults=["c"], recovery=0.8)
    assert res.node("b").relative_loss == pytest.approx(0.6, abs=1e-12)
    assert not res.node("a").defaulted


def test_ownership_passes_losses_to_the_parent_one_round_later() -> None:
    net = ExposureNetwork(("parent", "sub"), np.array([10.0, 4.0]), sp.csr_array((2, 2)))
    ch = Channels(ownership=(OwnershipLink("parent", "sub", 0.5, ("r-own",)),))
    res = combined(net, shocks={"sub": 0.5}, channels=ch)
    assert res.node("parent").equity_loss == pytest.approx(1.0, abs=1e-12)
    (step,) = res.paths
    assert (step.round, step.channel, step.relation_ids) == (1, "ownership", ("r-own",))


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_bigger_price_shock_never_lowers_losses(x: float, y: float) -> None:
    small, big = sorted((x, y))
    lo = _run(prices={"ftt": -small})
    hi = _run(prices={"ftt": -big})
    for a, b in zip(lo.nodes, hi.nodes, strict=True):
        assert b.equity_loss >= a.equity_loss - 1e-6
    assert hi.totals["total_loss"] >= lo.totals["total_loss"] - 1e-6


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_bigger_equity_shock_never_lowers_losses(x: float, y: float) -> None:
    small, big = sorted((x, y))
    lo = _run(shocks={"alameda": small})
    hi = _run(shocks={"alameda": big})
    assert hi.totals["total_loss"] >= lo.totals["total_loss"] - 1e-6


def test_empty_network_gives_an_empty_result() -> None:
    net = ExposureNetwork((), np.zeros(0), sp.csr_array((0, 0)))
    res = combined(net)
    assert res.nodes == () and res.rounds == ()


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"defaults": ["nobody"]}, "unknown node id 'nobody'"),
        ({"shocks": {"ftx": 1.7}}, "shock for 'ftx' is 1.7"),
        ({"prices": {"xyz": -0.5}}, "unknown asset 'xyz'"),
        ({"prices": {"ftt": -1.5}}, "price change for 'ftt'"),
        ({"impact": "cubic"}, "parameter impact"),
        ({"recovery": 2.0}, "parameter recovery"),
        ({"ltv_reset": 0.95}, "ltv_target=0.95"),
        ({"ltv_target": 0.95}, "ltv_target=0.95"),
    ],
)
def test_bad_input_names_the_id_or_parameter(kw, needle: str) -> None:
    with pytest.raises(ContagionInputError, match=needle):
        _run(**kw)


def test_non_convergence_raises() -> None:
    a = np.zeros((3, 3))
    a[0, 1], a[1, 2] = 4.0, 3.0
    net = ExposureNetwork(("a", "b", "c"), np.ones(3), sp.csr_array(a))
    with pytest.raises(ConvergenceError) as err:
        combined(net, defaults=["c"], recovery=0.0, max_rounds=1)
    assert err.value.rounds == 1


def test_stated_per_edge_recovery_beats_the_parameter() -> None:
    a = np.zeros((3, 3))
    a[0, 2], a[1, 2] = 10.0, 10.0
    rec = np.zeros((3, 3))
    rec[0, 2] = 0.9
    net = ExposureNetwork(("a", "b", "c"), np.array([100.0, 100.0, 1.0]), sp.csr_array(a),
                          recovery=sp.csr_array(rec))
    res = combined(net, defaults=["c"], recovery=0.5)
    assert res.node("a").equity_loss == pytest.approx(1.0, abs=1e-12)
    assert res.node("b").equity_loss == pytest.approx(5.0, abs=1e-12)


def test_old_parameter_names_are_accepted() -> None:
    new = _run(prices={"ftt": -0.5}, ltv_target=0.6, max_rounds=50)
    old = _run(prices={"ftt": -0.5}, ltv_reset=0.6, max_iter=50)
    assert new.to_dict() == old.to_dict()
    assert new.params["ltv_target"] == 0.6
    with pytest.raises(ContagionInputError, match="given twice"):
        _run(ltv_reset=0.6, ltv_target=0.6)
