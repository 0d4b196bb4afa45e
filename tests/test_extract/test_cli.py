from __future__ import annotations

import json

import pytest

from graph.cli import main


@pytest.mark.parametrize(
    "text",
    ["Quarry Capital borrowed $40 million from Bellwether Exchange against 2 million BWX tokens."],
)
def test_cli_extract_json_and_failures(tmp_path, capsys, text):
    good = tmp_path / "good.txt"
    good.write_text(text)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = tmp_path / "facts.json"
    with pytest.raises(SystemExit) as info:
        main(["extract", str(good), str(empty), "--json", "--out", str(out)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "empty.txt: empty file" in err
    data = json.loads(out.read_text())
    assert data["document"]["source"] == str(good)
    assert {e["id"] for e in data["entities"]} >= {"quarry-capital", "bellwether-exchange", "bwx"}


def test_cli_eval_reports_micro(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("Quarry Capital lent $3 million to Bellwether Exchange.")
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "source": "test",
                "entities": [
                    {"name": "Quarry Capital", "type": "InvestmentFirm", "aliases": []},
                    {"name": "Bellwether Exchange", "type": "Exchange", "aliases": []},
                ],
                "relations": [
                    {
                        "head": "Quarry Capital",
                        "type": "LENT_TO",
                        "tail": "Bellwether Exchange",
                        "evidence": "Quarry Capital lent $3 million to Bellwether Exchange.",
                    }
                ],
            }
        )
    )
    with pytest.raises(SystemExit) as info:
        main(["eval", "--gold", str(tmp_path), "--json"])
    assert info.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["micro"]["relations"]["f1"] == 1.0
    assert data["micro"]["entities"]["f1"] == 1.0
