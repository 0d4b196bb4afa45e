"""Contagion models on an :class:`ExposureNetwork`, and a registry to run them by name.

Importing this package loads numpy and scipy only (no spaCy, Neo4j or Streamlit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graph.contagion.collateral import collateral
from graph.contagion.combined import Channels, combined
from graph.contagion.debtrank import debtrank
from graph.contagion.default_cascade import default_cascade
from graph.contagion.eisenberg_noe import eisenberg_noe
from graph.contagion.fire_sale import fire_sale
from graph.contagion.network import CollateralLoan, ExposureNetwork
from graph.contagion.params import DEFAULTS, PARAMETERS, translate
from graph.contagion.result import (
    ContagionResult,
    LossSnapshot,
    NodeOutcome,
    NodeTable,
    Round,
    Transmission,
)
from graph.contagion.rogers_veraart import rogers_veraart
from graph.errors import ContagionInputError

__all__ = [
    "DEFAULTS",
    "MODELS",
    "PARAMETERS",
    "Channels",
    "CollateralLoan",
    "ContagionResult",
    "ExposureNetwork",
    "LossSnapshot",
    "NodeOutcome",
    "NodeTable",
    "PRICE_MODELS",
    "Round",
    "Transmission",
    "collateral",
    "combined",
    "debtrank",
    "default_cascade",
    "eisenberg_noe",
    "fire_sale",
    "rogers_veraart",
    "model_key",
    "run_model",
]

MODELS: Mapping[str, Callable[..., ContagionResult]] = {
    "debtrank": debtrank,
    "eisenberg-noe": eisenberg_noe,
    "rogers-veraart": rogers_veraart,
    "cascade": default_cascade,
    "fire-sale": fire_sale,
    "collateral": collateral,
    "combined": combined,
}

#: models that accept price shocks (``prices`` in the combined engine, else ``price_shocks``)
PRICE_MODELS: frozenset[str] = frozenset({"combined", "fire-sale", "collateral"})


def model_key(name: str) -> str:
    """Return the :data:`MODELS` key of ``name`` (``_`` for ``-``, the cascade's other names).

    Raises
    ------
    ContagionInputError
        No model has that name.
    """
    key = name.strip().lower().replace("_", "-")
    if key in ("default-cascade", "threshold", "furfine"):
        key = "cascade"
    if key not in MODELS:
        raise ContagionInputError(f"unknown model '{name}'; available: {', '.join(MODELS)}")
    return key


def run_model(name: str, network: ExposureNetwork, **kwargs: Any) -> ContagionResult:
    """Run the model registered as ``name`` (``debtrank``, ``eisenberg-noe``, ...).

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`; ``_`` is accepted for ``-``.
    network : ExposureNetwork
        The network to run on.
    **kwargs
        Keyword arguments of the model (``shocks``, ``defaults``, its conventions),
        under the names of :data:`PARAMETERS` or the old names it lists.

    Returns
    -------
    ContagionResult
        The model's result.

    Raises
    ------
    ContagionInputError
        An unknown model name, or a parameter the model does not take.

    Examples
    --------
    >>> run_model("debtrnk", None)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    graph.errors.ContagionInputError: unknown model 'debtrnk'; available: ...
    """
    key = model_key(name)
    model = MODELS[key]
    import inspect

    kwargs = translate(key, kwargs)
    if key == "combined" and "price_shocks" in kwargs:
        kwargs["prices"] = kwargs.pop("price_shocks")
    accepted = inspect.signature(model).parameters
    for k in kwargs:
        if k not in accepted:
            options = ", ".join(p for p in accepted if p != "network")
            raise ContagionInputError(f"model '{key}' has no parameter '{k}'; it takes: {options}")
    return model(network, **kwargs)
