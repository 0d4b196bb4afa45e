"""Collateral channel: margin calls on collateralised loans, and liquidations."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from graph.contagion.channels.market import Sales
from graph.contagion.channels.state import Book, State
from graph.contagion.network import CollateralLoan

__all__ = ["Margin"]


class Margin:
    r"""Collateralised loans: called past ``ltv_trigger``, back to ``ltv_reset`` or liquidated.

    A loan agreed above the trigger is called only past its starting loan-to-value, and
    its reset level scales with it. A call of :math:`L - \text{reset}\,qp` is met when the
    borrower's remaining equity covers it (the cash reduces the loan); otherwise the
    borrower defaults and the lender sells the collateral.
    """

    def __init__(
        self,
        loans: tuple[CollateralLoan, ...],
        index: Mapping[str, int],
        aindex: Mapping[str, int],
        p0: np.ndarray,
        ltv_trigger: float,
        ltv_reset: float,
    ) -> None:
        self.loans = loans
        self.lender = np.array([index[x.lender] for x in loans], dtype=np.int64)
        self.borrower = np.array([index[x.borrower] for x in loans], dtype=np.int64)
        self.asset = np.array([aindex[x.asset] for x in loans], dtype=np.int64)
        self.amount = np.array([x.amount for x in loans], dtype=float)
        self.qty = np.array([x.quantity for x in loans], dtype=float)
        self.active = np.ones(len(loans), dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = self.qty * p0[self.asset]
            ltv0 = np.where(value > 0, self.amount / value, np.inf)
        self.trigger = np.maximum(ltv_trigger, ltv0)
        self.reset = ltv_reset * self.trigger / ltv_trigger
        self.calls_met = 0

    def calls(self, book: Book, st: State, forced: np.ndarray, sales: Sales) -> np.ndarray:
        """Make the round's margin calls; return the loans to liquidate (added to ``sales``)."""
        liquidate = np.zeros(len(self.loans), dtype=bool)
        if not len(self.loans):
            return liquidate
        value = self.qty * st.price[self.asset]
        with np.errstate(divide="ignore", invalid="ignore"):
            ltv = np.where(value > 0, self.amount / value, np.inf)
        borrower_dead = st.dead[self.borrower]
        breached = self.active & ~borrower_dead & (ltv > self.trigger + st.tol)
        with np.errstate(invalid="ignore"):
            call = np.clip(self.amount - self.reset * value, 0.0, None)
        headroom = st.e0 - st.loss - book.delta
        for j in np.flatnonzero(breached):
            b = self.borrower[j]
            if headroom[b] >= call[j]:
                headroom[b] -= call[j]
                self.amount[j] -= call[j]
                self.calls_met += 1
            else:
                forced[b] = True
                liquidate[j] = True
        liquidate |= self.active & borrower_dead
        np.add.at(sales.units, self.asset[liquidate], self.qty[liquidate])
        sales.sellers.extend(
            (
                int(self.lender[j]),
                int(self.asset[j]),
                float(self.qty[j]),
                self.loans[j].relation_ids,
            )
            for j in np.flatnonzero(liquidate)
        )
        return liquidate

    def liquidate(self, book: Book, st: State, which: np.ndarray, recovery: float) -> None:
        """Close the liquidated loans at the post-sale price; lenders lose the shortfall."""
        for j in np.flatnonzero(which):
            proceeds = self.qty[j] * st.price[self.asset[j]]
            shortfall = max(self.amount[j] - proceeds, 0.0) * (1.0 - recovery)
            self.active[j] = False
            lender, borrower = int(self.lender[j]), int(self.borrower[j])
            pledged = (st.u_rows == borrower) & (st.u_cols == self.asset[j])
            st.u_vals[pledged] = np.clip(st.u_vals[pledged] - self.qty[j], 0.0, None)
            if shortfall > st.tol:
                book.hit(
                    np.array([lender]),
                    np.array([shortfall]),
                    [st.ids[borrower]],
                    [st.ids[lender]],
                    "collateral",
                    [self.loans[j].relation_ids],
                )
