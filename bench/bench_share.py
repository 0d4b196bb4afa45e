"""What sharing the embedded store costs: opening it for each interaction, readers side by side.

Usage::

    python bench/bench_share.py --relations 1000000 --entities 200000 [--store DIR] [--runs 20]

Builds the synthetic corpus of ``bench_load.py`` into an embedded store (kept in
``--store`` when given, and reused when it already holds data), then times:

1. opening the store read-only and closing it, and opening it to write and closing it;
2. one app interaction (counts, a search, a depth-2 neighbourhood, an entity's
   relations) on a ``SharedStore`` (open read-only, four reads, close) against the
   same four reads on a store held open for the process's lifetime (as the app did);
3. a writer refused while a reader holds the store (``StoreBusy``);
4. ``fallout query`` as a whole process, alone and beside another reading process.

Each figure is the median and the maximum over ``--runs`` runs.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _timed(runs: int, action: Callable[[], Any]) -> str:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"


def _build(path: Path, relations: int, entities: int) -> None:
    from bench_load import corpus

    from extract.model import Facts
    from graph.store.embedded import EmbeddedStore

    with EmbeddedStore(path) as store:
        if store.counts()["relations"] >= relations:
            return
        facts = [Facts.model_validate(d) for d in corpus(relations, entities)]
        started = time.perf_counter()
        store.load(facts)
        print(f"built the store: {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=1_000_000)
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--store", type=Path, default=None, help="keep the store here")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from graph.errors import StoreBusy
    from graph.store.embedded import EmbeddedStore
    from graph.store.shared import SharedStore

    tmp = tempfile.TemporaryDirectory(prefix="fallout-share-")
    path = args.store or Path(tmp.name) / "store"
    _build(path, args.relations, args.entities)
    with EmbeddedStore(path, read_only=True) as store:
        counts = dict(store.counts())
    print(f"store {path}: {counts}; load average {os.getloadavg()[0]:.1f}", flush=True)
    rng = random.Random(11)
    n_own = max(1, args.entities - 5)

    def reads(store: Any) -> None:
        entity = f"e{rng.randrange(n_own)}"
        store.counts()
        store.search(entity.removeprefix("e")[:3], limit=20)
        store.neighbourhood(entity, 2)
        store.relations(entity=entity)

    print("open read-only + close:", _timed(args.runs,
          lambda: EmbeddedStore(path, read_only=True).close()), flush=True)
    print("open to write + close:", _timed(args.runs, lambda: EmbeddedStore(path).close()),
          flush=True)
    with EmbeddedStore(path) as held:
        reads(held)  # warm
        print("4 reads on a store held open (the app before):",
              _timed(args.runs, lambda: reads(held)), flush=True)
    shared = SharedStore(path)

    def interaction() -> None:
        with shared.interaction():
            reads(shared)

    print("one interaction on a SharedStore (open, 4 reads, close):",
          _timed(args.runs, interaction), flush=True)
    print("4 reads without an interaction (4 opens):",
          _timed(args.runs, lambda: reads(shared)), flush=True)

    with EmbeddedStore(path, read_only=True):
        def refused() -> None:
            try:
                EmbeddedStore(path)
            except StoreBusy:
                return
            raise AssertionError("the writer was not refused")

        print("writer refused while a reader holds the store:", _timed(args.runs, refused),
              flush=True)

    command = [sys.executable, "-c", "from graph.cli import main; main()", "query",
               "MATCH (e:Entity) RETURN count(e) AS n", "--json", "--store", str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def query() -> None:
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)

    runs = max(3, args.runs // 4)
    print("`fallout query`, whole process, alone:", _timed(runs, query), flush=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from graph.store.embedded import EmbeddedStore; "
         f"s = EmbeddedStore({str(path)!r}, read_only=True); print('holding', flush=True); "
         "sys.stdin.read(); s.close()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    try:
        print("`fallout query`, whole process, beside a reading process:", _timed(runs, query),
              flush=True)
    finally:
        holder.communicate(timeout=60)
    tmp.cleanup()


if __name__ == "__main__":
    main()
