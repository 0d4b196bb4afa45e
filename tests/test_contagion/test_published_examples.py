"""Worked examples whose results are published elsewhere, reproduced number for number.

Each test names its source and states the published numbers as printed there. The inputs
are mapped onto this package's conventions explicitly:

* ``exposures[i, j]`` is what debtor ``j`` owes creditor ``i``. The R package
  ``systemicrisk`` uses a liabilities matrix ``L[i, j]`` = what ``i`` owes ``j``, so
  ``exposures = L.T``; NetworkRiskMeasures' default "assets" matrix (``A -> B``: ``A`` has an
  asset on ``B``) already has our orientation.
* R's ``matrix(c(...), nrow = 3)`` fills column by column, hence ``order="F"`` below.
* ``systemicrisk`` divides each bank's payment pro rata over interbank and external
  creditors (``Pi = L / (rowSums(L) + el)``): that is ``external_liabilities="pari-passu"``.
"""

from __future__ import annotations

import numpy as np
import pytest

from graph.contagion import debtrank, eisenberg_noe, rogers_veraart
from graph.contagion.debtrank import impact_matrix

from ._nets import net

# ---------------------------------------------------------------------------------------
# systemicrisk (Gandy & Veraart, CRAN), help page of default_clearing(), section Examples:
#   ea <- c(1/2,5/8,3/4); el <- c(3/2,1/2,1/2); x <- 0.5
#   L <- matrix(c(0,x,1-x,1-x,0,x,x,1-x,0),nrow=3)
#   default_clearing(L,ea,el); default_clearing(L,ea,el, alpha=0.5, beta=0.7)
# The rendered help page on rdrr.io (https://rdrr.io/cran/systemicrisk/man/default_clearing.html,
# "Example output") prints:
#   $defaultind 1 1 0   $clearingvec 1.473214 1.419643 1.500000              (Eisenberg-Noe)
#   $defaultind 1 1 1   $clearingvec 0.5020200 0.5147049 0.5653806   (alpha 0.5, beta 0.7)
# ---------------------------------------------------------------------------------------
SR_X = 0.5
SR_L = np.array([0, SR_X, 1 - SR_X, 1 - SR_X, 0, SR_X, SR_X, 1 - SR_X, 0]).reshape(
    3, 3, order="F"
)
SR_EA = [0.5, 0.625, 0.75]
SR_EL = [1.5, 0.5, 0.5]
SR_EN_DEFAULTS = [1, 1, 0]
SR_EN_CLEARING = [1.473214, 1.419643, 1.500000]
SR_RV_DEFAULTS = [1, 1, 1]
SR_RV_CLEARING = [0.5020200, 0.5147049, 0.5653806]


def _systemicrisk_net(liabilities, ea, el):
    """A network from systemicrisk's inputs (``L[i, j]``: ``i`` owes ``j``)."""
    liabilities = np.asarray(liabilities, dtype=float)
    n = liabilities.shape[0]
    return net(
        [str(k + 1) for k in range(n)], liabilities.T, np.zeros(n),
        external_assets=list(map(float, ea)), external_liabilities=list(map(float, el)),
    )


def _defaults(result):
    return [int(n.defaulted) for n in result.nodes]


def test_eisenberg_noe_reproduces_systemicrisk_default_clearing_example() -> None:
    r = eisenberg_noe(_systemicrisk_net(SR_L, SR_EA, SR_EL))
    assert _defaults(r) == SR_EN_DEFAULTS
    for node, published in zip(r.nodes, SR_EN_CLEARING, strict=True):
        assert node.payment == pytest.approx(published, abs=5e-7)


def test_rogers_veraart_reproduces_systemicrisk_default_clearing_example() -> None:
    r = rogers_veraart(_systemicrisk_net(SR_L, SR_EA, SR_EL), alpha=0.5, beta=0.7)
    assert _defaults(r) == SR_RV_DEFAULTS
    for node, published in zip(r.nodes, SR_RV_CLEARING, strict=True):
        assert node.payment == pytest.approx(published, abs=5e-8)


def test_rogers_veraart_example_depends_on_the_default_costs() -> None:
    """The published alpha/beta result is not the cost-free one: the costs are exercised."""
    r = rogers_veraart(_systemicrisk_net(SR_L, SR_EA, SR_EL), alpha=1.0, beta=1.0)
    assert [n.payment for n in r.nodes] != pytest.approx(SR_RV_CLEARING, abs=1e-3)
    assert _defaults(r) == SR_EN_DEFAULTS


# ---------------------------------------------------------------------------------------
# systemicrisk vignette "Some Introductory Examples" (Introduction.Rmd, section "Default of
# banks"): ea = el = (1, 1, 1); the vignette prints sampled liabilities matrices L[[k]]
# (rows owe columns) and default(L[[k]], ea=ea, el=el)$defaultind for each, then
# rowMeans(... default(Lakt, ea=ea, el=el, alpha=0.98, beta=0.98)$defaultind) = 1 0 1 over
# all 200 samples, so every printed matrix gives 1 0 1 with those default costs.
# Three renderings (the sampler's output differs between builds), each with its own matrices:
#   cran/systemicrisk inst/doc/Introduction.html (GitHub mirror of CRAN):
#     L[[1]] = L[[3]] -> 1 0 0;  L[[2]] -> 1 0 1
#   https://cran.icts.res.in/web/packages/systemicrisk/vignettes/Introduction.html:
#     L[[2]] = L[[3]] -> 1 0 1
#   https://cran.stat.auckland.ac.nz/web/packages/systemicrisk/vignettes/Introduction.html:
#     L[[3]] -> 1 0 1
# The matrices are not symmetric, so these cases also pin the orientation of ``exposures``.
# ---------------------------------------------------------------------------------------
VIGNETTE_CASES = [
    ("cran-mirror L1", [[0.0, 0.4, 0.6], [0.0, 0.0, 2.5], [0.7, 2.3, 0.0]], [1, 0, 0]),
    ("cran-mirror L2", [[0.0, 0.0, 1.0], [0.4, 0.0, 2.1], [0.3, 2.7, 0.0]], [1, 0, 1]),
    (
        "icts L2",
        [[0.0, 0.09298631, 0.9070137], [0.3070137, 0.0, 2.1929863],
         [0.3929863, 2.60701369, 0.0]],
        [1, 0, 1],
    ),
    (
        "auckland L3",
        [[0.0, 0.2436671, 0.7563329], [0.1563329, 0.0, 2.3436671],
         [0.5436671, 2.4563329, 0.0]],
        [1, 0, 1],
    ),
]
VIGNETTE_EA = [1.0, 1.0, 1.0]
VIGNETTE_EL = [1.0, 1.0, 1.0]


@pytest.mark.parametrize(("label", "liabilities", "published"), VIGNETTE_CASES)
def test_eisenberg_noe_reproduces_systemicrisk_vignette_defaults(
    label: str, liabilities: list[list[float]], published: list[int]
) -> None:
    r = eisenberg_noe(_systemicrisk_net(liabilities, VIGNETTE_EA, VIGNETTE_EL))
    assert _defaults(r) == published, label


@pytest.mark.parametrize(("label", "liabilities", "published"), VIGNETTE_CASES)
def test_rogers_veraart_reproduces_systemicrisk_vignette_defaults_with_costs(
    label: str, liabilities: list[list[float]], published: list[int]
) -> None:
    r = rogers_veraart(
        _systemicrisk_net(liabilities, VIGNETTE_EA, VIGNETTE_EL), alpha=0.98, beta=0.98
    )
    assert _defaults(r) == [1, 0, 1], label


def test_vignette_case_fails_with_the_transposed_orientation() -> None:
    """Reading ``L`` as creditor rows gives other defaults: the orientation matters."""
    _, liabilities, published = VIGNETTE_CASES[0]
    transposed = np.asarray(liabilities).T
    r = eisenberg_noe(_systemicrisk_net(transposed, VIGNETTE_EA, VIGNETTE_EL))
    assert _defaults(r) != published


# ---------------------------------------------------------------------------------------
# NetworkRiskMeasures (Cinelli & Silva), early README.md on GitHub
# (carloscinelli/NetworkRiskMeasures, section "Example usage"; mirrored on
# https://libraries.io/cran/NetworkRiskMeasures). Its debt_rank() was then the single-hit
# DebtRank of Battiston et al. (2012) on the vulnerability matrix capped at 1
# (R/DebtRank.R of that period: a distressed bank passes its stress once, then turns
# inactive). Inputs:
#   assets_matrix <- matrix(c(0, 10, 3, 1, 0, 2, 0, 3, 0), ncol = 3)   # rows hold assets
#   buffer <- c(a = 2, b = 5, c = 2); weights <- c(a = 10, b = 100, c = 30)
# Published output of debt_rank(assets_matrix, buffer, weights):
#   stressed a: vertex weight 0.07142857, additional stress 0.9285714, additional defaults 2
#   stressed c: vertex weight 0.21428571, additional stress 0.6642857, additional defaults 0
#   stressed b: vertex weight 0.71428571, additional stress 0.2500000, additional defaults 1
# and of debt_rank_shock(..., shock = 0.1 for every bank):
#   additional stress 16.07%, additional defaults 0,
#   final stress a 0.15, b 0.26, c 0.30 (diff 0.05, 0.16, 0.20)
# ---------------------------------------------------------------------------------------
NRM_ASSETS = np.array([0, 10, 3, 1, 0, 2, 0, 3, 0], dtype=float).reshape(3, 3, order="F")
NRM_BUFFER = [2.0, 5.0, 2.0]
NRM_WEIGHTS = [10.0, 100.0, 30.0]
NRM_DEBTRANK = {"a": (0.9285714, 2), "c": (0.6642857, 0), "b": (0.2500000, 1)}
NRM_SHOCK_FINAL = {"a": 0.15, "b": 0.26, "c": 0.30}
NRM_SHOCK_ADDITIONAL = 0.1607  # printed as 16.07%


def _nrm_net():
    return net("abc", NRM_ASSETS, NRM_BUFFER, weight=list(NRM_WEIGHTS))


def test_debtrank_2012_reproduces_networkriskmeasures_readme_defaults() -> None:
    network = _nrm_net()
    for bank, (stress, defaults) in NRM_DEBTRANK.items():
        r = debtrank(network, defaults=[bank], variant="single-hit", cap=True)
        assert r.totals["debtrank"] == pytest.approx(stress, abs=5e-8), bank
        assert int(r.totals["additional_defaults"]) == defaults, bank


def test_debtrank_2012_reproduces_networkriskmeasures_readme_shock() -> None:
    r = debtrank(_nrm_net(), shocks=dict.fromkeys("abc", 0.1), variant="single-hit", cap=True)
    assert r.totals["debtrank"] == pytest.approx(NRM_SHOCK_ADDITIONAL, abs=5e-5)
    assert int(r.totals["additional_defaults"]) == 0
    for bank, final in NRM_SHOCK_FINAL.items():
        assert r.node(bank).relative_loss == pytest.approx(final, abs=5e-3), bank


def test_networkriskmeasures_readme_example_needs_the_cap_and_single_hit() -> None:
    """Without the cap, or with the linear variant, the published numbers are missed."""
    network = _nrm_net()
    published_c = NRM_DEBTRANK["c"][0]
    uncapped = debtrank(network, defaults=["c"], variant="single-hit", cap=False)
    linear = debtrank(network, defaults=["c"], variant="linear", cap=True)
    assert uncapped.totals["debtrank"] != pytest.approx(published_c, abs=1e-3)
    assert linear.totals["debtrank"] != pytest.approx(published_c, abs=1e-3)
    shocked = debtrank(network, shocks=dict.fromkeys("abc", 0.1), variant="single-hit",
                       cap=False)
    assert shocked.totals["debtrank"] != pytest.approx(NRM_SHOCK_ADDITIONAL, abs=1e-3)


# ---------------------------------------------------------------------------------------
# NetworkRiskMeasures test suite, tests/testthat/tests.R and test_1_risk_com.R
# ("vulnerability and communicability"): a 6-bank liabilities matrix (rows owe columns,
# node order A, B, C, E, F, D; note F's entry on itself), capital buffers
# A = 10, B = 2, C = 2, E = 1, F = 10, D = 4, and the expected capped matrix ``res`` whose
# entry [i, j] is the impact of i's default on j relative to j's buffer, at most 1.
# Our impact matrix is indexed the other way round (``W[i, j]``: stress of creditor i per
# unit stress of debtor j), so it must equal ``res`` transposed.
# ---------------------------------------------------------------------------------------
NRM6_IDS = ["A", "B", "C", "E", "F", "D"]
NRM6_LIABILITIES = np.array(
    [0, 0, 0, 0, 0, 0,
     5, 0, 0, 0, 0, 2,
     0, 3, 0, 0, 2, 2,
     0, 0, 4, 0, 5, 0,
     10, 2, 0, 0, 5, 0,
     2, 0, 0, 0, 0, 0],
    dtype=float,
).reshape(6, 6, order="F")
NRM6_BUFFER = [10.0, 2.0, 2.0, 1.0, 10.0, 4.0]
NRM6_RES = np.array(
    [0, 0, 0, 0, 0, 0,
     1, 0, 0, 0, 0, 1,
     0, 1, 0, 0, 1, 1,
     0, 0, 1, 0, 1, 0,
     1, 0.2, 0, 0, 0.5, 0,
     0.5, 0, 0, 0, 0, 0],
    dtype=float,
).reshape(6, 6, order="F")


def test_capped_impact_matrix_reproduces_networkriskmeasures_test_suite() -> None:
    network = net(NRM6_IDS, NRM6_LIABILITIES.T, NRM6_BUFFER)
    w = impact_matrix(network, cap=True).toarray()
    np.testing.assert_allclose(w, NRM6_RES.T, atol=1e-12)
    uncapped = impact_matrix(network, cap=False).toarray()
    assert uncapped.max() > 1.0  # the published matrix is the capped one
