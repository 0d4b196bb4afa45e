"""Loading: stable ids, batches of whole documents, locking, crash safety (real LadybugDB)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extract.model import Facts
from graph.errors import SchemaViolation, StoreUnavailable
from graph.load import batches, read_facts, relation_id
from graph.store import open_store
from graph.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[2]

# Writes documents n..n+count, each with two new entities and ten relations, in batches
# of ``size`` relations (five documents by default), printing "batch" after each commit.
WRITER = """
import sys
from extract.model import Facts
from graph.store.embedded import EmbeddedStore

path, first, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def doc(i):
    ents = [{"id": f"a{i}", "name": f"A {i}", "type": "Company"},
            {"id": f"b{i}", "name": f"B {i}", "type": "Bank"}]
    rels = [{"head": f"a{i}", "type": "LENT_TO", "tail": f"b{i}", "confidence": 0.5,
             "amount": float(k), "evidence": [{"text": f"s{k}", "start": k, "end": k + 1}]}
            for k in range(10)]
    return Facts.from_dict({"document": {"id": f"d{i}", "source": "x"},
                            "entities": ents, "relations": rels})

def tick(summary):
    print("batch", flush=True)

with EmbeddedStore(path, wait=120) as store:
    store.load((doc(i) for i in range(first, first + count)), batch_size=size, on_batch=tick)
print("done", flush=True)
"""


def _writer(path: Path, first: int, count: int, batch: int = 50) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(first), str(count), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_relation_id_is_stable_and_distinguishes_every_part() -> None:
    base = relation_id("d", "LENT_TO", "a", "b", 1)
    assert base == relation_id("d", "LENT_TO", "a", "b", 1)
    others = {
        relation_id("e", "LENT_TO", "a", "b", 1),
        relation_id("d", "HOLDS", "a", "b", 1),
        relation_id("d", "LENT_TO", "b", "a", 1),
        relation_id("d", "LENT_TO", "a", "b", 2),
        relation_id("d", "LENT_TO", "a", "b", None),
    }
    assert base not in others and len(others) == 5


def _doc(i: int, n_rel: int = 3) -> Facts:
    return Facts.from_dict(
        {
            "document": {"id": f"d{i}", "source": f"{i}.txt"},
            "entities": [
                {"id": "x", "name": "X", "type": "Bank"},
                {"id": f"y{i}", "name": f"Y{i}", "type": "Lender"},
            ],
            "relations": [
                {
                    "head": "x",
                    "type": "LENT_TO",
                    "tail": f"y{i}",
                    "confidence": 0.5,
                    "evidence": [
                        {"text": "a", "start": k, "end": k + 1},
                        {"text": "b", "start": 100 + k, "end": 101 + k},
                    ],
                }
                for k in range(n_rel)
            ],
        }
    )


def test_batches_keep_documents_whole_and_one_row_per_sentence() -> None:
    out = list(batches([_doc(i) for i in range(5)], batch_size=10))
    # six statements per document (three relations, two sentences each): two per batch
    assert [len(b.documents) for b in out] == [2, 2, 1]
    assert all(len(b.relations) == 6 * len(b.documents) for b in out)
    assert len({r["id"] for b in out for r in b.relations}) == 30


def test_relation_to_unknown_entity_names_document_and_entity() -> None:
    bad = Facts.from_dict(
        {
            "document": {"id": "doc-7", "source": "x"},
            "entities": [{"id": "x", "name": "X", "type": "Bank"}],
            "relations": [{"head": "x", "type": "OWNS", "tail": "ghost", "confidence": 1}],
        }
    )
    with pytest.raises(SchemaViolation, match=r"doc-7.*ghost"):
        list(batches([bad]))


def test_read_facts_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"document": {"id": 1}}', encoding="utf-8")
    with pytest.raises(SchemaViolation, match="broken.json.*document"):
        list(read_facts([broken]))
    good = tmp_path / "good.json"
    good.write_text(json.dumps([_doc(1).to_dict(), _doc(2).to_dict()]), encoding="utf-8")
    assert [f.document.id for f in read_facts([good])] == ["d1", "d2"]


def test_invalid_document_writes_nothing_of_its_batch() -> None:
    with EmbeddedStore(None) as store:
        store.load([_doc(1)])
        before = dict(store.counts())
        bad = Facts.from_dict(
            {
                **_doc(2).to_dict(),
                "relations": [{"head": "x", "type": "LENT_TO", "tail": "nobody", "confidence": 1}],
            }
        )
        with pytest.raises(SchemaViolation):
            store.load([_doc(3), bad], batch_size=10_000)
        assert dict(store.counts()) == before


def test_on_disk_store_reopens_with_its_data(tmp_path: Path) -> None:
    with open_store(tmp_path / "store") as store:
        store.load([_doc(1), _doc(2)])
        counts = dict(store.counts())
    with open_store(str(tmp_path / "store")) as store:
        assert dict(store.counts()) == counts == {"entities": 3, "relations": 12, "documents": 2}


def test_second_open_waits_for_the_lock_then_fails_clearly(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s"):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=rf"held by pid {os.getpid()} .*writing"):
            EmbeddedStore(tmp_path / "s", wait=0.3)
        assert time.monotonic() - started >= 0.3


def test_two_processes_loading_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared"
    procs = [_writer(path, 0, 40), _writer(path, 1000, 40)]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert out.strip().endswith("done")
    with EmbeddedStore(path) as store:
        assert dict(store.counts()) == {"entities": 160, "relations": 800, "documents": 80}


def test_store_survives_kill_9_mid_load(tmp_path: Path) -> None:
    path = tmp_path / "crash"
    proc = _writer(path, 0, 100_000)
    assert proc.stdout is not None
    for _ in range(3):
        assert proc.stdout.readline().strip() == "batch"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    with EmbeddedStore(path) as store:
        counts = dict(store.counts())
        assert counts["documents"] >= 15
        assert counts["documents"] % 5 == 0  # whole batches of five documents only
        assert counts["relations"] == 10 * counts["documents"]
        assert counts["entities"] == 2 * counts["documents"]


def test_kill_9_inside_a_batch_leaves_none_of_it(tmp_path: Path) -> None:
    """A process killed while its batch's journal exists: the next open removes the batch."""
    path = tmp_path / "crash"
    proc = _writer(path, 0, 100_000, batch=5_000)
    journal = path / "pending-batch.json"
    deadline = time.monotonic() + 120
    while not journal.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the writer never started a batch"
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()
    with EmbeddedStore(path) as store:
        assert not journal.exists()
        counts = dict(store.counts())
    # the first batch (500 documents) was in flight: all of it or none of it is there
    assert counts in (
        {"entities": 0, "relations": 0, "documents": 0},
        {"entities": 1000, "relations": 5000, "documents": 500},
    )


def test_column_tables_hold_the_rows_of_batches() -> None:
    """The bulk (Arrow) rows and the row dicts of a batch agree, repeats included."""
    from graph.load import REL_COLUMNS

    docs = [_doc(1), _doc(2)]
    odd = Facts.from_dict(
        {
            "document": {"id": "odd", "source": "odd.txt"},
            "entities": [
                {"id": "x", "name": "X", "type": "Bank"},
                {"id": "y", "name": "Y", "type": "Token"},
            ],
            "relations": [
                {"head": "x", "type": "HOLDS", "tail": "y", "confidence": 0.4, "quantity": 3.0,
                 "evidence": [{"text": "X holds Y.", "start": 20, "end": 30}]},
                {
                    "head": "x",
                    "type": "LENT_TO",
                    "tail": "y",
                    "confidence": 0.9,
                    "amount": 5.0,
                    "hedged": True,
                    "evidence": [
                        {"text": "one", "start": 0, "end": 3},
                        {"text": "two", "start": 10, "end": 13},
                    ],
                },
                {  # the same statement again: kept once
                    "head": "x",
                    "type": "LENT_TO",
                    "tail": "y",
                    "confidence": 0.2,
                    "evidence": [{"text": "one", "start": 0, "end": 3}],
                },
            ],
        }
    )
    items = [*docs, odd, _doc(1)]  # d1 twice: the later copy wins
    [plain] = list(batches(items, batch_size=10_000))
    expected = {r["id"]: {c: r[c] for c in REL_COLUMNS} for r in plain.relations}
    got = {}
    for kind, table in plain.relation_tables().items():
        for row in table.to_pylist():
            assert list(row) == list(REL_COLUMNS)
            assert {r["type"] for r in plain.relations if r["id"] == row["id"]} == {kind}
            got[row["id"]] = row
    assert got == expected
    assert [d["id"] for d in plain.documents] == ["d2", "odd", "d1"]  # the later d1 won
