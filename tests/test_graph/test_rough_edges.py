"""Rough edges of the command line: exit status, named skips, no stray lines, column names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from graph.store import open_store
from tests.fixtures.documents import BROKEN_PDF, pdf_bytes

ROOT = Path(__file__).resolve().parents[2]
OK_TEXT = "Quarry Capital lent $4 million to Bellwether Exchange in March 2022.\n"


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )


def test_ingest_of_a_folder_with_skipped_files_names_them_and_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "ok.txt").write_text(OK_TEXT, encoding="utf-8")
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "broken.pdf").write_bytes(BROKEN_PDF)
    store = tmp_path / "store"
    done = fallout("ingest", str(folder), "--store", str(store))
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert f"fallout: skipped {folder / 'loop.txt'}: a symbolic link loop (the link leads " \
           "back to itself)" in lines
    assert any(line.startswith(f"fallout: skipped {folder / 'broken.pdf'}: not a readable PDF")
               for line in lines), lines
    assert lines[-1] == "fallout: error: skipped 2 of 3 inputs (named above); loaded 1"
    assert all(line.startswith(("fallout", "loaded ")) for line in lines), lines
    with open_store(store) as opened:
        assert opened.counts()["documents"] == 1


def test_extract_prints_no_stray_pdf_library_lines(tmp_path: Path) -> None:
    repaired = tmp_path / "repaired.pdf"
    repaired.write_bytes(pdf_bytes("Harbor Bank lent 9 million dollars to Quarry Capital.",
                                   wrong_xref=True))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(BROKEN_PDF)
    done = fallout("extract", str(repaired), str(broken), "--json")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("fallout: ") for line in lines), lines
    assert f"fallout: warning: {repaired}: PDF: incorrect startxref pointer(3)" in lines
    assert lines[-1].startswith(f"fallout: error: {broken}: not a readable PDF")
    assert json.loads(done.stdout)["document"]["source"] == str(repaired)


def test_type_of_a_relation_is_a_column_named_as_written(tmp_path: Path) -> None:
    from extract.model import Facts

    facts = tmp_path / "facts.json"
    facts.write_text(Facts.from_dict({
        "document": {"id": "d1", "source": "d1.txt"},
        "entities": [{"id": "a", "name": "A", "type": "Bank"},
                     {"id": "b", "name": "B", "type": "Lender"}],
        "relations": [{"head": "a", "type": "LENT_TO", "tail": "b", "confidence": 0.9,
                       "evidence": [{"text": "A lent to B.", "start": 0, "end": 12}]}],
    }).to_json(), encoding="utf-8")
    store = tmp_path / "store"
    assert fallout("load", str(facts), "--store", str(store)).returncode == 0
    query = "MATCH (h)-[r]->(t) RETURN type(r), count(*), h.id AS head ORDER BY head"
    done = fallout("query", query, "--json", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": [{"type(r)": "LENT_TO", "count(*)": 1,
                                                 "head": "a"}]}
    table = fallout("query", query, "--csv", "--store", str(store))
    assert table.stdout.splitlines()[0] == "type(r),count(*),head"
