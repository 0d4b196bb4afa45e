"""Fire sales through common holdings: hand-solved rounds, closed forms, monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.contagion import fire_sale
from graph.errors import ContagionInputError

from ._nets import net


def _funds(equity, holdings, prices=(1.0,), depth=(200.0,), assets=("x",)):
    k = len(equity)
    return net([f"f{i}" for i in range(k)], np.zeros((k, k)), list(equity),
               asset_ids=tuple(assets), holdings=sp.csr_array(np.array(holdings, dtype=float)),
               prices=np.array(prices, dtype=float), depth=np.array(depth, dtype=float))


# Hand-solved first round (linear impact, depth 200): the price falls to 0.8; fund 0
# (equity 10, holds 40, leverage 4) is left with 2 and sells 40*0.8 - 4*2 = 24 of value,
# i.e. 30 units; fund 1 (equity 50, holds 60, leverage 1.2) has 38 and sells
# 48 - 45.6 = 2.4, i.e. 3 units. 33 units at the initial price into a depth of 200 move the
# price by 16.5%: 0.8 * 0.835 = 0.668.
def test_fire_sale_first_round_by_hand() -> None:
    r = fire_sale(_funds([10, 50], [[40], [60]]), price_shocks={"x": -0.2})
    assert r.rounds[0].prices["x"] == pytest.approx(0.8, abs=1e-12)
    assert r.rounds[1].prices["x"] == pytest.approx(0.668, abs=1e-12)
    assert r.rounds[1].new_defaults == ("f0",)
    assert r.params["impact"] == "linear"
    assert any(p.channel == "fire-sale" and p.source == "f0" and p.target == "f1"
               for p in r.paths)


def test_fire_sale_without_shock_or_holdings_is_quiet() -> None:
    r = fire_sale(_funds([10, 50], [[40], [60]]))
    assert r.totals["value_sold"] == 0.0 and all(x.relative_loss == 0 for x in r.nodes)
    r = fire_sale(_funds([10, 50], [[0], [0]]), price_shocks={"x": -0.5})
    assert all(x.relative_loss == 0 for x in r.nodes)


def test_fire_sale_symmetric_funds_lose_alike_and_exponential_is_gentler() -> None:
    lin = fire_sale(_funds([10, 10, 10], [[30], [30], [30]], depth=(500.0,)),
                    price_shocks={"x": -0.1})
    losses = [x.relative_loss for x in lin.nodes]
    assert losses == pytest.approx([losses[0]] * 3, abs=1e-12)
    exp = fire_sale(_funds([10, 10, 10], [[30], [30], [30]], depth=(500.0,)),
                    price_shocks={"x": -0.1}, impact="exponential")
    assert exp.rounds[1].prices["x"] >= lin.rounds[1].prices["x"] - 1e-12


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), small=st.floats(0, 0.5), extra=st.floats(0, 0.5))
def test_fire_sale_bigger_price_fall_never_lowers_losses(seed, small, extra) -> None:
    rng = np.random.default_rng(seed)
    n = _funds(rng.uniform(1, 20, 5), rng.uniform(0, 50, (5, 2)), prices=(1.0, 2.0),
               depth=(300.0, 400.0), assets=("x", "y"))
    lo = fire_sale(n, price_shocks={"x": -small})
    hi = fire_sale(n, price_shocks={"x": -(small + extra)})
    assert np.all(np.array([o.relative_loss for o in hi.nodes])
                  >= np.array([o.relative_loss for o in lo.nodes]) - 1e-9)


def test_fire_sale_failures() -> None:
    bare = net("ab", np.zeros((2, 2)), [1, 1])
    with pytest.raises(ContagionInputError, match="needs holdings.csv and prices.csv"):
        fire_sale(bare)
    with pytest.raises(ContagionInputError, match="unknown asset 'zzz'"):
        fire_sale(_funds([1], [[1]]), price_shocks={"zzz": -0.1})
    with pytest.raises(ContagionInputError, match="price change for 'x' is -2"):
        fire_sale(_funds([1], [[1]]), price_shocks={"x": -2})
