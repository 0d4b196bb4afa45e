r"""Combined engine: credit, deposit, price, collateral and ownership channels, round by round.

Each channel is one module of :mod:`graph.contagion.channels`; this module composes them.

The rounds
----------
Each round of :func:`combined` first settles what the previous round's new defaults and
price moves set off, then applies the losses at once:

- **credit / deposits**: when debtor :math:`j` defaults, each creditor :math:`i`
  loses :math:`A_{ij}(1 - R_{ij})` (recovery ``recovery`` for loans,
  ``deposit_recovery`` for deposits, or the network's per-edge ``recovery``);
- **issuer reflexivity**: when a token's issuer defaults its price falls by
  ``issuer_drop``;
- **fire sales**: a defaulted holder sells ``fire_sale_fraction`` of its tokens;
- **collateral**: a loan whose loan-to-value :math:`L/(qp)` exceeds ``ltv_trigger``
  gets a margin call of :math:`L - \text{ltv\_target}\,qp`; the borrower meets it when
  its remaining equity covers it (cash posted reduces the loan), otherwise it
  defaults, and the lender sells the collateral and loses
  :math:`\max(L - q p', 0)(1 - R)` at the post-sale price :math:`p'`; a defaulted
  borrower's collateral is sold likewise;
- **price**: every holder loses :math:`\sum_k u_{ik}(p_k - p'_k)` when prices fall,
  with the one impact law of :func:`graph.contagion._prices.impact_factor`:
  :math:`p' = p(1 - s/d)^+` (``linear``, the default) or :math:`p e^{-s/d}`
  (``exponential``) for sales of value :math:`s` into depth :math:`d` (a market of
  zero depth loses the whole price on any sale);
- **ownership**: an owner loses its ``fraction`` of the owned firm's new losses,
  one round later.

A loan that starts above ``ltv_trigger`` is called only past its starting
loan-to-value (its reset level scales with it).

A node defaults when its loss reaches ``default_threshold`` times its equity; losses
are capped at equity.

Notes on ``combined``
---------------------
The credit channel is Furfine's sequential default with a recovery rate; the price
channel follows Cifuentes, Ferrucci and Shin and Greenwood, Landier and Thesmar;
the collateral channel with margin calls follows Brunnermeier and Pedersen. The
combination, the margin-call rule (met when remaining equity covers the call) and
issuer reflexivity are this project's conventions, echoed in ``params``.

References on ``combined``
--------------------------
.. [1] C. Furfine, "Interbank exposures: quantifying the risk of contagion",
   Journal of Money, Credit and Banking 35(1), 111-128, 2003, doi:10.1353/mcb.2003.0004.
.. [2] R. Cifuentes, G. Ferrucci, H. S. Shin, "Liquidity risk and contagion",
   Journal of the European Economic Association 3(2-3), 556-566, 2005,
   doi:10.1162/jeea.2005.3.2-3.556.
.. [3] R. Greenwood, A. Landier, D. Thesmar, "Vulnerable banks", Journal of
   Financial Economics 115(3), 471-485, 2015, doi:10.1016/j.jfineco.2014.11.006.
.. [4] M. Brunnermeier, L. Pedersen, "Market liquidity and funding liquidity",
   Review of Financial Studies 22(6), 2201-2238, 2009, doi:10.1093/rfs/hhn098.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.contagion._prices import IMPACTS
from graph.contagion._validate import require_choice, require_fraction, require_known_ids
from graph.contagion.channels.credit import Credit
from graph.contagion.channels.issuer import Issuer
from graph.contagion.channels.margin import Margin
from graph.contagion.channels.market import fire_sales, sell
from graph.contagion.channels.ownership import Ownership, OwnershipLink
from graph.contagion.channels.state import Book, State
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import DEFAULTS, accepts_old_names
from graph.contagion.result import ContagionResult, NodeOutcome, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["Channels", "OwnershipLink", "combined"]


@dataclass(frozen=True)
class Channels:
    """What the arrays of an ``ExposureNetwork`` do not say: ownership, edge kinds, sources.

    Parameters
    ----------
    ownership : tuple of OwnershipLink
        Parent -> subsidiary links.
    exposure_kinds : mapping
        ``(creditor, debtor) -> "loan" | "deposit"``; a missing pair is a loan.
    exposure_relations, holding_relations : mapping
        ``(creditor, debtor)`` and ``(holder, asset)`` -> relation ids that state the edge.
    issuer_relations : mapping
        ``asset -> relation ids`` of the ``ISSUED`` statements.
    """

    ownership: tuple[OwnershipLink, ...] = ()
    exposure_kinds: Mapping[tuple[str, str], str] = field(default_factory=dict)
    exposure_relations: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    holding_relations: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    issuer_relations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_CONVENTIONS: dict[str, Any] = {
    "orientation": "exposures[i, j] is owed by j to i",
    "credit_trigger": "debtor default",
    "loss_cap": "equity",
    "margin_call_met_if": "remaining equity >= call",
    "ltv_trigger_floor": "starting loan-to-value",
    "liquidation_price": "after impact",
    "zero_depth": "any sale takes the whole price",
    "ownership_lag": 1,
}


def _check(p: dict[str, Any]) -> None:
    """Refuse a parameter out of range, naming it."""
    for name in (
        "recovery",
        "deposit_recovery",
        "issuer_drop",
        "fire_sale_fraction",
        "default_threshold",
    ):
        require_fraction(f"parameter {name}", p[name])
    if not 0.0 < p["ltv_target"] <= p["ltv_trigger"]:
        raise ContagionInputError(
            f"parameters ltv_target={p['ltv_target']!r}, ltv_trigger={p['ltv_trigger']!r}; "
            "expected 0 < ltv_target <= ltv_trigger"
        )
    require_choice("parameter impact", p["impact"], IMPACTS)
    if p["max_rounds"] < 1:
        raise ContagionInputError(f"parameter max_rounds is {p['max_rounds']!r}; expected >= 1")


def _check_prices(prices: Mapping[str, float], assets: tuple[str, ...]) -> None:
    for a, c in prices.items():
        if a not in assets:
            raise ContagionInputError(
                f"price change for unknown asset '{a}'; known: {', '.join(assets) or 'none'}"
            )
        if not (math.isfinite(c) and c >= -1.0):
            raise ContagionInputError(f"price change for '{a}' is {c!r}; expected >= -1")


class _Engine:
    """The channels of one run and the rounds they produce."""

    def __init__(self, network: ExposureNetwork, ch: Channels, p: dict[str, Any]) -> None:
        index = network.index()
        aindex = {a: k for k, a in enumerate(network.asset_ids)}
        self.p = p
        self.st = State.start(network, dict(ch.holding_relations), p["tol"])
        self.credit = Credit(
            network, ch.exposure_kinds, ch.exposure_relations, p["recovery"], p["deposit_recovery"]
        )
        self.issuer = Issuer(network.issuers, ch.issuer_relations, index, aindex, p["issuer_drop"])
        self.margin = Margin(
            network.loans, index, aindex, self.st.p0, p["ltv_trigger"], p["ltv_target"]
        )
        self.ownership = Ownership(ch.ownership, index)
        self.rounds: list[Round] = []
        self.paths: list[Transmission] = []

    def settle(self, book: Book, forced: np.ndarray) -> np.ndarray:
        new = self.st.settle(book, forced, self.p["default_threshold"])
        self.paths.extend(book.steps)
        return new

    def snapshot(self, r: int, new: np.ndarray) -> None:
        st = self.st
        rel = st.relative_loss()
        self.rounds.append(
            Round(
                r,
                tuple(st.ids[i] for i in np.flatnonzero(new)),
                {st.ids[i]: float(rel[i]) for i in np.flatnonzero(rel > 0)},
                {a: float(st.price[k]) for k, a in enumerate(st.assets)},
            )
        )

    def round_zero(
        self, defaults: np.ndarray, shocks: Mapping[int, float], prices: Mapping[int, float]
    ) -> np.ndarray:
        """Apply the scenario itself: defaults, equity shocks and price changes."""
        st = self.st
        book = Book(len(st.ids), 0)
        forced = np.zeros(len(st.ids), dtype=bool)
        forced[defaults] = True
        for i, f in shocks.items():
            book.delta[i] += f * st.e0[i]
        before = st.price.copy()
        for k, c in prices.items():
            st.price[k] = st.p0[k] * (1.0 + c)
        st.holder_price_losses(book, before, st.price)
        new = self.settle(book, forced)
        self.snapshot(0, new)
        return new

    def round(
        self, r: int, new: np.ndarray, delta_prev: np.ndarray
    ) -> tuple[np.ndarray, bool, np.ndarray]:
        """Run round ``r``; return the new defaults, whether anything happened, new losses."""
        st = self.st
        book = Book(len(st.ids), r)
        forced = np.zeros(len(st.ids), dtype=bool)
        start_price = st.price.copy()
        self.credit.step(book, st, np.flatnonzero(new))
        self.issuer.step(book, st, new)
        st.holder_price_losses(book, start_price, st.price)
        before = st.price.copy()
        sales = fire_sales(st, new, self.p["fire_sale_fraction"])
        liquidate = self.margin.calls(book, st, forced, sales)
        sell(book, st, sales, self.p["impact"])
        self.margin.liquidate(book, st, liquidate, self.p["recovery"])
        st.holder_price_losses(book, before, st.price)
        self.ownership.step(book, st, delta_prev)
        prev_loss = st.loss.copy()
        new = self.settle(book, forced)
        delta = st.loss - prev_loss
        moved = bool(np.any(np.abs(st.price - start_price) > st.tol))
        changed = bool(new.any() or np.any(delta > st.tol) or moved) or bool(book.steps)
        if changed:
            self.snapshot(r, new)
        return new, changed, delta

    def result(self, params: dict[str, Any]) -> ContagionResult:
        st = self.st
        rel = st.relative_loss()
        nodes = tuple(
            NodeOutcome(
                st.ids[i], bool(st.dead[i]), float(st.loss[i]), float(min(rel[i], 1.0)), None
            )
            for i in range(len(st.ids))
        )
        totals = {
            "defaults": float(st.dead.sum()),
            "total_loss": float(st.loss.sum()),
            "margin_calls_met": float(self.margin.calls_met),
            "rounds": float(len(self.rounds)),
        }
        return ContagionResult(
            "combined", params, tuple(self.rounds), nodes, totals, tuple(self.paths)
        )


@accepts_old_names("combined")
def combined(
    network: ExposureNetwork,
    *,
    defaults: Iterable[str] = (),
    shocks: Mapping[str, float] | None = None,
    prices: Mapping[str, float] | None = None,
    channels: Channels | None = None,
    recovery: float = DEFAULTS["recovery"],
    deposit_recovery: float = DEFAULTS["deposit_recovery"],
    issuer_drop: float = DEFAULTS["issuer_drop"],
    ltv_trigger: float = DEFAULTS["ltv_trigger"],
    ltv_target: float = DEFAULTS["ltv_target"],
    impact: str = DEFAULTS["impact"],
    fire_sale_fraction: float = DEFAULTS["fire_sale_fraction"],
    default_threshold: float = DEFAULTS["default_threshold"],
    tol: float = 1e-9,
    max_rounds: int = DEFAULTS["max_rounds"],
) -> ContagionResult:
    r"""Run credit, deposit, price, collateral and ownership contagion together.

    Each round settles what the previous round's new defaults and price moves set off
    through every channel (credit and deposits, issuer reflexivity, fire sales, margin
    calls, prices, ownership: see the module notes), then applies the losses at once.

    Parameters
    ----------
    network : ExposureNetwork
        Exposures (``exposures[i, j]``: ``j`` owes ``i``), holdings (values at the
        starting ``prices``), ``depth``, ``loans`` and ``issuers``.
    defaults : iterable of str
        Nodes that default in round 0.
    shocks : mapping, optional
        ``id -> fraction`` of equity lost in round 0.
    prices : mapping, optional
        ``asset -> relative change`` in round 0 (``-0.8`` is a fall of 80%).
    channels : Channels, optional
        Ownership links, edge kinds and the relation ids reported on each step.
    recovery, deposit_recovery, issuer_drop, ltv_trigger, ltv_target, impact : optional
        As in the one table :data:`graph.contagion.params.PARAMETERS` (old names such
        as ``ltv_reset`` are accepted).
    fire_sale_fraction, default_threshold, max_rounds : optional
        As in that table.
    tol : float
        Losses and price moves below this are treated as nothing.

    Returns
    -------
    ContagionResult
        ``model="combined"``, every parameter in ``params``, one ``Round`` per round,
        and ``paths``: a ``Transmission`` for every edge that carried loss, with the
        relation ids of ``channels``.

    Raises
    ------
    ContagionInputError
        Unknown node or asset id, a shock or parameter out of range.
    ConvergenceError
        Losses still move after ``max_rounds`` rounds.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> net = ExposureNetwork(ids=("a", "b"), equity=np.array([1.0, 1.0]),
    ...                       exposures=sp.csr_array(np.array([[0.0, 2.0], [0.0, 0.0]])))
    >>> res = combined(net, defaults=["b"], recovery=0.0)
    >>> [n.defaulted for n in res.nodes]
    [True, True]

    """
    p: dict[str, Any] = {
        "recovery": recovery,
        "deposit_recovery": deposit_recovery,
        "issuer_drop": issuer_drop,
        "ltv_trigger": ltv_trigger,
        "ltv_target": ltv_target,
        "impact": impact,
        "fire_sale_fraction": fire_sale_fraction,
        "default_threshold": default_threshold,
        "tol": tol,
        "max_rounds": max_rounds,
    }
    _check(p)
    params = {**p, **_CONVENTIONS}
    shocks = dict(shocks or {})
    for id_, f in shocks.items():
        require_fraction(f"shock for '{id_}'", f)
    shock_pos = require_known_ids(list(shocks), network, "shock")
    default_pos = require_known_ids(list(defaults), network, "default")
    price_changes = dict(prices or {})
    _check_prices(price_changes, network.asset_ids)
    if network.n == 0:
        return ContagionResult("combined", params, (), (), {"defaults": 0.0, "total_loss": 0.0})
    engine = _Engine(network, channels or Channels(), p)
    aindex = {a: k for k, a in enumerate(network.asset_ids)}
    prev = engine.st.loss.copy()
    new = engine.round_zero(
        default_pos,
        {int(i): shocks[network.ids[i]] for i in shock_pos},
        {aindex[a]: c for a, c in price_changes.items()},
    )
    delta = engine.st.loss - prev
    for r in range(1, max_rounds + 1):
        new, changed, delta = engine.round(r, new, delta)
        if not changed:
            break
    else:
        raise ConvergenceError(
            f"combined engine still moving after max_rounds={max_rounds} rounds", max_rounds
        )
    return engine.result(params)
