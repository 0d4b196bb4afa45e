"""``fallout load`` reads Turtle and JSON-LD: export, load into an empty store, export again."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS = ROOT / "tests" / "data" / "transcripts"


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )


def _parse(path: Path, fmt: str) -> Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's JSON-LD parser
        return Graph().parse(path, format=fmt)


@pytest.fixture(scope="module")
def source_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("rdf") / "source"
    files = [str(TRANSCRIPTS / n) for n in ("plain.txt", "panel.vtt", "firms.txt")]
    done = fallout("ingest", *files, "--store", str(store))
    assert done.returncode == 0, done.stderr
    return store


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "suffix", "parser"), [("turtle", ".ttl", "turtle"),
                                                       ("jsonld", ".jsonld", "json-ld")])
def test_rdf_export_load_export_is_isomorphic(source_store: Path, tmp_path: Path, fmt: str,
                                               suffix: str, parser: str) -> None:
    first = tmp_path / f"first{suffix}"
    done = fallout("export", "--format", fmt, "--store", str(source_store), "--out", str(first))
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "copy"
    done = fallout("load", str(first), "--store", str(copy))
    assert done.returncode == 0, done.stderr
    assert "loaded 3 documents" in done.stderr
    second = tmp_path / f"second{suffix}"
    done = fallout("export", "--format", fmt, "--store", str(copy), "--out", str(second))
    assert done.returncode == 0, done.stderr
    a, b = _parse(first, parser), _parse(second, parser)
    assert len(a) > 100
    assert isomorphic(a, b)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("@prefix x: <http://x/> .\nx:a x:b", "not readable as turtle"),
        ("@prefix f: <https://w3id.org/fallout/ontology#> .\n"
         "<http://x/e> f:entityId \"e\" .\n", "entity 'e' has 0 kinds"),
    ],
)
def test_rdf_load_refuses_bad_files_in_one_line(tmp_path: Path, content: str,
                                                message: str) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(content, encoding="utf-8")
    done = fallout("load", str(bad), "--store", str(tmp_path / "store"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fallout: error: {bad}: ")
    assert message in lines[0]
    assert not (tmp_path / "store").exists()
