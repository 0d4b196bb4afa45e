"""Files a user cannot read are named, one line each, and the rest of the batch goes on.

Run as a real unprivileged user (root reads everything): see tests/fixtures/unprivileged.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from graph.store import open_store
from tests.fixtures.unprivileged import Unprivileged, unprivileged  # noqa: F401

OK_TEXT = "Quarry Capital lent $4 million to Bellwether Exchange in March 2022.\n"
MD_TEXT = "# Note\n\nHarbor Bank lent $9 million to Quarry Capital.\n"


def _batch(user: Unprivileged) -> Path:
    """A folder the user owns: two readable texts, one it cannot read, a closed subfolder."""
    folder = user.home / "batch"
    folder.mkdir()
    user.give(folder)
    (folder / "a-secret.txt").write_text("Nobody may read this.\n", encoding="utf-8")
    os.chmod(folder / "a-secret.txt", 0o000)  # owned by root: the user cannot read it
    (folder / "ok.txt").write_text(OK_TEXT, encoding="utf-8")
    (folder / "note.md").write_text(MD_TEXT, encoding="utf-8")
    closed = folder / "closed"
    closed.mkdir(mode=0o700)  # owned by root: the user cannot list it
    (closed / "inside.txt").write_text(OK_TEXT, encoding="utf-8")
    return folder


def _fallout(user: Unprivileged, *args: str) -> tuple[int, str, str]:
    done = user.run([user.python(), "-m", "graph.cli", *args])
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def test_extract_names_the_unreadable_file_and_goes_on(unprivileged: Unprivileged) -> None:  # noqa: F811
    folder = _batch(unprivileged)
    code, out, err = _fallout(
        unprivileged, "extract", str(folder / "a-secret.txt"), str(folder / "ok.txt"), "--json"
    )
    assert code == 1, err
    facts = json.loads(out)
    assert isinstance(facts, dict), (out, err)  # the facts of ok.txt alone
    assert facts["document"]["source"].endswith("ok.txt")
    assert any(r["type"] == "LENT_TO" for r in facts["relations"])
    lines = err.strip().splitlines()
    assert lines == [f"fallout: error: {folder / 'a-secret.txt'}: cannot read (Permission denied)"]


def test_ingest_names_what_it_cannot_read_loads_the_rest_and_fails(
    unprivileged: Unprivileged,  # noqa: F811
) -> None:
    folder = _batch(unprivileged)
    store = unprivileged.home / "store"
    code, _out, err = _fallout(unprivileged, "ingest", str(folder), "--store", str(store))
    assert code == 1, err
    skipped = [line for line in err.splitlines() if line.startswith("fallout: skipped ")]
    assert sorted(skipped) == sorted([
        f"fallout: skipped {folder / 'a-secret.txt'}: cannot read (Permission denied)",
        f"fallout: skipped {folder / 'closed'}: cannot list the folder (Permission denied)",
    ])
    assert err.strip().splitlines()[-1] == (
        "fallout: error: skipped 2 of 4 inputs (named above); loaded 2"
    )
    with open_store(store) as opened:
        sources = sorted(d.source for d in opened.dump().documents)
    assert sources == [str(folder / "note.md"), str(folder / "ok.txt")]
