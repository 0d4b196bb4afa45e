"""Credit channel: creditors of a defaulted debtor lose what they do not recover."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from graph.contagion.channels.state import Book, State
from graph.contagion.network import ExposureNetwork

__all__ = ["Credit"]


class Credit:
    r"""Loans and deposits: a creditor loses what it does not recover of a defaulted debt.

    Creditor :math:`i` of defaulted :math:`j` loses :math:`A_{ij}(1-R_{ij})`. The
    recovery :math:`R_{ij}` is the network's per-edge ``recovery`` where stated, else
    ``deposit_recovery`` for a deposit and ``recovery`` for a loan.
    """

    def __init__(
        self,
        network: ExposureNetwork,
        kinds: Mapping[tuple[str, str], str],
        relations: Mapping[tuple[str, str], tuple[str, ...]],
        recovery: float,
        deposit_recovery: float,
    ) -> None:
        n = network.n
        index = network.index()
        a_csc = sp.csc_array(network.exposures)
        a_csc.sort_indices()
        dep = [
            (index[c], index[d])
            for (c, d), k in kinds.items()
            if k == "deposit" and c in index and d in index
        ]
        pattern = sp.csc_array((np.ones(a_csc.nnz), a_csc.indices, a_csc.indptr), shape=(n, n))
        dep_mat = sp.csc_array(
            (np.ones(len(dep)), ([i for i, _ in dep], [j for _, j in dep])), shape=(n, n)
        )
        is_dep = sp.csc_array(pattern.multiply(dep_mat))
        rec = sp.csc_array(pattern * recovery + is_dep * (deposit_recovery - recovery))
        if network.recovery is not None:
            stated = sp.csc_array(sp.csc_array(network.recovery).multiply(pattern))
            stated.eliminate_zeros()
            has = sp.csc_array((np.ones(stated.nnz), stated.indices, stated.indptr), shape=(n, n))
            rec = sp.csc_array(rec - rec.multiply(has) + stated)
        self.hit_csc = sp.csc_array(a_csc - a_csc.multiply(rec))
        self.hit_csc.sort_indices()
        self.deposits = set(dep)
        self.relations = relations

    def step(self, book: Book, st: State, new_idx: np.ndarray) -> None:
        """Charge the creditors of the nodes that defaulted last round."""
        if not new_idx.size or not self.hit_csc.nnz:
            return
        block = self.hit_csc[:, new_idx].tocoo()
        cred, col = block.row, new_idx[block.col]
        hits = block.data.astype(float)
        keep = np.flatnonzero(hits > st.tol)
        deposit = [(int(cred[e]), int(col[e])) in self.deposits for e in keep]
        pairs = [(st.ids[cred[e]], st.ids[col[e]]) for e in keep]
        book.hit(
            cred[keep],
            hits[keep],
            [d for _, d in pairs],
            [c for c, _ in pairs],
            ["deposit" if x else "credit" for x in deposit],
            [self.relations.get(pq, ()) for pq in pairs],
        )
