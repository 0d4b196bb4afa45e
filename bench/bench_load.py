"""Bulk load and neighbourhood timings for the graph stores (a script, not a test).

Usage::

    python bench/bench_load.py --backend embedded --relations 1000000 --entities 200000
    python bench/bench_load.py --backend neo4j --relations 1000000 --entities 200000
    python bench/bench_load.py --cli      # `fallout load` of JSON files, whole process

The synthetic corpus has ``relations / 1000`` documents of 1000 stated relations each;
a document names its own slice of the entities plus five hubs shared by every document,
so entity merging is exercised. ``neo4j`` starts the test server through
``tests/fixtures/neo4j_server.start_neo4j`` unless ``--url`` is given.

By default the load is timed from validated facts in memory to a durable store (for
the embedded store: checkpointed to disk), then depth-1 and depth-2 neighbourhoods are
timed around random entities and around the hubs. ``--cli`` instead writes one facts
JSON file per document and times ``fallout load`` as a separate process, so JSON
parsing, validation, start-up and imports are included.
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


def neighbourhood_timings(store: Any, n_entities: int) -> None:
    """Depth 1 and 2 around 30 random entities, and depth 2 around every hub.

    Each group runs twice: the first pass right after the load is reported as cold
    (query plans compiled, caches filled), the second as warm.
    """
    rng = random.Random(1)
    randoms = [f"e{rng.randrange(n_entities - HUBS)}" for _ in range(30)]
    groups = [
        ("random", randoms, 1),
        ("random", randoms, 2),
        ("hub", [f"hub{h}" for h in range(HUBS)], 2),
    ]
    for label, nodes, depth in groups:
        for state in ("cold", "warm"):
            times = []
            sizes = []
            for node in nodes:
                s = time.perf_counter()
                sub = store.neighbourhood(node, depth, limit=2000)
                times.append(time.perf_counter() - s)
                sizes.append(len(sub.entities))
            print(
                f"neighbourhood depth {depth}, {len(nodes)} {label} entities, {state}: median "
                f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms, "
                f"entities median {statistics.median(sizes):.0f}, max {max(sizes)}",
                flush=True,
            )


def cli_load(raw: list[dict[str, Any]], url: str | None, batch: int | None) -> None:
    """Time ``fallout load`` of one facts JSON file per document, as a whole process."""
    import json
    import subprocess

    with tempfile.TemporaryDirectory(prefix="fallout-bench-cli-") as tmp:
        paths = []
        for doc in raw:
            path = Path(tmp) / f"{doc['document']['id']}.json"
            path.write_text(json.dumps(doc), encoding="utf-8")
            paths.append(str(path))
        store = url or str(Path(tmp) / "store")
        command = [sys.executable, "-m", "graph.cli", "load", *paths, "--store", store]
        if batch:
            command += ["--batch-size", str(batch)]
        n_rel = sum(len(d["relations"]) for d in raw)
        size = sum(Path(p).stat().st_size for p in paths) / 1e6
        s = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - s
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        print(
            f"fallout load, whole process from {len(paths)} JSON files ({size:.0f} MB): "
            f"{elapsed:.1f} s = {n_rel / elapsed:,.0f} rel/s; {done.stderr.strip()}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--relations", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--url", default=None, help="an existing Neo4j server")
    parser.add_argument("--memory", action="store_true", help="embedded store in memory")
    parser.add_argument(
        "--cli", action="store_true", help="time `fallout load` of JSON files instead"
    )
    args = parser.parse_args()

    from graph.store import open_store

    t0 = time.perf_counter()
    raw = corpus(args.relations, args.entities)
    t1 = time.perf_counter()
    if args.cli:
        cli_load(raw, args.url, args.batch_size)
        return
    facts = [Facts.model_validate(d) for d in raw]
    t2 = time.perf_counter()
    n_rel = sum(len(f.relations) for f in facts)
    print(
        f"corpus: {len(facts)} documents, {n_rel} relations; "
        f"generate {t1 - t0:.1f} s, validate facts {t2 - t1:.1f} s",
        flush=True,
    )

    stop = None
    batch = args.batch_size
    tmp = tempfile.TemporaryDirectory(prefix="fallout-bench-")
    if args.backend == "embedded":
        url = ":memory:" if args.memory else str(Path(tmp.name) / "store")
    else:
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
                f"batch size {batch or 'default'}; counts {counts}",
                flush=True,
            )
            t6 = time.perf_counter()
            store.load(facts[:10], batch_size=batch)
            print(
                f"re-load of 10 documents: {time.perf_counter() - t6:.2f} s, counts "
                f"unchanged: {dict(store.counts()) == counts}",
                flush=True,
            )
            neighbourhood_timings(store, args.entities)
    finally:
        if stop is not None:
            stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
