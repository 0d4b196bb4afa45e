"""The one table of model parameters: their names, defaults, meaning and old names.

Every model takes its parameters under the names of :data:`PARAMETERS` and its defaults
from :data:`DEFAULTS`. The names models used before are still accepted
(:data:`OLD_NAMES`): ``threshold`` for ``default_threshold`` (``sale_threshold`` in the
fire-sale model), ``max_iter`` for ``max_rounds``, ``ltv_reset`` for ``ltv_target`` and
``lgd`` for ``recovery`` (as ``1 - lgd``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from graph.contagion._validate import require_fraction
from graph.errors import ContagionInputError

__all__ = [
    "DEFAULTS",
    "OLD_NAMES",
    "PARAMETERS",
    "Param",
    "accepts_old_names",
    "parameter_table",
    "translate",
]

_ALL = (
    "combined",
    "debtrank",
    "eisenberg-noe",
    "rogers-veraart",
    "cascade",
    "fire-sale",
    "collateral",
)


@dataclass(frozen=True)
class Param:
    """One parameter: its name, default, meaning and the models that take it."""

    name: str
    default: Any
    meaning: str
    models: tuple[str, ...]


PARAMETERS: tuple[Param, ...] = (
    Param(
        "recovery",
        0.4,
        "share of a defaulted loan its creditor recovers (the cascade: "
        "per-edge recovery where stated, else none, as in Furfine)",
        ("combined", "cascade"),
    ),
    Param(
        "deposit_recovery",
        0.4,
        "share of a deposit recovered from a failed platform",
        ("combined",),
    ),
    Param(
        "issuer_drop",
        0.8,
        "fall of a token's price when its issuer defaults",
        ("combined", "collateral"),
    ),
    Param(
        "ltv_trigger",
        0.8,
        "loan-to-value above which a margin call is made",
        ("combined", "collateral"),
    ),
    Param(
        "ltv_target", 0.5, "loan-to-value a met margin call restores", ("combined", "collateral")
    ),
    Param(
        "impact",
        "linear",
        "price impact of a sale of value s into depth d: linear "
        "p(1 - s/d)+ or exponential p e^(-s/d); zero depth takes the whole price",
        ("combined", "fire-sale", "collateral"),
    ),
    Param("fire_sale_fraction", 1.0, "share of its tokens a defaulted holder sells", ("combined",)),
    Param(
        "default_threshold",
        1.0,
        "share of equity lost at which a node defaults",
        ("combined", "debtrank", "cascade"),
    ),
    Param(
        "sale_threshold",
        0.0,
        "share of equity lost past which a holder starts selling",
        ("fire-sale",),
    ),
    Param("max_rounds", 100_000, "rounds (clearing models: iterations) before giving up", _ALL),
    Param("variant", "single-hit", "DebtRank variant: single-hit or repeated", ("debtrank",)),
    Param("cap", True, "cap the DebtRank impact of one debtor at 1", ("debtrank",)),
    Param(
        "weighting",
        "auto",
        "weights of the stress total: auto, weight, equity, equal",
        ("debtrank", "cascade"),
    ),
    Param(
        "external_liabilities",
        "pari-passu",
        "outside debt: pari-passu or senior",
        ("eisenberg-noe", "rogers-veraart"),
    ),
    Param(
        "alpha", 1.0, "share of external assets realised by a defaulted bank", ("rogers-veraart",)
    ),
    Param(
        "beta", 1.0, "share of interbank claims realised by a defaulted bank", ("rogers-veraart",)
    ),
)

#: default of every parameter, by name
DEFAULTS: Mapping[str, Any] = {p.name: p.default for p in PARAMETERS}


def _same(value: Any) -> Any:
    return value


def _lgd(value: Any) -> Any:
    return None if value is None else 1.0 - require_fraction("lgd", value)


#: old name -> (new name, conversion); the fire-sale model reads ``threshold`` as
#: ``sale_threshold``
OLD_NAMES: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "threshold": ("default_threshold", _same),
    "max_iter": ("max_rounds", _same),
    "ltv_reset": ("ltv_target", _same),
    "lgd": ("recovery", _lgd),
}


def translate(model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``params`` under the table's names (old names accepted and converted).

    Examples
    --------
    >>> translate("cascade", {"lgd": 0.25, "threshold": 0.5})
    {'recovery': 0.75, 'default_threshold': 0.5}
    >>> translate("fire-sale", {"threshold": 0.1})
    {'sale_threshold': 0.1}
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        name, conv = OLD_NAMES.get(key, (key, _same))
        if key == "threshold" and model == "fire-sale":
            name = "sale_threshold"
        if name in out or (name != key and name in params):
            raise ContagionInputError(f"parameter '{key}' given twice (also as '{name}')")
        out[name] = conv(value)
    return out


F = TypeVar("F", bound=Callable[..., Any])


def accepts_old_names(model: str) -> Callable[[F], F]:
    """Let a model be called with the old parameter names too."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **translate(model, kwargs))

        inner.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
        return inner  # type: ignore[return-value]

    return wrap


def parameter_table() -> str:
    """Return the table as Markdown (for ``docs/contagion.md``)."""
    rows = ["| parameter | default | models | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{p.name}` | `{p.default!r}` | {', '.join(p.models)} | {p.meaning} |"
        for p in PARAMETERS
    ]
    old = ", ".join(f"`{k}` → `{v[0]}`" for k, v in OLD_NAMES.items())
    return "\n".join(rows) + f"\n\nOld names still accepted: {old} (`lgd` as `1 - lgd`)."
