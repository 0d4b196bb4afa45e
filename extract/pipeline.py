"""Build the spaCy pipeline from ``config.cfg`` and turn texts and files into facts."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from extract._data import doc_text
from extract.errors import PipelineConfigError, ReaderError
from extract.model import (
    Document,
    Entity,
    Evidence,
    ExtractionStats,
    Facts,
    Mention,
    Relation,
)
from extract.readers import DEFAULT_MAX_BYTES, ReadResult, read_file, read_text

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from extract.transcript import Transcript

__all__ = [
    "CONFIG_PATH",
    "MODEL_PATH",
    "FileResult",
    "build_nlp",
    "dated_doc",
    "default_nlp",
    "doc_to_facts",
    "extract_files",
    "extract_text",
    "extract_urls",
]

log = logging.getLogger(__name__)

CONFIG_PATH = Path(__file__).with_name("config.cfg")
"""The default pipeline configuration."""

MODEL_PATH = Path(__file__).parent / "models" / "ner"
"""Where ``fallout train`` writes the trained pipeline; shipped with the package."""


def build_nlp(model: str | Path | None = "auto", *, config: str | Path | None = None) -> Language:
    """Build the extraction pipeline.

    Parameters
    ----------
    model
        ``"auto"`` loads the shipped trained model when present, else the rule-only
        pipeline; a path loads that model; ``None`` forces the rule-only pipeline.
    config
        A spaCy config file to use instead of ``extract/config.cfg``.

    Raises
    ------
    PipelineConfigError
        If the config or model cannot be loaded.
    """
    import spacy
    from spacy import util

    import extract.components  # noqa: F401  (registers the factories)

    if model == "auto":
        model = MODEL_PATH if (MODEL_PATH / "config.cfg").exists() else None
    try:
        if model is not None:
            nlp = spacy.load(Path(model))
        else:
            cfg = util.load_config(Path(config) if config else CONFIG_PATH, interpolate=False)
            cfg["nlp"]["pipeline"] = [p for p in cfg["nlp"]["pipeline"] if p != "ner"]
            cfg["components"].pop("ner", None)
            nlp = util.load_model_from_config(cfg, auto_fill=True, validate=True)
    except (OSError, ValueError) as err:
        raise PipelineConfigError(
            f"cannot build the pipeline ({model or config or CONFIG_PATH}): {err}"
        ) from err
    if "ner" in nlp.pipe_names:
        nlp.disable_pipe("ner")  # consulted by fallout_entities on unexplained sentences only
    nlp.max_length = DEFAULT_MAX_BYTES + 1
    return nlp


@lru_cache(maxsize=1)
def default_nlp() -> Language:
    """Return the default pipeline, built once per process."""
    return build_nlp()


@dataclass
class FileResult:
    """The outcome for one input file: facts, or the reason it failed."""

    path: str
    facts: Facts | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    stats: ExtractionStats = field(default_factory=ExtractionStats)


def _attribute(transcript: Transcript, text: str, data: dict[str, Any]) -> None:
    """Name the speaker who states a relation, and when, from its evidence.

    A question and its answer may share one evidence entry or give one each: the speaker
    is the one whose turn asserts the relation (``Transcript.statement_turn``), with that
    turn's timestamp; the questioner only when no evidence asserts it.
    """
    found = [transcript.statement_turn(text, ev.start, ev.end) for ev in data["evidence"]]
    stated = [f for f in found if f is not None]
    if not stated:
        return
    turn = next((t for t, asserts in stated if asserts), stated[0][0])
    data["speaker"] = transcript.speaker_for(turn.label)
    data["speaker_time"] = turn.time


def doc_to_facts(doc: Doc, document: Document) -> tuple[Facts, ExtractionStats]:
    """Turn a processed ``Doc`` into the facts model, with the counts of what was dropped."""
    stats = ExtractionStats(documents=1)
    from extract.balance import balance_sheet

    records = doc._.fallout_entities or {}
    # balance-sheet statements ("$639 billion of assets") become entity attributes
    stated = balance_sheet(
        doc, {rec.id: str(getattr(rec.type, "value", rec.type)) for rec in records.values()}
    )
    entities = []
    for rec in records.values():
        mentions = tuple(Mention(start=s, end=e, text=t) for s, e, t in sorted(set(rec.mentions)))
        aliases = tuple(sorted(a for a in rec.aliases if a != rec.name))
        entities.append(
            Entity(id=rec.id, name=rec.name, type=rec.type, aliases=aliases, mentions=mentions,
                   **stated.get(rec.id, {}))
        )
    relations = []
    transcript = doc._.fallout_transcript
    for rel in doc._.fallout_relations or []:
        data = {k: v for k, v in rel.items() if not k.startswith("_")}
        data["evidence"] = tuple(Evidence(**ev) for ev in data["evidence"])
        if transcript is not None and data["evidence"]:
            _attribute(transcript, doc_text(doc), data)
        relations.append(Relation(**data))
    drops: Counter[str] = doc._.fallout_drops or Counter()
    stats.dropped.update(drops)
    stats.entities = len(entities)
    stats.relations = len(relations)
    return Facts(document=document, entities=tuple(entities), relations=tuple(relations)), stats


def extract_text(
    text: str, *, source: str = "<text>", title: str | None = None, nlp: Language | None = None
) -> Facts:
    """Extract the facts of one text.

    Examples
    --------
    >>> facts = extract_text("Quarry Capital lent $4 million to Bellwether Exchange.")
    >>> [(r.head, r.type.value, r.tail, r.amount) for r in facts.relations]
    [('quarry-capital', 'LENT_TO', 'bellwether-exchange', 4000000.0)]
    """
    read = read_text(text, source=source, title=title)
    pipe = nlp or default_nlp()
    facts, _ = doc_to_facts(pipe(read.text), read.document)
    return facts


def _read_all(
    paths: Iterable[str | Path], max_bytes: int, failed: list[FileResult]
) -> Iterator[tuple[str, ReadResult]]:
    for path in paths:
        try:
            yield str(path), read_file(path, max_bytes=max_bytes)
        except ReaderError as err:
            failed.append(FileResult(path=str(path), error=str(err)))
        except OSError as err:
            failed.append(FileResult(path=str(path), error=f"{path}: {err}"))


def dated_doc(pipe: Language, read: ReadResult, date: str | None = None) -> Doc:
    """Tokenise a read document and attach its publication date (``date`` wins)."""
    doc = pipe.make_doc(read.text)
    doc._.fallout_date = date or read.date
    return doc


def _extract_serial(
    paths: Sequence[str],
    max_bytes: int,
    batch_size: int,
    nlp: Language | None,
    date: str | None = None,
) -> list[FileResult]:
    pipe = nlp or default_nlp()
    failed: list[FileResult] = []
    done: dict[str, FileResult] = {}
    stream = ((dated_doc(pipe, r, date), (p, r)) for p, r in _read_all(paths, max_bytes, failed))
    for doc, (path, read) in pipe.pipe(stream, as_tuples=True, batch_size=batch_size):
        facts, stats = doc_to_facts(doc, read.document)
        done[path] = FileResult(path=path, facts=facts, warnings=read.warnings, stats=stats)
    for fr in failed:
        done[fr.path] = fr
    return [done[str(p)] for p in paths if str(p) in done]


def _worker(args: tuple[list[str], int, int, str | None]) -> list[FileResult]:
    paths, max_bytes, batch_size, date = args
    return _extract_serial(paths, max_bytes, batch_size, None, date)


def extract_urls(
    urls: Iterable[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | None = None,
    nlp: Language | None = None,
    date: str | None = None,
) -> list[FileResult]:
    """Fetch each URL (``extract.fetch.fetch_url``) and extract its facts, in order.

    A URL that cannot be fetched or read gets ``error`` set, as a file would.
    """
    from extract.fetch import DEFAULT_TIMEOUT, fetch_url

    pipe = nlp or default_nlp()
    results: list[FileResult] = []
    for url in urls:
        try:
            read = fetch_url(url, max_bytes=max_bytes, timeout=timeout or DEFAULT_TIMEOUT)
        except ReaderError as err:
            results.append(FileResult(path=url, error=str(err)))
            continue
        (doc,) = pipe.pipe([dated_doc(pipe, read, date)])
        facts, stats = doc_to_facts(doc, read.document)
        results.append(FileResult(path=url, facts=facts, warnings=read.warnings, stats=stats))
    return results


def extract_files(
    paths: Iterable[str | Path],
    *,
    workers: int = 1,
    on_error: Literal["raise", "skip"] = "skip",
    max_bytes: int = DEFAULT_MAX_BYTES,
    batch_size: int = 64,
    nlp: Language | None = None,
    progress: Any = None,
    date: str | None = None,
) -> list[FileResult]:
    """Extract facts from files, in order; a file that cannot be read gets ``error`` set.

    Parameters
    ----------
    paths
        The files to read (txt, md, html, pdf).
    workers
        Number of processes (1 runs in this process).
    on_error
        ``"skip"`` reports failed files in their ``FileResult``; ``"raise"`` raises the
        first ``ReaderError``.
    max_bytes
        Files larger than this are refused.
    batch_size
        Documents per ``nlp.pipe`` batch.
    nlp
        A pipeline to use instead of the default (single process only).
    progress
        Optional callable receiving the number of files finished after each chunk.
    date
        The publication date (``YYYY-MM-DD``) of every file, for dates stated without a
        year and relative dates; by default each document's dateline or HTML metadata.

    Raises
    ------
    ReaderError
        If ``on_error="raise"`` and a file cannot be read.
    """
    names = [str(p) for p in paths]
    chunk = max(1, min(64, len(names) // max(1, workers * 4) or 1))
    chunks = [names[i : i + chunk] for i in range(0, len(names), chunk)]
    results: list[FileResult] = []
    if workers <= 1:
        for part in chunks:
            results.extend(_extract_serial(part, max_bytes, batch_size, nlp, date))
            if progress is not None:
                progress(len(part))
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if hasattr(__import__("os"), "fork") else mp.get_context()
        with ctx.Pool(workers) as pool:
            for part_result in pool.imap(
                _worker, [(c, max_bytes, batch_size, date) for c in chunks]
            ):
                results.extend(part_result)
                if progress is not None:
                    progress(len(part_result))
    for fr in results:
        if fr.error is not None:
            if on_error == "raise":
                raise ReaderError(fr.error)
            log.info("skipped %s", fr.error)
    return results
