"""`fallout shock` and `fallout report` on a real embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app, main
from tests.test_graph._scenario import ftx_facts

runner = CliRunner()


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    from graph.store import open_store

    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.load(ftx_facts(evidence='Genesis lent <script>alert(1)</script> to Alameda.'))
    return str(path)


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_shock_by_name_prints_the_contagion_json_with_paths(store_dir: str) -> None:
    out = _json(["shock", "FTX", "--store", store_dir, "--json"])
    assert out["model"] == "combined"
    assert out["scenario"]["defaults"] == ["ftx"]
    nodes = {n["id"]: n for n in out["nodes"]}
    assert nodes["ftx"]["defaulted"] and nodes["alameda"]["defaulted"]
    assert nodes["blockfi"]["equity_loss"] > 0
    steps = {(p["source"], p["target"], p["channel"]) for p in out["paths"]}
    assert ("ftx", "ftt", "issuer") in steps and ("ftx", "blockfi", "deposit") in steps
    for step in out["paths"]:
        assert step["relation_ids"] and step["evidence"], step
        assert all(e["text"] for e in step["evidence"])


def test_shock_price_by_alias_breaches_the_collateral_loan(store_dir: str) -> None:
    out = _json(["shock", "--price", "FTT=-0.8", "--store", store_dir, "--json"])
    assert out["scenario"]["prices"] == {"ftt": -0.8}
    assert any(p["channel"] == "collateral" and p["target"] == "genesis" for p in out["paths"])


def test_shock_alias_and_params_and_monte_carlo(store_dir: str) -> None:
    out = _json(["shock", "ftx.com", "--param", "recovery=0.9", "--monte-carlo", "8",
                 "--seed", "3", "--store", store_dir, "--json"])
    assert out["params"]["recovery"] == 0.9
    assert out["monte_carlo"]["scenarios"] == 8


def test_shock_table_output(store_dir: str) -> None:
    result = runner.invoke(app, ["shock", "FTX", "--store", store_dir],
                           catch_exceptions=False)
    assert result.exit_code == 0
    assert "Alameda Research" in result.stdout and "issuer" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["shock", "Nobody"], "no entity named 'Nobody'"),
        (["shock", "--price", "FTT=lots"], "--price 'FTT=lots'"),
        (["shock", "--price", "FTX=-0.5"], "no token named 'FTX'"),
        (["shock", "--shock", "FTX=1.5"], "shock for 'ftx' is 1.5"),
        (["shock", "FTX", "--model", "nope"], "unknown model 'nope'"),
        (["report", "FTX", "--format", "docx", "--out", "x"], "--format 'docx'"),
    ],
)
def test_bad_input_gives_one_line_and_non_zero_exit(store_dir: str, args, needle,
                                                    capsys) -> None:
    with pytest.raises(SystemExit) as err:
        main([*args, "--store", store_dir])
    assert err.value.code != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


@pytest.mark.parametrize("fmt", ["html", "md", "pdf"])
def test_report_writes_every_format(store_dir: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    result = runner.invoke(app, ["report", "FTX", "--format", fmt, "--out", str(out),
                                 "--store", store_dir], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    else:
        text = data.decode("utf-8")
        assert "Alameda Research" in text
        # HTML escapes the tag as entities; Markdown with its own backslash escape
        assert ("\\<script>" if fmt == "md" else "&lt;script&gt;") in text
        assert "<script>" not in text.replace("\\<script>", "")
