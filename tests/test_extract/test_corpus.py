"""The annotated corpora: sound gold files, and a test split that nobody changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extract.evaluate import gold_problems

CORPUS = Path(__file__).resolve().parents[2] / "ontologies" / "corpus"
REPORTING = CORPUS / "reporting"


@pytest.mark.parametrize(
    "split", ["train", "heldout", "reporting/train", "reporting/dev", "reporting/test"]
)
def test_corpus_gold_files_are_sound(split):
    """Every gold file names listed entities of allowed kinds, with evidence in its text."""
    files = sorted((CORPUS / split).glob("*.json"))
    assert files
    problems = [p for f in files for p in gold_problems(f)]
    assert problems == []


def test_reporting_corpus_sizes():
    """At least 60 blind documents, 20 of them in the frozen test split."""
    sizes = {s: len(list((REPORTING / s).glob("*.json"))) for s in ("train", "dev", "test")}
    assert sum(sizes.values()) >= 60 and sizes["test"] >= 20 and sizes["dev"] >= 10


def test_frozen_test_split_is_unchanged():
    """The test split's files are exactly those whose hashes the repository records."""
    recorded = {}
    for line in (REPORTING / "test.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        recorded[name.strip()] = digest
    present = {f"test/{p.name}" for p in (REPORTING / "test").iterdir()}
    assert present == set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((REPORTING / name).read_bytes()).hexdigest() == digest, name
