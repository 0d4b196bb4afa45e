"""Market channel: fire sales by defaulted holders and the price impact of every sale."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graph.contagion._prices import impact_factor
from graph.contagion.channels.state import Book, State
from graph.contagion.result import Transmission

__all__ = ["Sales", "fire_sales", "sell"]


@dataclass
class Sales:
    """Units of each token sold this round and who sold them (for the transmissions)."""

    units: np.ndarray
    sellers: list[tuple[int, int, float, tuple[str, ...]]] = field(default_factory=list)


def fire_sales(st: State, new: np.ndarray, fraction: float) -> Sales:
    """Holders that defaulted last round sell ``fraction`` of their tokens."""
    sales = Sales(np.zeros(len(st.assets)))
    if not new.any() or not st.u_vals.size or fraction <= 0:
        return sales
    sell = np.flatnonzero(new[st.u_rows] & (st.u_vals > 0))
    q = st.u_vals[sell] * fraction
    np.add.at(sales.units, st.u_cols[sell], q)
    sales.sellers.extend(
        (int(st.u_rows[e]), int(st.u_cols[e]), float(qe), st.u_rel[e])
        for e, qe in zip(sell, q, strict=True)
    )
    st.u_vals[sell] -= q
    return sales


def sell(book: Book, st: State, sales: Sales, impact: str) -> None:
    """Move prices by the impact of the round's sales; credit each seller its share of the fall.

    The price falls by :func:`graph.contagion._prices.impact_factor` of the value sold
    (at the price before the sale) over the market depth.
    """
    sold_value = sales.units * st.price
    if not np.any(sold_value > 0):
        return
    pre_sale = st.price.copy()
    st.price = st.price * impact_factor(sold_value, st.depth, impact)
    m = len(st.assets)
    outstanding = np.bincount(st.u_cols, weights=st.u_vals, minlength=m) if m else sales.units
    market_drop = outstanding * (pre_sale - st.price)
    for si, sk, qty, rel_ids in sales.sellers:
        part = qty / sales.units[sk] if sales.units[sk] > 0 else 0.0
        if part * market_drop[sk] <= st.tol:
            continue
        book.steps.append(
            Transmission(
                book.round,
                st.ids[si],
                st.assets[sk],
                float(part * market_drop[sk]),
                "fire-sale",
                rel_ids,
            )
        )
