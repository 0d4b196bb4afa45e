"""Price impact and price shocks shared by the fire-sale and collateral models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from graph.contagion._validate import require_choice
from graph.errors import ContagionInputError

__all__ = ["IMPACTS", "impact_factor", "price_shock_vector"]

IMPACTS = ("linear", "exponential")


def impact_factor(sold_value: np.ndarray, depth: np.ndarray, impact: str) -> np.ndarray:
    """Return the price factor after selling ``sold_value`` (at initial prices) into ``depth``.

    ``linear``: ``max(0, 1 - sold / depth)``; ``exponential``: ``exp(-sold / depth)``.
    An asset with zero depth loses its whole price as soon as anything is sold.
    """
    require_choice("impact", impact, IMPACTS)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(depth > 0, sold_value / np.where(depth > 0, depth, 1.0), np.inf)
    ratio = np.where(sold_value > 0, ratio, 0.0)
    if impact == "linear":
        return np.clip(1.0 - ratio, 0.0, 1.0)
    return np.exp(-ratio)


def price_shock_vector(
    asset_ids: Sequence[str], price_shocks: Mapping[str, float] | None
) -> np.ndarray:
    """Return ``1 + change`` per asset; a change is in [-1, ∞) (``-0.8``: an 80% fall)."""
    factor = np.ones(len(asset_ids))
    if not price_shocks:
        return factor
    index = {a: k for k, a in enumerate(asset_ids)}
    for asset, change in price_shocks.items():
        if asset not in index:
            known = ", ".join(asset_ids) or "none"
            raise ContagionInputError(f"price shock: unknown asset '{asset}' (assets: {known})")
        c = float(change)
        if not c >= -1.0:
            raise ContagionInputError(
                f"price change for '{asset}' is {change!r}; expected a number >= -1"
            )
        factor[index[asset]] = 1.0 + c
    return factor
