"""How fast the app's graph view draws a large graph (2,000 nodes by default).

Measures, on a seeded random graph:

1. the layout computed in Python (``graph_positions``), cold and cached;
2. building the Cytoscape elements (``graph_elements``);
3. in a real Chromium against ``streamlit run``: time from navigation until the graph's
   canvas is drawn inside the component frame, on the first visit (cold layout) and on
   later visits (layout cached).

Usage: ``python bench/bench_app.py [--nodes 2000] [--edges 4000] [--visits 3]
[--screenshot PNG]``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ["Exchange", "Lender", "TradingFirm", "InvestmentFirm", "Bank", "Company", "Token"]
TYPES = ["LENT_TO", "HOLDS", "DEPOSITED_WITH", "ISSUED", "OWNS", "PLEDGED_COLLATERAL"]


def synthetic(nodes: int, edges: int, seed: int = 7):  # type: ignore[no-untyped-def]
    from graph.store.base import EntityRecord, RelationRecord, Subgraph

    rng = random.Random(seed)
    ents = tuple(EntityRecord(f"n{i}", f"Node {i}", rng.choice(KINDS)) for i in range(nodes))
    rels = []
    for k in range(edges):
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a == b:
            continue
        amount = rng.choice([None, 10 ** rng.uniform(5, 10)])
        mark = rng.random()  # about one statement in ten hedged, one in twenty denied
        rels.append(RelationRecord(f"r{k}", f"n{a}", rng.choice(TYPES), f"n{b}", "d", 0.9,
                                   amount=amount, hedged=mark < 0.1, negated=mark > 0.95))
    return Subgraph(entities=ents, relations=tuple(rels))


def python_side(nodes: int, edges: int) -> dict[str, float]:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from pages._shared import graph_elements, graph_positions

    sub = synthetic(nodes, edges)
    ids = tuple(sorted(e.id for e in sub.entities))
    pairs = tuple(sorted({(r.head, r.tail) for r in sub.relations}))
    t0 = time.perf_counter()
    pos = graph_positions(ids, pairs)
    t1 = time.perf_counter()
    graph_positions(ids, pairs)
    t2 = time.perf_counter()
    graph_elements(sub, positions=pos)
    t3 = time.perf_counter()
    return {"layout_cold": t1 - t0, "layout_cached": t2 - t1, "elements": t3 - t2}


APP = """
import streamlit as st
from bench.bench_app import synthetic
from pages._shared import render_graph

sub = st.cache_resource(synthetic)({nodes}, {edges})
st.write("nodes", len(sub.entities))
render_graph(sub, key="bench", layout="cached", height=700)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser_side(
    nodes: int, edges: int, visits: int, screenshot: Path | None = None
) -> list[float]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="fallout-bench-app-"))
    script = work / "bench_page.py"
    script.write_text(textwrap.dedent(APP.format(nodes=nodes, edges=edges)), encoding="utf-8")
    port = _free_port()
    log = (work / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    times: list[float] = []
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for _ in range(visits):
                t0 = time.perf_counter()
                page.goto(url)
                frame = page.frame_locator("iframe[title*='st_link_analysis']")
                frame.locator("canvas").first.wait_for(state="attached", timeout=120_000)
                # the nodes are drawn once cytoscape reports them rendered
                page.wait_for_function(
                    "() => { const f = [...document.querySelectorAll('iframe')].find("
                    "i => (i.title||'').includes('st_link_analysis')); if (!f) return false;"
                    " const cy = f.contentDocument.getElementById('cy')?._cyreg?.cy;"
                    f" return !!cy && cy.nodes().length === {nodes} &&"
                    " cy.nodes().renderedBoundingBox().w > 0; }",
                    timeout=120_000,
                )
                times.append(time.perf_counter() - t0)
            if screenshot is not None:
                page.wait_for_timeout(1000)
                page.locator("iframe[title*='st_link_analysis']").first.screenshot(
                    path=str(screenshot))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
        script.unlink(missing_ok=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--edges", type=int, default=4000)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, help="save the drawn graph as a PNG")
    args = parser.parse_args()
    py = python_side(args.nodes, args.edges)
    print(f"layout (python, cold):   {py['layout_cold']:.2f} s")
    print(f"layout (python, cached): {py['layout_cached'] * 1000:.1f} ms")
    print(f"elements:                {py['elements'] * 1000:.1f} ms")
    times = browser_side(args.nodes, args.edges, args.visits, args.screenshot)
    print(f"browser draw, first visit (cold layout): {times[0]:.2f} s")
    for k, t in enumerate(times[1:], start=2):
        print(f"browser draw, visit {k} (layout cached):   {t:.2f} s")


if __name__ == "__main__":
    main()
