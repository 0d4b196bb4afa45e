"""The Parquet facts dataset: written part by part, read once per document, loaded, edited.

Extraction runs the real pipeline on the project's own training texts; the stores are
the real embedded store and the real Neo4j server of the test session.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.model import Facts
from graph.cli import main
from graph.lake import (
    MANIFEST,
    ExtractedDocument,
    LakeError,
    open_dataset,
    write_part,
)
from graph.store import open_store

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "ontologies" / "corpus" / "train"


def _facts(doc: str, source: str, amount: float = 1e9) -> Facts:
    return Facts.model_validate(
        {
            "document": {"id": doc, "source": source, "title": "t"},
            "entities": [
                {
                    "id": "ftx",
                    "name": "FTX",
                    "type": "Exchange",
                    "aliases": ["FTX.com"],
                    "mentions": [{"start": 0, "end": 3, "text": "FTX"}],
                },
                {"id": "alameda", "name": "Alameda", "type": "TradingFirm", "equity": 5.0},
            ],
            "relations": [
                {
                    "head": "ftx",
                    "type": "LENT_TO",
                    "tail": "alameda",
                    "confidence": 0.9,
                    "amount": amount,
                    "currency": "USD",
                    "hedged": True,
                    "evidence": [
                        {"text": "FTX lent Alameda money.", "start": 0, "end": 23},
                        {"text": "It lent again.", "start": 30, "end": 44},
                    ],
                },
                {
                    "head": "alameda",
                    "type": "HOLDS",
                    "tail": "ftx",
                    "confidence": 0.5,
                    "evidence": [{"text": "Alameda holds FTX shares.", "start": 50, "end": 75}],
                },
            ],
        }
    )


def _files(folder: Path) -> dict[str, list[str]]:
    return {t: sorted(p.name for p in (folder / t).glob("*")) for t in ("documents", "relations")}


def test_a_part_round_trips_the_facts_and_writing_it_again_changes_nothing(
    tmp_path: Path,
) -> None:
    one, two = _facts("sha256:1", "a.txt"), _facts("sha256:2", "b.txt", amount=2.0)
    docs = [ExtractedDocument(one, {"low_confidence": 3}, 10, 20), ExtractedDocument(two)]
    key = write_part(tmp_path, docs)
    before = _files(tmp_path)
    assert write_part(tmp_path, list(reversed(docs))) == key  # a task run twice
    assert _files(tmp_path) == before
    assert not list(tmp_path.rglob("*.tmp"))
    view = open_dataset(tmp_path)
    assert sorted(view.documents) == ["sha256:1", "sha256:2"]
    assert {f.document.id: f for f in view.facts()} == {"sha256:1": one, "sha256:2": two}
    assert view.relation_count() == 4
    dropped = pq.read_table(tmp_path / "dropped").to_pylist()
    assert dropped == [{"document_id": "sha256:1", "reason": "low_confidence", "count": 3}]
    assert json.loads((tmp_path / MANIFEST).read_text())["schema_version"] == 1


def test_a_document_in_two_parts_is_read_once_and_an_edit_supersedes_its_source(
    tmp_path: Path,
) -> None:
    write_part(tmp_path, [ExtractedDocument(_facts("sha256:1", "a.txt"))])
    write_part(
        tmp_path,
        [
            ExtractedDocument(_facts("sha256:1", "a.txt")),
            ExtractedDocument(_facts("sha256:2", "b.txt")),
        ],
    )
    assert sorted(open_dataset(tmp_path).documents) == ["sha256:1", "sha256:2"]
    write_part(tmp_path, [ExtractedDocument(_facts("sha256:3", "a.txt", amount=7.0))])
    view = open_dataset(tmp_path)
    assert sorted(view.documents) == ["sha256:2", "sha256:3"]
    assert view.superseded == ["sha256:1"]
    assert len([f for f in view.facts()]) == 2


def test_a_part_cut_short_before_its_documents_table_is_not_read(tmp_path: Path) -> None:
    write_part(tmp_path, [ExtractedDocument(_facts("sha256:1", "a.txt"))])
    key = write_part(tmp_path, [ExtractedDocument(_facts("sha256:2", "b.txt"))])
    (tmp_path / "documents" / f"part-{key}.parquet").unlink()
    assert list(open_dataset(tmp_path).documents) == ["sha256:1"]


def test_a_newer_schema_or_a_wrong_column_is_one_line_naming_file_and_field(
    tmp_path: Path,
) -> None:
    with pytest.raises(LakeError, match="no fallout-facts.json"):
        open_dataset(tmp_path)
    key = write_part(tmp_path, [ExtractedDocument(_facts("sha256:1", "a.txt"))])
    rel = tmp_path / "relations" / f"part-{key}.parquet"
    table = pq.read_table(rel)
    table = table.set_column(
        table.column_names.index("confidence"), "confidence", pa.array(["high", "low"])
    )
    pq.write_table(table, rel)
    with pytest.raises(LakeError, match=r"relations/part-.*field 'confidence': type string"):
        list(open_dataset(tmp_path).facts())
    (tmp_path / MANIFEST).write_text('{"format": "fallout-facts", "schema_version": 99}')
    with pytest.raises(LakeError, match="field 'schema_version': 99 is newer"):
        open_dataset(tmp_path)


def _run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("texts")
    for path in sorted(TRAIN.glob("*.txt"))[:8]:
        shutil.copy(path, folder / path.name)
    return folder


def _counts(url: str) -> dict[str, int]:
    with open_store(url, read_only=True) as store:
        return dict(store.counts())


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores of one kind: one for the dataset, one for ``ingest``."""
    if request.param == "embedded":
        yield str(tmp_path / "a"), str(tmp_path / "b")
        return
    url = request.getfixturevalue("neo4j_url")
    with open_store(url) as store:
        store.cypher("MATCH (n) DETACH DELETE n", write=True)
    yield url, str(tmp_path / "b")


@pytest.mark.model
@pytest.mark.slow
def test_extract_to_a_dataset_then_load_gives_ingests_counts_and_edits_replace(
    texts: Path, tmp_path: Path, two_stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "texts"
    shutil.copytree(texts, work)
    lake, (store, other) = tmp_path / "lake", two_stores
    assert _run(["extract", str(work), "--out", str(lake)]) == 0
    assert "extracted 8 documents" in capsys.readouterr().err
    assert _run(["extract", str(work), "--out", str(lake)]) == 0  # nothing new
    assert "extracted 0 documents" in capsys.readouterr().err
    assert _run(["load", str(lake), "--store", store, "--parallel", "2"]) == 0
    assert _run(["ingest", str(work), "--store", other]) == 0
    assert _counts(store) == _counts(other)
    first = _counts(store)

    edited = sorted(work.glob("*.txt"))[0]
    edited.write_text(
        edited.read_text() + "\nQuarry Capital lent $4 million to Bellwether Exchange.\n",
        encoding="utf-8",
    )
    assert _run(["extract", str(work), "--out", str(lake)]) == 0
    assert "extracted 1 documents" in capsys.readouterr().err
    assert _run(["load", str(lake), "--store", store]) == 0
    assert _run(["ingest", str(work), "--store", other]) == 0
    after = _counts(store)
    assert after == _counts(other)
    assert after["documents"] == first["documents"]
    assert after["relations"] == first["relations"] + 1  # replaced, not added beside
    with open_store(store, read_only=True) as graph:
        rows = graph.cypher(
            "MATCH (d:Document) WHERE d.source = $s RETURN d.id AS id, d.ingested_at AS at",
            {"s": str(edited)},
        ).rows
    assert len(rows) == 1 and rows[0]["at"]

    assert _run(["forget", str(edited), "--store", store]) == 0
    assert _run(["forget", str(edited), "--store", other]) == 0
    assert _counts(store) == _counts(other)
    assert _counts(store)["documents"] == first["documents"] - 1
    assert _run(["forget", "sha256:nothing", "--store", store]) == 1
    assert "no stored document has the id or source sha256:nothing" in capsys.readouterr().err
    # re-ingesting the forgotten file brings back exactly what it stated
    assert _run(["load", str(lake), "--store", store]) == 0
    assert _counts(store) == after


def _wait_for(stream: Any, text: str, seen: list[str], deadline: float, since: int = 0) -> None:
    """Read lines into ``seen`` until one from index ``since`` on holds ``text``."""
    while not any(text in line for line in seen[since:]):
        assert time.monotonic() < deadline, f"no {text!r} in {seen}"
        line = stream.readline()  # the watch logs a line per look at least every few s
        if line:
            seen.append(line)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_watch_ingests_arrivals_replaces_edits_and_forgets_deletions(
    texts: Path, tmp_path: Path
) -> None:
    folder, store = tmp_path / "inbox", str(tmp_path / "store")
    folder.mkdir()
    first, second, third = sorted(texts.glob("*.txt"))[:3]
    shutil.copy(first, folder / first.name)
    watch = subprocess.Popen(
        [str(Path(sys.executable).parent / "fallout"), "watch", str(folder), "--store", store,
         "--every", "0.2"],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert watch.stderr is not None
        deadline = time.monotonic() + 240
        _wait_for(watch.stderr, f"ingested {folder / first.name}", seen, deadline)
        shutil.copy(second, folder / second.name)
        _wait_for(watch.stderr, f"ingested {folder / second.name}", seen, deadline)
        mark = len(seen)
        (folder / first.name).write_text(
            first.read_text() + "\nQuarry Capital lent $4 million to Bellwether Exchange.\n"
        )
        _wait_for(watch.stderr, f"ingested {folder / first.name}", seen, deadline, mark)
        shutil.copy(third, folder / third.name)
        (folder / second.name).unlink()
        _wait_for(watch.stderr, f"forgot {folder / second.name}", seen, deadline)
        _wait_for(watch.stderr, f"ingested {folder / third.name}", seen, deadline)
    finally:
        watch.send_signal(signal.SIGINT)
        rest = watch.communicate(timeout=60)[1]
    assert "watch stopped" in rest
    assert sum("ingested" in line for line in seen) == 4
    assert _run(["ingest", str(folder), "--store", str(tmp_path / "check")]) == 0
    assert _counts(store) == _counts(str(tmp_path / "check"))
    assert _counts(store)["documents"] == 2


@pytest.mark.neo4j
def test_initial_and_parallel_neo4j_loads_match_the_serial_load(
    tmp_path: Path, neo4j_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from graph.neo4j_bulk import LoadStats, parallel_load

    docs = [_facts(f"sha256:{n}", f"{n}.txt", amount=float(n)) for n in range(40)]
    write_part(tmp_path / "lake", [ExtractedDocument(f) for f in docs])
    with open_store(":memory:") as serial:
        serial.load(docs)
        expected = dict(serial.counts())
    with open_store(neo4j_url) as store:
        store.cypher("MATCH (n) DETACH DELETE n", write=True)
    assert _run(["load", str(tmp_path / "lake"), "--store", neo4j_url, "--initial",
                 "--parallel", "3"]) == 0  # fmt: skip
    assert _counts(neo4j_url) == expected
    assert _run(["load", str(tmp_path / "lake"), "--store", neo4j_url, "--initial"]) == 1
    assert "--initial needs an empty database" in capsys.readouterr().err
    with open_store(neo4j_url) as store:
        # a load cut short leaves its documents marked: the next load starts them over
        store.cypher("MATCH (d:Document {id: 'sha256:3'}) SET d.loading = true", write=True)
        stats = LoadStats()
        parallel_load(store, docs[:10], parallel=4, stats=stats, batch_size=3)
        assert dict(store.counts()) == expected
        assert stats.transactions > 10 and stats.attempts >= stats.transactions
        assert not store.cypher("MATCH (d:Document) WHERE d.loading RETURN d.id").rows
