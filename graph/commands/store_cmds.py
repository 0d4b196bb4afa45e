"""Store commands: ``fallout load``, ``fallout ingest`` and ``fallout query``."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from graph.commands._store import open_cli_store, wait_option
from graph.errors import UsageError

__all__ = ["parse_params", "register"]

_STORE_HELP = (
    "Store: a directory (embedded LadybugDB), :memory:, or a neo4j:// bolt:// neo4j+s:// URL. "
    "Default: $FALLOUT_STORE, else a store in the user data directory."
)


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    r"""Parse ``k=v`` query parameters; values are JSON when they parse, else strings.

    Examples
    --------
    >>> parse_params(["id=ftx", "n=3", "xs=[1, 2]", "s=\"7\""])
    {'id': 'ftx', 'n': 3, 'xs': [1, 2], 's': '7'}
    """
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r}: expected NAME=VALUE")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


_BATCH_HELP = (
    "Relations per batch (whole documents; each batch lands whole or not at all). "
    "Default: 1,000,000 for the embedded store, 20,000 for Neo4j."
)


def _load_with_progress(
    store: Any, facts: Iterator[Any], total_docs: int | None, batch_size: int | None = None
) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = _stderr_console()
    with Progress(
        TextColumn("[bold]loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no bar, and no blank line, when not a terminal
    ) as progress:
        task = progress.add_task("load", total=total_docs)
        summary = store.load(
            facts, batch_size=batch_size, on_batch=lambda s: progress.advance(task, s.documents)
        )
    return summary


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _report(summary: Any, store: Any) -> None:
    counts = store.counts()
    typer.echo(
        f"loaded {summary.documents} documents, {summary.relations} relations "
        f"({summary.entities} new entities) into {store.url}; the store now holds "
        f"{counts['entities']} entities, {counts['relations']} relations, "
        f"{counts['documents']} documents",
        err=True,
    )


_MAX_LINES = 20  # refusal lines printed before "and N more"


def _refuse(problems: Sequence[Any], what: str) -> None:
    """Print one line per problem (at most ``_MAX_LINES``), a closing line, and exit 1."""
    for problem in problems[:_MAX_LINES]:
        typer.echo(f"fallout: refused: {problem}", err=True)
    if len(problems) > _MAX_LINES:
        typer.echo(f"fallout: refused: ... and {len(problems) - _MAX_LINES} more", err=True)
    typer.echo(f"fallout: error: {len(problems)} problem(s) in the facts; {what}", err=True)
    raise typer.Exit(1)


def load(
    facts: list[Path] = typer.Argument(
        ...,
        help="Facts JSON files (fallout extract --json), or Turtle (.ttl) and JSON-LD "
        "(.jsonld) files of fallout export.",
        readable=False,
    ),
    store: str | None = typer.Option(None, "--store", "-s", help=_STORE_HELP),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help=_BATCH_HELP),
    wait: Annotated[float, wait_option()] = 0.0,
    parallel: int = typer.Option(
        1, "--parallel", min=1,
        help="Neo4j: sessions writing relationship batches at once (no two touch a node).",
    ),
    initial: bool = typer.Option(
        False, "--initial", help="Neo4j: first import into an empty database (CREATE only)."
    ),
) -> None:
    """Load facts JSON, a Parquet facts dataset directory, or RDF, into the graph store.

    Idempotent: re-loading changes no count. Every JSON file is read and checked first
    (amounts >= 0, no self-loops, evidence for every relation, bounded nesting and
    sizes); any problem refuses the whole load, one line each, and nothing is written.
    A dataset (``fallout extract --out DIR``) is loaded part by part: its newest version
    of each source replaces older ones in the store.
    """
    from graph.lake import is_dataset
    from graph.validation import FactsRefused, read_checked_facts

    if len(facts) == 1 and is_dataset(facts[0]):
        from graph.commands.lake_cmds import load_dataset

        load_dataset(facts[0], store, batch_size=batch_size, wait=wait, parallel=parallel,
                     initial=initial)
        return
    if initial or parallel > 1:
        raise UsageError("--initial and --parallel are for a dataset directory (extract --out)")
    from graph.rdf import RDF_SUFFIXES

    if any(f.suffix.lower() in RDF_SUFFIXES for f in facts):
        from graph.commands.rdf_cmds import load_rdf

        load_rdf(facts, store, batch_size=batch_size, wait=wait)
        return

    try:
        items = read_checked_facts(facts)
    except FactsRefused as refused:
        if len(refused.problems) == 1 and refused.problems[0].field is None:
            raise  # an unreadable file or not JSON: the usual one error line
        _refuse(refused.problems, "nothing was loaded")
    with open_cli_store(store, write=True, wait=wait) as graph:
        summary = _load_with_progress(graph, iter(items), len(items), batch_size)
        _report(summary, graph)


_TEXT_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".srt", ".vtt"}
)


def _text_files(paths: Sequence[Path], skipped: list[str]) -> list[Path]:
    """Return the files to ingest: each file given, and the texts inside each folder given.

    Folders are walked without following symbolic links to folders (no loops); a folder
    that cannot be listed is added to ``skipped`` with the reason. Anything else given
    by name (missing, unreadable, a broken link) goes on to the reader, which says why.
    """
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found: list[Path] = []

        def unlisted(err: OSError, top: Path = path) -> None:
            name = err.filename or top
            skipped.append(f"{name}: cannot list the folder ({err.strerror or err})")

        for folder, _dirs, names in os.walk(path, onerror=unlisted):
            found += (Path(folder) / n for n in names if Path(n).suffix.lower() in _TEXT_SUFFIXES)
        files += sorted(found)
    return files


def ingest(
    paths: list[str] = typer.Argument(
        ...,
        help="Files, folders (txt, md, html, pdf, docx, srt, vtt) or http(s) URLs.",
    ),
    store: str | None = typer.Option(None, "--store", "-s", help=_STORE_HELP),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Extraction processes."),
    date: str | None = typer.Option(
        None, "--date", help="Publication date YYYY-MM-DD of the texts (default: their dateline)."
    ),
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Extract facts from texts and load them into the graph store.

    A URL is fetched once (size limit, timeout, a User-Agent naming fallout) and stays
    the document's source.
    A file that cannot be read, or whose facts break the rules of ``fallout load``, is
    named on one line and skipped; the rest is loaded, and the exit status is 1.
    """
    try:
        from extract.fetch import is_url
        from extract.pipeline import extract_files, extract_urls
    except ImportError as err:  # pragma: no cover - depends on the extract package
        raise UsageError(f"extraction is not available: {err}") from None
    from graph.commands.extract_cmds import publication_date
    from graph.validation import check_facts

    when = publication_date(date)
    skipped: list[str] = []
    urls = [p for p in paths if is_url(p)]
    files = _text_files([Path(p) for p in paths if not is_url(p)], skipped)
    results = extract_files(files, workers=workers, on_error="skip", date=when) if files else []
    results += extract_urls(urls, date=when) if urls else []
    facts = []
    for result in results:
        for warning in result.warnings:
            typer.echo(f"fallout: warning: {warning}", err=True)
        if result.facts is None:
            skipped.append(str(result.error))
            continue
        problems = check_facts(result.facts, file=result.path)
        if problems:
            skipped.append(str(problems[0]) + (f" (and {len(problems) - 1} more problems)"
                                               if len(problems) > 1 else ""))
            continue
        facts.append(result.facts)
    for reason in skipped:
        typer.echo(f"fallout: skipped {reason}", err=True)
    if facts:
        from graph.forget import forget_documents, superseded

        with open_cli_store(store, write=True, wait=wait) as graph:
            # an edited file is a new document from the same source: it replaces the old
            old = superseded(graph, [(f.document.id, f.document.source) for f in facts])
            if old:
                forget_documents(graph, old)
            summary = _load_with_progress(graph, iter(facts), len(facts))
            _report(summary, graph)
    if skipped:
        typer.echo(
            f"fallout: error: skipped {len(skipped)} of {len(skipped) + len(facts)} inputs "
            f"(named above); loaded {len(facts)}",
            err=True,
        )
        raise typer.Exit(1)
    if not facts:
        raise UsageError("no text files to ingest (txt, md, html, pdf)")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


_CYPHER_NOISE = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S
)
_CYPHER_PARAM = re.compile(r"\$(?:(\w+)|`([^`]+)`)")


def query_parameters(text: str) -> set[str]:
    """Return the parameters a Cypher statement uses (``$name``), outside strings and comments.

    Examples
    --------
    >>> sorted(query_parameters("MATCH (e {id: $id}) WHERE e.name <> '$x' RETURN e LIMIT $n"))
    ['id', 'n']
    """
    bare = _CYPHER_NOISE.sub(lambda m: " " if not m.group(0).startswith("`") else m.group(0), text)
    return {a or b for a, b in _CYPHER_PARAM.findall(bare)}


def query(
    text: str = typer.Argument(..., help="One Cypher statement."),
    param: list[str] = typer.Option([], "--param", "-p", help="Query parameter NAME=VALUE."),
    as_json: bool = typer.Option(False, "--json", help='Print {"rows": [...]}.'),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV with a header row."),
    write: bool = typer.Option(False, "--write", help="Allow a query that writes."),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.001,
        help="Seconds before the query is stopped. Default: $FALLOUT_QUERY_TIMEOUT, else 30.",
    ),
    max_memory: str | None = typer.Option(
        None, "--max-memory",
        help="Memory ceiling of the query's worker process (embedded store on disk), such as "
        "512MiB or 2GiB; past it the query is stopped. Default: $FALLOUT_QUERY_MEMORY, "
        "else 1GiB.",
    ),
    store: str | None = typer.Option(None, "--store", "-s", help=_STORE_HELP),
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Run Cypher against the store; read-only unless --write; stopped past its limits."""
    from graph.store.bounded import QueryLimits, run_query

    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    params = parse_params(param)
    missing = sorted(query_parameters(text) - set(params))
    if missing:
        from graph.errors import QueryRefused

        given = ", ".join(f"--param {name}=VALUE" for name in missing)
        raise QueryRefused(
            f"the query uses {', '.join('$' + n for n in missing)} but no value was given; "
            f"add {given}"
        )
    limits = QueryLimits.from_env(timeout=timeout, memory=max_memory)
    with open_cli_store(store, write=write, wait=wait) as graph:
        if write:  # a write holds the store alone: it runs here, under the timeout
            result = graph.cypher(text, params, write=True, timeout=limits.timeout)
        else:  # beside this reader, a worker process on an embedded store (bounded.py)
            result = run_query(graph, text, params, limits=limits)
    if as_json:
        typer.echo(json.dumps({"rows": list(result.rows)}, ensure_ascii=False, default=str))
    elif as_csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(result.columns)
        for row in result.rows:
            out.writerow([_cell(row.get(c)) for c in result.columns])
    else:
        from rich.console import Console
        from rich.table import Table

        from graph.numbers import cell

        def shown(value: Any) -> str:  # numbers as people read them; lists and maps as JSON
            return cell(value) if isinstance(value, int | float) else _cell(value)

        table = Table(*result.columns, show_lines=False)
        for row in result.rows:
            table.add_row(*(shown(row.get(c)) for c in result.columns))
        Console().print(table)
        typer.echo(f"{len(result.rows)} rows", err=True)


def register(app: typer.Typer) -> None:
    """Add ``load``, ``ingest`` and ``query`` to the fallout app."""
    app.command("load")(load)
    app.command("ingest")(ingest)
    app.command("query")(query)
