"""The ``Report`` model: scenario, assumptions, headline figures, rankings, paths, evidence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graph.contagion.montecarlo import MonteCarloResult
from graph.contagion.result import ContagionResult
from graph.projection import Figure, Projection
from graph.scenario import Scenario, ScenarioRun
from graph.store.base import GraphDump

__all__ = [
    "EdgeEvidence",
    "LossEdge",
    "RankedNode",
    "Report",
    "RoundPoint",
    "Scenario",
    "build_report",
    "report_for",
]


@dataclass(frozen=True)
class RankedNode:
    """One row of the ranked losses table."""

    id: str
    name: str
    type: str
    defaulted: bool
    default_round: int | None
    equity: float
    equity_provenance: str
    equity_rule: str
    equity_loss: float
    relative_loss: float
    loss_p5: float | None = None
    loss_p95: float | None = None
    default_probability: float | None = None

    @property
    def hit(self) -> bool:
        """Whether the scenario touches this node (a loss, a default, or a Monte Carlo risk)."""
        return bool(
            self.defaulted
            or self.equity_loss > 0
            or (self.default_probability or 0.0) > 0
            or (self.loss_p95 or 0.0) > 0
        )


@dataclass(frozen=True)
class RoundPoint:
    """Cumulative losses and defaults after one round (for the chart)."""

    round: int
    new_defaults: tuple[str, ...]
    defaults: int
    total_loss: float


@dataclass(frozen=True)
class EdgeEvidence:
    """A sentence and document that support an edge that carried loss."""

    relation_id: str
    relation_type: str
    text: str
    document_id: str
    document_title: str
    document_source: str
    confidence: float
    hedged: bool
    speaker: str | None = None


@dataclass(frozen=True)
class LossEdge:
    """An edge that carried loss, summed over rounds, with every supporting statement."""

    source: str
    target: str
    source_name: str
    target_name: str
    channel: str
    rounds: tuple[int, ...]
    loss: float
    relation_ids: tuple[str, ...]
    evidence: tuple[EdgeEvidence, ...]
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything a report shows, computed once and rendered to any format."""

    title: str
    created: str
    scenario: Scenario
    scenario_text: str
    params: Mapping[str, Any]
    assumptions: tuple[dict[str, Any], ...]
    assumed_figures: tuple[Figure, ...]
    headline: Mapping[str, float]
    ranking: tuple[RankedNode, ...]
    series: tuple[RoundPoint, ...]
    paths: tuple[dict[str, Any], ...]
    edges: tuple[LossEdge, ...]
    names: Mapping[str, str]
    ignored: tuple[tuple[str, str], ...] = ()
    monte_carlo: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (used by tests and the app)."""
        from dataclasses import asdict

        out = asdict(self)
        out["scenario"] = {
            "defaults": list(self.scenario.defaults),
            "shocks": dict(self.scenario.shocks),
            "prices": dict(self.scenario.prices),
            "model": self.scenario.model,
            "params": dict(self.scenario.params),
        }
        return out


def _figures_for(
    by_subject: Mapping[str, list[Figure]], source: str, target: str
) -> tuple[Figure, ...]:
    keys = dict.fromkeys((f"{target}->{source}", f"{source}->{target}", f"{target}:{source}",
                          f"{source}:{target}"))
    return tuple(f for k in keys for f in by_subject.get(k, ()))


def build_report(
    dump: GraphDump,
    projection: Projection,
    result: ContagionResult,
    scenario: Scenario,
    *,
    monte_carlo: MonteCarloResult | None = None,
    title: str | None = None,
) -> Report:
    """Gather what a report shows from the graph, the projection and a model result.

    Parameters
    ----------
    dump : GraphDump
        The graph (for evidence sentences and document titles).
    projection : Projection
        The network and the provenance of its numbers.
    result : ContagionResult
        The model's result; its ``paths`` give the edges that carried loss.
    scenario : Scenario
        The shock that was run.
    monte_carlo : MonteCarloResult, optional
        Loss percentiles and default probabilities to add to the ranking.
    title : str, optional
        Report title; by default made from the scenario.

    Returns
    -------
    Report
        Ready for :func:`graph.report.render.render`.
    """
    names = dict(projection.names)
    by_subject: dict[str, list[Figure]] = defaultdict(list)
    for fig_ in projection.figures:
        by_subject[fig_.subject].append(fig_)
    relations = {r.id: r for r in dump.relations}
    documents = {d.id: d for d in dump.documents}
    index = projection.network.index()
    equity = projection.network.equity

    default_round: dict[str, int] = {}
    for rnd in result.rounds:
        for d in rnd.new_defaults:
            default_round.setdefault(d, rnd.index)
    mc = monte_carlo
    ranking: list[RankedNode] = []
    for node in result.nodes:
        i = index.get(node.id)
        eq = float(equity[i]) if i is not None else 0.0
        try:
            fig: Figure | None = projection.figure(node.id, "equity")
        except KeyError:
            fig = None
        pct = mc.loss_percentiles.get(node.id) if mc else None
        ranking.append(
            RankedNode(
                id=node.id,
                name=names.get(node.id, node.id),
                type=projection.types.get(node.id, ""),
                defaulted=node.defaulted,
                default_round=default_round.get(node.id),
                equity=eq,
                equity_provenance=fig.provenance if fig else "input",
                equity_rule=fig.rule if fig else "",
                equity_loss=float(node.equity_loss),
                relative_loss=float(node.relative_loss),
                loss_p5=pct[0] if pct else None,
                loss_p95=pct[2] if pct else None,
                default_probability=mc.default_probability.get(node.id) if mc else None,
            )
        )
    ranking.sort(key=lambda r: (-r.equity_loss, not r.defaulted, r.name))
    ranking = [r for r in ranking if r.equity_loss > 0 or r.defaulted] + [
        r for r in ranking if not (r.equity_loss > 0 or r.defaulted)
    ]

    series: list[RoundPoint] = []
    seen: set[str] = set()
    for rnd in result.rounds:
        seen.update(rnd.new_defaults)
        total = sum(
            float(h) * float(equity[index[k]]) for k, h in rnd.relative_loss.items() if k in index
        )
        series.append(RoundPoint(rnd.index, tuple(rnd.new_defaults), len(seen), total))

    grouped: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for step in result.paths:
        grouped[(step.source, step.target, step.channel)].append(step)
    edges: list[LossEdge] = []
    for (src, tgt, channel), steps in grouped.items():
        rel_ids = tuple(dict.fromkeys(r for s in steps for r in s.relation_ids))
        evidence = []
        for rid in rel_ids:
            rel = relations.get(rid)
            if rel is None:
                continue
            doc = documents.get(rel.document_id)
            evidence.append(
                EdgeEvidence(
                    relation_id=rid,
                    relation_type=rel.type,
                    text=rel.evidence,
                    document_id=rel.document_id,
                    document_title=doc.title if doc else "",
                    document_source=doc.source if doc else "",
                    confidence=rel.confidence,
                    hedged=rel.hedged,
                    speaker=rel.speaker,
                )
            )
        edges.append(
            LossEdge(
                source=src,
                target=tgt,
                source_name=names.get(src, src),
                target_name=names.get(tgt, tgt),
                channel=channel,
                rounds=tuple(sorted({s.round for s in steps})),
                loss=float(sum(s.loss for s in steps)),
                relation_ids=rel_ids,
                evidence=tuple(evidence),
                figures=_figures_for(by_subject, src, tgt),
            )
        )
    edges.sort(key=lambda e: (min(e.rounds), -e.loss))

    paths = tuple(
        {**s.to_dict(), "source_name": names.get(s.source, s.source),
         "target_name": names.get(s.target, s.target)}
        for s in result.paths
    )
    defaults = [r for r in ranking if r.defaulted]
    headline = {
        "defaults": float(len(defaults)),
        "induced_defaults": float(len([r for r in defaults if r.id not in scenario.defaults])),
        "total_loss": float(sum(r.equity_loss for r in ranking)),
        "nodes_with_losses": float(sum(1 for r in ranking if r.equity_loss > 0)),
        "rounds": float(len(result.rounds)),
        "assumed_numbers": float(len(projection.assumed_figures())),
    }
    text = scenario.describe(names)
    return Report(
        title=title or f"What if: {text}",
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        scenario=scenario,
        scenario_text=text,
        params=dict(result.params),
        assumptions=tuple(a.to_dict() for a in projection.assumptions),
        assumed_figures=projection.assumed_figures(),
        headline=headline,
        ranking=tuple(ranking),
        series=tuple(series),
        paths=paths,
        edges=tuple(edges),
        names=names,
        ignored=tuple(projection.ignored),
        monte_carlo=mc.to_dict() if mc else None,
    )


def report_for(run: ScenarioRun, *, title: str | None = None) -> Report:
    """Build the report of a :class:`~graph.scenario.ScenarioRun`."""
    return build_report(run.dump, run.projection, run.result, run.scenario,
                        monte_carlo=run.monte_carlo, title=title)
