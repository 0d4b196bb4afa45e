"""``fallout train``: the recogniser and the relation scorer, reproducibly."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from extract.train import train

REPORTING = Path(__file__).resolve().parents[2] / "ontologies" / "corpus" / "reporting"


def _copy(names: list[str], split: str, target: Path) -> Path:
    target.mkdir()
    for name in names:
        for suffix in (".txt", ".json"):
            shutil.copy(REPORTING / split / f"{name}{suffix}", target)
    return target


@pytest.mark.slow
def test_train_is_reproducible_and_loads_offline(tmp_path):
    """The same seed gives the same weights; the saved pipeline loads and scores alone."""
    train_names = sorted(p.stem for p in (REPORTING / "train").glob("*.json"))[:4]
    dev_names = sorted(p.stem for p in (REPORTING / "dev").glob("*.json"))[:2]
    corpus = _copy(train_names, "train", tmp_path / "corpus")
    dev = _copy(dev_names, "dev", tmp_path / "dev")
    runs = []
    for out in ("a", "b"):
        summary = train(corpus=corpus, dev=dev, output=tmp_path / out, epochs=2, seed=3)
        assert summary["relations"]["candidates"] > 0
        runs.append(summary)
    assert runs[0]["relations"] == {
        **runs[1]["relations"],
        "seconds": runs[0]["relations"]["seconds"],
    }
    for part in ("fallout_relation_scorer/weights.npy", "fallout_relation_scorer/features.npy"):
        assert np.array_equal(np.load(tmp_path / "a" / part), np.load(tmp_path / "b" / part))
    assert (tmp_path / "a" / "ner" / "model").read_bytes() == (
        tmp_path / "b" / "ner" / "model"
    ).read_bytes()

    from extract.pipeline import build_nlp

    nlp = build_nlp(tmp_path / "a")
    assert nlp.get_pipe("fallout_relation_scorer").trained
    doc = nlp((corpus / f"{train_names[0]}.txt").read_text(encoding="utf-8"))
    assert doc._.fallout_relations
