"""Which sentence moves the answer: the total loss with one number removed or moved to its band.

Each number the run rests on is tried alone: a stated exposure, deposit, holding or
secured loan is removed (as if its sentence were not there); a stated equity is moved
to the ends of the stated band; an assumed number to the ends of the assumed band (the
bands of :func:`graph.contagion.montecarlo.monte_carlo`, 90% of its draws). The rows
are ranked by how far the total loss moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion.combined import Channels
from graph.contagion.network import ExposureNetwork
from graph.projection import Figure, Projection

__all__ = ["ASSUMED_BAND", "STATED_BAND", "Sensitivity", "sensitivity"]

#: 5th and 95th percentiles of the mean-one lognormal factors of the Monte Carlo
STATED_BAND = (0.84, 1.17)
ASSUMED_BAND = (0.39, 2.0)
_EDGES = frozenset({"exposure", "deposit", "holding", "secured_loan", "collateral_quantity"})
_MOVABLE = _EDGES | {"equity", "ownership", "depth"}

Runner = Callable[[ExposureNetwork, Channels], float]


@dataclass(frozen=True)
class Sensitivity:
    """One number tried alone: the total loss at the two ends of its test."""

    figure: Figure
    test: str
    low: float
    high: float
    base: float

    @property
    def swing(self) -> float:
        """The larger move of the total loss, either way."""
        return max(abs(self.low - self.base), abs(self.high - self.base))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "subject": self.figure.subject,
            "field": self.figure.field,
            "value": self.figure.value,
            "provenance": self.figure.provenance,
            "relation_ids": list(self.figure.relation_ids),
            "rule": self.figure.rule,
            "test": self.test,
            "total_loss_low": self.low,
            "total_loss_high": self.high,
            "total_loss_base": self.base,
            "swing": self.swing,
        }


def _tests(f: Figure) -> tuple[str, float, float]:
    """Return the test of one figure: its name and the two values tried."""
    if f.assumed:
        lo, hi = ASSUMED_BAND
        return f"assumed band {lo:g}x-{hi:g}x", f.value * lo, f.value * hi
    if f.field in _EDGES:
        return "statement removed", 0.0, f.value
    lo, hi = STATED_BAND
    return f"stated band {lo:g}x-{hi:g}x", f.value * lo, f.value * hi


def _pair(subject: str, sep: str) -> tuple[str, str]:
    a, _, b = subject.partition(sep)
    return a, b


def _add(mat: sp.csr_array, i: int, j: int, delta: float) -> sp.csr_array:
    bump = sp.csr_array(([delta], ([i], [j])), shape=mat.shape)
    out = sp.csr_array(mat + bump)
    out.data = np.clip(out.data, 0.0, None)
    return out


def _moved(
    net: ExposureNetwork, ch: Channels, f: Figure, value: float
) -> tuple[ExposureNetwork, Channels]:
    """Return the network and channels with ``f`` set to ``value``."""
    index = net.index()
    aindex = {a: k for k, a in enumerate(net.asset_ids)}
    ratio = value / f.value if f.value else 0.0
    if f.field == "equity":
        equity = net.equity.copy()
        equity[index[f.subject]] = value
        return replace(net, equity=equity), ch
    if f.field in ("exposure", "deposit"):
        a, b = _pair(f.subject, "->")
        return replace(net, exposures=_add(net.exposures, index[a], index[b], value - f.value)), ch
    if f.field == "holding" and net.holdings is not None:
        a, t = _pair(f.subject, ":")
        return replace(net, holdings=_add(net.holdings, index[a], aindex[t], value - f.value)), ch
    if f.field == "secured_loan":
        a, b = _pair(f.subject, "->")
        loans = tuple(
            replace(x, amount=x.amount * ratio) if (x.lender, x.borrower) == (a, b) else x
            for x in net.loans
        )
        return replace(net, loans=loans), ch
    if f.field == "collateral_quantity":
        b, t = _pair(f.subject, ":")
        loans = tuple(
            replace(x, quantity=x.quantity * ratio) if (x.borrower, x.asset) == (b, t) else x
            for x in net.loans
        )
        return replace(net, loans=loans), ch
    if f.field == "depth" and net.depth is not None:
        depth = net.depth.copy()
        depth[aindex[f.subject]] = value
        return replace(net, depth=depth), ch
    if f.field == "ownership":
        a, b = _pair(f.subject, "->")
        links = tuple(
            replace(o, fraction=min(max(value, 0.0), 1.0)) if (o.owner, o.owned) == (a, b) else o
            for o in ch.ownership
        )
        return net, replace(ch, ownership=links)
    return net, ch


def _relevant(projection: Projection, about: set[str]) -> Iterable[Figure]:
    """Figures about the nodes and tokens a run touched (all of them when ``about`` is empty)."""
    for f in projection.figures:
        if f.field not in _MOVABLE or f.provenance == "none" or f.value == 0:
            continue
        ends = set(f.subject.replace("->", ":").split(":"))
        if not about or ends & about:
            yield f


def sensitivity(
    projection: Projection,
    run: Runner,
    base: float,
    *,
    about: Iterable[str] = (),
    top: int = 10,
) -> tuple[Sensitivity, ...]:
    """Try each number alone and rank them by how far the total loss moves.

    Parameters
    ----------
    projection : Projection
        The network and the provenance of its numbers.
    run : callable
        ``run(network, channels) -> total loss`` with the scenario fixed.
    base : float
        The total loss of the unmoved network.
    about : iterable of str
        Ids of the nodes and tokens the run touched; only numbers about them are tried
        (all are when empty).
    top : int
        Rows returned.

    Returns
    -------
    tuple of Sensitivity
        Largest swing first; numbers that move nothing are left out.
    """
    rows: list[Sensitivity] = []
    net, ch = projection.network, projection.channels
    tried: set[tuple[str, str, float, str]] = set()
    for f in _relevant(projection, set(about)):
        test, lo, hi = _tests(f)
        if (f.subject, f.field, f.value, test) in tried:
            continue
        tried.add((f.subject, f.field, f.value, test))
        low = run(*_moved(net, ch, f, lo))
        high = run(*_moved(net, ch, f, hi))
        row = Sensitivity(f, test, low, high, base)
        if row.swing > 1e-6 * max(abs(base), 1.0):
            rows.append(row)
    rows.sort(key=lambda r: (-r.swing, r.figure.subject, r.figure.field))
    return tuple(rows[:top])
