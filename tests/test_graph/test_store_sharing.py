"""One embedded store, several processes: readers share it, a writer holds it alone.

Every test runs real processes against a real on-disk LadybugDB store: a holder (a
Python process that opens the store to read or to write and keeps it open until told
to stop) and the ``fallout`` command beside it.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import StoreBusy, StoreError
from graph.store import open_store
from graph.store._lock import HOLDERS_DIR, holders
from graph.store.embedded import EmbeddedStore
from tests.fixtures.holder import (
    AT_ONCE,
    Holder,
    fallout,
    fallout_command,
    lending_facts,
    process_env,
)
from tests.fixtures.unprivileged import Unprivileged, unprivileged  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with open_store(path) as graph:
        graph.load([lending_facts("d1", "FTX", "Alameda")])
    return path


@pytest.fixture
def more_facts(tmp_path: Path) -> Path:
    path = tmp_path / "more.json"
    path.write_text(lending_facts("d2", "Binance", "Genesis").to_json(), encoding="utf-8")
    return path


@pytest.fixture
def reader(tmp_path: Path, store: Path) -> Iterator[Holder]:
    holder = Holder(tmp_path, store, "read")
    try:
        yield holder
    finally:
        holder.release()


@pytest.fixture
def writer(tmp_path: Path, store: Path) -> Iterator[Holder]:
    holder = Holder(tmp_path, store, "write")
    try:
        yield holder
    finally:
        holder.release()


def _counts(store: Path) -> dict[str, int]:
    with EmbeddedStore(store, read_only=True, wait=30) as graph:
        return dict(graph.counts())


# --- readers side by side ---------------------------------------------------------------


def test_query_and_report_read_while_another_process_reads(
    store: Path, reader: Holder, tmp_path: Path
) -> None:
    started = time.monotonic()
    ran = fallout("query", "MATCH (e:Entity) RETURN e.name AS name ORDER BY name", "--json",
                  "--store", str(store), timeout=AT_ONCE * 4)
    assert ran.returncode == 0, ran.stderr
    assert [r["name"] for r in json.loads(ran.stdout)["rows"]] == ["Alameda", "FTX"]
    report = fallout("report", "FTX", "--format", "md", "--out", str(tmp_path / "r.md"),
                     "--store", str(store), timeout=AT_ONCE * 8)
    assert report.returncode == 0, report.stderr
    assert "Alameda" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert time.monotonic() - started < AT_ONCE * 6
    assert reader.proc.poll() is None  # the first reader kept the store all along


def test_several_readers_at_once(store: Path, reader: Holder) -> None:
    query = "MATCH (e:Entity) RETURN count(e) AS n"
    head = fallout_command()
    procs = [
        subprocess.Popen([*head, "query", query, "--json", "--store", str(store)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                         env=process_env())
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=AT_ONCE * 8)
        assert proc.returncode == 0, err
        assert json.loads(out)["rows"] == [{"n": 2}]


def test_readers_in_one_process_share_the_store(store: Path) -> None:
    with EmbeddedStore(store, read_only=True) as one, EmbeddedStore(store, read_only=True) as two:
        assert one.counts() == two.counts() == {"entities": 2, "relations": 1, "documents": 1}
        found = holders(store)
        assert [h.mode for h in found] == ["read", "read"]
        assert {h.pid for h in found} == {os.getpid()}


# --- a writer and readers ---------------------------------------------------------------


def test_writer_is_refused_at_once_naming_the_reader(
    store: Path, reader: Holder, more_facts: Path
) -> None:
    started = time.monotonic()
    ran = fallout("load", str(more_facts), "--store", str(store), timeout=AT_ONCE * 4)
    assert time.monotonic() - started < AT_ONCE
    assert ran.returncode == 1
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert re.search(rf"cannot write the store: it is held by pid {reader.pid} "
                     r"\(hold_store\.py .* read, reading since \d\d:\d\d:\d\d\)", lines[0]), lines
    assert "--wait SECONDS" in lines[0]
    assert _counts(store)["documents"] == 1


def test_reader_is_refused_at_once_naming_the_writer(store: Path, writer: Holder) -> None:
    started = time.monotonic()
    ran = fallout("query", "MATCH (e:Entity) RETURN count(e) AS n", "--store", str(store),
                  timeout=AT_ONCE * 4)
    assert time.monotonic() - started < AT_ONCE
    assert ran.returncode == 1
    assert re.fullmatch(
        rf"fallout: error: {re.escape(str(store))}: cannot read the store: it is held by pid "
        rf"{writer.pid} \(hold_store\.py .* write, writing since [\d:]+\); "
        r"to wait for it, add --wait SECONDS",
        ran.stderr.strip(),
    ), ran.stderr


def test_writer_waits_for_the_reader_with_a_countdown(
    tmp_path: Path, store: Path, more_facts: Path
) -> None:
    holder = Holder(tmp_path, store, "read", seconds=4)
    try:
        ran = fallout("load", str(more_facts), "--store", str(store), "--wait", "60",
                      timeout=AT_ONCE * 8)
    finally:
        holder.release()
    assert ran.returncode == 0, ran.stderr
    assert re.search(rf"waiting for {re.escape(str(store))}, held by pid {holder.pid} "
                     r"\(hold_store\.py .*\): 60 s left", ran.stderr), ran.stderr
    assert re.search(r"is free after \d+\.\d s; going on", ran.stderr), ran.stderr
    assert _counts(store) == {"entities": 4, "relations": 2, "documents": 2}


def test_countdown_ticks_every_second_on_a_terminal(
    tmp_path: Path, store: Path, more_facts: Path
) -> None:
    holder = Holder(tmp_path, store, "read", seconds=4)
    master, slave = pty.openpty()
    head = fallout_command()
    try:
        proc = subprocess.Popen([*head, "load", str(more_facts), "--store", str(store),
                                 "--wait", "30"],
                                stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT,
                                env=process_env())
        os.close(slave)
        chunks: list[bytes] = []

        def drain() -> None:
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the terminal closes with the process
                    return
                if not data:
                    return
                chunks.append(data)

        thread = threading.Thread(target=drain)
        thread.start()
        assert proc.wait(timeout=AT_ONCE * 8) == 0
        thread.join(timeout=10)
    finally:
        os.close(master)
        holder.release()
    screen = b"".join(chunks).decode("utf-8", "replace")
    left = [int(n) for n in re.findall(r"\r\x1b\[K[^\r\n]*held by pid \d+ .*?: (\d+) s left",
                                       screen)]
    assert len(left) >= 3, screen  # the holder keeps the store about four seconds
    assert left == sorted(left, reverse=True) and left[0] == 30, left
    assert "going on" in screen


def test_reader_waits_for_the_writer(tmp_path: Path, store: Path) -> None:
    holder = Holder(tmp_path, store, "write", seconds=3)
    try:
        ran = fallout("query", "MATCH (e:Entity) RETURN count(e) AS n", "--json",
                      "--store", str(store), "--wait", "60", timeout=AT_ONCE * 8)
    finally:
        holder.release()
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rows"] == [{"n": 2}]
    assert f"held by pid {holder.pid}" in ran.stderr


def test_wait_gives_up_with_the_holder_named(store: Path, writer: Holder) -> None:
    started = time.monotonic()
    ran = fallout("export", "--store", str(store), "--wait", "2", timeout=AT_ONCE * 4)
    assert time.monotonic() - started >= 2
    assert ran.returncode == 1
    assert re.search(rf"held by pid {writer.pid} .*; gave up after waiting 2 s$",
                     ran.stderr.strip()), ran.stderr


def test_killed_holder_leaves_no_lock_and_no_note(
    tmp_path: Path, store: Path, more_facts: Path
) -> None:
    holder = Holder(tmp_path, store, "write")
    holder.kill()
    assert len(list((store / HOLDERS_DIR).glob("*.json"))) == 1  # its note is left behind
    ran = fallout("load", str(more_facts), "--store", str(store), timeout=AT_ONCE * 4)
    assert ran.returncode == 0, ran.stderr
    assert holders(store) == ()
    assert list((store / HOLDERS_DIR).glob("*.json")) == []


# --- in the library ---------------------------------------------------------------------


def test_a_read_only_store_refuses_to_load(store: Path) -> None:
    with EmbeddedStore(store, read_only=True) as graph, pytest.raises(
        StoreError, match="opened read-only"
    ):
        graph.load([lending_facts("d2", "Binance", "Genesis")])


def test_busy_error_lists_the_holders(store: Path, reader: Holder) -> None:
    with pytest.raises(StoreBusy) as err:
        EmbeddedStore(store)
    assert [(h.pid, h.mode) for h in err.value.holders] == [(reader.pid, "read")]


def test_reader_opens_a_new_store(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "new", read_only=True) as graph:
        assert graph.counts() == {"entities": 0, "relations": 0, "documents": 0}


# Writes documents in batches of five, printing "batch" after each commit.
_LOADER = """
import sys
from extract.model import Facts
from graph.store.embedded import EmbeddedStore

def doc(i):
    ents = [{"id": f"a{i}", "name": f"A {i}", "type": "Company"},
            {"id": f"b{i}", "name": f"B {i}", "type": "Bank"}]
    rels = [{"head": f"a{i}", "type": "LENT_TO", "tail": f"b{i}", "confidence": 0.5,
             "amount": float(k), "evidence": [{"text": f"s{k}", "start": k, "end": k + 1}]}
            for k in range(10)]
    return Facts.from_dict({"document": {"id": f"d{i}", "source": "x"},
                            "entities": ents, "relations": rels})

with EmbeddedStore(sys.argv[1]) as store:
    store.load((doc(i) for i in range(100_000)), batch_size=50,
               on_batch=lambda s: print("batch", flush=True))
"""


def test_reader_after_a_crashed_load_sees_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "crash"
    proc = subprocess.Popen([sys.executable, "-c", _LOADER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=process_env())
    assert proc.stdout is not None
    for _ in range(3):
        assert proc.stdout.readline().strip() == "batch"
    time.sleep(0.05)  # into the next batch
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    with EmbeddedStore(path, read_only=True) as graph:
        counts = dict(graph.counts())
    assert counts["documents"] >= 15 and counts["documents"] % 5 == 0, counts
    assert counts == {"entities": 2 * counts["documents"], "relations": 10 * counts["documents"],
                      "documents": counts["documents"]}
    assert not (path / "pending-batch.json").exists()


def test_a_user_who_may_only_read_the_store_can_query_it(
    unprivileged: Unprivileged, tmp_path: Path  # noqa: F811
) -> None:
    path = Path(tempfile.mkdtemp(prefix="fallout-readable-", dir=unprivileged.home))
    os.chmod(path, 0o755)
    store = path / "store"
    with open_store(store) as graph:
        graph.load([lending_facts("d1", "FTX", "Alameda")])
    (store / HOLDERS_DIR).mkdir(exist_ok=True)
    for item in [store, *store.iterdir()]:
        os.chmod(item, 0o755 if item.is_dir() else 0o644)  # root's: others read only
    argv = [unprivileged.python(), "-c", "from graph.cli import main; main()"]
    ran = unprivileged.run([*argv, "query", "MATCH (e:Entity) RETURN count(e) AS n", "--json",
                            "--store", str(store)], timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rows"] == [{"n": 2}]
    more = unprivileged.home / "more.json"
    more.write_text(lending_facts("d2", "Binance", "Genesis").to_json(), encoding="utf-8")
    unprivileged.give(more)
    ran = unprivileged.run([*argv, "load", str(more), "--store", str(store)], timeout=120)
    assert ran.returncode == 1
    assert len(ran.stderr.strip().splitlines()) == 1 and "Permission denied" in ran.stderr, (
        ran.stderr)


# --- SharedStore: held only while in use --------------------------------------------------


def test_shared_store_holds_only_inside_an_interaction(store: Path, tmp_path: Path) -> None:
    from graph.store.shared import SharedStore

    shared = SharedStore(store)
    assert shared.counts()["entities"] == 2
    assert holders(store) == ()  # a call outside an interaction releases at once
    with shared.interaction():
        shared.search("FTX")
        shared.neighbourhood("ftx")
        held = holders(store)
        assert [(h.pid, h.mode) for h in held] == [(os.getpid(), "read")]  # one handle
        with pytest.raises(StoreBusy, match=f"held by pid {os.getpid()}"):
            EmbeddedStore(store)
    assert holders(store) == ()
    EmbeddedStore(store).close()  # a writer gets it at once


def test_shared_store_writes_inside_an_interaction(store: Path) -> None:
    from graph.store.shared import SharedStore

    shared = SharedStore(store)
    with shared.interaction():
        before = shared.generation
        assert shared.counts()["documents"] == 1
        shared.load([lending_facts("d2", "Binance", "Genesis")])  # drops its own read handle
        assert shared.counts() == {"entities": 4, "relations": 2, "documents": 2}
    assert shared.generation != before
    assert holders(store) == ()


def test_shared_store_threads_read_side_by_side(store: Path) -> None:
    from graph.store.shared import SharedStore

    shared = SharedStore(store)
    inside = threading.Barrier(3)
    found: list[object] = []

    def session() -> None:
        with shared.interaction():
            shared.counts()
            inside.wait(timeout=30)  # both sessions hold the store at the same time
            found.append(shared.entity("ftx"))
            inside.wait(timeout=30)

    threads = [threading.Thread(target=session) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=30)
    assert [h.mode for h in holders(store)] == ["read", "read"]
    inside.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=30)
    assert len(found) == 2 and all(e is not None for e in found)
    assert holders(store) == ()
