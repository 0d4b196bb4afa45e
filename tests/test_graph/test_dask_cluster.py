"""Extraction on a real Dask cluster: a ``dask scheduler`` and three ``dask worker``
processes on localhost, one of them killed during a run.

The dataset the cluster writes must equal a local run's, document for document, with
no document lost or written twice, and ``fallout load`` of it must give the counts of
``fallout ingest`` over the same files.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from graph.cli import main
from graph.lake import open_dataset
from graph.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "ontologies" / "corpus" / "train"
BIN = Path(sys.executable).parent


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_workers(address: str, count: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        while len(client.nthreads()) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(client.nthreads())} of {count} workers joined")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = logs / "scheduler.log"
    procs: list[subprocess.Popen[bytes]] = []
    with open(log, "wb") as sink:
        procs.append(
            subprocess.Popen(
                [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
                stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
            )
        )  # fmt: skip
    try:
        workers = []
        for n in range(3):
            with open(logs / f"worker{n}.log", "wb") as sink:
                workers.append(
                    subprocess.Popen(
                        [str(BIN / "dask"), "worker", address, "--nthreads", "1",
                         "--no-nanny", "--no-dashboard", "--name", f"w{n}",
                         "--death-timeout", "60"],
                        stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
                    )
                )  # fmt: skip
        procs += workers
        _wait_for_workers(address, 3, time.monotonic() + 120)
        yield Cluster(address, workers, log)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()  # reaped: no process outlives the module


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("texts")
    for path in sorted(TRAIN.glob("*.txt")):
        shutil.copy(path, folder / path.name)
    return folder


def _run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def _by_document(lake: Path) -> dict[str, dict[str, object]]:
    return {f.document.id: f.to_dict() for f in open_dataset(lake).facts()}


def _document_rows(lake: Path) -> list[str]:
    return [str(x) for x in pq.read_table(lake / "documents")["document_id"].to_pylist()]


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    cluster: Cluster, texts: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    assert _run(["extract", str(texts), "--out", str(local)]) == 0
    expected = _by_document(local)
    assert len(expected) == len(list(texts.glob("*.txt")))

    lake = tmp_path / "cluster"
    run = subprocess.Popen(
        [str(BIN / "fallout"), "extract", str(texts), "--scheduler", cluster.address,
         "--out", str(lake)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    from distributed import Client

    def processing(dask_scheduler: Any, name: str) -> int:
        return sum(len(w.processing) for w in dask_scheduler.workers.values() if w.name == name)

    def taken_back(dask_scheduler: Any) -> list[str]:
        """Extraction tasks that left the processing state other than by finishing."""
        return sorted(
            {
                str(entry[0])
                for entry in dask_scheduler.transition_log
                if str(entry[0]).startswith("fallout-extract-")
                and entry[1] == "processing"
                and entry[2] != "memory"
            }
        )

    deadline = time.monotonic() + 300
    victim = cluster.workers[0]
    with Client(cluster.address, timeout=30, set_as_default=False) as client:
        # kill w0 while it works on a task, after the cluster has written a part
        while not (
            list((lake / "documents").glob("part-*.parquet"))
            and client.run_on_scheduler(processing, name="w0")
        ):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "no part written in time"
            time.sleep(0.05)
        assert victim.poll() is None
        os.kill(victim.pid, signal.SIGKILL)  # a machine lost: no goodbye to the scheduler
        out, err = run.communicate(timeout=300)
        rerun = client.run_on_scheduler(taken_back)
    assert rerun, "no task of the killed worker was given to another"
    assert run.returncode == 0, err.decode()
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert f"extracted {len(expected)} documents" in err.decode()

    assert _by_document(lake) == expected
    rows = _document_rows(lake)
    assert sorted(rows) == sorted(set(rows)) == sorted(expected)
    assert not list(lake.rglob("*.tmp"))
    # the scheduler saw the worker go, and the other two finished its work
    time.sleep(1)
    assert "w0" in cluster.log.read_text(errors="replace")

    # a second run over the same files sends nothing to the workers
    again = subprocess.run(
        [str(BIN / "fallout"), "extract", str(texts), "--scheduler", cluster.address,
         "--out", str(lake)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"extracted 0 documents (0 relations) into {lake}" in again.stderr
    assert f"{len(expected)} already there" in again.stderr

    # the shape fixed for outside checks: load DIR gives ingest's counts
    assert _run(["load", str(lake), "--store", str(tmp_path / "s1")]) == 0
    assert _run(["ingest", str(texts), "--store", str(tmp_path / "s2")]) == 0
    with open_store(tmp_path / "s1", read_only=True) as a:
        with open_store(tmp_path / "s2", read_only=True) as b:
            assert dict(a.counts()) == dict(b.counts())
            assert a.counts()["relations"] > 100
