"""Rogers-Veraart clearing with default costs on external and interbank assets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graph.contagion._clearing import clear
from graph.contagion.network import ExposureNetwork
from graph.contagion.params import accepts_old_names
from graph.contagion.result import ContagionResult

__all__ = ["rogers_veraart"]


@accepts_old_names("rogers-veraart")
def rogers_veraart(
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None = None,
    defaults: Iterable[str] = (),
    alpha: float = 1.0,
    beta: float = 1.0,
    external_liabilities: str = "pari-passu",
    tol: float = 1e-12,
    max_rounds: int = 100_000,
) -> ContagionResult:
    r"""Clear the system when a defaulted node realises only part of its assets.

    Parameters
    ----------
    network : ExposureNetwork
        ``exposures[i, j]`` is what ``j`` owes ``i``; needs ``external_assets`` and
        ``external_liabilities``.
    shocks : mapping of str to float, optional
        Fraction of each node's external assets lost, in [0, 1].
    defaults : iterable of str
        Ids whose external assets are set to zero.
    alpha : float
        Fraction of external assets a defaulted node realises, in [0, 1].
    beta : float
        Fraction of interbank assets a defaulted node realises, in [0, 1].
    external_liabilities : {"pari-passu", "senior"}
        How outside creditors rank against the other nodes (see :func:`eisenberg_noe`).
    tol : float
        Relative tolerance of the default test.
    max_rounds : int
        Iterations allowed when the defaulters' linear system is singular.

    Returns
    -------
    ContagionResult
        ``payment`` is the clearing payment; ``rounds`` are the waves of the algorithm.

    Raises
    ------
    ContagionInputError
        A missing column, an unknown id, ``alpha`` or ``beta`` or a shock outside [0, 1].
    ConvergenceError
        A singular ring of defaulters does not settle within ``max_rounds`` iterations.

    Notes
    -----
    The greatest fixed point of

    .. math::

        p_i = \begin{cases} \bar p_i & \text{if } e_i + \sum_j \Pi_{ij} p_j \ge \bar p_i,\\
        \alpha e_i + \beta \sum_j \Pi_{ij} p_j & \text{otherwise,} \end{cases}

    found by the paper's greatest clearing vector algorithm: start from full payment, add
    the nodes that cannot pay, solve the defaulters' linear system, repeat until no new
    default. With :math:`\alpha = \beta = 1` this is Eisenberg-Noe.

    References
    ----------
    .. [1] L. C. G. Rogers, L. A. M. Veraart, "Failure and Rescue in an Interbank
       Network", Management Science 59(4), 882-898 (2013). doi:10.1287/mnsc.1120.1569

    Examples
    --------
    ``a`` owes ``b`` 10 and has 4 of outside assets, of which it realises half:

    >>> import numpy as np, scipy.sparse as sp
    >>> net = ExposureNetwork(ids=("a", "b"), equity=np.zeros(2),
    ...     exposures=sp.csr_array(np.array([[0, 0], [10.0, 0]])),
    ...     external_assets=np.array([4.0, 1.0]), external_liabilities=np.zeros(2))
    >>> r = rogers_veraart(net, alpha=0.5, beta=0.5)
    >>> r.node("a").payment
    2.0
    """
    return clear(
        "rogers-veraart",
        network,
        shocks=shocks,
        defaults=defaults,
        alpha=alpha,
        beta=beta,
        external_liabilities=external_liabilities,
        tol=tol,
        max_iter=max_rounds,
        extra_params={"alpha": float(alpha), "beta": float(beta)},
    )
