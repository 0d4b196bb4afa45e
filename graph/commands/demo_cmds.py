"""``fallout demo``: the whole journey on the sample corpus, on the embedded store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from graph.commands._store import wait_option

__all__ = ["register"]

DEMO_QUERY = (
    "MATCH (h:Entity)-[r:LENT_TO]->(t:Entity) "
    "RETURN h.name AS lender, t.name AS borrower, r.amount AS amount LIMIT 10"
)


def _say(message: str) -> None:
    typer.echo(message, err=True)


def demo_cmd(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            "-s",
            help="Store to fill (default: FALLOUT_STORE, else the embedded store in the "
            "user data directory).",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's reports.")
    ] = Path("fallout-demo"),
    app: Annotated[
        bool, typer.Option("--app/--no-app", help="Open the browser app at the end.")
    ] = True,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port for the app.")
    ] = 8501,
    wait: Annotated[float, wait_option()] = 0.0,
) -> None:
    """Load the sample corpus, run "FTX defaults", write a report and open the app."""
    from graph.commands._store import open_cli_store
    from graph.report import report_for, write_report
    from graph.report.render import money
    from graph.sample import load_sample_corpus, sample_corpus_files
    from graph.scenario import Scenario, resolve_entity, run_scenario
    from graph.store import default_store_url

    if app:
        from graph.commands.run_cmds import check_port

        check_port(port)  # before the work, not after it
    url = store or os.environ.get("FALLOUT_STORE", "").strip() or str(default_store_url())
    _say(f"fallout demo: store {url}")
    texts = sample_corpus_files()
    with open_cli_store(url, write=True, wait=wait) as st:
        _say(f"1/4 extracting and loading {len(texts)} sample texts (spaCy pipeline) ...")
        summary = load_sample_corpus(st)
        counts = st.counts()
        _say(
            f"    loaded {summary.documents} documents; the store holds "
            f"{counts.get('entities', 0)} entities, {counts.get('relations', 0)} relations, "
            f"{counts.get('documents', 0)} documents"
        )
        _say("2/4 running the default scenario: FTX defaults (combined engine) ...")
        scenario = Scenario(defaults=(resolve_entity("FTX", store=st),), model="combined")
        dump = st.dump()
    run = run_scenario(dump, scenario)
    names = run.projection.names
    hit = sorted(
        (n for n in run.result.nodes if n.equity_loss > 0 or n.defaulted),
        key=lambda n: -n.equity_loss,
    )
    share = run.projection.stated_share()
    _say(
        f"    stated in the text: {share['equity']:.0%} of equity, {share['exposure']:.0%} of "
        f"exposures by value ({int(share['assumed'])} numbers assumed, marked in the report)"
    )
    mc = run.monte_carlo
    equity = {f.subject: f for f in run.projection.figures if f.field == "equity"}
    for n in hit[:8]:
        flag = "defaults" if n.defaulted else f"loses {n.relative_loss:.0%} of equity"
        span = ""
        if mc is not None:
            lo, _, hi = mc.loss_percentiles[n.id]
            span = f", 90% range {money(lo)} to {money(hi)}"
        fig = equity.get(n.id)
        basis = f"; equity {fig.provenance}" if fig is not None else ""
        _say(f"    {names.get(n.id, n.id)}: {money(n.equity_loss)} ({flag}{span}{basis})")
    if mc is not None:
        lo, mid, hi = mc.total_loss_percentiles
        _say(f"    total loss 90% range {money(lo)} to {money(hi)} ({mc.scenarios} samples)")
    _say(f"3/4 writing the report into {out}/ ...")
    out.mkdir(parents=True, exist_ok=True)
    report = report_for(run, title="FTX defaults: who else goes down")
    for fmt in ("html", "md"):
        path = write_report(report, fmt, out / f"ftx-defaults.{fmt}")
        _say(f"    wrote {path}")
    try:
        path = write_report(report, "pdf", out / "ftx-defaults.pdf")
        _say(f"    wrote {path}")
    except Exception as err:  # PDF needs the optional 'pdf' extra; the demo goes on
        _say(f"    no PDF: {err}")
    _say("    query it yourself, e.g.:")
    _say(f'      fallout query --store "{url}" "{DEMO_QUERY}"')
    if not app:
        _say("4/4 skipped the app (--no-app); start it with: fallout app")
        return
    import subprocess
    import sys

    from graph.commands.run_cmds import app_script

    _say(f"4/4 opening the app on http://localhost:{port} (Ctrl+C to stop) ...")
    env = dict(os.environ, FALLOUT_STORE=url)
    script = app_script()
    code = subprocess.call(
        [sys.executable, "-m", "streamlit", "run", str(script),
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=script.parent,
        env=env,
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the fallout app."""
    app.command("demo")(demo_cmd)
