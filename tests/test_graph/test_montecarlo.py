"""Monte Carlo over uncertain amounts, recovery and price impact: seeded, parallel."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graph.contagion.montecarlo import Uncertainty, monte_carlo
from graph.contagion.network import ExposureNetwork
from graph.errors import ContagionInputError
from graph.projection import project
from tests.test_graph._scenario import ftx_dump


def _mc(**kw):
    p = project(ftx_dump())
    kw.setdefault("scenarios", 40)
    return monte_carlo(p.network, channels=p.channels, uncertainty=p.uncertainty(),
                       defaults=["ftx"], **kw)


def test_same_seed_same_result_whatever_the_workers() -> None:
    a = _mc(seed=7)
    b = _mc(seed=7)
    c = _mc(seed=7, workers=2)
    assert a.to_dict()["nodes"] == b.to_dict()["nodes"] == c.to_dict()["nodes"]
    d = _mc(seed=8)
    assert d.loss_percentiles != a.loss_percentiles


def test_percentiles_are_ordered_and_probabilities_are_fractions() -> None:
    mc = _mc(seed=3)
    for i in mc.ids:
        p5, p50, p95 = mc.loss_percentiles[i]
        assert p5 <= p50 <= p95
        assert 0.0 <= mc.default_probability[i] <= 1.0
    assert mc.default_probability["ftx"] == 1.0
    assert mc.default_probability["alameda"] > 0.5
    # the deposit's loss varies with the sampled recovery rate
    p5, _, p95 = mc.loss_percentiles["blockfi"]
    assert p95 > p5 > 0


def test_assumed_amounts_are_sampled_wider_than_stated_ones() -> None:
    net = ExposureNetwork(("a", "b", "c"), np.array([100.0, 100.0, 1.0]),
                          sp.csr_array(np.array([[0, 0, 10.0], [0, 0, 10.0], [0, 0, 0]])))
    unc = Uncertainty(exposures=np.array([False, True]))
    mc = monte_carlo(net, uncertainty=unc, defaults=["c"], scenarios=300, seed=1,
                     recovery_sd=0.0, params={"recovery": 0.0})
    spread = {i: mc.loss_percentiles[i][2] - mc.loss_percentiles[i][0] for i in ("a", "b")}
    assert spread["b"] > 2 * spread["a"] > 0


def test_no_shock_no_loss_in_any_scenario() -> None:
    p = project(ftx_dump())
    mc = monte_carlo(p.network, channels=p.channels, scenarios=10, seed=0)
    assert all(v == (0.0, 0.0, 0.0) for v in mc.loss_percentiles.values())
    assert all(v == 0.0 for v in mc.default_probability.values())


@pytest.mark.parametrize("kw", [{"scenarios": 0}, {"workers": 0}, {"assumed_sigma": -1.0},
                                {"defaults": ["nobody"]}])
def test_bad_arguments_raise(kw) -> None:
    p = project(ftx_dump())
    with pytest.raises(ContagionInputError):
        monte_carlo(p.network, channels=p.channels, **kw)
