"""RDF commands: ``fallout export`` (Turtle, JSON-LD, GraphML, CSV) and ``fallout validate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from graph.commands._store import open_cli_store, wait_option
from graph.errors import UsageError

if TYPE_CHECKING:
    from graph.store.base import GraphDump

__all__ = ["register"]

_STORE_HELP = (
    "Embedded store directory or neo4j:// / bolt:// URI (default: FALLOUT_STORE, "
    "else the embedded store in the user data directory)."
)


def _dump(store_url: str | None, wait: float = 0.0) -> GraphDump:
    """Open the store (``--store``, else the default embedded one) and return its dump."""
    with open_cli_store(store_url, write=False, wait=wait) as store:
        dump: GraphDump = store.dump()
    return dump


def _export(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="turtle, jsonld, graphml, csv (csv writes entities.csv, relations.csv and "
            "documents.csv into a directory or a .zip) or ftm (FollowTheMoney entities, one "
            "JSON object a line, for Aleph and OpenSanctions tools).",
        ),
    ] = "turtle",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write (default: standard output; csv needs it)."
        ),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", "-s", envvar="FALLOUT_STORE", help=_STORE_HELP)
    ] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Export the whole graph as RDF (Turtle, JSON-LD), GraphML, CSV tables or FtM."""
    from graph.rdf import EXPORT_FORMATS, export, serialize

    if fmt == "ftm":
        _export_ftm(out, store, wait)
        return
    if fmt not in EXPORT_FORMATS:
        available = ", ".join((*EXPORT_FORMATS, "ftm"))
        raise UsageError(f"unknown export format {fmt!r}; available: {available}")
    if fmt == "csv" and out is None:
        raise UsageError("csv export needs --out: a directory or a .zip file")
    dump = _dump(store, wait)
    if out is None:
        sys.stdout.buffer.write(serialize(dump, fmt))
        sys.stdout.flush()
        return
    written = export(dump, fmt, out)
    typer.echo(
        f"fallout export: {len(dump.entities)} entities, {len(dump.relations)} relations "
        f"-> {', '.join(str(p) for p in written)}",
        err=True,
    )


def _export_ftm(out: Path | None, store: str | None, wait: float) -> None:
    """Write the graph as FollowTheMoney entities (``graph.ftm``)."""
    from graph.ftm import to_ftm

    dump = _dump(store, wait)
    data = to_ftm(dump)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.write_bytes(data)
    lines = data.count(b"\n")
    typer.echo(
        f"fallout export: {lines} FollowTheMoney entities "
        f"({len(dump.entities)} entities, {len(dump.relations)} relations) -> {out}",
        err=True,
    )


def _validate(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A Turtle or JSON-LD file to check; without it, the store's graph is checked.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", "-s", envvar="FALLOUT_STORE", help=_STORE_HELP)
    ] = None,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Check the graph against the SHACL shapes; exit 1 and print the report on violations."""
    from rdflib import Graph

    from graph.rdf import to_rdf, validate

    if file is not None:
        fmt = "json-ld" if file.suffix.lower() in (".jsonld", ".json") else "turtle"
        graph = Graph().parse(file, format=fmt)
    else:
        graph = to_rdf(_dump(store, wait))
    conforms, report = validate(graph)
    if conforms:
        typer.echo(f"fallout validate: conforms ({len(graph)} triples)")
        return
    typer.echo(report)
    typer.echo("fallout validate: the graph breaks the SHACL shapes (see above)", err=True)
    raise typer.Exit(1)


def load_rdf(files: list[Path], store: str | None, *, batch_size: int | None, wait: float) -> None:
    """Load Turtle or JSON-LD files in the project's ontology (``fallout load graph.ttl``).

    Each file is read and checked whole before anything is written; each document keeps
    the ingest time the file states, so an export loaded into an empty store exports
    again as an isomorphic graph.
    """
    from graph.commands.store_cmds import _load_with_progress, _refuse, _report
    from graph.load import INGESTED_AT
    from graph.rdf import dump_to_facts, read_rdf
    from graph.validation import check_facts

    groups = []
    problems = []
    for file in files:
        for stamp, items in dump_to_facts(read_rdf(file)):
            for item in items:
                problems += check_facts(item, file=str(file))
            groups.append((stamp, items))
    if problems:
        _refuse(problems, "nothing was loaded")
    with open_cli_store(store, write=True, wait=wait) as graph:
        summary = None
        for stamp, items in groups:
            token = INGESTED_AT.set(stamp or None)
            try:
                done = _load_with_progress(graph, iter(items), len(items), batch_size)
            finally:
                INGESTED_AT.reset(token)
            summary = done if summary is None else _add(summary, done)
        if summary is not None:
            _report(summary, graph)


def _add(a: Any, b: Any) -> Any:
    from graph.store.base import LoadSummary

    return LoadSummary(
        documents=a.documents + b.documents,
        entities=a.entities + b.entities,
        relations=a.relations + b.relations,
    )


def register(app: typer.Typer) -> None:
    """Add this module's subcommands to the fallout app."""
    app.command("export")(_export)
    app.command("validate")(_validate)
