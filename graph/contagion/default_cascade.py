r"""Threshold default cascade (Furfine's sequential default algorithm).

Notes on ``default_cascade``
----------------------------
With :math:`D_t` the set of nodes defaulted by wave ``t``,

.. math::

    u_i(t+1) = h_i(0) + \frac{1}{E_i} \sum_{j \in D_t} \mathrm{LGD}_{ij}\, A_{ij},
    \qquad D_{t+1} = \{ i : u_i(t+1) \ge \theta \}.

A defaulted debtor hits each creditor once, in the wave after it defaults; a node that
is shocked without defaulting passes nothing on. With ``recovery=0`` and
``default_threshold=1`` this is the ``threshold`` method of the NetworkRiskMeasures R
package. A node with negative equity is insolvent before the shock: it starts in
default (not counted among the additional defaults) and hits its creditors in the
first wave.

References on ``default_cascade``
---------------------------------
.. [1] C. Furfine, "Interbank Exposures: Quantifying the Risk of Contagion", Journal
   of Money, Credit and Banking 35(1), 111-128 (2003). doi:10.1353/mcb.2003.0004
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion._common import (
    column_transmissions,
    finish_stress,
    snapshot,
    stress_totals,
)
from graph.contagion._validate import (
    INSOLVENT,
    initial_stress,
    require_fraction,
    require_positive,
    starting_equity,
)
from graph.contagion.debtrank import node_weights
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import accepts_old_names
from graph.contagion.result import ContagionResult, Round, Transmission
from graph.errors import ContagionInputError

__all__ = ["default_cascade"]


def _loss_and_impact(
    network: ExposureNetwork, equity: np.ndarray, lgd: float | None, per_edge: bool
) -> tuple[Any, Any]:
    """Return the credit losses per exposure and their impact on each creditor's equity."""
    a: Any = sp.csr_array(network.exposures).astype(np.float64)
    if per_edge:
        assert network.recovery is not None
        loss_matrix = a - a.multiply(sp.csr_array(network.recovery))
    else:
        loss_matrix = a * (1.0 if lgd is None else float(lgd))
    inv = sp.diags_array(np.where(equity > 0, 1.0 / np.where(equity > 0, equity, 1.0), 0.0))
    impact: Any = sp.csr_array(inv @ loss_matrix)
    zero_equity_creditors = (equity <= 0) & (np.diff(a.indptr) > 0)
    if zero_equity_creditors.any():
        # any credit loss wipes a creditor with no equity
        rowmask = sp.diags_array(zero_equity_creditors.astype(np.float64))
        impact = sp.csr_array(impact + (rowmask @ (loss_matrix > 0)).astype(np.float64))
    return loss_matrix, impact


@accepts_old_names("cascade")
def default_cascade(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    recovery: float | None = None,
    default_threshold: float = 1.0,
    weighting: str = "auto",
    tol: float = 1e-12,
    max_rounds: int | None = None,
) -> ContagionResult:
    r"""Run a threshold cascade: a node that loses its equity defaults and hits its creditors.

    Parameters
    ----------
    network : ExposureNetwork
        ``exposures[i, j]`` is what ``j`` owes ``i``; ``equity`` is the capital buffer.
    shocks : mapping of str to float, optional
        Initial relative equity loss per node id, each in [0, 1].
    defaults : iterable of str
        Ids that default at the start.
    recovery : float, optional
        Share of an exposure recovered when the debtor defaults (the old ``lgd=x`` is
        ``recovery=1 - x``). ``None`` uses the per-exposure ``recovery`` column of
        ``exposures.csv`` when there is one, and 0 otherwise.
    default_threshold : float
        A node defaults when its relative equity loss reaches this (in (0, 1]); the old
        name ``threshold`` is accepted.
    weighting : {"auto", "weight", "equity", "equal"}
        Weights of the additional-stress total (as in DebtRank).
    tol : float
        Tolerance of the default test: ``u_i >= default_threshold - tol``.
    max_rounds : int, optional
        Stop after this many waves (``None``: until no new default; at most ``n``).

    Returns
    -------
    ContagionResult
        ``relative_loss`` is ``min(1, u_i)``; ``totals`` hold ``stress`` (the weighted
        additional stress), ``equity_loss``, ``gross_loss`` (credit losses including those
        beyond equity), ``defaults`` and ``additional_defaults``.

    Raises
    ------
    ContagionInputError
        An unknown id, a shock or ``lgd`` outside [0, 1], a non-positive threshold,
        equity not given.

    Examples
    --------
    A chain ``c -> b -> a`` (``c`` lends to ``b``, ``b`` lends to ``a``), ``a`` defaults:

    >>> import numpy as np, scipy.sparse as sp
    >>> A = np.array([[0, 0, 0], [5.0, 0, 0], [0, 3.0, 0]])
    >>> net = ExposureNetwork(ids=("a", "b", "c"), equity=np.array([1.0, 4.0, 4.0]),
    ...                       exposures=sp.csr_array(A))
    >>> r = default_cascade(net, defaults=["a"])
    >>> [n.defaulted for n in r.nodes], round(r.node("c").relative_loss, 2)
    ([True, True, False], 0.75)
    """
    lgd = None if recovery is None else 1.0 - require_fraction("recovery", recovery)
    threshold = default_threshold
    if not 0.0 < threshold <= 1.0:
        raise ContagionInputError(
            f"default_threshold is {threshold!r}; expected a number in (0, 1]"
        )
    require_positive("tol", tol, allow_zero=True)
    w, used = node_weights(network, weighting, "cascade") if network.n else (np.zeros(0), weighting)
    per_edge = lgd is None and network.recovery is not None
    params = {
        "lgd": "1 - recovery" if per_edge else (1.0 if lgd is None else float(lgd)),
        "default_threshold": float(threshold),
        "weighting": used,
        "orientation": "exposures[creditor, debtor]",
        "tol": tol,
        "max_rounds": max_rounds,
        "insolvent": INSOLVENT,
    }
    ids = network.ids
    h0 = initial_stress(network, shocks, defaults)
    equity, insolvent = starting_equity(network, "cascade")
    h0[insolvent] = 1.0
    loss_matrix, impact = _loss_and_impact(network, equity, lgd, per_edge)

    by_column = sp.csc_array(loss_matrix)
    u = h0.copy()
    dead = u >= threshold - tol
    rounds: list[Round] = [snapshot(0, ids, np.minimum(u, 1.0), dead)]
    paths: list[Transmission] = []
    fresh = dead.copy()
    limit = network.n if max_rounds is None else int(max_rounds)
    t = 0
    while fresh.any() and t < limit:
        t += 1
        f = fresh.astype(np.float64)
        u = u + impact @ f
        paths.extend(column_transmissions(t, by_column, f, ids, "interbank"))
        now = u >= threshold - tol
        fresh = now & ~dead
        dead = now
        rounds.append(snapshot(t, ids, np.minimum(u, 1.0), fresh))
    h = np.minimum(u, 1.0)
    totals = stress_totals("stress", w, equity, u, h0, dead, h0 >= threshold - tol, t)
    return finish_stress("cascade", params, ids, (rounds, paths), dead, equity, h, totals)
