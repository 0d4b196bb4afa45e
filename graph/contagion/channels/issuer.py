"""Issuer reflexivity: a token loses ``issuer_drop`` of its price when its issuer defaults."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from graph.contagion.channels.state import Book, State
from graph.contagion.result import Transmission

__all__ = ["Issuer"]


class Issuer:
    """Each token's issuer, its relation ids, and which drops have already happened."""

    def __init__(
        self,
        issuers: Mapping[str, str],
        relations: Mapping[str, tuple[str, ...]],
        index: Mapping[str, int],
        aindex: Mapping[str, int],
        issuer_drop: float,
    ) -> None:
        self.pairs = [
            (aindex[a], index[i], a, i) for a, i in issuers.items() if a in aindex and i in index
        ]
        self.relations = relations
        self.drop = issuer_drop
        self.done: set[tuple[str, str]] = set()

    def step(self, book: Book, st: State, new: np.ndarray) -> None:
        """Drop the price of every token whose issuer defaulted last round (once)."""
        for k, i, asset, issuer in self.pairs:
            if not new[i] or (issuer, asset) in self.done:
                continue
            value_before = float(st.u_vals[st.u_cols == k].sum() * st.price[k])
            st.price[k] *= 1.0 - self.drop
            self.done.add((issuer, asset))
            if value_before * self.drop <= st.tol:
                continue
            book.steps.append(
                Transmission(
                    book.round,
                    issuer,
                    asset,
                    value_before * self.drop,
                    "issuer",
                    tuple(self.relations.get(asset, ())),
                )
            )
