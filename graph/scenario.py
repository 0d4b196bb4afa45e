"""Scenarios on the knowledge graph: resolve names, project, run a model, keep the evidence."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.assumptions import Assumption
from graph.contagion.combined import Channels
from graph.contagion.montecarlo import MonteCarloResult, monte_carlo
from graph.contagion.network import ExposureNetwork
from graph.contagion.result import ContagionResult
from graph.errors import ContagionInputError
from graph.projection import ASSET_TYPES, Projection, project
from graph.sensitivity import Sensitivity, sensitivity
from graph.store.base import EntityRecord, GraphDump, GraphStore

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "Scenario",
    "ScenarioRun",
    "resolve_entity",
    "run_scenario",
]


#: Monte Carlo samples a scenario runs unless it asks for a point estimate (``runs=0``)
DEFAULT_RUNS = 200
#: the seed a scenario uses unless given one, so that two runs agree
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Scenario:
    """What is shocked (ids), with which model and parameters, and how uncertainty is shown.

    The one scenario object of the command line and the app. ``runs`` Monte Carlo
    samples (``0``: a point estimate only) with ``seed``; ``choice`` picks among
    conflicting statements (``latest``, ``largest``, ``smallest`` or ``median``).
    """

    defaults: tuple[str, ...] = ()
    shocks: Mapping[str, float] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)
    model: str = "combined"
    params: Mapping[str, Any] = field(default_factory=dict)
    runs: int = DEFAULT_RUNS
    seed: int | None = DEFAULT_SEED
    choice: str = "latest"

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", tuple(self.defaults))
        object.__setattr__(self, "shocks", dict(self.shocks))
        object.__setattr__(self, "prices", dict(self.prices))
        object.__setattr__(self, "params", dict(self.params))

    @property
    def empty(self) -> bool:
        """True when nothing is shocked."""
        return not self.defaults and not self.shocks and not self.prices

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """Return the scenario in one line.

        Examples
        --------
        >>> Scenario(defaults=("ftx",), prices={"ftt": -0.8}).describe({"ftx": "FTX"})
        'FTX defaults; ftt price -80%'
        """
        names = names or {}
        parts = [f"{names.get(d, d)} defaults" for d in self.defaults]
        parts += [f"{names.get(k, k)} loses {v:.0%} of its equity" for k, v in self.shocks.items()]
        parts += [f"{names.get(k, k)} price {v:+.0%}" for k, v in self.prices.items()]
        return "; ".join(parts) or "no shock"

    def model_params(self, *, strict: bool = True) -> dict[str, Any]:
        """Return the parameters under the model's names (the old names translated).

        With ``strict`` off, parameters the model does not take are dropped (the app
        offers one set of sliders for every model); with it on they are refused when
        the model runs.

        Examples
        --------
        >>> Scenario(model="cascade", params={"lgd": 0.25, "issuer_drop": 0.5}).model_params(
        ...     strict=False)
        {'recovery': 0.75}
        """
        import inspect

        from graph.contagion import MODELS, model_key
        from graph.contagion.params import translate

        key = model_key(self.model)
        out = translate(key, self.params)
        if not strict:
            taken = inspect.signature(MODELS[key]).parameters
            out = {k: v for k, v in out.items() if k in taken}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "defaults": list(self.defaults),
            "shocks": dict(self.shocks),
            "prices": dict(self.prices),
            "model": self.model,
            "params": dict(self.params),
            "runs": self.runs,
            "seed": self.seed,
            "choice": self.choice,
        }

    def to_query(self) -> dict[str, str | list[str]]:
        """Return the URL query parameters that reproduce this scenario (none when empty)."""
        out: dict[str, str | list[str]] = {}
        if self.empty:
            return out
        if self.defaults:
            out["default"] = list(self.defaults)
        if self.shocks:
            out["shock"] = [f"{k}:{v:g}" for k, v in self.shocks.items()]
        if self.prices:
            out["price"] = [f"{t}:{c:g}" for t, c in self.prices.items()]
        out["model"] = self.model
        for k, v in self.params.items():
            out[f"p.{k}"] = f"{v:g}" if isinstance(v, float | int) else str(v)
        out["runs"] = str(self.runs)
        if self.choice != "latest":
            out["choice"] = self.choice
        return out

    @classmethod
    def from_query(cls, flat: Mapping[str, str], get_all: Any) -> Scenario:
        """Read a scenario from URL query parameters; malformed values are ignored."""

        def pairs(key: str) -> dict[str, float]:
            out: dict[str, float] = {}
            for item in get_all(key):
                name, _, value = str(item).rpartition(":")
                try:
                    out[name] = float(value)
                except ValueError:
                    continue
            return out

        params: dict[str, Any] = {}
        for key, value in flat.items():
            if key.startswith("p."):
                try:
                    params[key[2:]] = float(value)
                except ValueError:
                    params[key[2:]] = str(value)
        try:
            runs = max(0, int(flat.get("runs", DEFAULT_RUNS)))
        except ValueError:
            runs = DEFAULT_RUNS
        choice = str(flat.get("choice") or "latest")
        return cls(
            defaults=tuple(d for d in get_all("default") if d),
            shocks=pairs("shock"),
            prices=pairs("price"),
            model=str(flat.get("model") or "combined"),
            params=params,
            runs=runs,
            choice=choice if choice in ("latest", "largest", "smallest", "median") else "latest",
        )


def _match(entities: Sequence[EntityRecord], text: str) -> list[EntityRecord]:
    key = text.strip().casefold()
    exact = [e for e in entities if e.id.casefold() == key]
    if exact:
        return exact
    named = [
        e for e in entities if e.name.casefold() == key or key in (a.casefold() for a in e.aliases)
    ]
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
        hits = [
            e
            for e in candidates
            if key in e.name.casefold() or any(key in a.casefold() for a in e.aliases)
        ]
    ids = sorted({e.id for e in hits})
    if len(ids) == 1:
        return ids[0]
    plural = "tokens" if assets else "entities"
    if not ids:
        near = _near_names(text, store, candidates, allowed, kinds)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise ContagionInputError(f"no {what} named '{text}' in the graph{hint}")
    raise ContagionInputError(
        f"'{text}' matches several {plural}: {', '.join(ids[:8])}; give an id"
    )


def _near_names(
    text: str,
    store: GraphStore | None,
    candidates: list[EntityRecord],
    allowed: Callable[[EntityRecord], bool],
    kinds: list[str] | None,
) -> list[str]:
    """Return up to three names or aliases spelt like ``text`` (for "did you mean").

    With a store, the pool is what a search finds for each three-letter piece of the
    text, so a misspelling still meets the names it resembles without reading the graph.
    """
    import difflib

    key = text.strip()
    pool = list(candidates)
    if store is not None:
        pieces = {key[i : i + 3] for i in range(0, max(len(key) - 2, 1), 2)}
        for piece in sorted(pieces):
            pool += [e for e in store.search(piece, types=kinds, limit=50) if allowed(e)]
    names: dict[str, str] = {}
    for e in pool:
        for name in (e.name, *e.aliases):
            names.setdefault(name.casefold(), name)
    found = difflib.get_close_matches(key.casefold(), list(names), n=3, cutoff=0.6)
    return [names[f] for f in found]


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario with everything needed to explain it: graph, projection, result.

    ``monte_carlo`` holds the ranges (absent for a point estimate or a model without
    them), ``sensitivity`` the numbers that move the total loss most.
    """

    scenario: Scenario
    dump: GraphDump
    projection: Projection
    result: ContagionResult
    monte_carlo: MonteCarloResult | None = None
    sensitivity: tuple[Sensitivity, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the contagion JSON plus ``paths`` (with evidence), ``scenario``, provenance.

        ``stated_share`` gives the share of equity and exposures the text states,
        ``assumed`` every assumed number, ``conflicts`` every edge whose statements
        disagree, ``monte_carlo`` the ranges and ``sensitivity`` the ranked tests.
        """
        out = self.result.to_dict(paths=True)
        relations = {r.id: r for r in self.dump.relations}
        for step in out["paths"]:
            step["evidence"] = [
                {
                    "relation_id": rid,
                    "type": relations[rid].type,
                    "text": relations[rid].evidence,
                    "document_id": relations[rid].document_id,
                }
                for rid in step["relation_ids"]
                if rid in relations
            ]
        out["scenario"] = self.scenario.to_dict()
        out["stated_share"] = self.projection.stated_share()
        out["assumed"] = [f.to_dict() for f in self.projection.assumed_figures()]
        out["conflicts"] = [f.to_dict() for f in self.projection.conflicts()]
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.to_dict()
        out["sensitivity"] = [r.to_dict() for r in self.sensitivity]
        return out


def _run_model(
    scenario: Scenario, network: ExposureNetwork, channels: Channels, params: dict[str, Any]
) -> ContagionResult:
    from graph.contagion import PRICE_MODELS, model_key, run_model

    key = model_key(scenario.model)
    kwargs: dict[str, Any] = {"defaults": scenario.defaults, "shocks": scenario.shocks, **params}
    if key == "combined":
        return run_model(key, network, channels=channels, prices=scenario.prices, **kwargs)
    if scenario.prices:
        if key not in PRICE_MODELS:
            raise ContagionInputError(
                f"model '{scenario.model}' takes no price shocks; use "
                f"{', '.join(sorted(PRICE_MODELS))}"
            )
        kwargs["price_shocks"] = scenario.prices
    return run_model(key, network, **kwargs)


def run_scenario(
    dump: GraphDump,
    scenario: Scenario,
    *,
    assumptions: Sequence[Assumption] | None = None,
    monte_carlo_scenarios: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    sensitivity_rows: int = 10,
    strict: bool = True,
) -> ScenarioRun:
    """Project the graph and run the scenario's model on it, with ranges and sensitivity.

    Parameters
    ----------
    dump : GraphDump
        The graph (``store.dump()``).
    scenario : Scenario
        Ids to default or shock, token price changes, model name and parameters, Monte
        Carlo runs and seed, and the choice among conflicting statements.
    assumptions : sequence of Assumption, optional
        Rows overriding the default assumptions.
    monte_carlo_scenarios, seed : int, optional
        Override the scenario's ``runs`` and ``seed``; ``0`` runs gives a point estimate.
        Ranges come from the combined engine only.
    workers : int
        Monte Carlo processes.
    sensitivity_rows : int
        Rows of the sensitivity table (``0``: none).
    strict : bool
        Refuse a parameter the model does not take (off: drop it, as the app does).

    Returns
    -------
    ScenarioRun
        The projection, the result (with ``paths``), the Monte Carlo summary and the
        sensitivity table.

    Raises
    ------
    ContagionInputError
        An unknown model, id or parameter.
    """
    from graph.contagion import model_key

    runs = scenario.runs if monte_carlo_scenarios is None else monte_carlo_scenarios
    seed = scenario.seed if seed is None else seed
    proj = project(dump, assumptions, choice=scenario.choice)
    params = scenario.model_params(strict=strict)
    net, ch = proj.network, proj.channels
    result = _run_model(scenario, net, ch, params)
    mc = None
    if runs > 0 and model_key(scenario.model) == "combined":
        mc = monte_carlo(
            net,
            channels=ch,
            uncertainty=proj.uncertainty(),
            defaults=scenario.defaults,
            shocks=scenario.shocks,
            prices=scenario.prices,
            params=params,
            scenarios=runs,
            seed=seed,
            workers=workers,
        )
    rows: tuple[Sensitivity, ...] = ()
    if sensitivity_rows > 0:
        touched = {n.id for n in result.nodes if n.equity_loss > 0 or n.defaulted}
        touched |= {s.target for s in result.paths} | {s.source for s in result.paths}

        def total(network: ExposureNetwork, channels: Channels) -> float:
            res = _run_model(scenario, network, channels, params)
            return float(sum(n.equity_loss for n in res.nodes))

        base = float(sum(n.equity_loss for n in result.nodes))
        rows = sensitivity(proj, total, base, about=touched, top=sensitivity_rows)
    return ScenarioRun(scenario, dump, proj, result, mc, rows)
