"""Extraction in parts: on the workers of a Dask cluster, in local processes, or here.

A *part* is a short list of files that one task reads, extracts and hands to a *sink*
(a callable that writes the part's facts somewhere, such as the Parquet facts dataset of
``graph.lake``). Each process builds the pipeline once (:func:`extract.pipeline.
default_nlp` is cached per process), so a Dask worker loads it for its first task only.

A task may run twice: when a worker dies, Dask gives its tasks to another worker. The
sink must therefore be idempotent (the dataset writer is, per document content hash).
A task skips a file whose document (content id) is already the current version of its
source, as ``current`` names it, before the costly part of the pipeline runs.

This module imports nothing from ``graph``: the sink is given to it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from extract.errors import ReaderError
from extract.model import Facts

__all__ = [
    "Extracted",
    "Part",
    "PartOutcome",
    "extract_part",
    "split_parts",
    "run_parts",
]


@dataclass
class Extracted:
    """One document extracted by a task, with the file's size and time."""

    facts: Facts
    dropped: dict[str, int]
    file_size: int | None
    file_mtime_ns: int | None


@dataclass(frozen=True)
class Part:
    """The files of one task, and the current content id of those already stored.

    ``paths`` are the names as given, which become the documents' sources; a relative
    one is read from the folder ``base`` (the client's working folder), so a worker
    started elsewhere reads the same file.
    """

    paths: tuple[str, ...]
    current: tuple[tuple[str, str], ...] = ()
    base: str = ""


@dataclass
class PartOutcome:
    """What one task did: files extracted, skipped as unchanged, and failed with a reason."""

    paths: list[str]
    extracted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    relations: int = 0
    worker: str = ""
    seconds: float = 0.0
    documents: list[Extracted] = field(default_factory=list)


def extract_part(
    part: Part,
    sink: Callable[[list[Extracted]], Any] | None = None,
    *,
    max_bytes: int | None = None,
    date: str | None = None,
) -> PartOutcome:
    """Read and extract a part's files, hand the documents to ``sink``, say what happened.

    ``part.current`` pairs a source with the content id of its stored version: a file
    whose text has that id is not extracted again. Without a ``sink`` the documents are
    returned in the outcome's ``documents``. A file that cannot be read is a failure with
    the reader's reason; so is every file of the part when the pipeline or the sink
    raises (the task does not fail, so the run goes on).
    """
    from extract.pipeline import dated_doc, default_nlp, doc_to_facts
    from extract.readers import DEFAULT_MAX_BYTES, read_file

    started = time.perf_counter()
    paths = part.paths
    current = dict(part.current)
    outcome = PartOutcome(paths=list(paths), worker=f"{os.uname().nodename}:{os.getpid()}")
    reads = []
    for path in paths:
        where = os.path.join(part.base, path) if part.base else path
        try:
            stat = os.stat(where)
            read = read_file(where, max_bytes=max_bytes or DEFAULT_MAX_BYTES)
        except ReaderError as err:
            outcome.failures.append((path, str(err).replace(where, path, 1)))
            continue
        except OSError as err:
            outcome.failures.append((path, f"{path}: {err.strerror or err}"))
            continue
        if where != path:
            document = read.document.model_copy(update={"source": path})
            read = replace(read, document=document)
        outcome.warnings += read.warnings
        if current and current.get(read.document.source) == read.document.id:
            outcome.unchanged.append(path)
            continue
        reads.append((path, stat, read))
    done: list[Extracted] = []
    try:
        nlp = default_nlp()
        docs = ((dated_doc(nlp, r, date), (p, s, r)) for p, s, r in reads)
        for doc, (path, stat, read) in nlp.pipe(docs, as_tuples=True, batch_size=64):
            facts, stats = doc_to_facts(doc, read.document)
            done.append(Extracted(facts, dict(stats.dropped), stat.st_size, stat.st_mtime_ns))
            outcome.extracted.append(path)
            outcome.relations += len(facts.relations)
        if done and sink is not None:
            sink(done)
        elif sink is None:
            outcome.documents = done
    except Exception as err:  # noqa: BLE001 - the part fails, named, and the run goes on
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        outcome.failures += [(p, f"{p}: {type(err).__name__}: {reason}") for p, _, _ in reads]
        outcome.extracted, outcome.relations = [], 0
    outcome.seconds = time.perf_counter() - started
    return outcome


def split_parts(
    paths: Sequence[str],
    workers: int,
    *,
    current: Mapping[str, str] | None = None,
    part_size: int | None = None,
    base: str = "",
) -> list[Part]:
    """Cut ``paths`` into parts: about four per worker, 1 to 64 files each.

    Each part carries the entries of ``current`` (source -> stored content id) for its
    own files only, so a task's arguments stay small however large the dataset, and
    ``base``, the folder relative paths are read from.

    Examples
    --------
    >>> [p.paths for p in split_parts([str(i) for i in range(5)], 2)]
    [('0',), ('1',), ('2',), ('3',), ('4',)]
    >>> [len(p.paths) for p in split_parts([str(i) for i in range(10)], 1, part_size=4)]
    [4, 4, 2]
    >>> split_parts(["a", "b"], 1, current={"b": "sha256:x"}, part_size=2)[0].current
    (('b', 'sha256:x'),)
    """
    size = part_size or max(1, min(64, len(paths) // max(1, workers * 4)))
    known = current or {}
    parts = []
    for i in range(0, len(paths), size):
        chunk = tuple(paths[i : i + size])
        parts.append(Part(chunk, tuple((p, known[p]) for p in chunk if p in known), base))
    return parts


def _task_key(part: Part) -> str:
    digest = hashlib.sha256("\n".join(part.paths).encode("utf-8")).hexdigest()[:16]
    return f"fallout-extract-{digest}"


def _failed(part: Part, reason: str) -> PartOutcome:
    return PartOutcome(paths=list(part.paths), failures=[(p, f"{p}: {reason}") for p in part.paths])


def run_parts(
    parts: Sequence[Part],
    task: Callable[[Part], PartOutcome],
    *,
    scheduler: str | None = None,
    workers: int = 1,
    timeout: float = 10.0,
) -> Iterator[PartOutcome]:
    """Run ``task`` on every part and yield the outcomes as they finish.

    With ``scheduler`` (``tcp://HOST:PORT``) the parts are Dask tasks on that cluster's
    workers; a task lost with its worker is run again by Dask. Without it, ``workers``
    local processes run them (one: this process). ``task`` must be picklable by
    reference (a module-level function or a ``functools.partial`` of one).
    """
    if scheduler is not None:
        yield from _run_on_dask(parts, task, scheduler, timeout)
    elif workers <= 1:
        for part in parts:
            yield task(part)
    else:
        yield from _run_in_processes(parts, task, workers)


def _run_on_dask(
    parts: Sequence[Part],
    task: Callable[[Part], PartOutcome],
    scheduler: str,
    timeout: float,
) -> Iterator[PartOutcome]:
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as err:
        raise ReaderError(f"{scheduler}: cannot reach the Dask scheduler ({err})") from None
    with client:
        futures = {
            client.submit(task, part, key=_task_key(part), pure=False): part for part in parts
        }
        for future in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            part = futures[future]
            if future.status == "finished":
                yield future.result()
            else:
                lost = future.exception()
                reason = f"the task failed on the cluster ({type(lost).__name__}: {lost})"
                yield _failed(part, reason)
            future.release()


def _run_in_processes(
    parts: Sequence[Part], task: Callable[[Part], PartOutcome], workers: int
) -> Iterator[PartOutcome]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = {pool.submit(task, part): part for part in parts}
        for future in as_completed(futures):
            err = future.exception()
            if err is None:
                yield future.result()
            else:
                yield _failed(futures[future], f"the worker process failed ({err})")
