"""Ownership channel: an owner loses its stake's share of the owned firm's new losses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from graph.contagion.channels.state import Book, State

__all__ = ["Ownership", "OwnershipLink"]


@dataclass(frozen=True)
class OwnershipLink:
    """``owner`` holds ``fraction`` of ``owned``: it loses that share of ``owned``'s losses."""

    owner: str
    owned: str
    fraction: float = 1.0
    relation_ids: tuple[str, ...] = ()


class Ownership:
    """The links as arrays; losses pass one round after the owned firm takes them."""

    def __init__(self, links: Sequence[OwnershipLink], index: Mapping[str, int]) -> None:
        self.links = tuple(links)
        self.owner = np.array([index[o.owner] for o in links], dtype=np.int64)
        self.owned = np.array([index[o.owned] for o in links], dtype=np.int64)
        self.fraction = np.array([o.fraction for o in links], dtype=float)

    def step(self, book: Book, st: State, delta_prev: np.ndarray) -> None:
        """Charge owners their share of last round's new losses."""
        if not self.owner.size:
            return
        share = self.fraction * delta_prev[self.owned]
        kept = np.flatnonzero(share > st.tol)
        book.hit(
            self.owner[kept],
            share[kept],
            [st.ids[i] for i in self.owned[kept]],
            [st.ids[i] for i in self.owner[kept]],
            "ownership",
            [self.links[k].relation_ids for k in kept],
        )
