"""The Parquet facts dataset at scale (a script, not a test).

Usage::

    python bench/bench_lake.py extract --docs 1000        # local, 1-worker, 2-worker cluster
    python bench/bench_lake.py load --relations 1000000   # dataset -> embedded and Neo4j

``extract`` writes ``--docs`` documents (the training texts, each made distinct by a
numbered first line), then times ``fallout extract DIR --out LAKE`` three ways on the same
files: one local process, a Dask cluster of one worker and one of two (a real ``dask
scheduler`` and ``dask worker`` processes, each with one thread), and reports documents
per second and the peak resident memory of each worker.

``load`` writes the synthetic corpus of ``bench_load.py`` as a dataset, then times
``fallout load``'s path from the dataset: into a new embedded store, and into the Neo4j
test server serially (one batch after another) and with ``--parallel`` 2 and 4, each
time from an empty database (``--initial`` for the last run), reporting relationships
per second and the transactions that had to be retried.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
BIN = Path(sys.executable).parent


def _texts(folder: Path, n: int) -> None:
    sources = sorted((ROOT / "ontologies" / "corpus" / "train").glob("*.txt"))
    folder.mkdir(parents=True)
    for i in range(n):
        src = sources[i % len(sources)]
        text = f"Bulletin {i}.\n\n" + src.read_text(encoding="utf-8")
        (folder / f"{i:05d}-{src.name}").write_text(text, encoding="utf-8")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _extract(folder: Path, out: Path, scheduler: str | None) -> float:
    cmd = [str(BIN / "fallout"), "extract", str(folder), "--out", str(out)]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    print("   ", done.stderr.strip().splitlines()[-1], flush=True)
    return seconds


def bench_extract(n: int, workdir: Path) -> None:
    folder = workdir / "texts"
    _texts(folder, n)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"{n} documents, {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}")
    seconds = _extract(folder, workdir / "local", None)
    print(f"local, one process: {seconds:.1f} s = {n / seconds:.2f} documents/s", flush=True)
    for workers in (1, 2):
        port = _port()
        address = f"tcp://127.0.0.1:{port}"
        procs = [
            subprocess.Popen(
                [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        ]  # fmt: skip
        time.sleep(2)
        pool = [
            subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]  # fmt: skip
        procs += pool
        try:
            from distributed import Client

            with Client(address, timeout=60) as client:
                while len(client.nthreads()) < workers:
                    time.sleep(0.2)
            seconds = _extract(folder, workdir / f"cluster{workers}", address)
            peaks = [_peak_kb(p.pid) / 1024 for p in pool]
            print(
                f"Dask cluster, {workers} worker(s): {seconds:.1f} s = {n / seconds:.2f} "
                f"documents/s; peak worker memory {', '.join(f'{m:.0f} MB' for m in peaks)}; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                p.wait(timeout=30)


def _empty(store: object) -> None:
    """Delete everything, 10,000 rows a transaction (one would pass the memory cap)."""
    with store._driver.session(database=store.database) as session:  # type: ignore[attr-defined]
        for query in (
            "MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS",
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
        ):
            session.run(query).consume()


def bench_load(
    n_rel: int,
    n_ent: int,
    workdir: Path,
    url: str | None,
    neo4j_only: bool = False,
    runs: tuple[tuple[int, bool], ...] = ((1, False), (2, False), (4, False), (4, True)),
) -> None:
    from bench_load import corpus

    from extract.model import Facts
    from graph.commands.lake_cmds import replace_and_load
    from graph.lake import ExtractedDocument, open_dataset, write_part
    from graph.neo4j_bulk import LoadStats, parallel_load
    from graph.store import open_store

    raw = corpus(n_rel, n_ent)
    lake = workdir / "lake"
    started = time.perf_counter()
    for i in range(0, len(raw), 50):
        write_part(lake, [ExtractedDocument(Facts.model_validate(d)) for d in raw[i : i + 50]])
    mb = sum(p.stat().st_size for p in lake.rglob("*.parquet")) / 1e6
    print(f"dataset: {len(raw)} documents, {n_rel} relations, {mb:.0f} MB of Parquet, "
          f"written in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    del raw

    view = open_dataset(lake)
    docs = [(d, r["source"]) for d, r in view.documents.items()]
    if not neo4j_only:
        started = time.perf_counter()
        with open_store(workdir / "embedded") as store:
            summary, _ = replace_and_load(store, view.facts(), documents=docs)
        seconds = time.perf_counter() - started
        print(f"embedded, dataset -> store: {seconds:.1f} s = "
              f"{summary.relations / seconds:,.0f} rel/s (reading Parquet and checking the "
              "facts included)", flush=True)  # fmt: skip

    started = time.perf_counter()
    facts = list(view.facts())
    print(f"reading the dataset into facts alone: {time.perf_counter() - started:.1f} s",
          flush=True)  # fmt: skip

    stop = None
    if url is None:
        from tests.fixtures.neo4j_server import start_neo4j

        url, stop = start_neo4j()
    try:
        with open_store(url) as store:
            for parallel, initial in runs:
                _empty(store)
                stats = LoadStats()
                started = time.perf_counter()
                if parallel == 1 and not initial:
                    summary = store.load(facts)
                    label = "serial (store.load, batches of 20,000)"
                else:
                    summary = parallel_load(
                        store, facts, parallel=parallel, initial=initial, stats=stats
                    )
                    label = f"--parallel {parallel}" + (" --initial" if initial else "")
                seconds = time.perf_counter() - started
                print(
                    f"Neo4j {label}: {seconds:.1f} s = {summary.relations / seconds:,.0f} rel/s; "
                    f"{stats.transactions} transactions, {stats.retried} retried; counts "
                    f"{dict(store.counts())}",
                    flush=True,
                )
    finally:
        if stop is not None:
            stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    ex = sub.add_parser("extract")
    ex.add_argument("--docs", type=int, default=1000)
    ld = sub.add_parser("load")
    ld.add_argument("--relations", type=int, default=1_000_000)
    ld.add_argument("--entities", type=int, default=200_000)
    ld.add_argument("--url", default=None, help="a Neo4j server (default: the test server)")
    ld.add_argument("--neo4j-only", action="store_true", help="skip the embedded store")
    ld.add_argument("--no-serial", action="store_true", help="skip the serial Neo4j load")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fallout-lake-bench-"))
    try:
        if args.what == "extract":
            bench_extract(args.docs, workdir)
        else:
            runs = ((1, False), (2, False), (4, False), (4, True))
            bench_load(
                args.relations, args.entities, workdir, args.url, args.neo4j_only,
                runs[1:] if args.no_serial else runs,
            )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
