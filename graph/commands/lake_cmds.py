"""The facts dataset at scale: ``extract --out DIR``, ``load DIR``, ``forget``, ``watch``.

``extract`` and ``load`` stay in their own modules and call :func:`extract_to_dataset`
and :func:`load_dataset` when they are given a dataset directory.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from graph.commands._store import open_cli_store, wait_option
from graph.errors import UsageError

__all__ = [
    "extract_to_dataset",
    "is_dataset_target",
    "load_dataset",
    "register",
    "replace_and_load",
]

_STORE_HELP = (
    "Store: a directory (embedded LadybugDB), :memory:, or a neo4j:// bolt:// neo4j+s:// URL. "
    "Default: $FALLOUT_STORE, else a store in the user data directory."
)
_SCHEDULER_HELP = (
    "A running Dask scheduler (tcp://HOST:PORT): its workers extract; they must see the "
    "files and DIR at the same paths. Default: local processes (--workers)."
)


def is_dataset_target(out: Path | None, scheduler: str | None) -> bool:
    """Whether ``extract --out`` names a Parquet facts dataset (not a JSON file).

    Examples
    --------
    >>> is_dataset_target(Path("facts.json"), None), is_dataset_target(Path("lake"), None)
    (False, True)
    """
    if out is None:
        return False
    return scheduler is not None or out.suffix.lower() != ".json"


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _todo(files: Sequence[str], out: Path) -> tuple[list[str], dict[str, str], int]:
    """Split files into those to send and those whose stored version is the same file.

    Returns the files to send, the stored content id of each source (so a worker skips
    an unchanged text after reading it), and how many were skipped here by size and time.
    """
    from graph.lake import is_dataset, open_dataset

    if not is_dataset(out):
        return list(files), {}, 0
    latest = open_dataset(out).latest_by_source()
    send: list[str] = []
    current: dict[str, str] = {}
    skipped = 0
    for path in files:
        row = latest.get(path)
        if row is None:
            send.append(path)
            continue
        if _stat_key(path) == (row["file_size"], row["file_mtime_ns"]):
            skipped += 1
            continue
        current[path] = row["document_id"]
        send.append(path)
    return send, current, skipped


def _cluster_size(scheduler: str | None, workers: int) -> int:
    if scheduler is None:
        return workers
    from distributed import Client

    with Client(scheduler, timeout=10, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        return max(1, int(sum(client.nthreads().values())))


def _progress(total: int) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents, {task.fields[rate]:.2f}/s, {task.fields[failed]} failed"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def extract_to_dataset(
    paths: Sequence[Path],
    out: Path,
    *,
    scheduler: str | None = None,
    workers: int = 1,
    max_bytes: int | None = None,
    date: str | None = None,
    part_size: int | None = None,
) -> int:
    """Extract files into the Parquet facts dataset ``out``; return the exit status.

    Files already in the dataset (same source, size and modification time; or, once read,
    same text) are skipped. Each failure is printed with its reason, and the status is 1.
    """
    from extract.distributed import extract_part, run_parts, split_parts
    from graph.commands.store_cmds import _text_files
    from graph.lake import write_part

    listed: list[str] = []
    files = [str(p) for p in _text_files(list(paths), listed)]
    failures = [("", reason) for reason in listed]
    send, current, skipped = _todo(files, out)
    out.mkdir(parents=True, exist_ok=True)
    parts = split_parts(
        send,
        _cluster_size(scheduler, workers) if send else 1,
        current=current,
        part_size=part_size,
        base=os.getcwd(),
    )
    sink = functools.partial(write_part, str(out.resolve()))
    task = functools.partial(extract_part, sink=sink, max_bytes=max_bytes, date=date)
    started = time.perf_counter()
    done = unchanged = relations = 0
    with _progress(len(send)) as bar:
        job = bar.add_task("extract", total=len(send), rate=0.0, failed=0)
        for outcome in run_parts(parts, task, scheduler=scheduler, workers=workers):
            done += len(outcome.extracted)
            unchanged += len(outcome.unchanged)
            relations += outcome.relations
            failures += outcome.failures
            for warning in outcome.warnings:
                typer.echo(f"fallout: warning: {warning}", err=True)
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(job, advance=len(outcome.paths), rate=rate, failed=len(failures))
    seconds = time.perf_counter() - started
    for _path, reason in failures:
        typer.echo(f"fallout: failed: {reason}", err=True)
    typer.echo(
        f"extracted {done} documents ({relations} relations) into {out} in {seconds:.1f} s "
        f"({done / max(seconds, 1e-9):.2f} documents/s); {skipped + unchanged} already "
        f"there, {len(failures)} failed",
        err=True,
    )
    return 1 if failures else 0


def replace_and_load(
    graph: Any,
    facts: Iterable[Any],
    *,
    documents: Sequence[tuple[str, str]] | None = None,
    batch_size: int | None = None,
    parallel: int = 1,
    initial: bool = False,
    forget: Sequence[str] = (),
) -> tuple[Any, int]:
    """Forget ``forget`` and the older versions of the incoming sources, then load.

    ``documents`` pairs each incoming document id with its source; when it is given,
    ``facts`` streams into the store instead of being held in memory first (a dataset
    knows its documents before it reads their facts). Returns the load summary and the
    number of documents forgotten.
    """
    from graph.forget import forget_documents, superseded
    from graph.store.neo4j import Neo4jStore

    neo4j = isinstance(graph, Neo4jStore)
    if initial and not neo4j:
        raise UsageError("--initial is for an empty Neo4j database; this store is embedded")
    bulk = neo4j and (parallel > 1 or initial)
    items: Iterable[Any] = facts
    if documents is None or bulk:
        items = list(facts)
    if documents is None:
        documents = [(f.document.id, f.document.source) for f in items]
    old = set(forget) | set(superseded(graph, documents))
    gone = forget_documents(graph, sorted(old)).documents if old else 0
    if bulk:
        from graph.neo4j_bulk import parallel_load

        return parallel_load(graph, list(items), parallel=parallel, initial=initial), gone
    return graph.load(iter(items), batch_size=batch_size), gone


def load_dataset(
    directory: Path,
    store: str | None,
    *,
    batch_size: int | None = None,
    wait: float = 0.0,
    parallel: int = 1,
    initial: bool = False,
) -> None:
    """Load a Parquet facts dataset (the newest version of each source) into the store."""
    from graph.commands.store_cmds import _report
    from graph.lake import open_dataset

    view = open_dataset(directory)
    started = time.perf_counter()
    with open_cli_store(store, write=True, wait=wait) as graph:
        summary, gone = replace_and_load(
            graph,
            view.facts(),
            documents=[(d, r["source"]) for d, r in view.documents.items()],
            batch_size=batch_size,
            parallel=parallel,
            initial=initial,
            forget=view.superseded,
        )
        if gone:
            typer.echo(f"forgot {gone} older versions of edited documents", err=True)
        _report(summary, graph)
    typer.echo(f"load took {time.perf_counter() - started:.1f} s", err=True)


def forget(
    keys: list[str] = typer.Argument(..., help="Document ids (sha256:...) or source paths."),
    store: str | None = typer.Option(None, "--store", "-s", help=_STORE_HELP),
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Remove documents' statements, and the entities that no other document supports.

    A key is a document id or the source a document was read from (the path as given to
    ingest or extract). A key that names nothing stored is an error (exit 1).
    """
    from graph.forget import documents_of, forget_documents

    with open_cli_store(store, write=True, wait=wait) as graph:
        ids = documents_of(graph, keys)
        if not ids:
            raise UsageError(f"no stored document has the id or source {', '.join(keys)}")
        done = forget_documents(graph, ids)
        typer.echo(
            f"forgot {done.documents} documents, {done.relations} relations, "
            f"{done.entities} entities left without statements",
            err=True,
        )


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    from graph.commands.store_cmds import _text_files

    seen: dict[str, tuple[int, int]] = {}
    for path in _text_files([folder], []):
        key = _stat_key(str(path))
        if key is not None:
            seen[str(path)] = key
    return seen


def _log(what: str, name: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    typer.echo(f"{stamp} {what} {name}", err=True)


def watch_once(
    folder: Path,
    graph: Any,
    before: dict[str, tuple[int, int]],
    *,
    scheduler: str | None,
    workers: int,
    date: str | None,
) -> dict[str, tuple[int, int]]:
    """Bring the store in step with ``folder`` once; return the folder's new snapshot.

    New and changed files (by size and time against ``before``) are extracted and
    loaded, replacing the older version of each; files gone since are forgotten.
    """
    from extract.distributed import extract_part, run_parts, split_parts
    from graph.forget import documents_of, forget_documents

    now = _snapshot(folder)
    changed = sorted(p for p, key in now.items() if before.get(p) != key)
    gone = sorted(p for p in before if p not in now)
    if gone:
        ids = documents_of(graph, gone)
        if ids:
            forget_documents(graph, ids)
        for path in gone:
            _log("forgot", path)
    if not changed:
        return now
    stored = _stored_versions(graph, changed)
    parts = split_parts(changed, workers, current=stored, base=os.getcwd())
    task = functools.partial(extract_part, date=date)
    found = []
    for outcome in run_parts(parts, task, scheduler=scheduler, workers=workers):
        found += [e.facts for e in outcome.documents]
        _log_outcome(outcome)
    if found:
        replace_and_load(graph, found)
    return now


def _stored_versions(graph: Any, sources: Sequence[str]) -> dict[str, str]:
    rows = graph._read(
        "MATCH (d:Document) WHERE d.source IN $s RETURN d.id AS id, d.source AS source",
        {"s": list(sources)},
    )
    return {r["source"]: r["id"] for r in rows}


def _log_outcome(outcome: Any) -> None:
    for path in outcome.extracted:
        _log("ingested", path)
    for path in outcome.unchanged:
        _log("unchanged", path)
    for _path, reason in outcome.failures:
        _log("failed", reason)


def watch(
    folder: Path = typer.Argument(..., help="The folder to watch (texts: txt, md, html, pdf)."),
    store: str | None = typer.Option(None, "--store", "-s", help=_STORE_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", help=_SCHEDULER_HELP),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Local extraction processes."),
    every: float = typer.Option(2.0, "--every", min=0.1, help="Seconds between two looks."),
    rounds: int | None = typer.Option(
        None, "--rounds", min=1, help="Stop after this many looks (default: until Ctrl-C)."
    ),
    date: str | None = typer.Option(None, "--date", help="Publication date YYYY-MM-DD."),
) -> None:
    """Ingest new and changed files of FOLDER as they arrive and forget deleted ones.

    One line per document on stderr: ingested, unchanged, failed or forgot. On start the
    store is brought in step with the folder: files whose text is already stored are
    not extracted again, and stored documents of this folder whose file is gone are
    forgotten.
    """
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    import signal
    import threading

    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        stop.set()  # finish the look under way: a store write is never cut in two

    old = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_cli_store(store, write=True) as graph:
            before = _start_state(folder, graph)
            looks = 0
            while not stop.is_set():
                before = watch_once(
                    folder, graph, before, scheduler=scheduler, workers=workers, date=date
                )
                looks += 1
                if rounds is not None and looks >= rounds:
                    break
                stop.wait(every)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    typer.echo("fallout: watch stopped", err=True)


def _start_state(folder: Path, graph: Any) -> dict[str, tuple[int, int]]:
    """Return a snapshot in which each stored source under ``folder`` looks changed."""
    prefix = str(folder)
    rows = graph._read("MATCH (d:Document) RETURN d.source AS source", {})
    return {r["source"]: (-1, -1) for r in rows if str(r["source"]).startswith(prefix)}


def register(app: typer.Typer) -> None:
    """Add ``forget`` and ``watch`` to the fallout app."""
    app.command("forget")(forget)
    app.command("watch")(watch)
