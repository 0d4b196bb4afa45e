"""Results: the column-backed node table and snapshots serialise like plain objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graph.contagion import (
    ContagionResult,
    LossSnapshot,
    NodeOutcome,
    NodeTable,
    Round,
    Transmission,
    debtrank,
)

from ._nets import net


def _pair() -> tuple[ContagionResult, ContagionResult]:
    table = NodeTable(("a", "b\"q"), np.array([True, False]), np.array([4.0, 0.5]),
                      np.array([1.0, np.nan]), None)
    plain = tuple(table)
    snap = LossSnapshot(("a", "b\"q"), np.array([0]), np.array([1.0]))
    common = dict(
        model="m",
        params={"k": 1},
        rounds=(Round(0, ("a",), snap, {"x": 0.5}),),
        totals={"t": 1.0},
        paths=(Transmission(1, "a", "b\"q", 2.0, "interbank"),),
    )
    return ContagionResult(nodes=table, **common), ContagionResult(nodes=plain, **common)


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("paths", [False, True])
def test_table_result_serialises_like_plain_result(indent, paths) -> None:
    fast, plain = _pair()
    assert json.loads(fast.to_json(indent=indent, paths=paths)) == json.loads(
        plain.to_json(indent=indent, paths=paths)
    )
    doc = json.loads(fast.to_json(paths=paths))
    assert doc["nodes"][1] == {"id": "b\"q", "defaulted": False, "equity_loss": 0.5,
                               "relative_loss": None, "payment": None}


def test_node_table_is_a_sequence_of_outcomes() -> None:
    fast, plain = _pair()
    assert [n.to_dict() for n in fast.nodes] == [n.to_dict() for n in plain.nodes]
    assert len(fast.nodes) == 2 and fast.nodes[:1] == plain.nodes[:1]
    assert fast.nodes[0] == NodeOutcome("a", True, 4.0, 1.0, None)
    assert fast.node("a").equity_loss == 4.0
    with pytest.raises(KeyError):
        fast.node("zz")
    assert dict(fast.rounds[0].relative_loss) == {"a": 1.0}
    assert fast.rounds[0].relative_loss["a"] == 1.0


def test_model_json_round_trips() -> None:
    n = net("abc", [[0, 0, 0], [5, 0, 0], [0, 4, 0]], [2, 10, 8], weight=[1, 1, 1])
    r = debtrank(n, defaults=["a"])
    doc = json.loads(r.to_json(paths=True))
    assert doc == json.loads(json.dumps(r.to_dict(paths=True)))
    assert doc["rounds"][2]["relative_loss"] == {"a": 1.0, "b": 0.5, "c": 0.25}
    assert [(p["source"], p["target"], p["round"]) for p in doc["paths"]] == [
        ("a", "b", 1), ("b", "c", 2)
    ]
