"""The quality gate CI runs: relation F1 on the frozen test split against its record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from graph.cli import main

REPORTING = Path(__file__).resolve().parents[2] / "ontologies" / "corpus" / "reporting"


def _eval(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(["eval", *args])
    return int(info.value.code or 0)


def test_eval_gate_holds_on_the_frozen_test_split(capsys):
    """Relation F1 on the test split is within 0.03 of the figure recorded in the repository."""
    code = _eval(
        [
            "--gold",
            str(REPORTING / "test"),
            "--expect",
            str(REPORTING / "test-scores.json"),
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "holds against the recorded" in out.out


def test_eval_gate_fails_when_f1_falls(tmp_path, capsys):
    """A recorded figure more than the tolerance above today's F1 fails with one line."""
    gold = tmp_path / "gold"
    gold.mkdir()
    first = sorted((REPORTING / "dev").glob("*.json"))[0]
    for suffix in (".txt", ".json"):
        shutil.copy(first.with_suffix(suffix), gold)
    _eval(["--gold", str(gold), "--json"])
    f1 = json.loads(capsys.readouterr().out)["micro"]["relations"]["f1"]
    expect = tmp_path / "expect.json"
    expect.write_text(json.dumps({"relations": {"f1": f1 + 0.05}}), encoding="utf-8")
    assert _eval(["--gold", str(gold), "--expect", str(expect)]) == 1
    assert "more than 0.03 below the recorded" in capsys.readouterr().err
    expect.write_text(json.dumps({"relations": {"f1": f1 + 0.02}}), encoding="utf-8")
    assert _eval(["--gold", str(gold), "--expect", str(expect)]) == 0
