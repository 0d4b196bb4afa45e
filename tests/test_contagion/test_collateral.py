"""Collateralised loans: margin calls, forced sales, issuer reflexivity (FTX -> FTT)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graph.contagion import CollateralLoan, collateral
from graph.errors import ContagionInputError

from ._nets import net


def _ftx(alameda_equity: float = 5.0):
    """ftx issues ftt; alameda borrowed 60 from lender against 100 ftt (price 1); holder
    holds 30 of ftt. Depth 1000: selling 100 at the initial price moves ftt by 10%."""
    ids = ["ftx", "alameda", "lender", "holder"]
    a = np.zeros((4, 4))
    a[2, 1] = 60
    return net(ids, a, [10, alameda_equity, 20, 50], asset_ids=("ftt",),
               prices=np.array([1.0]), depth=np.array([1000.0]),
               holdings=sp.csr_array(np.array([[0.0], [0.0], [0.0], [30.0]])),
               loans=(CollateralLoan("lender", "alameda", 60.0, "ftt", 100.0),),
               issuers={"ftt": "ftx"})


# Hand-solved: ftx defaults -> ftt falls 80% to 0.2; the loan (60 against 20) is called for
# 60 / 0.5 - 20 = 100; alameda has 5 and defaults; the lender sells 100 ftt (10% impact):
# price 0.18, recovers 18, loses 42 of its 20 equity -> defaults; holder loses 30 * 0.82.
def test_collateral_issuer_default_spirals_by_hand() -> None:
    r = collateral(_ftx(), defaults=["ftx"])
    assert r.rounds[-1].prices["ftt"] == pytest.approx(0.18, abs=1e-12)
    assert [o.defaulted for o in r.nodes] == [True, True, True, False]
    assert r.totals["credit_loss"] == pytest.approx(42.0, abs=1e-12)
    assert r.node("holder").equity_loss == pytest.approx(30 * 0.82, abs=1e-12)
    channels = {(p.source, p.target, p.channel) for p in r.paths}
    assert ("ftx", "holder", "issuer") in channels
    assert ("alameda", "lender", "collateral") in channels


def test_collateral_margin_call_met_when_borrower_has_equity() -> None:
    # ftt -50%: value 50 < 60 / 0.8; call 60 / 0.5 - 50 = 70, alameda (equity 100) pays it
    r = collateral(_ftx(alameda_equity=100.0), price_shocks={"ftt": -0.5})
    assert not r.node("alameda").defaulted and not r.node("lender").defaulted
    assert r.totals["margin_posted"] == pytest.approx(70.0, abs=1e-12)
    assert r.totals["credit_loss"] == 0.0


def test_collateral_no_shock_no_event_and_failures() -> None:
    r = collateral(_ftx())
    assert r.totals["defaults"] == 0 and r.totals["rounds"] == 0
    with pytest.raises(ContagionInputError, match="ltv_target is 0.9"):
        collateral(_ftx(), ltv_target=0.9)
    with pytest.raises(ContagionInputError, match="issuer_drop is 2"):
        collateral(_ftx(), issuer_drop=2)
    with pytest.raises(ContagionInputError, match="needs prices.csv"):
        collateral(net("ab", np.zeros((2, 2)), [1, 1]))
