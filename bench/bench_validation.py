"""What the one validation of facts costs (a script, not a test).

Usage::

    python bench/bench_validation.py --relations 1000000 --entities 200000

On the synthetic corpus of ``bench_load.py`` (documents of 1,000 relations), times, best
of ``--repeat`` runs:

- ``check_facts`` over every document: what ``fallout load``, ``fallout ingest`` and the
  app's Ingest page pay, and the Neo4j store (``Batch.relations``);
- the column-wise relation rules on the Arrow table of one batch: what the embedded
  store pays (``Batch.relation_tables``), beside the time to build that table;
- ``json_depth`` against ``json.loads`` on each document's JSON text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import corpus  # noqa: E402

from extract.model import Facts  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import graph.load as load
    from graph.validation import check_facts, json_depth

    raw = corpus(args.relations, args.entities)
    texts = [json.dumps(d) for d in raw]
    facts = [Facts.model_validate(d) for d in raw]
    n = sum(len(f.relations) for f in facts)
    print(f"corpus: {len(facts)} documents, {n} relations, {sum(map(len, texts)) / 1e6:.0f} MB "
          "of JSON", flush=True)

    t = best(lambda: [check_facts(f) for f in facts], args.repeat)
    print(f"check_facts: {t:.2f} s = {n / t:,.0f} rel/s", flush=True)

    [batch] = list(load.batches(facts, batch_size=n + 1))
    tables: dict[str, object] = {}
    passes = load._rows_pass

    def keep(table: object) -> bool:
        tables["whole"] = table
        return passes(table)

    load._rows_pass = keep
    try:
        build = best(batch.relation_tables, 1)
    finally:
        load._rows_pass = passes
    t = best(lambda: passes(tables["whole"]), args.repeat)
    print(f"relation rules on the Arrow table: {t * 1000:.0f} ms "
          f"(building the tables: {build:.2f} s)", flush=True)

    depth = best(lambda: [json_depth(x) for x in texts], args.repeat)
    parse = best(lambda: [json.loads(x) for x in texts], args.repeat)
    print(f"json_depth: {depth:.2f} s; json.loads: {parse:.2f} s", flush=True)


if __name__ == "__main__":
    main()
