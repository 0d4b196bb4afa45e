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
# of five documents, printing "batch" after each commit.
WRITER = """
import sys
from extract.model import Facts
from graph.store.embedded import EmbeddedStore

path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

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

with EmbeddedStore(path, lock_timeout=120) as store:
    store.load((doc(i) for i in range(first, first + count)), batch_size=50, on_batch=tick)
print("done", flush=True)
"""


def _writer(path: Path, first: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(first), str(count)],
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
        with pytest.raises(StoreUnavailable, match="in use by another process"):
            EmbeddedStore(tmp_path / "s", lock_timeout=0.3)
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
