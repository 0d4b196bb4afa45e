"""Results as Parquet: one row per node, and a rounds table only when asked for.

JSON (``ContagionResult.to_json``) suits small networks; at a million nodes writing every
round's snapshot as JSON costs more than the model. :func:`write_parquet` writes the node
columns straight from the result's arrays (no Python object per node).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graph.contagion.result import ContagionResult, LossSnapshot, NodeTable

__all__ = ["node_table", "rounds_table", "write_parquet"]


def node_table(result: ContagionResult) -> Any:
    """Return the nodes as an Arrow table: id, defaulted, equity_loss, relative_loss, payment.

    Examples
    --------
    >>> from graph.contagion.result import NodeOutcome
    >>> r = ContagionResult("m", {}, (), (NodeOutcome("a", True, 2.0, 1.0, None),), {})
    >>> node_table(r).column("equity_loss").to_pylist()
    [2.0]
    """
    import pyarrow as pa

    nodes = result.nodes
    if isinstance(nodes, NodeTable):
        cols = {
            "id": pa.array(nodes._ids, pa.string()),
            "defaulted": pa.array(nodes._defaulted),
            "equity_loss": pa.array(nodes._equity_loss),
            "relative_loss": pa.array(nodes._relative_loss),
            "payment": pa.array(
                nodes._payment if nodes._payment is not None else np.full(len(nodes), np.nan)
            ),
        }
    else:
        cols = {
            "id": pa.array([n.id for n in nodes], pa.string()),
            "defaulted": pa.array([n.defaulted for n in nodes], pa.bool_()),
            "equity_loss": pa.array([n.equity_loss for n in nodes], pa.float64()),
            "relative_loss": pa.array([n.relative_loss for n in nodes], pa.float64()),
            "payment": pa.array(
                [np.nan if n.payment is None else n.payment for n in nodes], pa.float64()
            ),
        }
    return pa.table(cols)


def rounds_table(result: ContagionResult) -> Any:
    """Return one row per round and node with a loss: round, id, relative_loss, new_default."""
    import pyarrow as pa

    rounds: list[np.ndarray] = []
    ids: list[Any] = []
    losses: list[np.ndarray] = []
    new: list[np.ndarray] = []
    for r in result.rounds:
        snap = r.relative_loss
        if isinstance(snap, LossSnapshot):
            names = pa.array(list(snap), pa.string())
            values = np.asarray(snap._values, dtype=np.float64)
        else:
            names = pa.array(list(snap), pa.string())
            values = np.asarray(list(snap.values()), dtype=np.float64)
        fresh = set(r.new_defaults)
        rounds.append(np.full(len(names), r.index, dtype=np.int64))
        ids.append(names)
        losses.append(values)
        new.append(np.array([n in fresh for n in names.to_pylist()], dtype=bool))
    if not ids:
        return pa.table(
            {
                "round": pa.array([], pa.int64()),
                "id": pa.array([], pa.string()),
                "relative_loss": pa.array([], pa.float64()),
                "new_default": pa.array([], pa.bool_()),
            }
        )
    return pa.table(
        {
            "round": pa.array(np.concatenate(rounds)),
            "id": pa.concat_arrays(ids),
            "relative_loss": pa.array(np.concatenate(losses)),
            "new_default": pa.array(np.concatenate(new)),
        }
    )


def write_parquet(
    result: ContagionResult, path: str | Path, *, rounds: str | Path | None = None
) -> Path:
    """Write the node table to ``path`` (and the rounds table to ``rounds`` when given).

    The model, its parameters and its totals go in the file's metadata (``fallout``, JSON).
    """
    import json

    import pyarrow.parquet as pq

    table = node_table(result)
    meta = {"model": result.model, "params": result.params, "totals": dict(result.totals)}
    table = table.replace_schema_metadata(
        {"fallout": json.dumps(meta, default=str, allow_nan=True)}
    )
    out = Path(path)
    pq.write_table(table, out)
    if rounds is not None:
        pq.write_table(rounds_table(result), Path(rounds))
    return out
