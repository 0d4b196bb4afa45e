"""Scenarios side by side: losses per entity per scenario, and the difference.

A scenario is written in one line, ``NAME: default=ftx, price=ftt:-0.8``, so a list of
them travels in a URL and on a command line alike. :func:`compare` runs each on the same
graph (point estimates of the combined engine) and :func:`comparison_markdown` writes
the table as one report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graph.errors import ContagionInputError
from graph.numbers import money
from graph.scenario import Scenario, run_scenario
from graph.store.base import GraphDump

__all__ = ["Comparison", "compare", "comparison_markdown", "parse_scenario_line"]


def parse_scenario_line(line: str) -> tuple[str, Scenario]:
    """Read ``NAME: default=ID, price=TOKEN:CHANGE, ...`` into a name and a scenario.

    Examples
    --------
    >>> name, s = parse_scenario_line("Both: default=ftx, price=ftt:-0.8")
    >>> name, s.defaults, s.prices
    ('Both', ('ftx',), {'ftt': -0.8})
    >>> parse_scenario_line("nothing")
    Traceback (most recent call last):
    ...
    graph.errors.ContagionInputError: scenario 'nothing': write NAME: default=ID, price=TOKEN:CHANGE
    """  # noqa: E501
    name, sep, rest = line.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise ContagionInputError(
            f"scenario {line.strip()!r}: write NAME: default=ID, price=TOKEN:CHANGE"
        )
    defaults: list[str] = []
    prices: dict[str, float] = {}
    for part in (p.strip() for p in rest.split(",") if p.strip()):
        key, _, value = part.partition("=")
        if key.strip() == "default" and value.strip():
            defaults.append(value.strip())
        elif key.strip() == "price" and ":" in value:
            token, _, change = value.rpartition(":")
            try:
                prices[token.strip()] = float(change)
            except ValueError:
                raise ContagionInputError(
                    f"scenario {name.strip()!r}: price change {change!r} is not a number"
                ) from None
        else:
            raise ContagionInputError(
                f"scenario {name.strip()!r}: cannot read {part!r} "
                "(default=ID or price=TOKEN:CHANGE)"
            )
    return name.strip(), Scenario(defaults=tuple(defaults), prices=prices, runs=0)


@dataclass(frozen=True)
class Comparison:
    """Losses per entity (rows) per scenario (columns), largest first."""

    scenarios: tuple[str, ...]
    names: Mapping[str, str]
    losses: Mapping[str, tuple[float, ...]]
    totals: tuple[float, ...]

    def rows(self) -> list[dict[str, str]]:
        """Table rows as people read them: money per scenario and last minus first."""
        out = []
        for eid, values in self.losses.items():
            row = {"entity": self.names.get(eid, eid)}
            row |= {name: money(v) for name, v in zip(self.scenarios, values, strict=True)}
            row["difference (last - first)"] = money(values[-1] - values[0])
            out.append(row)
        return out


def compare(dump: GraphDump, scenarios: Sequence[tuple[str, Scenario]]) -> Comparison:
    """Run two to four scenarios on one graph and line their losses up.

    Raises
    ------
    ContagionInputError
        Fewer than two or more than four scenarios, two with one name, or a bad id.
    """
    if not 2 <= len(scenarios) <= 4:
        raise ContagionInputError(f"compare two to four scenarios, not {len(scenarios)}")
    labels = [n for n, _ in scenarios]
    if len(set(labels)) != len(labels):
        raise ContagionInputError("each scenario needs a name of its own")
    per: list[dict[str, float]] = []
    names: dict[str, str] = {}
    totals = []
    for _, spec in scenarios:
        run = run_scenario(dump, spec, monte_carlo_scenarios=0, sensitivity_rows=0)
        names |= dict(run.projection.names)
        per.append({n.id: n.equity_loss for n in run.result.nodes if n.equity_loss > 0})
        totals.append(sum(per[-1].values()))
    hit = {i for losses in per for i in losses}
    table = {i: tuple(losses.get(i, 0.0) for losses in per) for i in hit}
    ordered = dict(sorted(table.items(), key=lambda kv: (-max(kv[1]), kv[0])))
    return Comparison(tuple(labels), names, ordered, tuple(totals))


def comparison_markdown(result: Comparison, lines: Sequence[str]) -> str:
    """Write the comparison as one Markdown report: the scenarios, totals, the table."""
    head = ["entity", *result.scenarios, "difference (last - first)"]
    out = ["# Scenarios side by side", "", *[f"- {line}" for line in lines], ""]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    totals = [money(t) for t in result.totals]
    out.append("| **total** | " + " | ".join(totals) + " | "
               + money(result.totals[-1] - result.totals[0]) + " |")  # fmt: skip
    for row in result.rows():
        out.append("| " + " | ".join(row[h].replace("|", "\\|") for h in head) + " |")
    return "\n".join(out).replace("$", "\\$") + "\n"
