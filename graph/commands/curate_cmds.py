"""``fallout curate``: correct the graph, list and undo the records, review duplicates."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from graph.commands._store import wait_option

__all__ = ["register"]

curate_app = typer.Typer(
    help="Correct the graph; every correction is a record applied again after each load.",
    no_args_is_help=True,
)

_STORE = typer.Option(
    "--store", "-s", help="Store directory or neo4j:// URI (default: FALLOUT_STORE)."
)
_WHY = typer.Option("--why", help="Why: kept with the record.")
_WHO = typer.Option("--who", help="Who made it (default: FALLOUT_USER or the login name).")


def _url(store: str | None) -> str | None:
    return store  # None: FALLOUT_STORE, then the default store (open_cli_store decides)


def _act(store: str | None, wait: float, action: str, target: str, **args: Any) -> None:
    from graph.commands._store import open_cli_store
    from graph.curation import curate

    with open_cli_store(_url(store), write=True, wait=wait) as st:
        rec = curate(st, action, target, **args)
    typer.echo(f"{rec.id}  {rec.describe()}")


@curate_app.command("merge")
def merge_cmd(
    keep: Annotated[str, typer.Argument(help="The entity id that stays.")],
    drop: Annotated[str, typer.Argument(help="The entity id merged into it (then gone).")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Merge DROP into KEEP: its relations move over, its names become aliases."""
    _act(store, wait, "merge", drop, keep=keep, why=why, who=who)


@curate_app.command("split")
def split_cmd(
    entity: Annotated[str, typer.Argument(help="The entity id holding the alias.")],
    alias: Annotated[str, typer.Argument(help="The alias that names another entity.")],
    kind: Annotated[str | None, typer.Option(help="The new entity's kind.")] = None,
    relation: Annotated[
        list[str] | None, typer.Option(help="A relation id that moves to it (repeatable).")
    ] = None,
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Split ALIAS off ENTITY as an entity of its own, taking the given relations."""
    _act(store, wait, "split", entity, alias=alias, kind=kind, relations=relation or [],
         why=why, who=who)  # fmt: skip


@curate_app.command("rename")
def rename_cmd(
    entity: Annotated[str, typer.Argument(help="The entity id.")],
    name: Annotated[str, typer.Argument(help="Its new name (the old one becomes an alias).")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Rename an entity."""
    _act(store, wait, "rename", entity, name=name, why=why, who=who)


@curate_app.command("kind")
def kind_cmd(
    entity: Annotated[str, typer.Argument(help="The entity id.")],
    kind: Annotated[str, typer.Argument(help="Its kind, e.g. Lender, Exchange, Person.")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Change an entity's kind."""
    _act(store, wait, "kind", entity, type=kind, why=why, who=who)


@curate_app.command("reverse")
def reverse_cmd(
    relation: Annotated[str, typer.Argument(help="The relation id (r-...).")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Reverse a relation's direction (the head becomes the tail)."""
    _act(store, wait, "reverse", relation, why=why, who=who)


@curate_app.command("retype")
def retype_cmd(
    relation: Annotated[str, typer.Argument(help="The relation id (r-...).")],
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="The right type, e.g. OWNS.")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Give a relation another type."""
    _act(store, wait, "retype", relation, type=type_, why=why, who=who)


@curate_app.command("reject")
def reject_cmd(
    relation: Annotated[str, typer.Argument(help="The relation id (r-...).")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Reject a relation: it leaves the graph, and no shock uses it."""
    _act(store, wait, "reject", relation, why=why, who=who)


@curate_app.command("edit")
def edit_cmd(
    relation: Annotated[str, typer.Argument(help="The relation id (r-...).")],
    amount: Annotated[float | None, typer.Option(help="The right amount.")] = None,
    date: Annotated[str | None, typer.Option(help="The right date (YYYY-MM-DD).")] = None,
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Edit a relation's amount or date (one record each)."""
    if amount is None and date is None:
        raise typer.BadParameter("give --amount or --date")
    if amount is not None:
        _act(store, wait, "edit", relation, field="amount", value=amount, why=why, who=who)
    if date is not None:
        _act(store, wait, "edit", relation, field="date", value=date, why=why, who=who)


@curate_app.command("list")
def list_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Show undone records too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list.")] = False,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Show the curation records, oldest first: id, when, who, what, why."""
    from graph.commands._store import open_cli_store
    from graph.curation import list_records

    with open_cli_store(_url(store), write=False, wait=wait) as st:
        records = list_records(st, include_undone=all_)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in records], indent=2, default=str))
        return
    if not records:
        typer.echo("No curation records.")
        return
    for r in records:
        state = "  (undone)" if r.undone else ""
        why = f"  because: {r.why}" if r.why else ""
        typer.echo(f"{r.id}  {r.at[:16].replace('T', ' ')}  {r.who}  {r.describe()}{why}{state}")


@curate_app.command("undo")
def undo_cmd(
    record: Annotated[str, typer.Argument(help="The record id (c-...), from `curate list`.")],
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Revert one record; it stays listed as undone and is no longer applied."""
    from graph.commands._store import open_cli_store
    from graph.curation import undo

    with open_cli_store(_url(store), write=True, wait=wait) as st:
        rec = undo(st, record)
    typer.echo(f"undone {rec.id}  {rec.describe()}")


@curate_app.command("suggest")
def suggest_cmd(
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 20,
    min_score: Annotated[float, typer.Option(help="Lowest score shown (0..1).")] = 0.7,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Rank likely duplicate entities (name, shared neighbours, shared documents)."""
    from graph.commands._store import open_cli_store
    from graph.curation import list_records
    from graph.duplicates import suggest_duplicates
    from graph.numbers import percent

    with open_cli_store(_url(store), write=False, wait=wait) as st:
        distinct = [(r.payload["a"], r.payload["b"]) for r in list_records(st, include_undone=False)
                    if r.action == "distinct"]  # fmt: skip
        found = suggest_duplicates(st.dump(), limit=limit, min_score=min_score, exclude=distinct)
    if not found:
        typer.echo("No likely duplicates.")
    for s in found:
        keep, drop = s.keep_and_drop()
        typer.echo(
            f"{percent(s.score):>5}  {s.a_name} ({s.a})  ~  {s.b_name} ({s.b})   "
            f"name {percent(s.name)}, neighbours {percent(s.neighbours)}, "
            f"documents {percent(s.documents)}   fallout curate merge {keep} {drop}"
        )


@curate_app.command("distinct")
def distinct_cmd(
    a: Annotated[str, typer.Argument(help="An entity id.")],
    b: Annotated[str, typer.Argument(help="Another entity id, not the same one.")],
    why: Annotated[str, _WHY] = "",
    who: Annotated[str | None, _WHO] = None,
    store: Annotated[str | None, _STORE] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Reject a duplicate suggestion: the pair is not suggested again."""
    _act(store, wait, "distinct", a, other=b, why=why, who=who)


def register(app: typer.Typer) -> None:
    """Add ``curate`` to the fallout app."""
    app.add_typer(curate_app, name="curate")
