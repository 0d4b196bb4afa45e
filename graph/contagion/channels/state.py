"""What every channel of the combined engine reads and writes in one round."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from graph.contagion.network import ExposureNetwork
from graph.contagion.result import Transmission

__all__ = ["Book", "State"]


class Book:
    """One round's new losses per node and the transmissions that carried them."""

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
        """Add ``losses`` to ``targets`` and record one transmission per positive loss."""
        np.add.at(self.delta, targets, losses)
        labels = [channel] * len(sources) if isinstance(channel, str) else list(channel)
        for src, tgt, loss, label, rel in zip(
            sources, target_ids, losses, labels, relations, strict=True
        ):
            if loss > 0:
                self.steps.append(Transmission(self.round, src, tgt, float(loss), label, rel))


@dataclass
class State:
    """Losses, defaults, prices and token positions (in units) as the rounds go on."""

    ids: tuple[str, ...]
    assets: tuple[str, ...]
    e0: np.ndarray
    p0: np.ndarray
    depth: np.ndarray
    u_rows: np.ndarray
    u_cols: np.ndarray
    u_vals: np.ndarray
    u_rel: list[tuple[str, ...]]
    tol: float
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def start(
        cls,
        network: ExposureNetwork,
        holding_relations: dict[tuple[str, str], tuple[str, ...]],
        tol: float,
    ) -> State:
        """Return the state before round 0: no loss, no default, starting prices."""
        n, m = network.n, len(network.asset_ids)
        ids, assets = network.ids, network.asset_ids
        p0 = np.ones(m) if network.prices is None else np.asarray(network.prices, dtype=float)
        if network.depth is None:
            depth = np.full(m, np.inf)
        else:
            depth = np.asarray(network.depth, dtype=float)
        if network.holdings is not None and m:
            inv = np.divide(1.0, p0, out=np.zeros(m), where=p0 > 0)
            units = sp.csr_array(network.holdings @ sp.diags_array(inv))
        else:
            units = sp.csr_array((n, max(m, 0)))
        coo = units.tocoo()
        rel = [
            holding_relations.get((ids[i], assets[k]), ())
            for i, k in zip(coo.row, coo.col, strict=True)
        ]
        return cls(
            ids,
            assets,
            np.asarray(network.equity, dtype=float),
            p0,
            depth,
            coo.row,
            coo.col,
            coo.data.astype(float).copy(),
            rel,
            tol,
            np.zeros(n),
            np.zeros(n, dtype=bool),
            p0.copy(),
        )

    def relative_loss(self) -> np.ndarray:
        """Loss over starting equity (1 for a defaulted node with no equity)."""
        out: np.ndarray = np.divide(
            self.loss, self.e0, out=np.where(self.dead, 1.0, 0.0), where=self.e0 > 0
        )
        return out

    def holder_price_losses(self, book: Book, before: np.ndarray, after: np.ndarray) -> None:
        """Charge every live holder the fall of its tokens' prices from ``before`` to ``after``."""
        dp = before - after
        if not self.u_vals.size or not np.any(dp > self.tol):
            return
        hit = self.u_vals * dp[self.u_cols]
        keep = (hit > self.tol) & ~self.dead[self.u_rows]
        book.hit(
            self.u_rows[keep],
            hit[keep],
            [self.assets[k] for k in self.u_cols[keep]],
            [self.ids[i] for i in self.u_rows[keep]],
            "price",
            [self.u_rel[j] for j in np.flatnonzero(keep)],
        )

    def settle(self, book: Book, forced: np.ndarray, threshold: float) -> np.ndarray:
        """Apply the round's losses (capped at equity); return the mask of new defaults."""
        before = self.loss.copy()
        self.loss[:] = np.minimum(self.loss + book.delta, self.e0)
        self.loss[forced] = self.e0[forced]
        new: np.ndarray = (
            ~self.dead
            & ((self.loss >= threshold * self.e0 - self.tol) | forced)
            & ((self.loss > before) | forced | (self.e0 <= 0))
        )
        new &= (self.loss > 0) | forced
        self.dead[new] = True
        return new
