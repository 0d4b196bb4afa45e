"""Eisenberg-Noe clearing payments: the greatest clearing vector by fictitious default."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph.contagion._clearing import clear
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import accepts_old_names
from graph.contagion.result import ContagionResult

__all__ = ["eisenberg_noe"]


@accepts_old_names("eisenberg-noe")
def eisenberg_noe(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    external_liabilities: str = "pari-passu",
    tol: float = 1e-12,
    max_rounds: int = 100_000,
) -> ContagionResult:
    r"""Clear the interbank system: who pays what when some cannot pay in full.

    Parameters
    ----------
    network : ExposureNetwork
        ``exposures[i, j]`` is what ``j`` owes ``i``; needs ``external_assets`` and
        ``external_liabilities`` (``equity`` is derived from the balance sheet).
    shocks : mapping of str to float, optional
        Fraction of each node's external assets lost, in [0, 1].
    defaults : iterable of str
        Ids whose external assets are set to zero.
    external_liabilities : {"pari-passu", "senior"}
        ``pari-passu``: outside creditors share pro rata with the other nodes (the
        paper's model). ``senior``: outside creditors are paid first and the rest goes to
        the interbank creditors.
    tol : float
        Relative tolerance of the default test (scaled by the largest obligation).
    max_rounds : int
        Iterations allowed when a ring of defaulters makes the linear system singular.

    Returns
    -------
    ContagionResult
        ``payment`` is the clearing payment :math:`p_i` to all creditors; ``rounds`` are
        the waves of the fictitious default algorithm.

    Raises
    ------
    ContagionInputError
        A missing column, an unknown id, a shock outside [0, 1], a negative amount.
    ConvergenceError
        A singular ring of defaulters does not settle within ``max_rounds`` iterations.

    Notes
    -----
    With :math:`\bar p_i` the total obligation of ``i``, :math:`\Pi_{ij} = L_{ij}/\bar p_j`
    and :math:`e_i` the external assets, the clearing vector is the greatest fixed point of

    .. math::

        p_i = \min\Bigl(\bar p_i,\; \max\bigl(0,\; e_i + \sum_j \Pi_{ij} p_j\bigr)\Bigr).

    The fictitious default algorithm starts from full payment; each wave adds the nodes that
    cannot pay in full given the others' payments, then solves the linear system of the
    defaulters exactly (sparse LU). It ends in at most ``n`` waves with the greatest
    clearing vector. Equity before the shock is :math:`e_i + \sum_j L_{ij} - \bar p_i`;
    a defaulted node's equity is 0. This is :func:`rogers_veraart` with
    :math:`\alpha = \beta = 1`.

    References
    ----------
    .. [1] L. Eisenberg, T. H. Noe, "Systemic Risk in Financial Systems", Management
       Science 47(2), 236-249 (2001). doi:10.1287/mnsc.47.2.236.9835

    Examples
    --------
    ``a`` owes ``b`` 10 and has 4 of outside assets:

    >>> import numpy as np, scipy.sparse as sp
    >>> net = ExposureNetwork(ids=("a", "b"), equity=np.zeros(2),
    ...     exposures=sp.csr_array(np.array([[0, 0], [10.0, 0]])),
    ...     external_assets=np.array([4.0, 1.0]), external_liabilities=np.zeros(2))
    >>> r = eisenberg_noe(net)
    >>> [n.payment for n in r.nodes], [n.defaulted for n in r.nodes]
    ([4.0, 0.0], [True, False])
    """
    return clear(
        "eisenberg-noe",
        network,
        shocks=shocks,
        defaults=defaults,
        alpha=1.0,
        beta=1.0,
        external_liabilities=external_liabilities,
        tol=tol,
        max_iter=max_rounds,
    )
