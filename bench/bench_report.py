"""Time ``fallout report`` on a large embedded store, and how long Chromium takes to open it.

Usage::

    python bench/bench_report.py [--entities 6000] [--relations 120000] [--pdf] [--opens 3]

Builds a synthetic graph of ENTITIES entities (firms of five kinds, one token per 50 of
them) and RELATIONS stated relations in documents of 1,000 relations each: half loans,
a fifth deposits, a fifth token holdings, a tenth pledges with a named lender, and one
issuer per token; a quarter of the amounts and a third of the equities left unstated so
that the assumptions fill them. Every relation has its own evidence sentence. The facts
are loaded into an embedded store in a temporary folder (timed, but not part of the
report's figures). Then:

1. ``fallout report e0 e1 --format html`` (and ``md``, and ``pdf`` with ``--pdf``) runs
   as a separate process: wall time, peak memory of that process, and the file's size;
2. the same steps run once in this process, each timed (dump, scenario run, report
   model, rendering), to show where the time goes;
3. Debian's Chromium, driven by Playwright, opens the HTML file ``--opens`` times: each
   open is timed from ``page.goto`` until the ``load`` event has fired and two animation
   frames have been painted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRM_KINDS = ["Exchange", "Lender", "TradingFirm", "InvestmentFirm", "Bank"]
DEFAULTS = ["e0", "e1"]


def corpus(n_ent: int, n_rel: int, per_doc: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Facts dicts (the ``fallout extract --json`` shape) of the synthetic graph."""
    rng = random.Random(seed)
    tokens = max(2, n_ent // 51)
    firms = n_ent - tokens
    firm_rows = {
        f"e{i}": {"id": f"e{i}", "name": f"Firm {i}", "type": FIRM_KINDS[i % 5],
                  **({"equity": rng.uniform(1e7, 1e9)} if i % 3 else {})}
        for i in range(firms)
    }
    token_rows = {f"t{k}": {"id": f"t{k}", "name": f"TOK{k}", "type": "Token"}
                  for k in range(tokens)}
    rows = {**firm_rows, **token_rows}
    issued = [("ISSUED", f"e{k}", f"t{k}", None, None) for k in range(tokens)]
    stated: list[tuple[str, str, str, float | None, str | None]] = []
    k = 0
    while len(stated) < n_rel - len(issued):
        h, t = rng.randrange(firms), rng.randrange(firms)
        k += 1
        if h == t:
            continue
        kind = k % 10
        amount = rng.uniform(1e6, 2e8) if k % 4 else None
        if kind < 5:
            stated.append(("LENT_TO", f"e{h}", f"e{t}", amount, None))
        elif kind < 7:
            stated.append(("DEPOSITED_WITH", f"e{h}", f"e{t}", amount, None))
        elif kind < 9:
            stated.append(("HOLDS", f"e{h}", f"t{t % tokens}", amount, None))
        else:
            stated.append(("PLEDGED_COLLATERAL", f"e{h}", f"t{t % tokens}", amount, f"e{t}"))
    stated += issued
    docs = []
    for d in range(0, len(stated), per_doc):
        chunk = stated[d: d + per_doc]
        ids = dict.fromkeys(x for r in chunk for x in (r[1], r[2], r[4]) if x)
        rels = []
        for j, (typ, head, tail, amount, to) in enumerate(chunk):
            text = f"In note {d + j}, {rows[head]['name']} and {rows[tail]['name']} ({typ})."
            rel: dict[str, Any] = {"head": head, "type": typ, "tail": tail, "confidence": 0.8,
                                   "evidence": [{"text": text, "start": 80 * j,
                                                 "end": 80 * j + len(text)}]}
            if amount is not None:
                rel.update(amount=amount, currency="USD")
            if to:
                rel["to"] = to
            rels.append(rel)
        docs.append({"document": {"id": f"doc{d // per_doc}", "source": f"notes/{d}.txt",
                                  "title": f"Notes {d // per_doc}"},
                     "entities": [rows[i] for i in ids], "relations": rels})
    return docs


def run_cli(args: list[str]) -> tuple[float, float, float]:
    """Run ``fallout ARGS`` as its own process; return (seconds, CPU seconds, peak MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "graph.cli", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"fallout {' '.join(args)} failed: {err}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def in_process(store: str) -> None:
    """Time each step of the report once, inside this process (wall and CPU seconds)."""
    from graph.report import report_for, write_report
    from graph.scenario import Scenario, run_scenario
    from graph.store import open_store

    marks = [(time.perf_counter(), time.process_time())]

    def mark() -> None:
        marks.append((time.perf_counter(), time.process_time()))

    with open_store(store) as st:
        dump = st.dump()
    mark()
    run = run_scenario(dump, Scenario(defaults=tuple(DEFAULTS)))
    mark()
    report = report_for(run)
    mark()
    with tempfile.TemporaryDirectory() as tmp:
        write_report(report, "html", Path(tmp) / "r.html")
        mark()
        write_report(report, "md", Path(tmp) / "r.md")
        mark()
    steps = ["dump", "scenario", "report model", "HTML", "Markdown"]
    h = report.headline
    print(f"  in process: {len(run.result.rounds)} rounds, {h['defaults']:.0f} defaults, "
          f"{len(run.result.paths):,} loss steps")
    for name, (w0, c0), (w1, c1) in zip(steps, marks[:-1], marks[1:], strict=True):
        print(f"    {name:14s} {w1 - w0:6.2f} s (CPU {c1 - c0:.2f} s)")
    for section, cut in report.left_out.items():
        print(f"    {section}: {cut.text or f'all {cut.total:,} shown'}")


def open_times(html: Path, opens: int) -> list[float]:
    """Seconds from ``page.goto`` to two painted frames after ``load``, ``opens`` times."""
    from playwright.sync_api import sync_playwright

    from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS

    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(opens):
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(html.as_uri(), wait_until="load", timeout=600_000)
                page.evaluate("() => new Promise(r => requestAnimationFrame("
                              "() => requestAnimationFrame(r)))")
                times.append(time.perf_counter() - start)
                page.close()
        finally:
            browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=6000)
    parser.add_argument("--relations", type=int, default=120_000)
    parser.add_argument("--opens", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="also time --format pdf")
    parser.add_argument("--no-steps", action="store_true", help="skip the in-process steps")
    args = parser.parse_args()

    from extract.model import Facts
    from graph.store import open_store

    with tempfile.TemporaryDirectory(prefix="fallout-bench-report-") as tmp:
        store = str(Path(tmp) / "store")
        t0 = time.perf_counter()
        facts = [Facts.model_validate(d) for d in corpus(args.entities, args.relations)]
        with open_store(store) as st:
            st.load(facts)
            counts = dict(st.counts())
        del facts
        print(f"store: {counts} (generated and loaded in {time.perf_counter() - t0:.0f} s)",
              flush=True)

        formats = ["html", "md"] + (["pdf"] if args.pdf else [])
        for fmt in formats:
            out = Path(tmp) / f"report.{fmt}"
            secs, cpu, peak = run_cli(["report", *DEFAULTS, "--format", fmt, "--out", str(out),
                                  "--store", store])
            print(f"fallout report {' '.join(DEFAULTS)} --format {fmt}: {secs:.1f} s "
                  f"(CPU {cpu:.1f} s), "
                  f"peak {peak:,.0f} MB, {out.stat().st_size / 1e6:.2f} MB", flush=True)
        if not args.no_steps:
            in_process(store)
        times = open_times(Path(tmp) / "report.html", args.opens)
        print(f"Chromium opens the HTML: {', '.join(f'{t:.2f}' for t in times)} s "
              f"(median {statistics.median(times):.2f} s)", flush=True)


if __name__ == "__main__":
    main()
