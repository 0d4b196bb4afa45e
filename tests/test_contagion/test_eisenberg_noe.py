"""Eisenberg-Noe: hand-solved examples, closed forms, fixed-point cross-check, failures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.contagion import eisenberg_noe, rogers_veraart
from graph.errors import ContagionInputError

from ._nets import net


def plain_fixed_point(a, e, x, alpha=1.0, beta=1.0, iters=20_000):
    """Greatest clearing vector by iterating the clearing map down from full payment."""
    pbar = a.sum(axis=0) + x
    pi = np.divide(a, pbar, out=np.zeros_like(a), where=pbar > 0)
    p = pbar.copy()
    for _ in range(iters):
        r = e + pi @ p
        nxt = np.where(r >= pbar, pbar, np.maximum(0.0, alpha * e + beta * (pi @ p)))
        if np.max(np.abs(nxt - p), initial=0) < 1e-15:
            break
        p = nxt
    return p


# Inputs: the example of `default_cascade` in the R package systemicrisk (Gandy & Veraart):
# ea = (1/2, 5/8, 3/4), el = (3/2, 1/2, 1/2), L = every bank owes 1/2 to each other.
# The same network's `default_clearing` output is published (see
# test_published_examples.py); here the waves are checked against a hand solution: bank 1
# defaults in wave 1 (1/2 + 1 < 5/2), bank 2 in wave 2; then p1 = 1 + p2/3, p2 = 9/8 + p1/5,
# so p1 = 165/112, p2 = 159/112, p3 = 3/2 (bank 3 keeps 3/4 + 33/112 + 53/112 - 3/2 > 0).
SR_EXPOSURES = (np.ones((3, 3)) - np.eye(3)) * 0.5
SR_EXTERNAL_ASSETS = [0.5, 0.625, 0.75]
SR_EXTERNAL_LIABILITIES = [1.5, 0.5, 0.5]


def _sr():
    return net("123", SR_EXPOSURES, [0, 0, 0], external_assets=SR_EXTERNAL_ASSETS,
               external_liabilities=SR_EXTERNAL_LIABILITIES)


def test_eisenberg_noe_systemicrisk_example_by_hand() -> None:
    r = eisenberg_noe(_sr())
    assert [x.payment for x in r.nodes] == pytest.approx([165 / 112, 159 / 112, 1.5], abs=1e-12)
    assert [x.defaulted for x in r.nodes] == [True, True, False]
    assert [rd.new_defaults for rd in r.rounds] == [("1",), ("2",)]
    # bank 3: equity 0.75 + 1 - 1.5 = 0.25 before, 0.75 + (33 + 53) / 112 - 1.5 after
    after = 0.75 + 33 / 112 + 53 / 112 - 1.5
    assert r.node("3").equity_loss == pytest.approx(0.25 - after, abs=1e-12)
    assert r.totals["payment_shortfall"] == pytest.approx(2.5 + 1.5 - (324 / 112), abs=1e-12)
    assert {(p.source, p.target) for p in r.paths} >= {("1", "2"), ("1", "3"), ("2", "3")}


# Hand-solved, outside creditors senior: a owes b 10 and outsiders 3, has 5 outside.
# pari-passu: a pays 5 in total, b gets 5 * 10/13; senior: outsiders get 3, b gets 2.
def test_eisenberg_noe_seniority_of_outside_creditors() -> None:
    n = net("ab", [[0, 0], [10, 0]], [0, 0], external_assets=[5, 1],
            external_liabilities=[3, 0])
    pari = eisenberg_noe(n)
    senior = eisenberg_noe(n, external_liabilities="senior")
    assert pari.node("a").payment == pytest.approx(5.0, abs=1e-12)
    assert senior.node("a").payment == pytest.approx(5.0, abs=1e-12)
    assert pari.node("b").equity_loss == pytest.approx(10 - 50 / 13, abs=1e-12)
    assert senior.node("b").equity_loss == pytest.approx(8.0, abs=1e-12)
    assert senior.params["external_liabilities"] == "senior"
    poor = net("ab", [[0, 0], [10, 0]], [0, 0], external_assets=[2, 1],
               external_liabilities=[3, 0])
    assert eisenberg_noe(poor, external_liabilities="senior").node("b").equity_loss == (
        pytest.approx(10.0, abs=1e-12)
    )


def test_eisenberg_noe_no_exposures_pays_what_it_has() -> None:
    n = net("ab", np.zeros((2, 2)), [0, 0], external_assets=[5, 5],
            external_liabilities=[8, 2])
    r = eisenberg_noe(n)
    assert [x.payment for x in r.nodes] == pytest.approx([5, 2], abs=1e-12)
    assert [x.defaulted for x in r.nodes] == [True, False]


def test_eisenberg_noe_chain_and_symmetric_graph() -> None:
    # chain: c lends 4 to b, b lends 6 to a; a has nothing and pays nothing, b pays the 1
    # it has, c owes nothing
    a = np.zeros((3, 3))
    a[1, 0], a[2, 1] = 6, 4
    r = eisenberg_noe(net("abc", a, [0] * 3, external_assets=[0, 1, 1],
                          external_liabilities=[0, 0, 0]))
    assert [x.payment for x in r.nodes] == pytest.approx([0, 1, 0], abs=1e-12)
    assert [x.defaulted for x in r.nodes] == [True, True, False]
    assert r.node("c").equity_loss == pytest.approx(3.0, abs=1e-12)
    # symmetric K4, each owes 1 to each other, same outside position: payments are equal
    k = np.ones((4, 4)) - np.eye(4)
    s = eisenberg_noe(net("abcd", k, [0] * 4, external_assets=[1] * 4,
                          external_liabilities=[2] * 4))
    # p = min(5, 1 + 3 * p / 5) -> p = 2.5 for every bank
    assert [x.payment for x in s.nodes] == pytest.approx([2.5] * 4, abs=1e-12)


def test_eisenberg_noe_default_and_shock_hit_external_assets() -> None:
    base = _sr()
    shocked = eisenberg_noe(base, shocks={"3": 0.5})
    assert shocked.node("3").defaulted
    forced = eisenberg_noe(base, defaults=["3"])
    assert forced.node("3").relative_loss == 1.0 and forced.node("3").defaulted


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), senior=st.booleans())
def test_eisenberg_noe_matches_plain_fixed_point(seed, senior) -> None:
    rng = np.random.default_rng(seed)
    k = 9
    a = rng.uniform(0, 5, (k, k)) * (rng.uniform(size=(k, k)) < 0.4)
    np.fill_diagonal(a, 0)
    e = rng.uniform(0, 6, k)
    x = rng.uniform(0, 4, k)
    n = net([f"n{i}" for i in range(k)], a, [0] * k, external_assets=e,
            external_liabilities=x)
    if senior:
        r = eisenberg_noe(n, external_liabilities="senior")
        paid_total = np.array([o.payment for o in r.nodes])
        assert np.all(paid_total <= a.sum(axis=0) + x + 1e-9)
        return
    r = eisenberg_noe(n)
    got = np.array([o.payment for o in r.nodes])
    assert got == pytest.approx(plain_fixed_point(a, e, x), abs=1e-9)
    assert rogers_veraart(n).nodes == r.nodes


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), small=st.floats(0, 1), extra=st.floats(0, 1))
def test_eisenberg_noe_bigger_shock_never_lowers_losses(seed, small, extra) -> None:
    rng = np.random.default_rng(seed)
    k = 7
    a = rng.uniform(0, 5, (k, k)) * (rng.uniform(size=(k, k)) < 0.5)
    np.fill_diagonal(a, 0)
    n = net([f"n{i}" for i in range(k)], a, [0] * k, external_assets=rng.uniform(0, 8, k),
            external_liabilities=rng.uniform(0, 3, k))
    lo = eisenberg_noe(n, shocks={"n0": small, "n1": small})
    hi = eisenberg_noe(n, shocks={"n0": min(1, small + extra), "n1": min(1, small + extra)})
    assert np.all(np.array([o.payment for o in hi.nodes])
                  <= np.array([o.payment for o in lo.nodes]) + 1e-9)
    assert hi.totals["equity_loss"] >= lo.totals["equity_loss"] - 1e-9


def test_eisenberg_noe_failures_and_empty() -> None:
    empty = eisenberg_noe(net([], np.zeros((0, 0)), [], external_assets=[],
                              external_liabilities=[]))
    assert empty.nodes == () and empty.totals["defaults"] == 0
    bare = net("ab", [[0, 1], [1, 0]], [1, 1])
    with pytest.raises(ContagionInputError, match="missing column 'external_assets'"):
        eisenberg_noe(bare)
    with pytest.raises(ContagionInputError, match="external_liabilities is 'junior'"):
        eisenberg_noe(_sr(), external_liabilities="junior")
    with pytest.raises(ContagionInputError, match="shock for '1' is -0.5"):
        eisenberg_noe(_sr(), shocks={"1": -0.5})
    with pytest.raises(ContagionInputError, match="expected \\(2, 2\\)"):
        import scipy.sparse as sp

        from graph.contagion import ExposureNetwork

        ExposureNetwork(ids=("a", "b"), equity=np.zeros(2), exposures=sp.csr_array((3, 3)))
