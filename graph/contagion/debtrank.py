r"""DebtRank: distress propagated through the interbank impact matrix.

Notes on ``debtrank``
---------------------
With ``p_j(t)`` the distress node ``j`` passes on in round ``t``,

.. math::

    u_i(t+1) = u_i(t) + \sum_j W_{ij}\, p_j(t), \qquad h_i(t) = \min(1, u_i(t)),

where for ``linear`` :math:`p_j(t) = h_j(t) - \sum_{s<t} p_j(s)` and for ``single-hit``
:math:`p_j(t) = h_j(t)` in the first round ``j`` is distressed and 0 afterwards.
Deviations: the impact matrix is indexed creditor first (``W_ij`` is the impact of
``j`` on ``i``, the transpose of the 2012 paper's notation); the stopping rule and the
uncapped ``gross_loss`` follow the NetworkRiskMeasures R package, whose results this
implementation reproduces with ``variant="linear", cap=False``. A node with negative
equity is insolvent before the shock: it starts in default (:math:`h_i(0) = 1`, not
counted among the additional defaults) with nothing left to lose.

References on ``debtrank``
--------------------------
.. [1] S. Battiston, M. Puliga, R. Kaushik, P. Tasca, G. Caldarelli, "DebtRank: Too
   Central to Fail? Financial Networks, the FED and Systemic Risk", Scientific
   Reports 2, 541 (2012). doi:10.1038/srep00541
.. [2] M. Bardoscia, S. Battiston, F. Caccioli, G. Caldarelli, "DebtRank: A
   Microscopic Foundation for Shock Propagation", PLoS ONE 10(6), e0130406 (2015).
   doi:10.1371/journal.pone.0130406
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion._common import (
    column_transmissions,
    empty_result,
    finish_stress,
    snapshot,
    stress_totals,
)
from graph.contagion._validate import (
    INSOLVENT,
    initial_stress,
    node_column,
    require_choice,
    require_nonnegative,
    require_positive,
    starting_equity,
)
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import DEFAULTS, accepts_old_names
from graph.contagion.result import ContagionResult, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["debtrank", "impact_matrix", "node_weights"]

VARIANTS = ("single-hit", "linear")
WEIGHTINGS = ("auto", "weight", "equity", "equal")


def impact_matrix(network: ExposureNetwork, *, cap: bool = True) -> sp.csr_array:
    """Return ``W[i, j] = A[i, j] / E[i]``: the stress of ``i`` per unit stress of ``j``.

    With ``cap`` each entry is ``min(1, ...)``. A creditor with zero equity gets 1 on every
    exposure (any loss defaults it).
    """
    a: Any = sp.csr_array(network.exposures).astype(np.float64, copy=True)
    equity = np.asarray(network.equity, dtype=np.float64)
    row = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    e = equity[row]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(e > 0.0, a.data / np.where(e > 0.0, e, 1.0), 1.0)
    a.data = np.minimum(w, 1.0) if cap else w
    a.eliminate_zeros()
    out: sp.csr_array = a
    return out


def node_weights(
    network: ExposureNetwork, weighting: str, model: str = "weighting"
) -> tuple[np.ndarray, str]:
    """Return the weights normalised to sum 1, and the weighting actually used.

    ``auto`` uses the ``weight`` column when it is given for at least one node (a column
    blank throughout is not given), otherwise equity; negative equity weighs 0.
    """
    require_choice("weighting", weighting, WEIGHTINGS)
    used = weighting
    if weighting == "auto":
        given = network.weight is not None and not np.isnan(network.weight).all()
        used = "weight" if given else "equity"
    if used == "weight":
        w = node_column(network, "weight", model)
        require_nonnegative(w, network.ids, "weight")
    elif used == "equity":
        w = starting_equity(network, model)[0]
    else:
        w = np.ones(network.n)
    total = w.sum()
    return (w / total if total > 0 else np.full(network.n, 1.0 / max(network.n, 1))), used


def _passed_on(u: np.ndarray, sent: np.ndarray, variant: str) -> np.ndarray:
    """Distress each node passes on this round (once only for ``single-hit``)."""
    p: np.ndarray = np.minimum(u, 1.0) - sent
    if variant == "single-hit":
        p[sent > 0.0] = 0.0
    return p


def _propagate(
    big_w: sp.csr_array,
    h0: np.ndarray,
    equity: np.ndarray,
    ids: tuple[str, ...],
    variant: str,
    tol: float,
    max_rounds: int,
    default_threshold: float,
) -> tuple[np.ndarray, np.ndarray, list[Round], list[Transmission], int]:
    """Run the rounds; return the stress, the defaults, rounds, paths and the round count."""
    by_column = sp.csc_array(big_w)
    u = h0.copy()
    sent = np.zeros_like(u)
    dead = u >= default_threshold
    rounds: list[Round] = [snapshot(0, ids, np.minimum(u, 1.0), dead)]
    paths: list[Transmission] = []

    p = _passed_on(u, sent, variant)
    t = 0
    while True:
        t += 1
        sent += p
        hit = big_w @ p
        u_next = u + hit
        diff = float(np.sqrt(np.sum(hit * hit)))
        if diff > 0.0:
            paths.extend(
                column_transmissions(
                    t, by_column, p, ids, "interbank", row_scale=equity, min_loss=tol
                )
            )
        p = _passed_on(u_next, sent, variant)
        u = u_next
        now_dead = u >= default_threshold
        if diff > 0.0:
            rounds.append(snapshot(t, ids, np.minimum(u, 1.0), now_dead & ~dead))
        dead = now_dead
        if diff < tol:
            break
        if t >= max_rounds:
            raise ConvergenceError(
                f"debtrank did not converge in {max_rounds} rounds (change {diff:.3g})",
                rounds=t,
            )
    return u, dead, rounds, paths, t


@accepts_old_names("debtrank")
def debtrank(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    variant: str = "single-hit",
    cap: bool = True,
    weighting: str = "auto",
    tol: float = 1e-12,
    max_rounds: int = DEFAULTS["max_rounds"],
    default_threshold: float = 1.0 - 1e-12,
) -> ContagionResult:
    r"""Propagate distress with DebtRank.

    Parameters
    ----------
    network : ExposureNetwork
        ``exposures[i, j]`` is what ``j`` owes ``i``; ``equity`` is the capital buffer.
    shocks : mapping of str to float, optional
        Initial relative equity loss ``h_i(0)`` per node id, each in [0, 1].
    defaults : iterable of str
        Ids whose equity is wiped at the start (``h_i(0) = 1``).
    variant : {"single-hit", "linear"}
        ``single-hit`` (Battiston et al. 2012): a node passes on its distress once, in the
        round after it is first hit, then becomes inactive. ``linear`` (Bardoscia et al.
        2015): every increase of distress is passed on, as long as it lasts.
    cap : bool
        Cap the impact at 1: ``W_ij = min(1, A_ij / E_i)``.
    weighting : {"auto", "weight", "equity", "equal"}
        Node weights for the total (normalised to sum 1); ``auto`` uses the ``weight``
        column when given, otherwise equity.
    tol : float
        Stop when the Euclidean norm of the change in (uncapped) distress is below ``tol``.
    max_rounds : int
        Raise :class:`ConvergenceError` past this many rounds.
    default_threshold : float
        A node counts as defaulted when its cumulative distress reaches this level.

    Returns
    -------
    ContagionResult
        ``relative_loss`` is ``h_i(T)``; ``totals["debtrank"]`` is the additional stress
        :math:`\sum_i w_i (h_i(T) - h_i(0))`; ``totals["gross_loss"]`` the losses passed to
        creditors including those beyond their equity.

    Raises
    ------
    ContagionInputError
        An unknown id, a shock outside [0, 1], equity not given, negative exposures, an
        unknown variant or weighting.
    ConvergenceError
        The distress still changes after ``max_rounds`` rounds.

    Examples
    --------
    ``b`` lends 5 to ``a`` with equity 10; ``a`` defaults:

    >>> import numpy as np, scipy.sparse as sp
    >>> net = ExposureNetwork(
    ...     ids=("a", "b"), equity=np.array([4.0, 10.0]),
    ...     exposures=sp.csr_array(np.array([[0.0, 0.0], [5.0, 0.0]])),
    ...     weight=np.array([1.0, 1.0]))
    >>> r = debtrank(net, defaults=["a"])
    >>> round(r.node("b").relative_loss, 2), round(r.totals["debtrank"], 2)
    (0.5, 0.25)
    """
    variant = require_choice("variant", variant, VARIANTS)
    require_positive("tol", tol)
    if max_rounds < 1:
        raise ContagionInputError(f"max_rounds is {max_rounds}; expected >= 1")
    w, used = (
        node_weights(network, weighting, "debtrank") if network.n else (np.zeros(0), weighting)
    )
    params = {
        "variant": variant,
        "cap": bool(cap),
        "weighting": used,
        "orientation": "exposures[creditor, debtor]",
        "tol": tol,
        "max_rounds": max_rounds,
        "default_threshold": default_threshold,
        "insolvent": INSOLVENT,
    }
    ids = network.ids
    h0 = initial_stress(network, shocks, defaults)
    if network.n == 0:
        return empty_result("debtrank", params, {"debtrank": 0.0, "original_stress": 0.0})
    equity, insolvent = starting_equity(network, "debtrank")
    h0[insolvent] = 1.0
    if network.exposures.nnz and network.exposures.data.min() < 0:
        raise ContagionInputError("exposures: negative amount")
    big_w = impact_matrix(network, cap=cap)

    u, dead, rounds, paths, t = _propagate(
        big_w, h0, equity, ids, variant, tol, max_rounds, default_threshold
    )
    h = np.minimum(u, 1.0)
    totals = stress_totals("debtrank", w, equity, u, h0, dead, h0 >= default_threshold, t)
    return finish_stress("debtrank", params, ids, (rounds, paths), dead, equity, h, totals)
