"""The greatest clearing vector with default costs, by waves of fictitious defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from graph.contagion._common import finish, snapshot, transmissions
from graph.contagion._validate import (
    initial_stress,
    node_column,
    require_choice,
    require_fraction,
    require_nonnegative,
)
from graph.contagion.network import ExposureNetwork
from graph.contagion.result import ContagionResult, Round, Transmission
from graph.errors import ContagionInputError, ConvergenceError

__all__ = ["SENIORITY", "clear"]

SENIORITY = ("pari-passu", "senior")


def _column_scale(a: sp.csr_array, totals: np.ndarray) -> sp.csr_array:
    """Return ``a[i, j] / totals[j]`` (0 where ``totals[j] == 0``)."""
    inv = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    out: Any = sp.csr_array(a).astype(np.float64, copy=True)
    out.data = out.data * inv[out.indices]
    scaled: sp.csr_array = out
    return scaled


def _solve_defaulters(
    pi: sp.csr_array,
    d: np.ndarray,
    rhs: np.ndarray,
    beta: float,
    cap: np.ndarray,
    max_iter: int,
) -> np.ndarray:
    """Solve ``p_D = rhs + beta * Pi_DD p_D`` exactly; iterate if the system is singular."""
    sub = sp.csc_array(pi[d][:, d])
    system = sp.csc_array(sp.eye_array(d.size, format="csc") - beta * sub)
    try:
        solved: np.ndarray = np.asarray(splu(system).solve(rhs), dtype=np.float64)
        return solved
    except RuntimeError:  # singular: a closed ring of defaulters; take the greatest solution
        p = cap.copy()
        for _ in range(max_iter):
            nxt = np.minimum(cap, np.maximum(0.0, rhs + beta * (sub @ p)))
            if np.max(np.abs(nxt - p), initial=0.0) <= 1e-13 * max(1.0, float(cap.max())):
                done: np.ndarray = nxt
                return done
            p = nxt
        raise ConvergenceError("clearing payments did not converge", rounds=max_iter) from None


def _outside_debt(network: ExposureNetwork) -> np.ndarray:
    """Return the outside debt of every node; not given (no column, or NaN) is none."""
    if network.external_liabilities is None:
        return np.zeros(network.n)
    x = np.asarray(network.external_liabilities, dtype=np.float64)
    x = np.where(np.isnan(x), 0.0, x)
    require_nonnegative(x, network.ids, "external_liabilities")
    return x


def clear(
    model: str,
    network: ExposureNetwork,
    *,
    shocks: Mapping[str, float] | None,
    defaults: Iterable[str],
    alpha: float,
    beta: float,
    external_liabilities: str,
    tol: float,
    max_iter: int,
    extra_params: Mapping[str, Any] | None = None,
) -> ContagionResult:
    """Compute the greatest clearing vector (shared by Eisenberg-Noe and Rogers-Veraart)."""
    require_choice("external_liabilities", external_liabilities, SENIORITY)
    require_fraction("alpha", alpha)
    require_fraction("beta", beta)
    params: dict[str, Any] = {
        **(extra_params or {}),
        "external_liabilities": external_liabilities,
        "orientation": "exposures[creditor, debtor]",
        "shock": "fraction of external assets",
        "default": "external assets set to 0",
        "tol": tol,
    }
    ids = network.ids
    n = network.n
    e0 = node_column(network, "external_assets", model)
    require_nonnegative(e0, ids, "external_assets")
    x = _outside_debt(network)
    shock = initial_stress(network, shocks, ())
    e = e0 * (1.0 - shock)
    forced = np.zeros(n, dtype=bool)
    defaults = list(defaults)
    if defaults:
        forced[initial_stress(network, None, defaults) > 0] = True
        e[forced] = 0.0

    a: Any = sp.csr_array(network.exposures).astype(np.float64)
    if a.nnz and a.data.min() < 0:
        raise ContagionInputError("exposures: negative amount")
    inter_assets = np.asarray(a.sum(axis=1)).ravel()
    inter_liab = np.asarray(a.sum(axis=0)).ravel()
    pbar = inter_liab + x
    senior = external_liabilities == "senior"
    cap = inter_liab if senior else pbar
    offset = x if senior else np.zeros(n)
    pi = _column_scale(a, cap)
    equity0 = e0 + inter_assets - pbar

    p = cap.copy()  # payments into the interbank system
    dead = np.zeros(n, dtype=bool)
    rounds: list[Round] = []
    paths: list[Transmission] = []
    wave = 0
    scale = max(1.0, float(pbar.max(initial=0.0)))
    while True:
        resources = e + pi @ p
        now = (resources - offset < cap - tol * scale) | forced
        new = now & ~dead
        if not new.any():
            break
        wave += 1
        dead |= now
        d = np.flatnonzero(dead)
        alive = ~dead
        p_alive = np.where(alive, p, 0.0)
        rhs = alpha * e[d] + beta * (pi @ p_alive)[d] - offset[d]
        zero = np.zeros(d.size, dtype=bool)
        for _ in range(d.size + 1):  # nodes that cannot pay outside creditors pay 0 inside
            live = ~zero
            sol = np.zeros(d.size)
            if live.any():
                sol_live = _solve_defaulters(pi, d[live], rhs[live], beta, cap[d[live]], max_iter)
                sol[live] = sol_live
            neg = live & (sol < 0.0)
            if not neg.any():
                break
            zero |= neg
            # a node paying 0 inside sends nothing: right-hand sides stay valid
        new_p = p.copy()
        new_p[d] = np.clip(sol, 0.0, cap[d])
        drop = p - new_p
        if drop.any():
            losses = sp.csr_array(pi @ sp.diags_array(drop))
            paths.extend(transmissions(wave, losses, ids, "interbank", min_loss=0.0))
        p = new_p
        h = _relative_loss(e, pi, p, pbar, cap, offset, equity0, dead, alpha, beta, senior)[1]
        rounds.append(snapshot(wave, ids, h, new))
        if wave > n + 1:
            raise ConvergenceError(f"{model}: too many default waves", rounds=wave)

    eq_loss, h, total_paid = _relative_loss(
        e, pi, p, pbar, cap, offset, equity0, dead, alpha, beta, senior
    )
    if not rounds:
        rounds.append(snapshot(0, ids, h, dead))
    totals = {
        "defaults": float(np.count_nonzero(dead)),
        "equity_loss": float(eq_loss.sum()),
        "payment_shortfall": float((pbar - total_paid).sum()),
        "rounds": float(wave),
    }
    return finish(
        model,
        params,
        ids,
        rounds=rounds,
        paths=paths,
        defaulted=dead,
        equity_loss=eq_loss,
        relative_loss=h,
        payment=total_paid,
        totals=totals,
    )


def _relative_loss(
    e: np.ndarray,
    pi: sp.csr_array,
    p: np.ndarray,
    pbar: np.ndarray,
    cap: np.ndarray,
    offset: np.ndarray,
    equity0: np.ndarray,
    dead: np.ndarray,
    alpha: float,
    beta: float,
    senior: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equity loss, relative loss and total payment (to all creditors) per node."""
    received = pi @ p
    equity = e + received - pbar
    if senior:
        available = np.where(dead, alpha * e + beta * received, e + received)
        total_paid = np.where(dead, np.minimum(pbar, available), pbar)
    else:
        total_paid = p
    equity = np.where(dead, 0.0, np.maximum(equity, 0.0))
    start = np.maximum(equity0, 0.0)
    loss = np.maximum(start - equity, 0.0)
    h = np.where(start > 0, loss / np.where(start > 0, start, 1.0), np.where(dead, 1.0, 0.0))
    return loss, np.clip(h, 0.0, 1.0), total_paid
