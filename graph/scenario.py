"""Scenarios on the knowledge graph: resolve names, project, run a model, keep the evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.assumptions import Assumption
from graph.contagion.montecarlo import MonteCarloResult, monte_carlo
from graph.contagion.result import ContagionResult
from graph.errors import ContagionInputError
from graph.projection import ASSET_TYPES, Projection, project
from graph.store.base import EntityRecord, GraphDump, GraphStore

__all__ = ["Scenario", "ScenarioRun", "resolve_entity", "run_scenario"]


@dataclass(frozen=True)
class Scenario:
    """What is shocked (ids), with which model and parameters."""

    defaults: tuple[str, ...] = ()
    shocks: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)
    model: str = "combined"
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """Return the scenario in one line.

        Examples
        --------
        >>> Scenario(defaults=("ftx",), prices={"ftt": -0.8}).describe({"ftx": "FTX"})
        'FTX defaults; ftt price -80%'
        """
        names = names or {}
        parts = [f"{names.get(d, d)} defaults" for d in self.defaults]
        parts += [f"{names.get(k, k)} loses {v:.0%} of its equity" for k, v in
                  self.shocks.items()]
        parts += [f"{names.get(k, k)} price {v:+.0%}" for k, v in self.prices.items()]
        return "; ".join(parts) or "no shock"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "defaults": list(self.defaults),
            "shocks": dict(self.shocks),
            "prices": dict(self.prices),
            "model": self.model,
            "params": dict(self.params),
        }


def _match(entities: Sequence[EntityRecord], text: str) -> list[EntityRecord]:
    key = text.strip().casefold()
    exact = [e for e in entities if e.id.casefold() == key]
    if exact:
        return exact
    named = [e for e in entities
             if e.name.casefold() == key or key in (a.casefold() for a in e.aliases)]
    return named


def resolve_entity(
    text: str,
    *,
    store: GraphStore | None = None,
    dump: GraphDump | None = None,
    assets: bool = False,
) -> str:
    """Return the id of the entity named ``text`` (an id, a name or an alias).

    Looks the text up as an id, then among names and aliases (case-insensitive, exact
    first, then a unique partial match) through ``store.entity``/``store.search`` or in
    ``dump``.

    Raises
    ------
    ContagionInputError
        Nothing matches, or several entities match equally; the message lists them.

    Examples
    --------
    >>> d = GraphDump(entities=(EntityRecord("ftx", "FTX Trading Ltd.", "Exchange", ("FTX",)),))
    >>> resolve_entity("ftx trading ltd.", dump=d), resolve_entity("FTX", dump=d)
    ('ftx', 'ftx')
    """
    kinds = sorted(ASSET_TYPES) if assets else None

    def allowed(e: EntityRecord) -> bool:
        return (e.type in ASSET_TYPES) == assets

    what = "token" if assets else "entity"
    candidates: list[EntityRecord]
    if store is not None:
        direct = store.entity(text.strip())
        if direct is not None and allowed(direct):
            return direct.id
        candidates = [e for e in store.search(text.strip(), types=kinds, limit=50) if allowed(e)]
    else:
        candidates = [e for e in (dump.entities if dump else ()) if allowed(e)]
    hits = _match(candidates, text)
    if not hits:
        key = text.strip().casefold()
        hits = [e for e in candidates
                if key in e.name.casefold() or any(key in a.casefold() for a in e.aliases)]
    ids = sorted({e.id for e in hits})
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise ContagionInputError(f"no {what} named '{text}' in the graph")
    raise ContagionInputError(
        f"'{text}' matches several {what}s: {', '.join(ids[:8])}; give an id"
    )


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario with everything needed to explain it: graph, projection, result."""

    scenario: Scenario
    dump: GraphDump
    projection: Projection
    result: ContagionResult
    monte_carlo: MonteCarloResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the contagion JSON plus ``paths`` (with evidence) and ``scenario``."""
        out = self.result.to_dict(paths=True)
        relations = {r.id: r for r in self.dump.relations}
        for step in out["paths"]:
            step["evidence"] = [
                {"relation_id": rid, "type": relations[rid].type,
                 "text": relations[rid].evidence, "document_id": relations[rid].document_id}
                for rid in step["relation_ids"] if rid in relations
            ]
        out["scenario"] = self.scenario.to_dict()
        out["assumed"] = [f.to_dict() for f in self.projection.assumed_figures()]
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.to_dict()
        return out


def run_scenario(
    dump: GraphDump,
    scenario: Scenario,
    *,
    assumptions: Sequence[Assumption] | None = None,
    monte_carlo_scenarios: int = 0,
    seed: int | None = None,
    workers: int = 1,
) -> ScenarioRun:
    """Project the graph and run the scenario's model on it.

    Parameters
    ----------
    dump : GraphDump
        The graph (``store.dump()``).
    scenario : Scenario
        Ids to default or shock, token price changes, model name and parameters.
    assumptions : sequence of Assumption, optional
        Rows overriding the default assumptions.
    monte_carlo_scenarios : int
        When above 0, also run that many Monte Carlo samples (combined engine only).
    seed, workers : optional
        Monte Carlo seed and processes.

    Returns
    -------
    ScenarioRun
        The projection, the result (with ``paths`` for the combined engine) and the
        optional Monte Carlo summary.

    Raises
    ------
    ContagionInputError
        An unknown model, id or parameter.
    """
    from graph.contagion.combined import combined

    proj = project(dump, assumptions)
    net = proj.network
    params = dict(scenario.params)
    name = scenario.model.strip().lower().replace("_", "-")
    if name == "combined":
        result = combined(net, channels=proj.channels, defaults=scenario.defaults,
                          shocks=scenario.shocks, prices=scenario.prices, **params)
    else:
        from graph.contagion import PRICE_MODELS, run_model

        kwargs: dict[str, Any] = {"defaults": scenario.defaults, "shocks": scenario.shocks,
                                  **params}
        if scenario.prices:
            if name not in PRICE_MODELS:
                raise ContagionInputError(
                    f"model '{scenario.model}' takes no price shocks; use combined, "
                    f"{', '.join(sorted(PRICE_MODELS))}"
                )
            kwargs["price_shocks"] = scenario.prices
        result = run_model(name, net, **kwargs)
    mc = None
    if monte_carlo_scenarios > 0:
        if name != "combined":
            raise ContagionInputError("--monte-carlo runs the combined engine only")
        mc = monte_carlo(net, channels=proj.channels, uncertainty=proj.uncertainty(),
                         defaults=scenario.defaults, shocks=scenario.shocks,
                         prices=scenario.prices, params=params,
                         scenarios=monte_carlo_scenarios, seed=seed, workers=workers)
    return ScenarioRun(scenario, dump, proj, result, mc)
