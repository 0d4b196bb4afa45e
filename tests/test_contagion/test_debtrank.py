"""DebtRank: the published 125-bank results, hand-checked toys, closed forms, failures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.contagion import debtrank, run_model
from graph.errors import ContagionInputError, ConvergenceError

from ._nets import net, nrm_network

# NetworkRiskMeasures README (CRAN/GitHub), "Contagion metrics: default cascades and DebtRank":
# summary(contagion(md_mat, buffer, weights, shock = "all", method = "debtrank")), top 10 by
# additional stress. Columns: scenario, original stress, additional stress, additional
# losses, additional defaults. Published values, copied as printed (rounded there).
NRM_DEBTRANK_TOP10 = [
    ("b55", 0.1102, 0.280, 235.8, 17),
    ("b28", 0.0638, 0.182, 99.3, 8),
    ("b84", 0.0236, 0.117, 65.7, 2),
    ("b69", 0.0133, 0.114, 36.6, 2),
    ("b75", 0.0099, 0.113, 30.5, 2),
    ("b33", 0.0243, 0.088, 33.6, 2),
    ("b120", 0.0099, 0.077, 18.1, 2),
    ("b77", 0.0067, 0.065, 8.9, 1),
    ("b74", 0.0161, 0.064, 27.9, 3),
    ("b101", 0.0070, 0.060, 17.1, 2),
]
# the R package's stopping rule: Euclidean change in stress below .Machine$double.eps^0.2
NRM_TOL = float(np.finfo(float).eps ** 0.2)


def test_debtrank_reproduces_networkriskmeasures_readme(nrm_network_path) -> None:
    network = nrm_network(nrm_network_path)
    rows = []
    for bank in network.ids:
        r = debtrank(network, defaults=[bank], variant="linear", cap=False, tol=NRM_TOL)
        t = r.totals
        rows.append(
            (t["debtrank"], bank, t["original_stress"], t["gross_loss"],
             int(t["additional_defaults"]))
        )
    rows.sort(reverse=True)
    assert [r[1] for r in rows[:10]] == [p[0] for p in NRM_DEBTRANK_TOP10]
    for (stress, _, original, losses, defaults), published in zip(
        rows[:10], NRM_DEBTRANK_TOP10, strict=True
    ):
        assert original == pytest.approx(published[1], abs=5e-5)
        assert stress == pytest.approx(published[2], abs=5e-4)
        assert losses == pytest.approx(published[3], abs=0.05)
        assert defaults == published[4]


def test_debtrank_nrm_result_does_not_depend_on_loose_tolerance(nrm_network_path) -> None:
    network = nrm_network(nrm_network_path)
    loose = debtrank(network, defaults=["b55"], variant="linear", cap=False, tol=NRM_TOL)
    tight = debtrank(network, defaults=["b55"], variant="linear", cap=False, tol=1e-14)
    assert tight.totals["debtrank"] == pytest.approx(0.280, abs=5e-4)
    assert tight.totals["debtrank"] == pytest.approx(loose.totals["debtrank"], abs=1e-4)


# Hand-derived (not from a paper): chain c -> b -> a, W_ba = 5/10, W_cb = 4/8.
def test_debtrank_chain_of_creditors() -> None:
    n = net("abc", [[0, 0, 0], [5, 0, 0], [0, 4, 0]], [2, 10, 8], weight=[1, 1, 1])
    for variant in ("single-hit", "linear"):
        r = debtrank(n, defaults=["a"], variant=variant)
        assert [x.relative_loss for x in r.nodes] == pytest.approx([1, 0.5, 0.25], abs=1e-12)
        assert r.totals["debtrank"] == pytest.approx(0.25, abs=1e-12)
        assert [x.defaulted for x in r.nodes] == [True, False, False]
    r = debtrank(n, defaults=["a"])
    assert [rd.index for rd in r.rounds] == [0, 1, 2]
    assert {(p.source, p.target) for p in r.paths} == {("a", "b"), ("b", "c")}
    assert r.paths[0].loss == pytest.approx(5.0, abs=1e-12)


# Hand-derived: two banks lending to each other (W = 0.5 both ways), a shocked by 0.5.
# single-hit: a passes 0.5 once -> b 0.25; b passes 0.25 once -> a 0.625; stop.
# linear: increments keep flowing: a = 0.5 / (1 - 0.25) = 2/3, b = a / 2 = 1/3.
def test_debtrank_single_hit_and_linear_differ_on_a_cycle() -> None:
    n = net("ab", [[0, 5], [5, 0]], [10, 10], weight=[1, 1])
    single = debtrank(n, shocks={"a": 0.5}, variant="single-hit")
    linear = debtrank(n, shocks={"a": 0.5}, variant="linear")
    assert [x.relative_loss for x in single.nodes] == pytest.approx([0.625, 0.25], abs=1e-12)
    assert [x.relative_loss for x in linear.nodes] == pytest.approx([2 / 3, 1 / 3], abs=1e-10)
    assert single.totals["debtrank"] == pytest.approx((0.125 + 0.25) / 2, abs=1e-12)


def test_debtrank_cap_limits_impact_to_one() -> None:
    n = net("ab", [[0, 0], [20, 0]], [1, 10], weight=[1, 1])
    capped = debtrank(n, shocks={"a": 0.3})
    uncapped = debtrank(n, shocks={"a": 0.3}, cap=False)
    assert capped.node("b").relative_loss == pytest.approx(0.3, abs=1e-12)
    assert uncapped.node("b").relative_loss == pytest.approx(0.6, abs=1e-12)
    assert capped.params["cap"] is True and uncapped.params["cap"] is False


def test_debtrank_no_exposures_no_contagion() -> None:
    n = net("abc", np.zeros((3, 3)), [1, 2, 3], weight=[1, 1, 2])
    r = debtrank(n, defaults=["a"], shocks={"b": 0.4})
    assert [x.relative_loss for x in r.nodes] == pytest.approx([1, 0.4, 0], abs=1e-15)
    assert r.totals["debtrank"] == pytest.approx(0.0, abs=1e-15)


# K5, every bank lends x = 1 to every other, equity 10 (W = 0.1), all shocked by s = 0.2:
# single-hit h = s + 4 W s = 0.28; linear h = s / (1 - 4 W) = 1/3 (geometric series).
def test_debtrank_symmetric_complete_graph() -> None:
    a = np.ones((5, 5)) - np.eye(5)
    n = net("abcde", a, [10] * 5, weight=[1] * 5)
    shocks = dict.fromkeys("abcde", 0.2)
    single = debtrank(n, shocks=shocks)
    linear = debtrank(n, shocks=shocks, variant="linear")
    assert [x.relative_loss for x in single.nodes] == pytest.approx([0.28] * 5, abs=1e-12)
    assert [x.relative_loss for x in linear.nodes] == pytest.approx([1 / 3] * 5, abs=1e-10)


def test_debtrank_linear_matches_closed_form_below_cap() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 1, (30, 30)) * (rng.uniform(size=(30, 30)) < 0.2)
    np.fill_diagonal(a, 0)
    equity = a.sum(axis=1) * 4 + 1  # rows of W sum below 1/4: no node reaches the cap
    n = net([f"n{i}" for i in range(30)], a, equity, weight=[1] * 30)
    h0 = np.zeros(30)
    h0[:3] = 0.1
    r = debtrank(n, shocks={f"n{i}": 0.1 for i in range(3)}, variant="linear", cap=False)
    w = a / equity[:, None]
    expected = np.linalg.solve(np.eye(30) - w, h0)
    assert [x.relative_loss for x in r.nodes] == pytest.approx(expected.tolist(), abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    small=st.floats(0, 1),
    extra=st.floats(0, 1),
    variant=st.sampled_from(["single-hit", "linear"]),
)
def test_debtrank_bigger_shock_never_lowers_losses(seed, small, extra, variant) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 5, (8, 8)) * (rng.uniform(size=(8, 8)) < 0.4)
    np.fill_diagonal(a, 0)
    n = net([f"n{i}" for i in range(8)], a, rng.uniform(1, 10, 8), weight=[1] * 8)
    big = min(1.0, small + extra)
    lo = debtrank(n, shocks={"n0": small}, variant=variant)
    hi = debtrank(n, shocks={"n0": big}, variant=variant)
    lo_h = np.array([x.relative_loss for x in lo.nodes])
    hi_h = np.array([x.relative_loss for x in hi.nodes])
    assert np.all(hi_h >= lo_h - 1e-9)
    assert hi.totals["debtrank"] + hi.totals["original_stress"] >= (
        lo.totals["debtrank"] + lo.totals["original_stress"] - 1e-9
    )


def test_debtrank_empty_network() -> None:
    r = debtrank(net([], np.zeros((0, 0)), []))
    assert r.nodes == () and r.rounds == () and r.totals["debtrank"] == 0.0


def test_debtrank_failures_name_the_problem() -> None:
    n = net("ab", [[0, 1], [1, 0]], [1, 1], weight=[1, 1])
    with pytest.raises(ContagionInputError, match="unknown node id 'zz'"):
        debtrank(n, defaults=["zz"])
    with pytest.raises(ContagionInputError, match=r"shock for 'a' is 1.7; expected a fraction"):
        debtrank(n, shocks={"a": 1.7})
    with pytest.raises(ContagionInputError, match="variant"):
        debtrank(n, variant="double")
    with pytest.raises(ConvergenceError) as err:
        debtrank(n, shocks={"a": 0.1}, variant="linear", max_rounds=2)
    assert err.value.rounds == 2
    with pytest.raises(ContagionInputError, match="unknown model 'debtrnk'; available: debtrank"):
        run_model("debtrnk", n)


def test_debtrank_to_json_shape() -> None:
    import json

    n = net("ab", [[0, 0], [5, 0]], [4, 10], weight=[1, 1])
    out = json.loads(debtrank(n, defaults=["a"]).to_json())
    assert list(out) == ["model", "params", "rounds", "totals", "nodes"]
    assert out["nodes"][1] == {
        "id": "b", "defaulted": False, "equity_loss": 5.0, "relative_loss": 0.5, "payment": None
    }
    assert out["params"]["variant"] == "single-hit"
    assert out["totals"]["debtrank"] == pytest.approx(0.25, abs=1e-12)
