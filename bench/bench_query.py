"""Time user queries on the embedded store under the default limits (1 GiB, a worker process).

    .venv/bin/python bench/bench_query.py [--relations 200000] [--entities 20000] [--runs 3]

Loads a synthetic store (``bench_load.corpus``), then times with ``graph.store.bounded``:

- an ordinary read in the worker, against the same read in this process (the worker's cost);
- the issue's runaway query ``UNWIND range(1,300000000) AS x RETURN collect(x)[0]``;
- 30 million rows returned, which grow the worker past the ceiling while they are turned
  into Python objects (LadybugDB's own timeout does not cover that);
- a scan of every relation, which must finish under the ceiling.

For each: seconds until the answer or the stop, the outcome, and the worker's peak resident
memory (the largest of the finished children, ``RUSAGE_CHILDREN``). Figures go into
docs/benchmarks.md, section "Bounded queries".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import corpus  # noqa: E402

from extract.model import Facts  # noqa: E402
from graph.store import open_store  # noqa: E402
from graph.store.bounded import QueryLimits  # noqa: E402  (describe() of the defaults)

QUERIES = {
    "count relations by type": (
        "MATCH ()-[r]->() RETURN type(r) AS rel, count(*) AS n ORDER BY n DESC", 30.0),
    "issue repro: collect 300M": (
        "UNWIND range(1, 300000000) AS x RETURN collect(x)[0] AS first", 3.0),
    "30M rows back": ("UNWIND range(1, 30000000) AS x RETURN x", 120.0),
    "every relation, 4 columns": (
        "MATCH (h:Entity)-[r]->(t:Entity) RETURN h.id AS h, type(r) AS rel, t.id AS t, "
        "r.amount AS amount", 120.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="fallout-bench-query-")) / "store"
    t0 = time.perf_counter()
    facts = [Facts.from_dict(d) for d in corpus(args.relations, args.entities)]
    with open_store(path) as store:
        store.load(facts)
        counts = dict(store.counts())
    print(f"store: {counts} loaded in {time.perf_counter() - t0:.1f} s", flush=True)
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 2**20
    print(f"store files: {size:.0f} MiB; limits: {QueryLimits().describe()}", flush=True)

    with open_store(path, read_only=True) as here:
        query = QUERIES["count relations by type"][0]
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            here.cypher(query, timeout=30)
            times.append(time.perf_counter() - t)
        print(f"in this process, count relations by type: {min(times):.2f} s", flush=True)

    for name, (query, timeout) in QUERIES.items():
        times, outcome = [], ""
        runs = args.runs if timeout <= 30 else 1
        for _ in range(runs):
            # a fresh interpreter per run, so that RUSAGE_CHILDREN is this query's worker
            code = (
                "import sys,time,resource; sys.path.insert(0, sys.argv[1]);"
                "from graph.store.bounded import QueryLimits, run_query;"
                "t=time.perf_counter();\n"
                "try:\n r=run_query(sys.argv[2], sys.argv[3], limits=QueryLimits(timeout="
                "float(sys.argv[4]))); o=f'{len(r.rows)} rows'\n"
                "except Exception as e: o=str(e)[:70]\n"
                "print(f'{time.perf_counter()-t:.2f}|{o}|"
                "{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:.0f}')"
            )
            done = subprocess.run(
                [sys.executable, "-c", code, str(Path(__file__).resolve().parents[1]),
                 str(path), query, str(timeout)],
                capture_output=True, text=True, check=True,
            )
            seconds, outcome, peak = done.stdout.strip().splitlines()[-1].split("|")
            times.append(float(seconds))
        print(f"worker, {name}: {min(times):.2f} s (of {runs}), peak {peak} MB, {outcome}",
              flush=True)


if __name__ == "__main__":
    main()
