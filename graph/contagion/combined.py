"""Combined engine: credit, deposit, price, collateral and ownership channels, round by round."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion._validate import require_choice, require_fraction, require_known_ids
from graph.contagion.network import ExposureNetwork
from graph.contagion.result import ContagionResult, NodeOutcome, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["Channels", "OwnershipLink", "combined"]


@dataclass(frozen=True)
class OwnershipLink:
    """``owner`` holds ``fraction`` of ``owned``: it loses that share of ``owned``'s losses."""

    owner: str
    owned: str
    fraction: float = 1.0
    relation_ids: tuple[str, ...] = ()


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


class _Book:
    """Per-round accumulator of losses and transmissions (internal)."""

    def __init__(self, n: int, round_: int) -> None:
        self.delta = np.zeros(n)
        self.steps: list[Transmission] = []
        self.round = round_

    def hit(
        self,
        targets: np.ndarray,
        losses: np.ndarray,
        sources: Sequence[str],
        target_ids: Sequence[str],
        channel: str | Sequence[str],
        relations: Sequence[tuple[str, ...]],
    ) -> None:
        np.add.at(self.delta, targets, losses)
        labels = [channel] * len(sources) if isinstance(channel, str) else list(channel)
        for src, tgt, loss, label, rel in zip(
            sources, target_ids, losses, labels, relations, strict=True
        ):
            if loss > 0:
                self.steps.append(Transmission(self.round, src, tgt, float(loss), label, rel))


def _impact(price: np.ndarray, sold: np.ndarray, depth: np.ndarray, kind: str) -> np.ndarray:
    """Price after selling ``sold`` (value) into markets of ``depth``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(np.isfinite(depth) & (depth > 0), sold / depth, 0.0)
    if kind == "linear":
        out: np.ndarray = price * np.clip(1.0 - x, 0.0, None)
        return out
    out = price * np.exp(-x)
    return out


def combined(
    network: ExposureNetwork,
    *,
    defaults: Iterable[str] = (),
    shocks: Mapping[str, float] | None = None,
    prices: Mapping[str, float] | None = None,
    channels: Channels | None = None,
    recovery: float = 0.4,
    deposit_recovery: float = 0.4,
    issuer_drop: float = 0.8,
    ltv_trigger: float = 0.9,
    ltv_reset: float = 0.7,
    impact: str = "exponential",
    fire_sale_fraction: float = 1.0,
    default_threshold: float = 1.0,
    tol: float = 1e-9,
    max_rounds: int = 100,
) -> ContagionResult:
    r"""Run credit, deposit, price, collateral and ownership contagion together.

    Each round first settles what the previous round's new defaults and price moves
    set off, then applies the losses at once:

    - **credit / deposits**: when debtor :math:`j` defaults, each creditor :math:`i`
      loses :math:`A_{ij}(1 - R_{ij})` (recovery ``recovery`` for loans,
      ``deposit_recovery`` for deposits, or the network's per-edge ``recovery``);
    - **issuer reflexivity**: when a token's issuer defaults its price falls by
      ``issuer_drop``;
    - **fire sales**: a defaulted holder sells ``fire_sale_fraction`` of its tokens;
    - **collateral**: a loan whose loan-to-value :math:`L/(qp)` exceeds ``ltv_trigger``
      gets a margin call of :math:`L - \text{ltv\_reset}\,qp`; the borrower meets it when
      its remaining equity covers it (cash posted reduces the loan), otherwise it
      defaults, and the lender sells the collateral and loses
      :math:`\max(L - q p', 0)(1 - R)` at the post-sale price :math:`p'`; a defaulted
      borrower's collateral is sold likewise;
    - **price**: every holder loses :math:`\sum_k u_{ik}(p_k - p'_k)` when prices fall,
      with impact :math:`p' = p e^{-s/d}` (``exponential``) or :math:`p(1 - s/d)^+`
      (``linear``) for sales of value :math:`s` into depth :math:`d`;
    - **ownership**: an owner loses its ``fraction`` of the owned firm's new losses,
      one round later.

    A loan that starts above ``ltv_trigger`` is called only past its starting
    loan-to-value (its reset level scales with it).

    A node defaults when its loss reaches ``default_threshold`` times its equity; losses
    are capped at equity.

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
    recovery, deposit_recovery : float
        Recovery rates on loans and deposits of a defaulted debtor, in [0, 1].
    issuer_drop : float
        Fall of a token's price when its issuer defaults, in [0, 1].
    ltv_trigger, ltv_reset : float
        Loan-to-value that triggers a margin call, and the level the call restores.
    impact : {"exponential", "linear"}
        Price impact of sales.
    fire_sale_fraction : float
        Share of its tokens a defaulted holder sells.
    default_threshold : float
        Fraction of equity lost at which a node defaults.
    tol : float
        Losses and price moves below this are treated as nothing.
    max_rounds : int
        Rounds before giving up.

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

    Notes
    -----
    The credit channel is Furfine's sequential default with a recovery rate; the price
    channel follows Cifuentes, Ferrucci and Shin and Greenwood, Landier and Thesmar;
    the collateral channel with margin calls follows Brunnermeier and Pedersen. The
    combination, the margin-call rule (met when remaining equity covers the call) and
    issuer reflexivity are this project's conventions, echoed in ``params``.

    References
    ----------
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
    ch = channels or Channels()
    for name, value in (
        ("recovery", recovery),
        ("deposit_recovery", deposit_recovery),
        ("issuer_drop", issuer_drop),
        ("fire_sale_fraction", fire_sale_fraction),
        ("default_threshold", default_threshold),
    ):
        require_fraction(f"parameter {name}", value)
    if not 0.0 < ltv_reset <= ltv_trigger:
        raise ContagionInputError(
            f"parameters ltv_reset={ltv_reset!r}, ltv_trigger={ltv_trigger!r}; "
            "expected 0 < ltv_reset <= ltv_trigger"
        )
    require_choice("parameter impact", impact, ("exponential", "linear"))
    if max_rounds < 1:
        raise ContagionInputError(f"parameter max_rounds is {max_rounds!r}; expected >= 1")
    params: dict[str, Any] = {
        "recovery": recovery,
        "deposit_recovery": deposit_recovery,
        "issuer_drop": issuer_drop,
        "ltv_trigger": ltv_trigger,
        "ltv_reset": ltv_reset,
        "impact": impact,
        "fire_sale_fraction": fire_sale_fraction,
        "default_threshold": default_threshold,
        "tol": tol,
        "max_rounds": max_rounds,
        "orientation": "exposures[i, j] is owed by j to i",
        "credit_trigger": "debtor default",
        "loss_cap": "equity",
        "margin_call_met_if": "remaining equity >= call",
        "ltv_trigger_floor": "starting loan-to-value",
        "liquidation_price": "after impact",
        "ownership_lag": 1,
    }

    ids = network.ids
    n = network.n
    index = network.index()
    shocks = dict(shocks or {})
    for id_, f in shocks.items():
        require_fraction(f"shock for '{id_}'", f)
    shock_pos = require_known_ids(list(shocks), network, "shock")
    default_pos = require_known_ids(list(defaults), network, "default")

    assets = network.asset_ids
    m = len(assets)
    aindex = {a: k for k, a in enumerate(assets)}
    p0 = np.ones(m) if network.prices is None else np.asarray(network.prices, dtype=float)
    depth = np.full(m, np.inf) if network.depth is None else np.asarray(network.depth, float)
    price_changes = dict(prices or {})
    for a, c in price_changes.items():
        if a not in aindex:
            raise ContagionInputError(
                f"price change for unknown asset '{a}'; known: {', '.join(assets) or 'none'}"
            )
        if not (math.isfinite(c) and c >= -1.0):
            raise ContagionInputError(f"price change for '{a}' is {c!r}; expected >= -1")

    if n == 0:
        return ContagionResult("combined", params, (), (), {"defaults": 0.0, "total_loss": 0.0})

    e0 = np.asarray(network.equity, dtype=float)
    if network.holdings is not None and m:
        inv = np.divide(1.0, p0, out=np.zeros(m), where=p0 > 0)
        units = sp.csr_array(network.holdings @ sp.diags_array(inv))
    else:
        units = sp.csr_array((n, max(m, 0)))
    units_coo = units.tocoo()
    u_rows, u_cols, u_vals = units_coo.row, units_coo.col, units_coo.data.astype(float).copy()
    u_rel = [
        ch.holding_relations.get((ids[i], assets[k]), ())
        for i, k in zip(u_rows, u_cols, strict=True)
    ]

    a_csc = sp.csc_array(network.exposures)
    a_csc.sort_indices()
    # per-edge recovery on the exposure pattern: stated, else by kind (deposit or loan)
    dep = [(index[c], index[d]) for (c, d), k in ch.exposure_kinds.items()
           if k == "deposit" and c in index and d in index]
    pattern = sp.csc_array((np.ones(a_csc.nnz), a_csc.indices, a_csc.indptr), shape=(n, n))
    dep_mat = sp.csc_array(
        (np.ones(len(dep)), ([i for i, _ in dep], [j for _, j in dep])), shape=(n, n)
    )
    is_dep = sp.csc_array(pattern.multiply(dep_mat))
    dep_set = set(dep)
    rec_mat = sp.csc_array(pattern * recovery + is_dep * (deposit_recovery - recovery))
    if network.recovery is not None:
        stated = sp.csc_array(sp.csc_array(network.recovery).multiply(pattern))
        stated.eliminate_zeros()
        has = sp.csc_array((np.ones(stated.nnz), stated.indices, stated.indptr), shape=(n, n))
        rec_mat = sp.csc_array(rec_mat - rec_mat.multiply(has) + stated)
    hit_csc = sp.csc_array(a_csc - a_csc.multiply(rec_mat))
    hit_csc.sort_indices()
    own_owner = np.array([index[o.owner] for o in ch.ownership], dtype=np.int64)
    own_owned = np.array([index[o.owned] for o in ch.ownership], dtype=np.int64)
    own_frac = np.array([o.fraction for o in ch.ownership], dtype=float)
    loans = network.loans
    l_lender = np.array([index[x.lender] for x in loans], dtype=np.int64)
    l_borrower = np.array([index[x.borrower] for x in loans], dtype=np.int64)
    l_asset = np.array([aindex[x.asset] for x in loans], dtype=np.int64)
    l_amount = np.array([x.amount for x in loans], dtype=float)
    l_qty = np.array([x.quantity for x in loans], dtype=float)
    l_active = np.ones(len(loans), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ltv0 = np.where(l_qty * p0[l_asset] > 0, l_amount / (l_qty * p0[l_asset]), np.inf)
    # a loan agreed above the trigger is called only past its starting loan-to-value
    l_trigger = np.maximum(ltv_trigger, ltv0)
    l_reset = ltv_reset * l_trigger / ltv_trigger

    loss = np.zeros(n)
    dead = np.zeros(n, dtype=bool)
    price = p0.copy()
    dropped_issuers: set[tuple[str, str]] = set()
    rounds: list[Round] = []
    paths: list[Transmission] = []
    margin_calls_met = 0

    def holder_price_losses(book: _Book, before: np.ndarray, after: np.ndarray) -> None:
        dp = before - after
        if not u_vals.size or not np.any(dp > tol):
            return
        hit = u_vals * dp[u_cols]
        keep = (hit > tol) & ~dead[u_rows]
        book.hit(
            u_rows[keep],
            hit[keep],
            [assets[k] for k in u_cols[keep]],
            [ids[i] for i in u_rows[keep]],
            "price",
            [u_rel[j] for j in np.flatnonzero(keep)],
        )

    def settle(book: _Book, forced: np.ndarray) -> np.ndarray:
        """Apply the round's losses; return the mask of new defaults."""
        before = loss.copy()
        loss[:] = np.minimum(loss + book.delta, e0)
        loss[forced] = e0[forced]
        new: np.ndarray = ~dead & ((loss >= default_threshold * e0 - tol) | forced) & (
            (loss > before) | forced | (e0 <= 0)
        )
        new &= (loss > 0) | forced
        dead[new] = True
        paths.extend(book.steps)
        return new

    def snapshot(index_: int, new: np.ndarray) -> None:
        rel = np.divide(loss, e0, out=np.where(dead, 1.0, 0.0), where=e0 > 0)
        rounds.append(
            Round(
                index_,
                tuple(ids[i] for i in np.flatnonzero(new)),
                {ids[i]: float(rel[i]) for i in np.flatnonzero(rel > 0)},
                {a: float(price[k]) for k, a in enumerate(assets)},
            )
        )

    # round 0: the scenario itself
    book = _Book(n, 0)
    forced = np.zeros(n, dtype=bool)
    forced[default_pos] = True
    if shock_pos.size:
        np.add.at(
            book.delta, shock_pos, np.array([shocks[ids[i]] for i in shock_pos]) * e0[shock_pos]
        )
    before = price.copy()
    for a, c in price_changes.items():
        price[aindex[a]] = p0[aindex[a]] * (1.0 + c)
    holder_price_losses(book, before, price)
    prev_loss = loss.copy()
    new = settle(book, forced)
    snapshot(0, new)
    moved_prices = bool(np.any(np.abs(price - before) > tol))
    delta_prev = loss - prev_loss

    for r in range(1, max_rounds + 1):
        book = _Book(n, r)
        forced = np.zeros(n, dtype=bool)
        new_idx = np.flatnonzero(new)
        start_price = price.copy()
        before = price.copy()

        # credit and deposits: creditors of the new defaults
        if new_idx.size and hit_csc.nnz:
            block = hit_csc[:, new_idx].tocoo()
            cred, col = block.row, new_idx[block.col]
            hits = block.data.astype(float)
            keep = np.flatnonzero(hits > tol)
            deposit = [(int(cred[e]), int(col[e])) in dep_set for e in keep]
            pairs = [(ids[cred[e]], ids[col[e]]) for e in keep]
            book.hit(
                cred[keep],
                hits[keep],
                [d for _, d in pairs],
                [c for c, _ in pairs],
                ["deposit" if x else "credit" for x in deposit],
                [ch.exposure_relations.get(pq, ()) for pq in pairs],
            )

        # issuer reflexivity
        reflex = [
            (a, issuer)
            for a, issuer in network.issuers.items()
            if a in aindex and issuer in index and new[index[issuer]]
            and (issuer, a) not in dropped_issuers
        ]
        for a, issuer in reflex:
            k = aindex[a]
            value_before = float(u_vals[u_cols == k].sum() * price[k])
            price[k] *= 1.0 - issuer_drop
            dropped_issuers.add((issuer, a))
            if value_before * issuer_drop <= tol:
                continue
            book.steps.append(
                Transmission(
                    r, issuer, a, value_before * issuer_drop, "issuer",
                    tuple(ch.issuer_relations.get(a, ())),
                )
            )

        holder_price_losses(book, before, price)
        before = price.copy()

        # sales: fire sales by new defaults, and collateral liquidations
        sold_units = np.zeros(m)
        sellers: list[tuple[int, int, float, tuple[str, ...]]] = []
        if new_idx.size and u_vals.size and fire_sale_fraction > 0:
            sell = np.flatnonzero(new[u_rows] & (u_vals > 0))
            q = u_vals[sell] * fire_sale_fraction
            np.add.at(sold_units, u_cols[sell], q)
            sellers.extend(
                (int(u_rows[e]), int(u_cols[e]), float(qe), u_rel[e])
                for e, qe in zip(sell, q, strict=True)
            )
            u_vals[sell] -= q
        liquidate = np.zeros(len(loans), dtype=bool)
        if len(loans):
            value = l_qty * price[l_asset]
            with np.errstate(divide="ignore", invalid="ignore"):
                ltv = np.where(value > 0, l_amount / value, np.inf)
            borrower_dead = dead[l_borrower]
            breached = l_active & ~borrower_dead & (ltv > l_trigger + tol)
            call = np.clip(l_amount - l_reset * value, 0.0, None)
            headroom = e0 - loss - book.delta
            for j in np.flatnonzero(breached):
                b = l_borrower[j]
                if headroom[b] >= call[j]:
                    headroom[b] -= call[j]
                    l_amount[j] -= call[j]
                    margin_calls_met += 1
                else:
                    forced[b] = True
                    liquidate[j] = True
            liquidate |= l_active & borrower_dead
            np.add.at(sold_units, l_asset[liquidate], l_qty[liquidate])
            sellers.extend(
                (int(l_lender[j]), int(l_asset[j]), float(l_qty[j]), loans[j].relation_ids)
                for j in np.flatnonzero(liquidate)
            )
        sold_value = sold_units * price
        if np.any(sold_value > 0):
            pre_sale = price.copy()
            price = _impact(price, sold_value, depth, impact)
            outstanding = np.bincount(u_cols, weights=u_vals, minlength=m) if m else sold_units
            market_drop = outstanding * (pre_sale - price)
            for si, sk, qty, rel_ids in sellers:
                part = qty / sold_units[sk] if sold_units[sk] > 0 else 0.0
                if part * market_drop[sk] <= tol:
                    continue
                book.steps.append(
                    Transmission(
                        r, ids[si], assets[sk], float(part * market_drop[sk]), "fire-sale",
                        rel_ids,
                    )
                )
        for j in np.flatnonzero(liquidate):
            proceeds = l_qty[j] * price[l_asset[j]]
            shortfall = max(l_amount[j] - proceeds, 0.0) * (1.0 - recovery)
            l_active[j] = False
            lender, borrower = int(l_lender[j]), int(l_borrower[j])
            pledged = (u_rows == borrower) & (u_cols == l_asset[j])
            u_vals[pledged] = np.clip(u_vals[pledged] - l_qty[j], 0.0, None)
            if shortfall > tol:
                book.hit(
                    np.array([lender]), np.array([shortfall]), [ids[borrower]], [ids[lender]],
                    "collateral", [loans[j].relation_ids],
                )

        holder_price_losses(book, before, price)

        # ownership: owners take their share of last round's new losses
        if own_owner.size:
            share = own_frac * delta_prev[own_owned]
            kept = np.flatnonzero(share > tol)
            book.hit(
                own_owner[kept], share[kept],
                [ids[i] for i in own_owned[kept]], [ids[i] for i in own_owner[kept]],
                "ownership", [ch.ownership[k].relation_ids for k in kept],
            )

        prev_loss = loss.copy()
        new = settle(book, forced)
        delta_prev = loss - prev_loss
        moved_prices = bool(np.any(np.abs(price - start_price) > tol))
        changed = bool(new.any() or np.any(delta_prev > tol) or moved_prices)
        if not changed and not book.steps:
            break
        snapshot(r, new)
    else:
        raise ConvergenceError(
            f"combined engine still moving after max_rounds={max_rounds} rounds", max_rounds
        )

    rel = np.divide(loss, e0, out=np.where(dead, 1.0, 0.0), where=e0 > 0)
    nodes = tuple(
        NodeOutcome(ids[i], bool(dead[i]), float(loss[i]), float(min(rel[i], 1.0)), None)
        for i in range(n)
    )
    totals = {
        "defaults": float(dead.sum()),
        "total_loss": float(loss.sum()),
        "margin_calls_met": float(margin_calls_met),
        "rounds": float(len(rounds)),
    }
    return ContagionResult("combined", params, tuple(rounds), nodes, totals, tuple(paths))
