"""``ExposureNetwork``: the arrays every contagion model reads.

Orientation: ``exposures[i, j]`` is the amount debtor ``j`` owes creditor ``i``
(an interbank asset of ``i``), as in ``exposures.csv`` (``creditor, debtor, amount``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from graph.errors import ContagionInputError

__all__ = ["CollateralLoan", "ExposureNetwork"]


@dataclass(frozen=True)
class CollateralLoan:
    """A loan from ``lender`` to ``borrower`` secured by ``quantity`` units of ``asset``."""

    lender: str
    borrower: str
    amount: float
    asset: str
    quantity: float
    relation_ids: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ExposureNetwork:
    """Nodes with balance sheets, bilateral exposures, holdings, collateral and issuers.

    Parameters
    ----------
    ids : sequence of str
        Node ids, in matrix order.
    equity : ndarray
        Equity (capital buffer) per node.
    exposures : sparse matrix
        ``exposures[i, j]``: amount owed by ``j`` to ``i`` (``i`` is the creditor).
    external_assets, external_liabilities, weight : ndarray, optional
        Per-node outside assets, outside liabilities and relative size (DebtRank weight).
    asset_ids, holdings, prices, depth : optional
        Common holdings: ``holdings[i, k]`` is the value node ``i`` holds of asset ``k``
        at price ``prices[k]``; ``depth[k]`` is the market depth (value that moves the
        price by 100% under linear impact).
    loans : tuple of CollateralLoan
        Collateralised loans.
    issuers : mapping
        ``asset id -> issuer node id`` (issuer reflexivity).
    """

    ids: tuple[str, ...]
    equity: np.ndarray
    exposures: sp.csr_array
    external_assets: np.ndarray | None = None
    external_liabilities: np.ndarray | None = None
    weight: np.ndarray | None = None
    asset_ids: tuple[str, ...] = ()
    holdings: sp.csr_array | None = None
    prices: np.ndarray | None = None
    depth: np.ndarray | None = None
    loans: tuple[CollateralLoan, ...] = ()
    issuers: Mapping[str, str] = field(default_factory=dict)
    recovery: sp.csr_array | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.exposures.shape != (n, n):
            raise ContagionInputError(
                f"exposure matrix has shape {self.exposures.shape}; expected ({n}, {n})"
            )
        if len(self.equity) != n:
            raise ContagionInputError(f"equity has {len(self.equity)} values; expected {n}")
        if len(set(self.ids)) != n:
            raise ContagionInputError("node ids are not unique")

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.ids)

    def index(self) -> dict[str, int]:
        """Return ``{id: position}``."""
        return {id_: i for i, id_ in enumerate(self.ids)}

    def positions(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids``; raises ``ContagionInputError`` naming an unknown id."""
        index = self.index()
        out = np.empty(len(ids), dtype=np.int64)
        for k, id_ in enumerate(ids):
            if id_ not in index:
                raise ContagionInputError(f"unknown node id '{id_}'")
            out[k] = index[id_]
        return out

    def interbank_assets(self) -> np.ndarray:
        """Row sums: what each node is owed by other nodes."""
        return np.asarray(self.exposures.sum(axis=1)).ravel()

    def interbank_liabilities(self) -> np.ndarray:
        """Column sums: what each node owes other nodes."""
        return np.asarray(self.exposures.sum(axis=0)).ravel()
