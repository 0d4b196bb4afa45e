"""Typed, frozen results of contagion models, serialisable to the CLI's JSON shape."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ContagionResult", "NodeOutcome", "Round", "Transmission"]


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class NodeOutcome:
    """The end state of one node."""

    id: str
    defaulted: bool
    equity_loss: float
    relative_loss: float
    payment: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of one node."""
        return {
            "id": self.id,
            "defaulted": bool(self.defaulted),
            "equity_loss": _num(self.equity_loss),
            "relative_loss": _num(self.relative_loss),
            "payment": _num(self.payment),
        }


@dataclass(frozen=True)
class Transmission:
    """Loss carried along one edge in one round (a step of a contagion path)."""

    round: int
    source: str
    target: str
    loss: float
    channel: str
    relation_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of one step."""
        return {
            "round": self.round,
            "source": self.source,
            "target": self.target,
            "loss": _num(self.loss),
            "channel": self.channel,
            "relation_ids": list(self.relation_ids),
        }


@dataclass(frozen=True)
class Round:
    """A snapshot after one round, for round-by-round replay."""

    index: int
    new_defaults: tuple[str, ...] = ()
    relative_loss: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of one round (only nodes with a loss are listed)."""
        return {
            "round": self.index,
            "new_defaults": list(self.new_defaults),
            "relative_loss": {k: _num(v) for k, v in self.relative_loss.items() if v},
            "prices": {k: _num(v) for k, v in self.prices.items()},
        }


@dataclass(frozen=True)
class ContagionResult:
    """What a model returns: the conventions used, the rounds, and each node's outcome."""

    model: str
    params: Mapping[str, Any]
    rounds: tuple[Round, ...]
    nodes: tuple[NodeOutcome, ...]
    totals: Mapping[str, float]
    paths: tuple[Transmission, ...] = ()

    def node(self, id: str) -> NodeOutcome:
        """Return the outcome of node ``id`` (``KeyError`` if absent)."""
        for n in self.nodes:
            if n.id == id:
                return n
        raise KeyError(id)

    def to_dict(self, *, paths: bool = False) -> dict[str, Any]:
        """Return the ``fallout contagion run --json`` object (``paths`` added on request)."""
        out: dict[str, Any] = {
            "model": self.model,
            "params": dict(self.params),
            "rounds": [r.to_dict() for r in self.rounds],
            "totals": {k: _num(v) for k, v in self.totals.items()},
            "nodes": [n.to_dict() for n in self.nodes],
        }
        if paths:
            out["paths"] = [p.to_dict() for p in self.paths]
        return out

    def to_json(self, *, paths: bool = False, indent: int | None = 2) -> str:
        """Serialise :meth:`to_dict` to JSON."""
        return json.dumps(self.to_dict(paths=paths), indent=indent, allow_nan=False)
