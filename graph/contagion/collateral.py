"""Collateral spirals: margin calls, forced collateral sales and issuer reflexivity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import scipy.sparse as sp

from graph.contagion._common import finish, snapshot, transmissions
from graph.contagion._prices import impact_factor, price_shock_vector
from graph.contagion._validate import (
    INSOLVENT,
    initial_stress,
    require_choice,
    require_fraction,
    starting_equity,
)
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import accepts_old_names
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
    ltv_trigger: float = 0.8,
    ltv_target: float = 0.5,
    issuer_drop: float = 0.8,
    impact: str = "linear",
    max_rounds: int = 1000,
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

    Notes
    -----
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

    References
    ----------
    .. [1] M. K. Brunnermeier, L. H. Pedersen, "Market Liquidity and Funding Liquidity",
       Review of Financial Studies 22(6), 2201-2238 (2009). doi:10.1093/rfs/hhn098
    .. [2] R. Cifuentes, G. Ferrucci, H. S. Shin, "Liquidity Risk and Contagion",
       Journal of the European Economic Association 3(2-3), 556-566 (2005).
       doi:10.1162/jeea.2005.3.2-3.556

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
    require_fraction("ltv_trigger", ltv_trigger)
    require_fraction("ltv_target", ltv_target)
    require_fraction("issuer_drop", issuer_drop)
    require_choice("impact", impact, ("linear", "exponential"))
    if not 0.0 < ltv_target <= ltv_trigger:
        raise ContagionInputError(
            f"ltv_target is {ltv_target!r}; expected 0 < ltv_target <= ltv_trigger "
            f"({ltv_trigger!r})"
        )
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
    ids = network.ids
    n, k_assets = network.n, len(network.asset_ids)
    h0 = initial_stress(network, shocks, defaults)
    e0, insolvent = starting_equity(network, "collateral")
    h0[insolvent] = 1.0
    p0 = np.asarray(network.prices, dtype=np.float64)
    depth = np.asarray(network.depth, dtype=np.float64)
    base = p0 * price_shock_vector(network.asset_ids, price_shocks)
    node_at = network.index()
    asset_at = {a: k for k, a in enumerate(network.asset_ids)}
    loans = network.loans
    lender = np.array([node_at[x.lender] for x in loans], dtype=np.int64)
    borrower = np.array([node_at[x.borrower] for x in loans], dtype=np.int64)
    amount = np.array([x.amount for x in loans], dtype=np.float64)
    asset = np.array([asset_at[x.asset] for x in loans], dtype=np.int64)
    qty = np.array([x.quantity for x in loans], dtype=np.float64)
    issuer_of = np.full(k_assets, -1, dtype=np.int64)
    for a, iss in network.issuers.items():
        issuer_of[asset_at[a]] = node_at[iss]
    held_units = (
        sp.csr_array(network.holdings @ sp.diags_array(1.0 / np.where(p0 > 0, p0, 1.0)))
        if network.holdings is not None
        else sp.csr_array((n, k_assets))
    )

    margin = np.zeros(len(loans))
    used = np.zeros(n)  # liquidity spent on margin
    credit_loss = np.zeros(n)
    sold = np.zeros(k_assets)  # value sold at initial prices
    open_loan = np.ones(len(loans), dtype=bool)
    dead = h0 >= 1.0
    issuer_hit = np.zeros(k_assets, dtype=bool)

    def prices() -> np.ndarray:
        reflex = np.where(issuer_hit, 1.0 - issuer_drop, 1.0)
        out: np.ndarray = base * reflex * impact_factor(sold, depth, impact)
        return out

    def equity_now(price: np.ndarray) -> np.ndarray:
        out: np.ndarray = e0 * (1.0 - h0) - held_units @ (p0 - price) - credit_loss
        return out

    price = prices()
    rounds: list[Round] = [
        snapshot(
            0,
            ids,
            _h(e0, equity_now(price)),
            dead,
            dict(zip(network.asset_ids, price.tolist(), strict=True)),
        )
    ]
    paths: list[Transmission] = []
    t = 0
    while True:
        eq = equity_now(price)
        value = qty * price[asset] + margin
        call = open_loan & ~dead[borrower] & (amount > ltv_trigger * value)
        need = np.where(call, amount / ltv_target - value, 0.0)
        need_by = np.bincount(borrower, weights=need, minlength=n)
        fails = (need_by > 0) & (need_by > eq - used)
        newly_dead = (eq <= 0) | fails
        newly_dead &= ~dead
        pays = call & ~fails[borrower]
        margin += np.where(pays, need, 0.0)
        used += np.bincount(borrower, weights=np.where(pays, need, 0.0), minlength=n)
        new_issuers = (issuer_of >= 0) & ~issuer_hit
        new_issuers[new_issuers] = (dead | newly_dead)[issuer_of[new_issuers]]
        if (
            not newly_dead.any()
            and not new_issuers.any()
            and not (open_loan & dead[borrower]).any()
        ):
            break
        t += 1
        if t > max_rounds:
            raise ConvergenceError(f"collateral did not settle in {max_rounds} rounds", rounds=t)
        dead |= newly_dead
        before = price
        # lenders seize and sell the collateral of defaulted borrowers
        seize = open_loan & dead[borrower]
        sold_now = np.bincount(
            asset[seize], weights=qty[seize] * p0[asset[seize]], minlength=k_assets
        )
        sold += sold_now
        issuer_hit |= new_issuers
        price = prices()
        recovered = qty * price[asset] + margin
        shortfall = np.where(seize, np.maximum(0.0, amount - recovered), 0.0)
        credit_loss += np.bincount(lender, weights=shortfall, minlength=n)
        open_loan &= ~seize
        loss_edges = sp.csr_array((shortfall, (lender, borrower)), shape=(n, n))
        paths.extend(transmissions(t, loss_edges, ids, "collateral", min_loss=0.0))
        paths.extend(
            _price_paths(
                t,
                held_units,
                before - price,
                issuer_of,
                new_issuers,
                seize,
                borrower,
                asset,
                qty,
                ids,
            )
        )
        eq = equity_now(price)
        now_dead = (eq <= 0) & ~dead
        dead |= now_dead
        rounds.append(
            snapshot(
                t,
                ids,
                _h(e0, eq),
                newly_dead | now_dead,
                dict(zip(network.asset_ids, price.tolist(), strict=True)),
            )
        )
    eq = equity_now(price)
    h = _h(e0, eq)
    totals = {
        "equity_loss": float((e0 * h).sum()),
        "credit_loss": float(credit_loss.sum()),
        "defaults": float(np.count_nonzero(dead)),
        "margin_posted": float(margin.sum()),
        "value_sold": float(sold.sum()),
        "rounds": float(t),
    }
    return finish(
        "collateral",
        params,
        ids,
        rounds=rounds,
        paths=paths,
        defaulted=dead,
        equity_loss=e0 * h,
        relative_loss=h,
        payment=None,
        totals=totals,
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
