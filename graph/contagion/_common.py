"""Helpers shared by the models: round snapshots, contagion paths and node tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion.result import (
    ContagionResult,
    LossSnapshot,
    NodeTable,
    Round,
    Transmission,
)

__all__ = [
    "PATHS_PER_ROUND",
    "column_transmissions",
    "empty_result",
    "finish_stress",
    "finish",
    "snapshot",
    "stress_totals",
    "transmissions",
]

#: at most this many path steps are kept per round and channel: the largest losses
PATHS_PER_ROUND = 10_000


def snapshot(
    index: int,
    ids: Sequence[str],
    h: np.ndarray,
    new_defaults: np.ndarray,
    prices: Mapping[str, float] | None = None,
) -> Round:
    """Return the round-``index`` snapshot: new defaults and every non-zero relative loss."""
    hit = np.flatnonzero(h > 0.0)
    return Round(
        index=index,
        new_defaults=tuple(ids[k] for k in np.flatnonzero(new_defaults).tolist()),
        relative_loss=LossSnapshot(ids, hit, h[hit]),
        prices=dict(prices or {}),
    )


def transmissions(
    round_: int,
    losses: Any,
    ids: Sequence[str],
    channel: str,
    *,
    min_loss: float = 0.0,
) -> list[Transmission]:
    """Turn ``losses[target, source]`` (currency) into path steps ``source -> target``."""
    coo = sp.coo_array(losses)
    keep = (coo.data > min_loss) & (coo.row != coo.col)
    rows, cols, vals = coo.row[keep], coo.col[keep], coo.data[keep]
    if vals.size > PATHS_PER_ROUND:
        top = np.argpartition(-vals, PATHS_PER_ROUND)[:PATHS_PER_ROUND]
        top = top[np.lexsort((cols[top], rows[top]))]
        rows, cols, vals = rows[top], cols[top], vals[top]
    return [
        Transmission(round=round_, source=ids[j], target=ids[i], loss=v, channel=channel)
        for i, j, v in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True)
    ]


def column_transmissions(
    round_: int,
    by_column: Any,
    weights: np.ndarray,
    ids: Sequence[str],
    channel: str,
    *,
    row_scale: np.ndarray | None = None,
    min_loss: float = 0.0,
) -> list[Transmission]:
    """Path steps for ``row_scale[i] * by_column[i, j] * weights[j]``, over ``j`` with weight.

    ``by_column`` is a CSC matrix; only the columns with a non-zero weight are touched, so
    a round costs the size of its wavefront, not of the network.
    """
    cols = np.flatnonzero(weights)
    if cols.size == 0:
        return []
    sub = by_column[:, cols]
    counts = np.diff(sub.indptr)
    data = sub.data * np.repeat(weights[cols], counts)
    if row_scale is not None:
        data = data * row_scale[sub.indices]
    source = np.repeat(cols, counts)
    return transmissions(
        round_,
        sp.coo_array((data, (sub.indices, source)), shape=by_column.shape),
        ids,
        channel,
        min_loss=min_loss,
    )


def stress_totals(
    key: str,
    weight: np.ndarray,
    equity: np.ndarray,
    u: np.ndarray,
    h0: np.ndarray,
    dead: np.ndarray,
    dead_at_start: np.ndarray,
    rounds: int,
) -> dict[str, float]:
    """Totals of a stress model (DebtRank, cascade) from final and initial relative losses.

    ``u`` and ``h0`` may exceed 1 (losses beyond equity); the stress ``key`` counts them
    capped at 1, ``gross_loss`` uncapped.
    """
    h = np.minimum(u, 1.0)
    h_start = np.minimum(h0, 1.0)
    return {
        key: float(weight @ (h - h_start)),
        "original_stress": float(weight @ h_start),
        "equity_loss": float(equity @ (h - h_start)),
        "gross_loss": float(equity @ (u - h0)),
        "defaults": float(np.count_nonzero(dead)),
        "additional_defaults": float(np.count_nonzero(dead & ~dead_at_start)),
        "rounds": float(rounds),
    }


def empty_result(
    model: str, params: Mapping[str, Any], totals: Mapping[str, float]
) -> ContagionResult:
    """Return the result of a model run on a network without nodes."""
    return ContagionResult(model, dict(params), (), (), dict(totals))


def finish_stress(
    model: str,
    params: Mapping[str, Any],
    ids: Sequence[str],
    history: tuple[Sequence[Round], Sequence[Transmission]],
    defaulted: np.ndarray,
    equity: np.ndarray,
    h: np.ndarray,
    totals: Mapping[str, float],
) -> ContagionResult:
    """Assemble the result of a stress model: losses are ``equity * h``, no payments."""
    rounds, paths = history
    return finish(
        model,
        params,
        ids,
        rounds=rounds,
        paths=paths,
        defaulted=defaulted,
        equity_loss=equity * h,
        relative_loss=h,
        payment=None,
        totals=totals,
    )


def finish(
    model: str,
    params: Mapping[str, Any],
    ids: Sequence[str],
    *,
    rounds: Sequence[Round],
    paths: Sequence[Transmission],
    defaulted: np.ndarray,
    equity_loss: np.ndarray,
    relative_loss: np.ndarray,
    payment: np.ndarray | None,
    totals: Mapping[str, float],
) -> ContagionResult:
    """Assemble a :class:`ContagionResult` from column arrays."""
    return ContagionResult(
        model=model,
        params={**params, "paths_per_round": PATHS_PER_ROUND},
        rounds=tuple(rounds),
        nodes=NodeTable(ids, defaulted, equity_loss, relative_loss, payment),
        totals={k: float(v) for k, v in totals.items()},
        paths=tuple(paths),
    )
