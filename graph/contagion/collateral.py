r"""Collateral spirals: margin calls, forced collateral sales and issuer reflexivity.

Notes on ``collateral``
-----------------------
Each round: collateral values :math:`C_\ell = q_\ell P_{k(\ell)} + m_\ell` (units times
price plus cash margin posted) are compared with the loan amounts :math:`B_\ell`; a
borrower meets all its calls :math:`\sum_\ell (B_\ell/\tau - C_\ell)` from its remaining
equity or defaults. A defaulted borrower's collateral is sold by its lenders, who lose
:math:`\max(0, B_\ell - q_\ell P_k' - m_\ell)` at the price after the sale,

.. math::

    P_k = P_k(0)\,(1 + \Delta_k)\,(1 - \delta)^{\mathbb 1[\text{issuer of } k
    \text{ defaulted}]}\, f\bigl(S_k / D_k\bigr).

Holders are marked to market; a node defaults when its equity is gone. Margin posted
is cash: it does not reduce equity, it uses up the borrower's liquidity. This is a
stylised mechanism for the FTX/FTT episode (the issuer's default feeds back on the
token), not a model from one paper.

References on ``collateral``
----------------------------
.. [1] M. K. Brunnermeier, L. H. Pedersen, "Market Liquidity and Funding Liquidity",
   Review of Financial Studies 22(6), 2201-2238 (2009). doi:10.1093/rfs/hhn098
.. [2] R. Cifuentes, G. Ferrucci, H. S. Shin, "Liquidity Risk and Contagion",
   Journal of the European Economic Association 3(2-3), 556-566 (2005).
   doi:10.1162/jeea.2005.3.2-3.556
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion._common import finish_stress, snapshot, transmissions
from graph.contagion._prices import impact_factor, price_shock_vector
from graph.contagion._validate import (
    INSOLVENT,
    initial_stress,
    require_choice,
    require_fraction,
    starting_equity,
)
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import DEFAULTS, accepts_old_names
from graph.contagion.result import ContagionResult, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["collateral"]


@accepts_old_names("collateral")
def collateral(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    price_shocks: Mapping[str, float] | None = None,
    ltv_trigger: float = DEFAULTS["ltv_trigger"],
    ltv_target: float = DEFAULTS["ltv_target"],
    issuer_drop: float = DEFAULTS["issuer_drop"],
    impact: str = DEFAULTS["impact"],
    max_rounds: int = DEFAULTS["max_rounds"],
) -> ContagionResult:
    r"""Propagate a price fall through collateralised loans and the issuers of collateral.

    Parameters
    ----------
    network : ExposureNetwork
        Needs ``loans`` (lender, borrower, amount, asset, quantity), ``prices`` and
        ``depth``; ``holdings`` and ``issuers`` are used when present.
    shocks : mapping of str to float, optional
        Initial fraction of equity lost per node id, in [0, 1].
    defaults : iterable of str
        Ids that default at the start.
    price_shocks : mapping of str to float, optional
        Initial relative price change per asset (``{"ftt": -0.8}``).
    ltv_trigger : float
        A loan whose loan-to-value ``amount / collateral value`` exceeds this gets a margin
        call.
    ltv_target : float
        The margin call asks for cash that brings the loan-to-value back to this.
    issuer_drop : float
        Fraction of a token's price lost when its issuer defaults (reflexivity).
    impact : {"linear", "exponential"}
        Price impact of collateral sold by lenders (see :func:`fire_sale`).
    max_rounds : int
        Raise :class:`ConvergenceError` past this many rounds.

    Returns
    -------
    ContagionResult
        ``rounds`` carry prices; ``paths`` the channel of each loss: ``collateral``
        (lender's shortfall on a defaulted loan), ``issuer`` (a holder's loss when the
        issuer defaults) and ``price`` (a holder's loss from collateral sold).

    Raises
    ------
    ContagionInputError
        No loans or prices, an unknown id, a fraction outside [0, 1], ``ltv_target`` above
        ``ltv_trigger``.
    ConvergenceError
        Events still happen after ``max_rounds`` rounds.

    Examples
    --------
    A lender ``l`` lends 60 to ``a`` against 100 tokens of ``t`` at 1.0; ``t`` falls 50%
    and ``a``, with equity 5, cannot meet the call:

    >>> import numpy as np, scipy.sparse as sp
    >>> from graph.contagion.network import CollateralLoan
    >>> net = ExposureNetwork(ids=("l", "a"), equity=np.array([20.0, 5.0]),
    ...     exposures=sp.csr_array(np.array([[0, 60.0], [0, 0]])), asset_ids=("t",),
    ...     prices=np.array([1.0]), depth=np.array([1000.0]),
    ...     loans=(CollateralLoan("l", "a", 60.0, "t", 100.0),))
    >>> r = collateral(net, price_shocks={"t": -0.5})
    >>> r.node("a").defaulted, round(r.node("l").equity_loss, 2)
    (True, 15.0)
    """
    _check(ltv_trigger, ltv_target, issuer_drop, impact)
    params = {
        "ltv_trigger": float(ltv_trigger),
        "ltv_target": float(ltv_target),
        "issuer_drop": float(issuer_drop),
        "impact": impact,
        "margin": "cash from remaining equity",
        "sale_price": "price after the sale's impact",
        "price_shocks": dict(price_shocks or {}),
        "max_rounds": max_rounds,
        "insolvent": INSOLVENT,
    }
    if network.prices is None or network.depth is None:
        raise ContagionInputError("collateral needs prices.csv (asset, price, depth)")
    sp_ = _Spiral(network, initial_stress(network, shocks, defaults), price_shocks, params)
    t = 0
    while True:
        newly_dead, new_issuers = sp_.calls()
        if not (newly_dead.any() or new_issuers.any() or sp_.seizable().any()):
            break
        t += 1
        if t > max_rounds:
            raise ConvergenceError(f"collateral did not settle in {max_rounds} rounds", rounds=t)
        sp_.round(t, newly_dead, new_issuers)
    h = _h(sp_.e0, sp_.equity_now(sp_.price))
    totals = {
        "equity_loss": float((sp_.e0 * h).sum()),
        "credit_loss": float(sp_.credit_loss.sum()),
        "defaults": float(np.count_nonzero(sp_.dead)),
        "margin_posted": float(sp_.margin.sum()),
        "value_sold": float(sp_.sold.sum()),
        "rounds": float(t),
    }
    history = (sp_.rounds, sp_.paths)
    return finish_stress("collateral", params, sp_.ids, history, sp_.dead, sp_.e0, h, totals)


def _check(ltv_trigger: float, ltv_target: float, issuer_drop: float, impact: str) -> None:
    require_fraction("ltv_trigger", ltv_trigger)
    require_fraction("ltv_target", ltv_target)
    require_fraction("issuer_drop", issuer_drop)
    require_choice("impact", impact, ("linear", "exponential"))
    if not 0.0 < ltv_target <= ltv_trigger:
        raise ContagionInputError(
            f"ltv_target is {ltv_target!r}; expected 0 < ltv_target <= ltv_trigger "
            f"({ltv_trigger!r})"
        )


class _Spiral:
    """Loans, collateral, margin and prices of one run of :func:`collateral`."""

    def __init__(
        self,
        network: ExposureNetwork,
        h0: np.ndarray,
        price_shocks: Mapping[str, float] | None,
        params: Mapping[str, Any],
    ) -> None:
        self.ids, self.asset_ids = network.ids, network.asset_ids
        n, k_assets = network.n, len(network.asset_ids)
        self.n, self.k = n, k_assets
        self.e0, insolvent = starting_equity(network, "collateral")
        h0[insolvent] = 1.0
        self.h0 = h0
        self.p0 = np.asarray(network.prices, dtype=np.float64)
        self.depth = np.asarray(network.depth, dtype=np.float64)
        self.base = self.p0 * price_shock_vector(network.asset_ids, price_shocks)
        self.trigger, self.target = params["ltv_trigger"], params["ltv_target"]
        self.drop, self.impact = params["issuer_drop"], params["impact"]
        node_at = network.index()
        asset_at = {a: k for k, a in enumerate(network.asset_ids)}
        loans = network.loans
        self.lender = np.array([node_at[x.lender] for x in loans], dtype=np.int64)
        self.borrower = np.array([node_at[x.borrower] for x in loans], dtype=np.int64)
        self.amount = np.array([x.amount for x in loans], dtype=np.float64)
        self.asset = np.array([asset_at[x.asset] for x in loans], dtype=np.int64)
        self.qty = np.array([x.quantity for x in loans], dtype=np.float64)
        self.issuer_of = np.full(k_assets, -1, dtype=np.int64)
        for a, iss in network.issuers.items():
            self.issuer_of[asset_at[a]] = node_at[iss]
        self.held_units = (
            sp.csr_array(
                network.holdings @ sp.diags_array(1.0 / np.where(self.p0 > 0, self.p0, 1.0))
            )
            if network.holdings is not None
            else sp.csr_array((n, k_assets))
        )
        self.margin = np.zeros(len(loans))
        self.used = np.zeros(n)  # liquidity spent on margin
        self.credit_loss = np.zeros(n)
        self.sold = np.zeros(k_assets)  # value sold at initial prices
        self.open_loan = np.ones(len(loans), dtype=bool)
        self.dead = h0 >= 1.0
        self.issuer_hit = np.zeros(k_assets, dtype=bool)
        self.price = self.prices()
        eq = self.equity_now(self.price)
        self.rounds: list[Round] = [
            snapshot(0, self.ids, _h(self.e0, eq), self.dead, self.priced())
        ]
        self.paths: list[Transmission] = []

    def prices(self) -> np.ndarray:
        reflex = np.where(self.issuer_hit, 1.0 - self.drop, 1.0)
        out: np.ndarray = self.base * reflex * impact_factor(self.sold, self.depth, self.impact)
        return out

    def priced(self) -> dict[str, float]:
        return dict(zip(self.asset_ids, self.price.tolist(), strict=True))

    def equity_now(self, price: np.ndarray) -> np.ndarray:
        out: np.ndarray = (
            self.e0 * (1.0 - self.h0) - self.held_units @ (self.p0 - price) - self.credit_loss
        )
        return out

    def seizable(self) -> np.ndarray:
        out: np.ndarray = self.open_loan & self.dead[self.borrower]
        return out

    def calls(self) -> tuple[np.ndarray, np.ndarray]:
        """Make the margin calls; return the new defaults and the issuers newly failed."""
        eq = self.equity_now(self.price)
        value = self.qty * self.price[self.asset] + self.margin
        call = self.open_loan & ~self.dead[self.borrower] & (self.amount > self.trigger * value)
        need = np.where(call, self.amount / self.target - value, 0.0)
        need_by = np.bincount(self.borrower, weights=need, minlength=self.n)
        fails = (need_by > 0) & (need_by > eq - self.used)
        newly_dead = ((eq <= 0) | fails) & ~self.dead
        pays = call & ~fails[self.borrower]
        self.margin += np.where(pays, need, 0.0)
        self.used += np.bincount(self.borrower, weights=np.where(pays, need, 0.0), minlength=self.n)
        new_issuers = (self.issuer_of >= 0) & ~self.issuer_hit
        new_issuers[new_issuers] = (self.dead | newly_dead)[self.issuer_of[new_issuers]]
        return newly_dead, new_issuers

    def round(self, t: int, newly_dead: np.ndarray, new_issuers: np.ndarray) -> None:
        """Lenders seize and sell the collateral of defaulted borrowers; prices move."""
        self.dead |= newly_dead
        before = self.price
        seize = self.seizable()
        a = self.asset[seize]
        self.sold += np.bincount(a, weights=self.qty[seize] * self.p0[a], minlength=self.k)
        self.issuer_hit |= new_issuers
        self.price = self.prices()
        recovered = self.qty * self.price[self.asset] + self.margin
        shortfall = np.where(seize, np.maximum(0.0, self.amount - recovered), 0.0)
        self.credit_loss += np.bincount(self.lender, weights=shortfall, minlength=self.n)
        self.open_loan &= ~seize
        loss_edges = sp.csr_array((shortfall, (self.lender, self.borrower)), shape=(self.n, self.n))
        self.paths.extend(transmissions(t, loss_edges, self.ids, "collateral", min_loss=0.0))
        self.paths.extend(
            _price_paths(
                t,
                self.held_units,
                before - self.price,
                self.issuer_of,
                new_issuers,
                seize,
                self.borrower,
                self.asset,
                self.qty,
                self.ids,
            )
        )
        eq = self.equity_now(self.price)
        now_dead = (eq <= 0) & ~self.dead
        self.dead |= now_dead
        self.rounds.append(
            snapshot(t, self.ids, _h(self.e0, eq), newly_dead | now_dead, self.priced())
        )


def _h(e0: np.ndarray, equity: np.ndarray) -> np.ndarray:
    lost = np.clip(e0 - equity, 0.0, None)
    h: np.ndarray = np.clip(np.divide(lost, e0, out=(lost > 0) * 1.0, where=e0 > 0), 0.0, 1.0)
    return h


def _price_paths(
    t: int,
    held_units: sp.csr_array,
    drop: np.ndarray,
    issuer_of: np.ndarray,
    new_issuers: np.ndarray,
    seize: np.ndarray,
    borrower: np.ndarray,
    asset: np.ndarray,
    qty: np.ndarray,
    ids: tuple[str, ...],
) -> list[Transmission]:
    """Holders' price losses, attributed to the issuer or to the borrowers sold out."""
    n, k_assets = held_units.shape
    holder_loss = sp.csr_array(held_units @ sp.diags_array(np.maximum(drop, 0.0)))
    # source weights per asset: the issuer when it has just failed, else the sellers
    src = (
        sp.csr_array((qty[seize], (asset[seize], borrower[seize])), shape=(k_assets, n)).toarray()
        if seize.any()
        else np.zeros((k_assets, n))
    )
    iss = np.flatnonzero(new_issuers)
    src[iss] = 0.0
    src[iss, issuer_of[iss]] = 1.0
    sums = src.sum(axis=1, keepdims=True)
    src = np.divide(src, sums, out=np.zeros_like(src), where=sums > 0)
    by_issuer = np.zeros(k_assets, dtype=bool)
    by_issuer[iss] = True
    out: list[Transmission] = []
    for channel, mask in (("issuer", by_issuer), ("price", ~by_issuer)):
        flows = sp.csr_array(holder_loss @ sp.diags_array(mask * 1.0)) @ sp.csr_array(src)
        out.extend(transmissions(t, flows, ids, channel, min_loss=0.0))
    return out
