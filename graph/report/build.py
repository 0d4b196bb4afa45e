"""The ``Report`` model: scenario, assumptions, headline figures, rankings, paths, evidence."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph.contagion.montecarlo import MonteCarloResult
from graph.contagion.result import ContagionResult, Transmission
from graph.projection import Figure, Projection
from graph.report.limits import LeftOut, ReportLimits
from graph.scenario import Scenario, ScenarioRun
from graph.sensitivity import Sensitivity
from graph.store.base import GraphDump

__all__ = [
    "EdgeEvidence",
    "LeftOut",
    "LossEdge",
    "RankedNode",
    "Report",
    "ReportLimits",
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
    """Cumulative losses and defaults after one round (for the chart).

    ``new_defaults`` names at most ``ReportLimits.names_per_round`` of the round's new
    defaults; ``more_defaults`` counts the others.
    """

    round: int
    new_defaults: tuple[str, ...]
    defaults: int
    total_loss: float
    more_defaults: int = 0


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
    """An edge that carried loss, summed over rounds, with its supporting statements.

    ``evidence`` quotes at most ``ReportLimits.statements`` of them, most confident
    first; ``more_statements`` counts the others.
    """

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
    more_statements: int = 0


@dataclass(frozen=True)
class Report:
    """Everything a report shows, computed once and rendered to any format.

    Each section is capped by :class:`ReportLimits`; ``left_out`` says, for each
    section, how much it shows of what it could show: ``ranking`` (entities hit),
    ``rounds``, ``paths`` (loss steps), ``figure`` (edges drawn), ``evidence`` (edges
    that carried loss), ``assumed_figures``, ``assumptions`` and ``ignored``.
    ``figure_nodes`` gives the state of each node drawn in the figure: ``defaulted``,
    ``loss``, ``unaffected``, or ``asset`` for a node outside the network (a token).
    """

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
    figure_edges: tuple[LossEdge, ...] = ()
    figure_nodes: Mapping[str, str] = field(default_factory=dict)
    left_out: Mapping[str, LeftOut] = field(default_factory=dict)
    unaffected: int = 0
    summary: str = ""
    stated_share: Mapping[str, float] = field(default_factory=dict)
    sensitivity: tuple[dict[str, Any], ...] = ()
    conflicts: tuple[Figure, ...] = ()

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
    keys = dict.fromkeys(
        (f"{target}->{source}", f"{source}->{target}", f"{target}:{source}", f"{source}:{target}")
    )
    return tuple(f for k in keys for f in by_subject.get(k, ()))


def _ranking(
    result: ContagionResult,
    projection: Projection,
    by_subject: Mapping[str, list[Figure]],
    mc: MonteCarloResult | None,
) -> list[RankedNode]:
    """Every node of the result: those with a loss or a default first, largest loss first."""
    names, index, equity = projection.names, projection.network.index(), projection.network.equity
    default_round: dict[str, int] = {}
    for rnd in result.rounds:
        for d in rnd.new_defaults:
            default_round.setdefault(d, rnd.index)
    ranking: list[RankedNode] = []
    for node in result.nodes:
        i = index.get(node.id)
        fig = next((f for f in by_subject.get(node.id, ()) if f.field == "equity"), None)
        pct = mc.loss_percentiles.get(node.id) if mc else None
        ranking.append(
            RankedNode(
                id=node.id,
                name=names.get(node.id, node.id),
                type=projection.types.get(node.id, ""),
                defaulted=node.defaulted,
                default_round=default_round.get(node.id),
                equity=float(equity[i]) if i is not None else 0.0,
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
    return [r for r in ranking if r.equity_loss > 0 or r.defaulted] + [
        r for r in ranking if not (r.equity_loss > 0 or r.defaulted)
    ]


def _series(
    result: ContagionResult, projection: Projection, limits: ReportLimits
) -> tuple[tuple[RoundPoint, ...], LeftOut]:
    """Cumulative loss and defaults per round: the first rounds and the last one."""
    index, equity = projection.network.index(), projection.network.equity
    rounds = list(result.rounds)
    keep = rounds if len(rounds) <= limits.rounds else [*rounds[: limits.rounds - 1], rounds[-1]]
    kept = {id(r) for r in keep}
    series: list[RoundPoint] = []
    seen = 0
    for rnd in rounds:
        seen += len(rnd.new_defaults)
        if id(rnd) not in kept:
            continue
        total = sum(
            float(h) * float(equity[index[k]]) for k, h in rnd.relative_loss.items() if k in index
        )
        named = tuple(rnd.new_defaults[: limits.names_per_round])
        series.append(
            RoundPoint(
                rnd.index, named, seen, total, more_defaults=len(rnd.new_defaults) - len(named)
            )
        )
    order = f"the first {limits.rounds - 1} and the last"
    return tuple(series), LeftOut("rounds", len(keep), len(rounds), order)


def _evidence(
    relations: Mapping[str, Any],
    documents: Mapping[str, Any],
    rel_ids: tuple[str, ...],
    limit: int,
) -> tuple[tuple[EdgeEvidence, ...], int]:
    """Return the most confident ``limit`` statements of an edge, and how many are not."""
    found = [relations[r] for r in rel_ids if r in relations]
    found.sort(key=lambda rel: -rel.confidence)
    quoted = []
    for rel in found[:limit]:
        doc = documents.get(rel.document_id)
        quoted.append(
            EdgeEvidence(
                relation_id=rel.id,
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
    return tuple(quoted), len(found) - len(quoted)


def _carrying(losses: list[float], limits: ReportLimits) -> list[int]:
    """Return the edges, largest loss first, that carry ``evidence_share`` of the loss."""
    order = sorted(range(len(losses)), key=lambda k: -losses[k])
    total = sum(losses)
    chosen: list[int] = []
    carried = 0.0
    for k in order:
        if len(chosen) >= limits.evidence_max or (
            len(chosen) >= limits.evidence_min and carried >= limits.evidence_share * total
        ):
            break
        chosen.append(k)
        carried += losses[k]
    return chosen


def _edges(
    dump: GraphDump,
    steps: tuple[Transmission, ...],
    names: Mapping[str, str],
    by_subject: Mapping[str, list[Figure]],
    limits: ReportLimits,
) -> tuple[tuple[LossEdge, ...], tuple[LossEdge, ...], LeftOut, LeftOut]:
    """Edges that carried loss (steps summed), with evidence for those carrying the most."""
    carried: dict[tuple[str, str, str], float] = {}
    for step in steps:
        key = (step.source, step.target, step.channel)
        carried[key] = carried.get(key, 0.0) + step.loss
    keys = list(carried)
    losses = list(carried.values())
    chosen = _carrying(losses, limits)
    grouped: dict[tuple[str, str, str], list[Transmission]] = {keys[k]: [] for k in chosen}
    for step in steps:
        group = grouped.get((step.source, step.target, step.channel))
        if group is not None:
            group.append(step)
    relations = {r.id: r for r in dump.relations}
    documents = {d.id: d for d in dump.documents}
    edges: list[LossEdge] = []
    for k in chosen:
        src, tgt, channel = keys[k]
        group = grouped[keys[k]]
        rel_ids = tuple(dict.fromkeys(r for s in group for r in s.relation_ids))
        quoted, more = _evidence(relations, documents, rel_ids, limits.statements)
        edges.append(
            LossEdge(
                source=src,
                target=tgt,
                source_name=names.get(src, src),
                target_name=names.get(tgt, tgt),
                channel=channel,
                rounds=tuple(sorted({s.round for s in group})),
                loss=losses[k],
                relation_ids=rel_ids,
                evidence=quoted,
                figures=_figures_for(by_subject, src, tgt),
                more_statements=more,
            )
        )
    drawn = tuple(edges[: limits.figure_edges])  # ``chosen`` is largest loss first
    edges.sort(key=lambda e: (min(e.rounds), -e.loss))
    total = float(sum(losses))
    shown = float(sum(e.loss for e in edges))
    order = "largest loss first"
    return (
        tuple(edges),
        drawn,
        LeftOut("edges that carried loss", len(edges), len(keys), order, shown, total),
        LeftOut(
            "edges that carried loss",
            len(drawn),
            len(keys),
            order,
            float(sum(e.loss for e in drawn)),
            total,
        ),
    )


def _paths(
    steps: tuple[Transmission, ...], names: Mapping[str, str], limits: ReportLimits
) -> tuple[tuple[dict[str, Any], ...], LeftOut]:
    """Return the loss steps that carried the most, in round order."""
    top = heapq.nlargest(limits.paths, steps, key=lambda s: s.loss)
    top.sort(key=lambda s: (s.round, -s.loss))
    rows = tuple(
        {
            **s.to_dict(),
            "source_name": names.get(s.source, s.source),
            "target_name": names.get(s.target, s.target),
        }
        for s in top
    )
    cut = LeftOut(
        "loss steps",
        len(top),
        len(steps),
        "largest loss first",
        float(sum(s.loss for s in top)),
        float(sum(s.loss for s in steps)),
    )
    return rows, cut


def _assumed(
    projection: Projection, about: set[str], limits: ReportLimits
) -> tuple[tuple[Figure, ...], LeftOut]:
    """Assumed numbers: those the report's rows and edges rest on first, then the largest."""
    figures = projection.assumed_figures()
    shown = tuple(
        heapq.nsmallest(limits.rows, figures, key=lambda f: (f.subject not in about, -abs(f.value)))
    )
    return shown, LeftOut(
        "assumed numbers",
        len(shown),
        len(figures),
        "those the rows and edges above rest on first, then the largest",
    )


def _summary(
    text: str,
    headline: Mapping[str, float],
    share: Mapping[str, float],
    mc: MonteCarloResult | None,
) -> str:
    """Return the first paragraph: the outcome, its range, and how much of it is stated."""
    from graph.report.render import money

    defaults = int(headline["defaults"])
    out = (
        f"{text}: {defaults} default{'s' if defaults != 1 else ''}, "
        f"{money(headline['total_loss'])} of equity lost"
    )
    if mc is not None:
        lo, mid, hi = mc.total_loss_percentiles
        out += (
            f" (90% range {money(lo)} to {money(hi)}, median {money(mid)}, over "
            f"{mc.scenarios} samples of the uncertain numbers, seed {mc.seed})"
        )
    else:
        out += " (a point estimate: no ranges)"
    return out + (
        f". The text states {share['equity']:.0%} of the equity and "
        f"{share['exposure']:.0%} of the exposures by value that this rests on "
        f"({int(share['stated'])} numbers stated, {int(share['assumed'])} assumed); "
        "every assumed number is marked as such below."
    )


def build_report(
    dump: GraphDump,
    projection: Projection,
    result: ContagionResult,
    scenario: Scenario,
    *,
    monte_carlo: MonteCarloResult | None = None,
    title: str | None = None,
    limits: ReportLimits | None = None,
    sensitivity: tuple[Sensitivity, ...] = (),
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
    limits : ReportLimits, optional
        Caps on each section (by default :class:`ReportLimits()`); what a cap leaves
        out is counted in ``Report.left_out``.
    sensitivity : tuple of Sensitivity
        The numbers that move the total loss most (:func:`graph.sensitivity.sensitivity`).

    Returns
    -------
    Report
        Ready for :func:`graph.report.render.render`.
    """
    limits = limits or ReportLimits()
    names = dict(projection.names)
    by_subject: dict[str, list[Figure]] = defaultdict(list)
    for fig_ in projection.figures:
        by_subject[fig_.subject].append(fig_)
    mc = monte_carlo
    ranking = _ranking(result, projection, by_subject, mc)
    hit = [r for r in ranking if r.hit]
    series, rounds_cut = _series(result, projection, limits)
    edges, drawn, evidence_cut, figure_cut = _edges(dump, result.paths, names, by_subject, limits)
    paths, paths_cut = _paths(result.paths, names, limits)
    about = {r.id for r in hit[: limits.ranking]}
    about.update(f.subject for e in edges for f in e.figures)
    assumed, assumed_cut = _assumed(projection, about, limits)
    assumptions = tuple(a.to_dict() for a in projection.assumptions)
    ignored = tuple(projection.ignored)
    left_out = {
        "ranking": LeftOut(
            "entities hit", min(len(hit), limits.ranking), len(hit), "largest loss first"
        ),
        "rounds": rounds_cut,
        "paths": paths_cut,
        "figure": figure_cut,
        "evidence": evidence_cut,
        "assumed_figures": assumed_cut,
        "assumptions": LeftOut(
            "assumption rules", min(len(assumptions), limits.rows), len(assumptions)
        ),
        "ignored": LeftOut(
            "statements kept out of the network", min(len(ignored), limits.rows), len(ignored)
        ),
    }
    outcome = {r.id: r for r in ranking}
    figure_nodes = {}
    for e in drawn:
        for end in (e.source, e.target):
            row = outcome.get(end)
            figure_nodes[end] = (
                "asset"
                if row is None
                else "defaulted"
                if row.defaulted
                else "loss"
                if row.equity_loss > 0
                else "unaffected"
            )
    defaults = [r for r in ranking if r.defaulted]
    headline = {
        "defaults": float(len(defaults)),
        "induced_defaults": float(len([r for r in defaults if r.id not in scenario.defaults])),
        "total_loss": float(sum(r.equity_loss for r in ranking)),
        "nodes_with_losses": float(sum(1 for r in ranking if r.equity_loss > 0)),
        "rounds": float(len(result.rounds)),
        "assumed_numbers": float(assumed_cut.total),
    }
    text = scenario.describe(names)
    share = projection.stated_share()
    return Report(
        title=title or f"What if: {text}",
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        scenario=scenario,
        scenario_text=text,
        params=dict(result.params),
        assumptions=assumptions[: limits.rows],
        assumed_figures=assumed,
        headline=headline,
        ranking=tuple(hit[: limits.ranking]),
        series=series,
        paths=paths,
        edges=edges,
        names=names,
        ignored=ignored[: limits.rows],
        monte_carlo=mc.to_dict() if mc else None,
        figure_edges=drawn,
        figure_nodes=figure_nodes,
        left_out=left_out,
        unaffected=len(ranking) - len(hit),
        summary=_summary(text, headline, share, mc),
        stated_share=share,
        sensitivity=tuple(r.to_dict() for r in sensitivity),
        conflicts=projection.conflicts()[: limits.rows],
    )


def report_for(
    run: ScenarioRun, *, title: str | None = None, limits: ReportLimits | None = None
) -> Report:
    """Build the report of a :class:`~graph.scenario.ScenarioRun`."""
    return build_report(
        run.dump,
        run.projection,
        run.result,
        run.scenario,
        monte_carlo=run.monte_carlo,
        title=title,
        limits=limits,
        sensitivity=run.sensitivity,
    )
