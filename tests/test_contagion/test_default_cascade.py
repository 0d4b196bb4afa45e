"""Threshold (Furfine) cascades: the published 125-bank results, closed forms, failures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.contagion import default_cascade, run_model
from graph.errors import ContagionInputError

from ._nets import net, nrm_network

# NetworkRiskMeasures README: summary(contagion(md_mat, buffer, weights, shock = "all",
# method = "threshold")), top 10 by additional stress, as printed there (rounded).
# (scenario, original stress, additional stress, additional losses, additional defaults)
NRM_THRESHOLD_TOP10 = [
    ("b55", 0.1102, 0.273, 221.1, 16),
    ("b28", 0.0638, 0.167, 88.4, 7),
    ("b84", 0.0236, 0.098, 62.0, 2),
    ("b69", 0.0133, 0.096, 34.1, 2),
    ("b75", 0.0099, 0.095, 28.1, 2),
    ("b120", 0.0099, 0.075, 17.0, 2),
    ("b27", 0.0173, 0.059, 18.8, 3),
    ("b74", 0.0161, 0.056, 26.1, 3),
    ("b101", 0.0070, 0.052, 15.6, 2),
    ("b80", 0.0084, 0.051, 7.5, 1),
]


def test_cascade_reproduces_networkriskmeasures_readme(nrm_network_path) -> None:
    network = nrm_network(nrm_network_path)
    rows = []
    for bank in network.ids:
        t = default_cascade(network, defaults=[bank]).totals
        rows.append(
            (t["stress"], bank, t["original_stress"], t["gross_loss"],
             int(t["additional_defaults"]))
        )
    rows.sort(reverse=True)
    assert [r[1] for r in rows[:10]] == [p[0] for p in NRM_THRESHOLD_TOP10]
    for (stress, _, original, losses, defaults), published in zip(
        rows[:10], NRM_THRESHOLD_TOP10, strict=True
    ):
        assert original == pytest.approx(published[1], abs=5e-5)
        assert stress == pytest.approx(published[2], abs=5e-4)
        assert losses == pytest.approx(published[3], abs=0.05)
        assert defaults == published[4]


def _reference_furfine(a: np.ndarray, equity: np.ndarray, first: int, lgd: float) -> set[int]:
    """Furfine's algorithm written plainly: one wave at a time, loops over banks."""
    failed = {first}
    frontier = {first}
    while frontier:
        new = set()
        for i in range(len(equity)):
            if i in failed:
                continue
            loss = sum(lgd * a[i, j] for j in failed)
            if loss >= equity[i] - 1e-12:
                new.add(i)
        failed |= new
        frontier = new
    return failed


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), lgd=st.floats(0.1, 1.0))
def test_cascade_matches_plain_furfine_loop(seed, lgd) -> None:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 4, (10, 10)) * (rng.uniform(size=(10, 10)) < 0.35)
    np.fill_diagonal(a, 0)
    equity = rng.uniform(0.5, 4, 10)
    n = net([f"n{i}" for i in range(10)], a, equity, weight=[1] * 10)
    r = default_cascade(n, defaults=["n0"], lgd=lgd)
    got = {i for i, x in enumerate(r.nodes) if x.defaulted}
    assert got == _reference_furfine(a, equity, 0, lgd)


# Hand-derived chain d -> c -> b -> a, every loan larger than the lender's equity:
# the defaults come one wave at a time.
def test_cascade_chain_defaults_wave_by_wave() -> None:
    a = np.zeros((4, 4))
    a[1, 0], a[2, 1], a[3, 2] = 5, 5, 5
    n = net("abcd", a, [1, 4, 4, 4], weight=[1] * 4)
    r = default_cascade(n, defaults=["a"])
    assert [rd.new_defaults for rd in r.rounds] == [("a",), ("b",), ("c",), ("d",), ()]
    assert all(x.defaulted for x in r.nodes)
    half = default_cascade(n, defaults=["a"], lgd=0.5)  # 2.5 < 4: b survives, losing 62.5%
    assert [x.defaulted for x in half.nodes] == [True, False, False, False]
    assert half.node("b").relative_loss == pytest.approx(0.625, abs=1e-12)
    assert half.params["lgd"] == 0.5


def test_cascade_symmetric_complete_graph() -> None:
    a = np.full((4, 4), 2.0) - 2 * np.eye(4)
    weak = default_cascade(net("abcd", a, [1.5] * 4, weight=[1] * 4), defaults=["a"])
    assert all(x.defaulted for x in weak.nodes)
    assert weak.rounds[1].new_defaults == ("b", "c", "d")
    strong = default_cascade(net("abcd", a, [8] * 4, weight=[1] * 4), defaults=["a"])
    assert [x.relative_loss for x in strong.nodes] == pytest.approx([1, 0.25, 0.25, 0.25],
                                                                    abs=1e-12)


def test_cascade_no_exposures_and_shock_below_threshold_pass_nothing() -> None:
    n = net("ab", [[0, 0], [0, 0]], [1, 1], weight=[1, 1])
    assert default_cascade(n, defaults=["a"]).node("b").relative_loss == 0.0
    m = net("ab", [[0, 0], [5, 0]], [1, 1], weight=[1, 1])
    assert default_cascade(m, shocks={"a": 0.99}).node("b").relative_loss == 0.0


def test_cascade_per_edge_recovery() -> None:
    import scipy.sparse as sp

    n = net("ab", [[0, 0], [4, 0]], [1, 10], weight=[1, 1],
            recovery=sp.csr_array(np.array([[0, 0], [0.25, 0]])))
    r = default_cascade(n, defaults=["a"])
    assert r.params["lgd"] == "1 - recovery"
    assert r.node("b").relative_loss == pytest.approx(0.3, abs=1e-12)


def test_cascade_failures_and_empty() -> None:
    assert default_cascade(net([], np.zeros((0, 0)), [])).nodes == ()
    n = net("ab", [[0, 1], [1, 0]], [1, 1])
    with pytest.raises(ContagionInputError, match="lgd is 1.5"):
        default_cascade(n, lgd=1.5)
    with pytest.raises(ContagionInputError, match="unknown node id 'x'"):
        default_cascade(n, defaults=["x"])
    assert run_model("threshold", n, defaults=["a"]).model == "cascade"
