"""Time the scenario path on a synthetic graph: projection, combined engine, Monte Carlo, reports.

Usage: python bench/bench_scenario.py [ENTITIES] [RELATIONS_PER_ENTITY] [--no-pdf]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from graph.contagion.combined import combined
from graph.contagion.montecarlo import monte_carlo
from graph.projection import project
from graph.report import Scenario, build_report, render_html, write_pdf
from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord


def synthetic(n: int, per: int, seed: int = 0) -> GraphDump:
    rng = np.random.default_rng(seed)
    kinds = ["Exchange", "Lender", "TradingFirm", "InvestmentFirm", "Bank"]
    ents = [EntityRecord(f"e{i}", f"Firm {i}", kinds[i % 5],
                         equity=float(rng.uniform(1e7, 1e9)) if i % 3 else None)
            for i in range(n)]
    tokens = max(2, n // 50)
    ents += [EntityRecord(f"t{k}", f"TOK{k}", "Token") for k in range(tokens)]
    rels = []
    m = n * per
    heads = rng.integers(0, n, m)
    tails = rng.integers(0, n, m)
    for k in range(m):
        h, t = int(heads[k]), int(tails[k])
        if h == t:
            continue
        kind = k % 10
        amount = float(rng.uniform(1e6, 2e8)) if k % 4 else None
        if kind < 5:
            rels.append(RelationRecord(f"r{k}", f"e{h}", "LENT_TO", f"e{t}", "d0", 0.9,
                                       evidence="s", amount=amount))
        elif kind < 7:
            rels.append(RelationRecord(f"r{k}", f"e{h}", "DEPOSITED_WITH", f"e{t}", "d0", 0.9,
                                       evidence="s", amount=amount))
        elif kind < 9:
            rels.append(RelationRecord(f"r{k}", f"e{h}", "HOLDS", f"t{t % tokens}", "d0", 0.9,
                                       evidence="s", amount=amount))
        else:
            rels.append(RelationRecord(f"r{k}", f"e{h}", "PLEDGED_COLLATERAL", f"t{t % tokens}",
                                       "d0", 0.9, evidence="s", to=f"e{t}"))
    rels += [RelationRecord(f"i{k}", f"e{k}", "ISSUED", f"t{k}", "d0", 0.9, evidence="s")
             for k in range(tokens)]
    return GraphDump(tuple(ents), tuple(rels), (DocumentRecord("d0", "synthetic", "synth"),))


def timed(label: str, fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    print(f"{label:45s} {time.perf_counter() - t0:8.3f} s")
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    dump = synthetic(n, per)
    print(f"graph: {len(dump.entities)} entities, {len(dump.relations)} relations")
    p = timed("project", project, dump)
    print(f"network: {p.network.n} nodes, {p.network.exposures.nnz} exposures, "
          f"{len(p.network.loans)} collateral loans, {len(p.figures)} figures")
    res = timed("combined, default of the 5 largest issuers", combined, p.network,
                channels=p.channels, defaults=[f"e{k}" for k in range(5)])
    print(f"  rounds {len(res.rounds)}, defaults {res.totals['defaults']:.0f}, "
          f"paths {len(res.paths)}")
    timed("monte carlo, 40 scenarios, 1 worker", monte_carlo, p.network, channels=p.channels,
          uncertainty=p.uncertainty(), defaults=["e0"], scenarios=40, seed=1, workers=1)
    timed("monte carlo, 40 scenarios, 2 workers", monte_carlo, p.network, channels=p.channels,
          uncertainty=p.uncertainty(), defaults=["e0"], scenarios=40, seed=1, workers=2)
    rep = timed("build report", build_report, dump, p, res, Scenario(defaults=("e0",)))
    html = timed("render HTML", render_html, rep)
    print(f"  HTML {len(html) / 1e6:.2f} MB")
    if "--no-pdf" not in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            timed("render PDF (WeasyPrint)", write_pdf, rep, Path(tmp) / "r.pdf")


if __name__ == "__main__":
    main()
