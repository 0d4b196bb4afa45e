r"""Fire sales: price-mediated contagion through common holdings.

Notes on ``fire_sale``
----------------------
Node ``i`` holds :math:`q_{ik}` units of asset ``k``. It targets the leverage it had
before the shock, :math:`\lambda_i = V_i(0) / E_i(0)` (holdings over equity), as in
Greenwood, Landier and Thesmar; once its loss exceeds ``sale_threshold`` it sells, pro
rata across its holdings, the value needed to restore it:

.. math::

    s_i(t) = \max\bigl(0,\; V_i(t) - \lambda_i E_i(t)\bigr), \qquad
    P_k(t+1) = P_k(0)\,(1 + \Delta_k)\, f\bigl(S_k(t) / D_k\bigr),

and a node with no equity left sells everything. As in Cifuentes, Ferrucci and Shin,
every unit sold so far is sold at the current market-clearing price, so equity is
:math:`E_i(t) = E_i(0)(1 - h_i(0)) - \sum_k q_{ik} (P_k(0) - P_k(t))`, a function of
the prices alone; sales are cumulative and never reversed. With leverage of at least 1
the map is monotone: a bigger price shock never lowers any loss.

References on ``fire_sale``
---------------------------
.. [1] R. Cifuentes, G. Ferrucci, H. S. Shin, "Liquidity Risk and Contagion",
   Journal of the European Economic Association 3(2-3), 556-566 (2005).
   doi:10.1162/jeea.2005.3.2-3.556
.. [2] R. Greenwood, A. Landier, D. Thesmar, "Vulnerable Banks", Journal of
   Financial Economics 115(3), 471-485 (2015). doi:10.1016/j.jfineco.2014.11.006
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
    require_positive,
    starting_equity,
)
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import DEFAULTS, accepts_old_names
from graph.contagion.result import ContagionResult, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["fire_sale"]


def _priced(asset_ids: tuple[str, ...], price: np.ndarray) -> dict[str, float]:
    return dict(zip(asset_ids, price.tolist(), strict=True))


def _units_and_leverage(
    holdings: Any, p0: np.ndarray, e0: np.ndarray
) -> tuple[sp.csr_array, np.ndarray]:
    """Units held at the start, and the leverage (holdings over equity) each node targets."""
    value0: Any = sp.csr_array(holdings).astype(np.float64)
    inv_p0 = np.divide(1.0, p0, out=np.zeros_like(p0), where=p0 > 0)
    units = sp.csr_array(value0 @ sp.diags_array(inv_p0))
    v0 = np.asarray(value0.sum(axis=1)).ravel()
    return units, np.divide(v0, e0, out=np.full_like(v0, np.inf), where=e0 > 0)


def _state(
    price: np.ndarray,
    sold_frac: np.ndarray,
    units: sp.csr_array,
    e0: np.ndarray,
    h0: np.ndarray,
    p0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the holdings still held, equity and relative loss at ``price``."""
    held = (1.0 - sold_frac) * (units @ price)
    equity = e0 * (1.0 - h0) - units @ (p0 - price)
    h = np.clip(np.divide(e0 - equity, e0, out=(equity < e0) * 1.0, where=e0 > 0), 0, 1)
    return held, equity, h


def _to_sell(
    target: np.ndarray,
    equity: np.ndarray,
    held: np.ndarray,
    h: np.ndarray,
    sale_threshold: float,
    sold_frac: np.ndarray,
) -> np.ndarray:
    """Fraction of its starting units each node sells this round (leverage restored)."""
    keep = np.multiply(target, equity, out=np.zeros_like(held), where=equity > 0)
    want = np.where(equity <= 0, held, np.maximum(0.0, held - keep))
    want = np.where((h > sale_threshold) | (equity <= 0), want, 0.0)
    frac_now = np.divide(want, held, out=np.zeros_like(want), where=held > 0)
    out: np.ndarray = (1.0 - sold_frac) * np.clip(frac_now, 0.0, 1.0)
    return out


def _attributed(
    t: int,
    ids: tuple[str, ...],
    held_then: sp.csr_array,
    units_sold: sp.csr_array,
    per_asset: np.ndarray,
    drop: np.ndarray,
) -> list[Transmission]:
    """Holders' losses of the round, attributed to the sellers by units sold."""
    inv = np.divide(1.0, per_asset, out=np.zeros_like(per_asset), where=per_asset > 0)
    share = sp.csr_array(units_sold @ sp.diags_array(inv))
    holder_loss = sp.csr_array(held_then @ sp.diags_array(drop))
    return list(transmissions(t, holder_loss @ share.T, ids, "fire-sale", min_loss=0.0))


@accepts_old_names("fire-sale")
def fire_sale(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    price_shocks: Mapping[str, float] | None = None,
    impact: str = DEFAULTS["impact"],
    sale_threshold: float = DEFAULTS["sale_threshold"],
    tol: float = 1e-12,
    max_rounds: int = DEFAULTS["max_rounds"],
) -> ContagionResult:
    r"""Propagate losses through common holdings: losers sell, prices fall, holders lose.

    Parameters
    ----------
    network : ExposureNetwork
        Needs ``holdings`` (value held per node and asset at ``prices``), ``prices`` and
        ``depth``; ``equity`` is each node's capital.
    shocks : mapping of str to float, optional
        Initial fraction of equity lost per node id, in [0, 1].
    defaults : iterable of str
        Ids whose equity is wiped at the start; they liquidate everything.
    price_shocks : mapping of str to float, optional
        Initial relative price change per asset id (``-0.3``: a 30% fall).
    impact : {"linear", "exponential"}
        Price impact of cumulative sales :math:`S_k` (valued at initial prices):
        :math:`1 - S_k / D_k` or :math:`e^{-S_k / D_k}`, with depth :math:`D_k`.
    sale_threshold : float
        A node sells only once it has lost more than this fraction of its equity.
    tol : float
        Stop when no node's cumulative sales grow by more than ``tol`` (relative).
    max_rounds : int
        Raise :class:`ConvergenceError` past this many rounds.

    Returns
    -------
    ContagionResult
        ``rounds`` carry the asset prices after each round; ``totals`` hold the equity
        lost and the value sold.

    Raises
    ------
    ContagionInputError
        Missing holdings or prices, an unknown node or asset id, a shock outside [0, 1].
    ConvergenceError
        Sales still grow after ``max_rounds`` rounds.

    Examples
    --------
    Two funds hold one asset; its price falls 20% and the more leveraged fund sells:

    >>> import numpy as np, scipy.sparse as sp
    >>> net = ExposureNetwork(ids=("f", "g"), equity=np.array([10.0, 50.0]),
    ...     exposures=sp.csr_array((2, 2)), asset_ids=("x",),
    ...     holdings=sp.csr_array(np.array([[40.0], [60.0]])),
    ...     prices=np.array([1.0]), depth=np.array([200.0]))
    >>> r = fire_sale(net, price_shocks={"x": -0.2})
    >>> round(r.rounds[-1].prices["x"], 3), r.node("f").defaulted
    (0.609, True)
    """
    require_choice("impact", impact, ("linear", "exponential"))
    require_fraction("sale_threshold", sale_threshold)
    require_positive("tol", tol)
    params = {
        "impact": impact,
        "sale_threshold": float(sale_threshold),
        "sales": "restore initial leverage (holdings / equity); liquidate at zero equity",
        "sale_price": "market-clearing price of the round (all units sold so far)",
        "price_shocks": dict(price_shocks or {}),
        "tol": tol,
        "max_rounds": max_rounds,
        "insolvent": INSOLVENT,
    }
    if network.holdings is None or network.prices is None or network.depth is None:
        raise ContagionInputError("fire-sale needs holdings.csv and prices.csv (with depth)")
    ids = network.ids
    h0 = initial_stress(network, shocks, defaults)
    e0, insolvent = starting_equity(network, "fire-sale")
    h0[insolvent] = 1.0
    p0 = np.asarray(network.prices, dtype=np.float64)
    depth = np.asarray(network.depth, dtype=np.float64)
    shocked = p0 * price_shock_vector(network.asset_ids, price_shocks)
    units, target = _units_and_leverage(network.holdings, p0, e0)
    sold_frac = np.zeros(network.n)  # cumulative fraction of each node's initial units sold
    sold_asset = np.zeros(len(p0))  # cumulative units sold per asset
    price = shocked.copy()
    paths: list[Transmission] = []
    held, equity, h = _state(price, sold_frac, units, e0, h0, p0)
    dead = (equity <= 0) & ((e0 > 0) | (h0 >= 1))
    rounds: list[Round] = [snapshot(0, ids, h, dead, _priced(network.asset_ids, price))]
    t = 0
    while True:
        add = _to_sell(target, equity, held, h, sale_threshold, sold_frac)
        if not np.any(add > tol):
            break
        t += 1
        if t > max_rounds:
            raise ConvergenceError(f"fire-sale did not settle in {max_rounds} rounds", rounds=t)
        units_sold = sp.csr_array(sp.diags_array(add) @ units)  # units sold this round
        per_asset = np.asarray(units_sold.sum(axis=0)).ravel()
        sold_asset += per_asset
        new_price = shocked * impact_factor(sold_asset * p0, depth, impact)
        sold_frac += add
        drop = price - new_price
        # holders' mark-to-market losses this round, attributed to sellers by units sold
        held_then = sp.csr_array(sp.diags_array(1.0 - sold_frac + add) @ units)
        paths.extend(_attributed(t, ids, held_then, units_sold, per_asset, drop))
        price = new_price
        held, equity, h = _state(price, sold_frac, units, e0, h0, p0)
        now = (equity <= 0) & ((e0 > 0) | (h0 >= 1))
        rounds.append(snapshot(t, ids, h, now & ~dead, _priced(network.asset_ids, price)))
        dead |= now
    totals = {
        "equity_loss": float(np.minimum(e0, e0 - equity).clip(min=0).sum()),
        "defaults": float(np.count_nonzero(dead)),
        "value_sold": float(sold_asset @ p0),
        "rounds": float(t),
    }
    return finish_stress("fire-sale", params, ids, (rounds, paths), dead, e0, h, totals)
