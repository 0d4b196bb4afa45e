"""Small builders shared by the contagion tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from graph.contagion import ExposureNetwork


def net(ids: str | list[str], exposures: Any, equity: Any, **kw: Any) -> ExposureNetwork:
    """``exposures[i][j]``: what ``j`` owes ``i`` (creditor rows)."""
    ids_t = tuple(ids)
    a = np.asarray(exposures, dtype=float).reshape(len(ids_t), len(ids_t))
    extra = {k: (np.asarray(v, dtype=float) if isinstance(v, list) else v) for k, v in kw.items()}
    return ExposureNetwork(
        ids=ids_t, equity=np.asarray(equity, dtype=float), exposures=sp.csr_array(a), **extra
    )


def nrm_network(path: Path) -> ExposureNetwork:
    """The 125-bank network of the NetworkRiskMeasures README (creditor rows)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = tuple(n["id"] for n in data["nodes"])
    at = {k: i for i, k in enumerate(ids)}
    rows = [at[e["creditor"]] for e in data["edges"]]
    cols = [at[e["debtor"]] for e in data["edges"]]
    amounts = [e["amount"] for e in data["edges"]]
    return ExposureNetwork(
        ids=ids,
        equity=np.array([n["buffer"] for n in data["nodes"]]),
        exposures=sp.csr_array((amounts, (rows, cols)), shape=(len(ids), len(ids))),
        weight=np.array([n["weight"] for n in data["nodes"]]),
    )
