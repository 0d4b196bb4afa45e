"""Contagion commands: ``fallout contagion run`` on nodes / exposures files (CSV or Parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from graph.errors import ContagionInputError

__all__ = ["contagion_app", "parse_assignments", "parse_value", "register"]

MODEL_HELP = "combined, debtrank, eisenberg-noe, rogers-veraart, cascade, fire-sale or collateral."
SHOCK_HELP = "ID=FRACTION of equity lost (clearing models: of external assets); repeatable."
FILES_HELP = "CSV, or Parquet when the name ends in .parquet"

contagion_app = typer.Typer(
    name="contagion",
    help="Propagate default and price shocks across a network of exposures.",
    no_args_is_help=True,
)


def parse_value(text: str) -> Any:
    """Turn ``--param`` text into a bool, int, float or str."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_assignments(values: list[str], option: str, *, numeric: bool) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` items, naming the option and the item on error."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.rpartition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise ContagionInputError(f"{option} '{item}': expected KEY=VALUE")
        if numeric:
            try:
                out[key] = float(value)
            except ValueError:
                raise ContagionInputError(f"{option} '{item}': '{value}' is not a number") from None
        else:
            out[key.replace("-", "_")] = parse_value(value)
    return out


@contagion_app.command("run")
def run(
    nodes: Annotated[
        Path,
        typer.Option(
            "--nodes",
            help=f"id, equity, external_assets, external_liabilities, weight ({FILES_HELP}); "
            "a blank cell is not given, each model names the columns it needs.",
        ),
    ],
    exposures: Annotated[
        Path,
        typer.Option("--exposures", help=f"creditor, debtor, amount ({FILES_HELP})."),
    ],
    model: Annotated[str, typer.Option("--model", help=MODEL_HELP)],
    default: Annotated[
        list[str] | None, typer.Option("--default", help="Wipe this node's equity (repeatable).")
    ] = None,
    shock: Annotated[list[str] | None, typer.Option("--shock", help=SHOCK_HELP)] = None,
    price: Annotated[
        list[str] | None, typer.Option("--price", help="ASSET=CHANGE, e.g. ftt=-0.8.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A model convention k=v (repeatable).")
    ] = None,
    holdings: Annotated[
        Path | None, typer.Option("--holdings", help=f"holder, asset, value ({FILES_HELP}).")
    ] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help=f"asset, price, depth ({FILES_HELP}).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    paths: Annotated[
        bool, typer.Option("--paths", help="Add the contagion paths to the JSON.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the result as Parquet: one row per node "
                     "(id, defaulted, equity_loss, relative_loss, payment)."),
    ] = None,
    rounds_out: Annotated[
        Path | None,
        typer.Option("--rounds-out", help="With --out: also write the rounds table "
                     "(round, id, relative_loss, new_default) as Parquet."),
    ] = None,
) -> None:
    """Run a contagion model on CSV or Parquet files and print the outcome."""
    from graph.contagion import PRICE_MODELS, model_key, run_model
    from graph.contagion.network import ExposureNetwork

    key = model_key(model)
    shocks = parse_assignments(shock or [], "--shock", numeric=True)
    price_shocks = parse_assignments(price or [], "--price", numeric=True)
    kwargs = parse_assignments(param or [], "--param", numeric=False)
    for reserved in ("shocks", "defaults", "price_shocks", "prices"):
        if reserved in kwargs:
            raise ContagionInputError(f"--param {reserved}: use --shock, --default or --price")
    network = ExposureNetwork.from_csv(nodes, exposures, holdings=holdings, prices=prices)
    if price_shocks:
        if key not in PRICE_MODELS:
            raise ContagionInputError(
                f"--price needs a price model ({', '.join(sorted(PRICE_MODELS))}); "
                f"'{key}' has no prices"
            )
        kwargs["price_shocks"] = price_shocks
    result = run_model(key, network, shocks=shocks, defaults=list(default or []), **kwargs)
    if out is not None:
        from graph.contagion.output import write_parquet

        write_parquet(result, out, rounds=rounds_out)
        typer.echo(f"fallout contagion run: wrote {out}", err=True)
        return
    if rounds_out is not None:
        raise ContagionInputError("--rounds-out needs --out")
    if as_json:
        typer.echo(result.to_json(paths=paths))
        return
    _print_table(result)


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from graph.numbers import number

    console = Console()
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    table = Table(title=escape(f"{result.model} ({params})"))
    for col in ("id", "defaulted", "equity loss", "relative loss", "payment"):
        table.add_column(col, justify="left" if col == "id" else "right")
    ranked = sorted(result.nodes, key=lambda n: (-n.relative_loss, -n.equity_loss, n.id))
    for n in ranked[:50]:
        table.add_row(
            escape(n.id),
            "yes" if n.defaulted else "",
            number(n.equity_loss),
            f"{n.relative_loss:.2%}",
            "" if n.payment is None else number(n.payment),
        )
    console.print(table)
    if len(ranked) > 50:
        console.print(f"... {len(ranked) - 50} more nodes (use --json for all)")
    for k, v in result.totals.items():
        console.print(f"{k}: {number(v)}")


def register(app: typer.Typer) -> None:
    """Add the ``contagion`` group to the fallout app."""
    app.add_typer(contagion_app, name="contagion")
