"""Refuse, don't create: a mistyped or foreign --store is one line, and nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extract.model import Facts
from graph.errors import StoreUnavailable
from graph.store import open_store
from graph.store._paths import check_store_dir

ROOT = Path(__file__).resolve().parents[2]
COUNT = "MATCH (n) RETURN count(n) AS n"


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )


@pytest.fixture
def facts_file(tmp_path: Path) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(Facts.from_dict({
        "document": {"id": "d1", "source": "d1.txt"},
        "entities": [{"id": "a", "name": "A", "type": "Bank"},
                     {"id": "b", "name": "B", "type": "Lender"}],
        "relations": [{"head": "a", "type": "LENT_TO", "tail": "b", "confidence": 0.9,
                       "evidence": [{"text": "A lent to B.", "start": 0, "end": 12}]}],
    }).to_json(), encoding="utf-8")
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_mistyped_store_is_refused_by_reading_commands_and_not_created(
    tmp_path: Path,
) -> None:
    typo = tmp_path / "typo"
    for args in (["query", COUNT], ["export", "--format", "turtle"], ["shock", "a"]):
        done = fallout(*args, "--store", str(typo))
        assert done.returncode == 1, (args, done.stderr)
        assert done.stderr.strip().splitlines() == [
            f"fallout: error: {typo}: no fallout store there (no such directory); check "
            "--store and FALLOUT_STORE, or make a store with fallout load or fallout ingest"
        ], args
        assert not typo.exists(), args


def test_a_directory_of_other_files_is_never_written_into(
    tmp_path: Path, facts_file: Path
) -> None:
    foreign = tmp_path / "papers"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    read = fallout("query", COUNT, "--store", str(foreign))
    assert read.returncode == 1
    assert read.stderr.strip() == (
        f"fallout: error: {foreign}: not a fallout store (no graph.lbug in it); check --store "
        "and FALLOUT_STORE, or make a store with fallout load or fallout ingest"
    )
    write = fallout("load", str(facts_file), "--store", str(foreign))
    assert write.returncode == 1
    assert write.stderr.strip() == (
        f"fallout: error: {foreign}: not a fallout store, and not empty (it holds notes.txt); "
        "a new store is made only in a new or empty directory"
    )
    assert _listing(foreign) == ["notes.txt"]  # no graph.lbug, no .lock


def test_writing_commands_make_a_store_in_a_new_or_empty_directory(
    tmp_path: Path, facts_file: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    new = tmp_path / "new" / "store"
    for target in (empty, new):
        done = fallout("load", str(facts_file), "--store", str(target))
        assert done.returncode == 0, done.stderr
        again = fallout("query", COUNT, "--json", "--store", str(target))
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == '{"rows": [{"n": 3}]}'  # 2 entities, 1 document
    assert "graph.lbug" in _listing(empty)


def test_the_library_refuses_the_same_way(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no fallout store there"):
        open_store(tmp_path / "nothing", read_only=True)
    assert not (tmp_path / "nothing").exists()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(StoreUnavailable, match="a file, not a store"):
        check_store_dir(tmp_path / "file", create=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreUnavailable, match=r"not a fallout store \(an empty directory\)"):
        open_store(tmp_path / "empty", read_only=True)
    with open_store(tmp_path / "empty") as store:  # to write: made here
        assert store.counts()["entities"] == 0
    with open_store(tmp_path / "empty", read_only=True) as store:  # now a store
        assert store.counts()["entities"] == 0
