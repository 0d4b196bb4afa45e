"""Bulk load and neighbourhood timings for the graph stores (a script, not a test).

Usage::

    python bench/bench_load.py --backend embedded --relations 1000000 --entities 200000
    python bench/bench_load.py --backend neo4j --relations 1000000 --entities 200000

The synthetic corpus has ``relations / 1000`` documents of 1000 stated relations each;
a document names its own slice of the entities plus five hubs shared by every document,
so entity merging is exercised. ``neo4j`` starts the test server through
``tests/fixtures/neo4j_server.start_neo4j`` unless ``--url`` is given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.model import Facts  # noqa: E402

KINDS = ["Exchange", "Lender", "TradingFirm", "Bank", "Company", "Token"]
RELS = ["LENT_TO", "HOLDS", "DEPOSITED_WITH", "OWNS", "EXPOSED_TO", "PLEDGED_COLLATERAL"]
HUBS = 5


def corpus(n_rel: int, n_ent: int, per_doc: int = 1000, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    n_docs = max(1, n_rel // per_doc)
    own = max(2, (n_ent - HUBS) // n_docs)
    docs = []
    for d in range(n_docs):
        ids = [f"e{d * own + k}" for k in range(own)] + [f"hub{h}" for h in range(HUBS)]
        ents = [
            {
                "id": i,
                "name": f"Entity {i}",
                "type": KINDS[hash(i) % len(KINDS)],
                "aliases": [f"{i} plc"],
            }
            for i in ids
        ]
        rels = []
        for k in range(per_doc):
            h, t = rng.sample(ids, 2)
            kind = RELS[k % len(RELS)]
            rels.append(
                {
                    "head": h,
                    "type": kind,
                    "tail": t,
                    "confidence": 0.7,
                    "amount": float(rng.randint(1, 10**9)),
                    "currency": "USD",
                    "to": "hub0" if kind == "PLEDGED_COLLATERAL" else None,
                    "evidence": [
                        {
                            "text": f"Sentence {k} of document {d}.",
                            "start": 40 * k,
                            "end": 40 * k + 30,
                        }
                    ],
                }
            )
        docs.append(
            {
                "document": {"id": f"doc{d}", "source": f"doc{d}.txt", "title": f"D{d}"},
                "entities": ents,
                "relations": rels,
            }
        )
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--relations", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--url", default=None, help="an existing Neo4j server")
    parser.add_argument("--memory", action="store_true", help="embedded store in memory")
    args = parser.parse_args()

    from graph.store import open_store

    t0 = time.perf_counter()
    raw = corpus(args.relations, args.entities)
    t1 = time.perf_counter()
    facts = [Facts.model_validate(d) for d in raw]
    t2 = time.perf_counter()
    n_rel = sum(len(f.relations) for f in facts)
    print(
        f"corpus: {len(facts)} documents, {n_rel} relations; "
        f"generate {t1 - t0:.1f} s, validate facts {t2 - t1:.1f} s",
        flush=True,
    )

    stop = None
    tmp = tempfile.TemporaryDirectory(prefix="fallout-bench-")
    if args.backend == "embedded":
        url = ":memory:" if args.memory else str(Path(tmp.name) / "store")
        batch = args.batch_size or 200_000
    else:
        batch = args.batch_size or 20_000
        if args.url:
            url = args.url
        else:
            from tests.fixtures.neo4j_server import start_neo4j

            url, stop = start_neo4j(timeout=300)
    try:
        t3 = time.perf_counter()
        with open_store(url) as store:
            t4 = time.perf_counter()
            summary = store.load(facts, batch_size=batch)
            t5 = time.perf_counter()
            counts = dict(store.counts())
            print(
                f"{args.backend}: open {t4 - t3:.2f} s, load {t5 - t4:.1f} s "
                f"= {summary.relations / (t5 - t4):,.0f} rel/s "
                f"(facts validation included: {summary.relations / (t5 - t1):,.0f} rel/s); "
                f"batch size {batch}; counts {counts}",
                flush=True,
            )
            t6 = time.perf_counter()
            store.load(facts[:10], batch_size=batch)
            print(
                f"re-load of 10 documents: {time.perf_counter() - t6:.2f} s, counts "
                f"unchanged: {dict(store.counts()) == counts}",
                flush=True,
            )
            rng = random.Random(1)
            for depth in (1, 2):
                times = []
                sizes = []
                for _ in range(30):
                    node = f"e{rng.randrange(args.entities - HUBS)}"
                    s = time.perf_counter()
                    sub = store.neighbourhood(node, depth, limit=2000)
                    times.append(time.perf_counter() - s)
                    sizes.append(len(sub.entities))
                print(
                    f"neighbourhood depth {depth} (30 random non-hub entities): median "
                    f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms,"
                    f" median size {statistics.median(sizes):.0f} entities",
                    flush=True,
                )
    finally:
        if stop is not None:
            stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
