"""Scenario commands on the knowledge graph: shock, report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from graph.commands._store import wait_option
from graph.commands.contagion_cmds import parse_assignments
from graph.errors import ContagionInputError

__all__ = ["DEFAULT_RUNS", "register"]

#: Monte Carlo samples by default (``graph.scenario.DEFAULT_RUNS``, kept here so that the
#: command line starts without numpy)
DEFAULT_RUNS = 200

_ENTITY_HELP = "Entities that default: ids, names or aliases (e.g. FTX)."
_PRICE_HELP = "TOKEN=CHANGE: a token's price change, e.g. FTT=-0.8 (repeatable)."
_SHOCK_HELP = "ENTITY=FRACTION: lose that fraction of equity, e.g. Genesis=0.3 (repeatable)."
_PARAM_HELP = "A model convention k=v, e.g. recovery=0.2 (repeatable)."
_STORE_HELP = (
    "Embedded store directory or neo4j:// / bolt:// URI (default: FALLOUT_STORE, else the "
    "embedded store in the user data directory)."
)


def _store_url(store: str | None) -> str:
    if store:
        return store
    env = os.environ.get("FALLOUT_STORE", "").strip()
    if env:
        return env
    from graph.store import default_store_url  # type: ignore[attr-defined,unused-ignore]

    return str(default_store_url())


def _run(
    entities: list[str] | None,
    price: list[str] | None,
    shock: list[str] | None,
    model: str,
    param: list[str] | None,
    assumptions: Path | None,
    runs: int,
    seed: int | None,
    workers: int,
    store: str | None,
    wait: float = 0.0,
    choose: str = "latest",
) -> Any:
    from graph.assumptions import read_assumptions
    from graph.commands._store import open_cli_store
    from graph.scenario import DEFAULT_SEED, Scenario, resolve_entity, run_scenario

    prices = parse_assignments(price or [], "--price", numeric=True)
    shocks = parse_assignments(shock or [], "--shock", numeric=True)
    params = parse_assignments(param or [], "--param", numeric=False)
    rows = read_assumptions(assumptions) if assumptions else None
    if not (entities or prices or shocks):
        raise ContagionInputError(
            "no scenario: name an entity that defaults (fallout shock FTX), or give "
            "--price TOKEN=-0.8 or --shock ENTITY=AMOUNT"
        )
    with open_cli_store(_store_url(store), write=False, wait=wait) as st:
        dump = st.dump()
        defaults = tuple(dict.fromkeys(resolve_entity(e, store=st) for e in entities or []))
        scenario = Scenario(
            defaults=defaults,
            shocks={resolve_entity(k, store=st): v for k, v in shocks.items()},
            prices={resolve_entity(k, store=st, assets=True): v for k, v in prices.items()},
            model=model,
            params=params,
            runs=runs,
            seed=DEFAULT_SEED if seed is None else seed,
            choice=choose,
        )
    return run_scenario(dump, scenario, assumptions=rows, workers=workers)


def _print_summary(run: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from graph.report.render import money

    names = run.projection.names
    console = Console()
    console.print(f"[bold]{escape(run.scenario.describe(names))}[/] ({escape(run.result.model)})")
    share = run.projection.stated_share()
    console.print(
        f"Stated in the text: {share['equity']:.0%} of equity and {share['exposure']:.0%} of "
        f"exposures by value ({int(share['stated'])} numbers stated, "
        f"{int(share['assumed'])} assumed)."
    )
    mc = run.monte_carlo
    if mc is not None:
        lo, mid, hi = mc.total_loss_percentiles
        console.print(
            f"Total loss {money(run.result.totals.get('total_loss', 0.0))}; 90% range "
            f"{money(lo)} - {money(hi)} (median {money(mid)}, {mc.scenarios} samples, "
            f"seed {mc.seed})."
        )
    else:
        console.print("Point estimate (--point, or a model without ranges): no ranges.")
    equity = {f.subject: f for f in run.projection.figures if f.field == "equity"}
    cols = ["entity", "defaulted", "equity loss", "loss 5-95%", "P(default)", "equity"]
    table = Table(*(cols if mc is not None else [c for c in cols if c not in cols[3:5]]))
    for n in sorted(run.result.nodes, key=lambda n: -n.equity_loss):
        risky = mc is not None and (
            mc.loss_percentiles[n.id][2] > 0 or mc.default_probability[n.id] > 0
        )
        if not (n.equity_loss > 0 or n.defaulted or risky):
            continue
        fig = equity.get(n.id)
        eq = f"{money(fig.value)} {fig.provenance}" if fig is not None else ""
        row = [
            escape(names.get(n.id, n.id)),
            "yes" if n.defaulted else "",
            f"{money(n.equity_loss)} ({n.relative_loss:.0%})",
        ]
        if mc is not None:
            p5, _, p95 = mc.loss_percentiles[n.id]
            row += [f"{money(p5)} - {money(p95)}", f"{mc.default_probability[n.id]:.0%}"]
        table.add_row(*row, escape(eq))
    console.print(table)
    for step in run.result.paths:
        console.print(
            f"round {step.round}: {escape(names.get(step.source, step.source))} -> "
            f"{escape(names.get(step.target, step.target))} {escape(f'[{step.channel}]')} "
            f"{money(step.loss)} ({escape(', '.join(step.relation_ids) or 'no relation')})"
        )


Entities = Annotated[list[str] | None, typer.Argument(help=_ENTITY_HELP, show_default=False)]
Price = Annotated[list[str] | None, typer.Option("--price", help=_PRICE_HELP)]
Shock = Annotated[list[str] | None, typer.Option("--shock", help=_SHOCK_HELP)]
MODEL_CHOICES = (
    "combined", "cascade", "collateral", "debtrank", "eisenberg-noe", "fire-sale",
    "rogers-veraart",
)
"""The names ``--model`` takes (``graph.contagion.MODELS``; a test keeps them equal)."""
Model = Annotated[
    str,
    typer.Option(
        "--model",
        help="Contagion model: " + ", ".join(MODEL_CHOICES) + " (default combined; "
        "--price needs combined, collateral or fire-sale).",
    ),
]
Param = Annotated[list[str] | None, typer.Option("--param", help=_PARAM_HELP)]
Assumptions = Annotated[
    Path | None,
    typer.Option("--assumptions", help="CSV kind,target,field,value,rule overriding defaults."),
]
MonteCarlo = Annotated[
    int,
    typer.Option(
        "--monte-carlo",
        min=0,
        help="Monte Carlo samples for the ranges (default 200; 0 is the same as --point).",
    ),
]
Point = Annotated[
    bool, typer.Option("--point", help="A point estimate only: no ranges, no samples.")
]
Seed = Annotated[int | None, typer.Option("--seed", help="Monte Carlo seed (default 0).")]
Choose = Annotated[
    str,
    typer.Option(
        "--choose",
        help="Where statements disagree on an amount: latest "
        "(default), largest, smallest or median.",
    ),
]
Workers = Annotated[int, typer.Option("--workers", min=1, help="Monte Carlo processes.")]
Store = Annotated[str | None, typer.Option("--store", "-s", help=_STORE_HELP)]
Wait = Annotated[float, wait_option()]


def shock_cmd(
    entities: Entities = None,
    price: Price = None,
    shock: Shock = None,
    model: Model = "combined",
    param: Param = None,
    assumptions: Assumptions = None,
    monte_carlo: MonteCarlo = DEFAULT_RUNS,
    point: Point = False,
    seed: Seed = None,
    workers: Workers = 1,
    store: Store = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    wait: Wait = 0.0,
    choose: Choose = "latest",
) -> None:
    """Default entities or move token prices on the graph; show who fails, with ranges."""
    run = _run(
        entities,
        price,
        shock,
        model,
        param,
        assumptions,
        0 if point else monte_carlo,
        seed,
        workers,
        store,
        wait,
        choose,
    )
    if as_json:
        typer.echo(json.dumps(run.to_dict(), indent=2, allow_nan=False))
    else:
        _print_summary(run)


def report_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="File to write (default: named after the scenario, "
            "e.g. ftx-defaults.html, in the current directory).",
        ),
    ] = None,
    entities: Entities = None,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or md.")] = "html",
    price: Price = None,
    shock: Shock = None,
    model: Model = "combined",
    param: Param = None,
    assumptions: Assumptions = None,
    monte_carlo: MonteCarlo = DEFAULT_RUNS,
    point: Point = False,
    seed: Seed = None,
    workers: Workers = 1,
    store: Store = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    wait: Wait = 0.0,
    choose: Choose = "latest",
) -> None:
    """Write a scenario report (HTML, PDF or Markdown) with assumptions, paths and evidence."""
    from graph.report import report_for, write_report
    from graph.report.render import FORMATS

    fmt = fmt.lower()
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise ContagionInputError(f"--format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    run = _run(
        entities,
        price,
        shock,
        model,
        param,
        assumptions,
        0 if point else monte_carlo,
        seed,
        workers,
        store,
        wait,
        choose,
    )
    path = write_report(report_for(run, title=title), fmt, out)
    typer.echo(f"fallout report: wrote {path}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``shock`` and ``report`` to the fallout app."""
    app.command("shock")(shock_cmd)
    app.command("report")(report_cmd)
