"""Extraction commands: extract, train, eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["publication_date", "register"]


def publication_date(value: str | None) -> str | None:
    """Check a ``--date`` value (YYYY-MM-DD); raise ``typer.BadParameter`` otherwise."""
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--date"
        ) from None


def _extract(
    paths: Annotated[
        list[Path],
        # not ``readable``: a file that cannot be read is named by the reader and skipped,
        # and the other files are still extracted
        typer.Argument(help="Files to read (txt, md, html, pdf).", readable=False),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the facts JSON (README: The facts JSON).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the JSON to this file (NAME.json), or else the Parquet facts dataset "
            "into this directory (see the README).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Number of processes.")] = 1,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Refuse files bigger than this (MB).")
    ] = 50.0,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Publication date YYYY-MM-DD of the texts, for dates given without a year "
            "and for 'last Tuesday' (default: each text's dateline or HTML metadata).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Extract on this Dask cluster (tcp://HOST:PORT) into the dataset --out DIR.",
        ),
    ] = None,
) -> None:
    """Extract entities and relations from articles and transcripts.

    With ``--out DIR`` (not NAME.json) the facts go into a Parquet facts dataset, from
    local processes or, with ``--scheduler``, from the workers of a Dask cluster; files
    already in it are skipped.
    """
    from extract.model import facts_to_json
    from extract.pipeline import extract_files
    from graph.commands.lake_cmds import extract_to_dataset, is_dataset_target

    date = publication_date(date)
    if out is not None and is_dataset_target(out, scheduler):
        status = extract_to_dataset(
            paths, out, scheduler=scheduler, workers=workers,
            max_bytes=int(max_mb * 1024 * 1024), date=date,
        )  # fmt: skip
        raise typer.Exit(status)
    if scheduler is not None:
        raise typer.BadParameter("needs --out DIR (a dataset directory)", param_hint="--scheduler")
    names = [str(p) for p in paths]
    show_bar = len(names) > 5 and out is not None or (len(names) > 20)
    if show_bar:
        from rich.progress import Progress

        with Progress(transient=True, console=_stderr_console()) as bar:
            task = bar.add_task("extracting", total=len(names))
            results = extract_files(
                names,
                workers=workers,
                max_bytes=int(max_mb * 1024 * 1024),
                progress=lambda n: bar.advance(task, n),
                date=date,
            )
    else:
        results = extract_files(
            names, workers=workers, max_bytes=int(max_mb * 1024 * 1024), date=date
        )
    facts = [r.facts for r in results if r.facts is not None]
    failed = [r for r in results if r.error is not None]
    for r in results:
        for warning in r.warnings:
            typer.echo(f"fallout: warning: {warning}", err=True)
    for r in failed:
        typer.echo(f"fallout: error: {r.error}", err=True)
    if as_json or out is not None:
        text = facts_to_json(facts) if facts else "[]"
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
    else:
        for f in facts:
            typer.echo(
                f"{f.document.source}: {len(f.entities)} entities, {len(f.relations)} relations"
            )
            for rel in f.relations:
                flags = "".join(
                    [" (negated)" if rel.negated else "", " (hedged)" if rel.hedged else ""]
                )
                typer.echo(f"  {rel.head} {rel.type.value} {rel.tail}{flags}")
        dropped: dict[str, int] = {}
        for r in results:
            for k, v in r.stats.dropped.items():
                dropped[k] = dropped.get(k, 0) + v
        if dropped:
            typer.echo("dropped: " + ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())))
    if failed:
        raise typer.Exit(1)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _train(
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Folder of NAME.txt + NAME.json.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Where to write the model.")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed (training is reproducible).")
    ] = 42,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = 30,
    dev: Annotated[
        Path | None,
        typer.Option("--dev", help="Folder where the relation scorer's threshold is picked."),
    ] = None,
    ner_only: Annotated[
        bool, typer.Option("--ner-only", help="Train the entity recogniser only.")
    ] = False,
    scorer_only: Annotated[
        bool,
        typer.Option(
            "--scorer-only", help="Keep the shipped recogniser; retrain the relation scorer."
        ),
    ] = False,
) -> None:
    """Train the entity recogniser, then the relation scorer, from the annotated corpora.

    By default from every training split (ontologies/corpus/train, heldout and
    reporting/train), with the scorer's threshold picked on reporting/dev; the frozen
    reporting/test split is never read. Training is seeded: same seed, same model.
    """
    from extract.train import train

    summary = train(
        corpus=corpus,
        output=output,
        seed=seed,
        epochs=epochs,
        dev=dev,
        relations=not ner_only,
        scorer_only=scorer_only,
    )
    typer.echo(json.dumps(summary, indent=2))


def _eval(
    gold: Annotated[
        Path, typer.Option("--gold", help="Folder of NAME.txt + NAME.json gold files.")
    ],
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List missed and spurious.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    by_type: Annotated[
        bool, typer.Option("--by-type", help="Add a table of scores per relation type.")
    ] = False,
    expect: Annotated[
        Path | None,
        typer.Option(
            "--expect",
            help='A JSON file with the recorded figures ({"relations": {"f1": ...}}): '
            "exit 1 when relation F1 falls more than --tolerance below it.",
        ),
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Allowed fall in relation F1 for --expect.")
    ] = 0.03,
) -> None:
    """Score extraction against gold annotations (precision, recall, F1).

    Relations, entities, coreference links (where the gold has them) and, with
    --by-type, each relation type.
    """
    from extract.evaluate import evaluate_dir

    report = evaluate_dir(gold)
    data = report.to_dict(verbose=verbose)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        if expect is not None:
            _check_expected(data["micro"]["relations"], expect, tolerance)
        return
    typer.echo(
        f"{'document':32} {'ent P':>6} {'ent R':>6} {'ent F1':>6} "
        f"{'rel P':>6} {'rel R':>6} {'rel F1':>6}"
    )
    rows = [*data["documents"], {"document": "micro", **data["micro"]}]
    for row in rows:
        e, r = row["entities"], row["relations"]
        typer.echo(
            f"{row['document'][:32]:32} {e['precision']:6.3f} {e['recall']:6.3f} "
            f"{e['f1']:6.3f} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f}"
        )
        if verbose and row["document"] != "micro":
            for item in row["missed_entities"]:
                typer.echo(f"    missed entity: {item}")
            for item in row["spurious_entities"]:
                typer.echo(f"    spurious entity: {item}")
            for item in row["missed"]:
                typer.echo(f"    missed: {item}")
            for item in row["spurious"]:
                typer.echo(f"    spurious: {item}")
    if "coref" in data["micro"]:
        c = data["micro"]["coref"]
        typer.echo(
            f"{'coreference links':32} {'':20} {c['precision']:6.3f} {c['recall']:6.3f} "
            f"{c['f1']:6.3f}"
        )
    if by_type:
        typer.echo(
            f"\n{'relation type':32} {'pred':>6} {'gold':>6} {'':6} {'P':>6} {'R':>6} {'F1':>6}"
        )
        for rtype, r in data["by_type"].items():
            typer.echo(
                f"{rtype:32} {r['predicted']:6d} {r['gold']:6d} {'':6} "
                f"{r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f}"
            )
    if expect is not None:
        _check_expected(data["micro"]["relations"], expect, tolerance)


def _check_expected(relations: dict[str, float], expect: Path, tolerance: float) -> None:
    """Exit 1 when relation F1 fell more than ``tolerance`` below the recorded figure."""
    try:
        recorded = float(json.loads(expect.read_text(encoding="utf-8"))["relations"]["f1"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise typer.BadParameter(
            f"{expect}: not a recorded score file ({err})", param_hint="--expect"
        ) from None
    f1 = float(relations["f1"])
    if f1 < recorded - tolerance:
        typer.echo(
            f"fallout: error: relation F1 {f1:.3f} is more than {tolerance:.2f} below the "
            f"recorded {recorded:.3f} ({expect})",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"relation F1 {f1:.3f} holds against the recorded {recorded:.3f} ({expect})")


def register(app: typer.Typer) -> None:
    """Add this module's subcommands to the fallout app."""
    app.command("extract")(_extract)
    app.command("train")(_train)
    app.command("eval")(_eval)
