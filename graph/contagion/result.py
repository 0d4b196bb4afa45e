"""Typed, frozen results of contagion models, serialisable to the CLI's JSON shape."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_str
from typing import Any, overload

import numpy as np

__all__ = ["ContagionResult", "LossSnapshot", "NodeOutcome", "NodeTable", "Round", "Transmission"]


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


_SLOT = "\x00nodes\x00"


def _json_float(x: float) -> str:
    return "null" if x != x or x in (math.inf, -math.inf) else repr(x)


def _json_floats(values: np.ndarray) -> list[str]:
    """JSON text of each float (``null`` for nan/inf), using the C encoder when possible."""
    if len(values) and bool(np.isfinite(values).all()):
        return json.dumps(values.tolist())[1:-1].split(", ")
    return [_json_float(x) for x in values.tolist()]


class NodeTable(Sequence[NodeOutcome]):
    """Node outcomes held as columns: a read-only sequence of :class:`NodeOutcome`.

    Models return this instead of a tuple so that a million-node result is not a million
    Python objects; items are built on access, and :meth:`ContagionResult.to_json`
    serialises the columns directly. ``payment`` may be ``None`` (no clearing payment).
    """

    __slots__ = ("_defaulted", "_equity_loss", "_ids", "_payment", "_relative_loss")

    def __init__(
        self,
        ids: Sequence[str],
        defaulted: np.ndarray,
        equity_loss: np.ndarray,
        relative_loss: np.ndarray,
        payment: np.ndarray | None = None,
    ) -> None:
        n = len(ids)
        for name, arr in (
            ("defaulted", defaulted),
            ("equity_loss", equity_loss),
            ("relative_loss", relative_loss),
            ("payment", payment),
        ):
            if arr is not None and len(arr) != n:
                raise ValueError(f"{name} has {len(arr)} values; expected {n}")
        self._ids = tuple(ids)
        self._defaulted = np.asarray(defaulted, dtype=bool)
        self._equity_loss = np.asarray(equity_loss, dtype=np.float64)
        self._relative_loss = np.asarray(relative_loss, dtype=np.float64)
        self._payment = None if payment is None else np.asarray(payment, dtype=np.float64)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, i: int) -> NodeOutcome: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[NodeOutcome, ...]: ...

    def __getitem__(self, i: int | slice) -> NodeOutcome | tuple[NodeOutcome, ...]:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        k = range(len(self))[i]
        return NodeOutcome(
            id=self._ids[k],
            defaulted=bool(self._defaulted[k]),
            equity_loss=float(self._equity_loss[k]),
            relative_loss=float(self._relative_loss[k]),
            payment=None if self._payment is None else float(self._payment[k]),
        )

    def __iter__(self) -> Iterator[NodeOutcome]:
        return (self[k] for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NodeTable({len(self)} nodes)"

    def json_items(self, encoded_ids: Sequence[str] | None = None) -> list[str]:
        """Return one compact JSON object per node, in order (fast, column-wise)."""
        ids = list(encoded_ids) if encoded_ids is not None else [_json_str(i) for i in self._ids]
        dflt = ["true" if d else "false" for d in self._defaulted.tolist()]
        el = _json_floats(self._equity_loss)
        rl = _json_floats(self._relative_loss)
        pay = ["null"] * len(ids) if self._payment is None else _json_floats(self._payment)
        return [
            f'{{"id": {a}, "defaulted": {b}, "equity_loss": {c}, '
            f'"relative_loss": {d}, "payment": {e}}}'
            for a, b, c, d, e in zip(ids, dflt, el, rl, pay, strict=True)
        ]


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


class LossSnapshot(Mapping[str, float]):
    """``id -> relative loss`` for the nodes with a loss, held as two arrays.

    A read-only mapping, so a round of a million-node cascade is not a million-entry dict.
    """

    __slots__ = ("_ids", "_pos", "_values", "_where")

    def __init__(self, ids: Sequence[str], positions: np.ndarray, values: np.ndarray) -> None:
        self._ids = ids
        self._pos = np.asarray(positions, dtype=np.int64)
        self._values = np.asarray(values, dtype=np.float64)
        self._where: dict[str, int] | None = None

    def __getitem__(self, key: str) -> float:
        if self._where is None:
            self._where = {self._ids[p]: k for k, p in enumerate(self._pos.tolist())}
        return float(self._values[self._where[key]])

    def __iter__(self) -> Iterator[str]:
        ids = self._ids
        return (ids[p] for p in self._pos.tolist())

    def __len__(self) -> int:
        return int(self._pos.size)

    def __repr__(self) -> str:
        return f"LossSnapshot({len(self)} nodes)"

    def json_text(self, encoded_ids: Sequence[str]) -> str:
        """Return the JSON object text, given every node id already JSON-encoded."""
        if not len(self):
            return "{}"
        keys = [encoded_ids[p] for p in self._pos.tolist()]
        vals = _json_floats(self._values)
        return "{" + ", ".join([f"{k}: {v}" for k, v in zip(keys, vals, strict=True)]) + "}"

    def as_dict(self) -> dict[str, float]:
        """Return a plain dict (fast)."""
        ids = self._ids
        return dict(zip([ids[p] for p in self._pos.tolist()], self._values.tolist(), strict=True))


@dataclass(frozen=True)
class Round:
    """A snapshot after one round, for round-by-round replay."""

    index: int
    new_defaults: tuple[str, ...] = ()
    relative_loss: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of one round (only nodes with a loss are listed)."""
        losses = (
            self.relative_loss.as_dict()
            if isinstance(self.relative_loss, LossSnapshot)
            else {k: _num(v) for k, v in self.relative_loss.items() if v}
        )
        return {
            "round": self.index,
            "new_defaults": list(self.new_defaults),
            "relative_loss": losses,
            "prices": {k: _num(v) for k, v in self.prices.items()},
        }


@dataclass(frozen=True)
class ContagionResult:
    """What a model returns: the conventions used, the rounds, and each node's outcome."""

    model: str
    params: Mapping[str, Any]
    rounds: tuple[Round, ...]
    nodes: Sequence[NodeOutcome]
    totals: Mapping[str, float]
    paths: tuple[Transmission, ...] = ()

    def node(self, id: str) -> NodeOutcome:
        """Return the outcome of node ``id`` (``KeyError`` if absent)."""
        if isinstance(self.nodes, NodeTable):
            try:
                return self.nodes[self.nodes._ids.index(id)]
            except ValueError:
                raise KeyError(id) from None
        for n in self.nodes:
            if n.id == id:
                return n
        raise KeyError(id)

    def to_dict(self, *, paths: bool = False, nodes: bool = True) -> dict[str, Any]:
        """Return the ``fallout contagion run --json`` object (``paths`` added on request)."""
        out: dict[str, Any] = {
            "model": self.model,
            "params": dict(self.params),
            "rounds": [r.to_dict() for r in self.rounds],
            "totals": {k: _num(v) for k, v in self.totals.items()},
        }
        if nodes:
            out["nodes"] = [n.to_dict() for n in self.nodes]
        if paths:
            out["paths"] = [p.to_dict() for p in self.paths]
        return out

    def _rounds_json(self, encoded: list[str] | None = None) -> list[str]:
        """One compact JSON text per round; large snapshots are written from their arrays."""
        out = []
        for r in self.rounds:
            snap = r.relative_loss
            if not isinstance(snap, LossSnapshot) or len(snap) < 1000:
                out.append(json.dumps(r.to_dict(), allow_nan=False))
                continue
            if encoded is None or len(encoded) != len(snap._ids):
                encoded = [_json_str(i) for i in snap._ids]
            doc = {
                "round": r.index,
                "new_defaults": list(r.new_defaults),
                "relative_loss": _SLOT,
                "prices": {k: _num(v) for k, v in r.prices.items()},
            }
            text = json.dumps(doc, allow_nan=False)
            out.append(text.replace(json.dumps(_SLOT), snap.json_text(encoded), 1))
        return out

    def to_json(self, *, paths: bool = False, indent: int | None = 2) -> str:
        """Serialise :meth:`to_dict` to JSON (one compact line per node)."""
        if not isinstance(self.nodes, NodeTable):
            return json.dumps(self.to_dict(paths=paths), indent=indent, allow_nan=False)
        out: dict[str, Any] = {
            "model": self.model,
            "params": dict(self.params),
            "rounds": _SLOT + "rounds",
            "totals": {k: _num(v) for k, v in self.totals.items()},
            "nodes": _SLOT + "nodes",
        }
        if paths:
            out["paths"] = _SLOT + "paths"
        head = json.dumps(out, indent=indent, allow_nan=False)
        encoded = [_json_str(i) for i in self.nodes._ids]
        parts = {
            "rounds": self._rounds_json(encoded),
            "nodes": self.nodes.json_items(encoded),
            "paths": [json.dumps(p.to_dict(), allow_nan=False) for p in self.paths]
            if paths
            else [],
        }
        for key, items in parts.items():
            slot = json.dumps(_SLOT + key)
            if slot not in head:
                continue
            if not items:
                body = "[]"
            elif indent is None:
                body = "[" + ", ".join(items) + "]"
            else:
                pad = "\n" + " " * indent * 2
                body = "[" + pad + ("," + pad).join(items) + "\n" + " " * indent + "]"
            cut = head.index(slot)
            head = head[:cut] + body + head[cut + len(slot) :]
        return head
