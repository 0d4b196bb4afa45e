"""``fallout contagion run``: exact JSON, one-line errors, the readable table."""

from __future__ import annotations

import json

import pytest

from graph.cli import main

NODES = "id,equity,external_assets,external_liabilities,weight\na,4,10,9,1\nb,10,8,2,1\nc,3,6,1,2\n"
EXPOSURES = "creditor,debtor,amount\nb,a,5\nc,b,2\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "nodes.csv").write_text(NODES, encoding="utf-8")
    (tmp_path / "exposures.csv").write_text(EXPOSURES, encoding="utf-8")
    return tmp_path


def _run(capsys, files, *args: str) -> tuple[int, str, str]:
    argv = ["contagion", "run", "--nodes", str(files / "nodes.csv"),
            "--exposures", str(files / "exposures.csv"), *args]
    code = 0
    try:
        main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_debtrank_json_exact(capsys, files) -> None:
    code, out, _ = _run(capsys, files, "--model", "debtrank", "--default", "a", "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["model", "params", "rounds", "totals", "nodes"]
    assert doc["model"] == "debtrank"
    assert doc["params"]["variant"] == "single-hit" and doc["params"]["cap"] is True
    # b: W = 5/10 -> 0.5; c: W = 2/3, hit by b's 0.5 -> 1/3
    assert doc["nodes"] == [
        {"id": "a", "defaulted": True, "equity_loss": 4.0, "relative_loss": 1.0, "payment": None},
        {"id": "b", "defaulted": False, "equity_loss": 5.0, "relative_loss": 0.5, "payment": None},
        {"id": "c", "defaulted": False, "equity_loss": 1.0, "relative_loss": pytest.approx(1 / 3),
         "payment": None},
    ]
    assert doc["totals"]["debtrank"] == pytest.approx(0.5 * 0.25 + (1 / 3) * 0.5, abs=1e-12)
    assert [r["round"] for r in doc["rounds"]] == [0, 1, 2]


def test_cli_params_shock_and_clearing_payment(capsys, files) -> None:
    code, out, _ = _run(capsys, files, "--model", "debtrank", "--shock", "a=0.5",
                        "--param", "variant=linear", "--param", "cap=false", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["params"]["variant"] == "linear" and doc["params"]["cap"] is False
    code, out, _ = _run(capsys, files, "--model", "eisenberg-noe", "--default", "a", "--json")
    doc = json.loads(out)
    assert code == 0
    # a loses its external assets and pays 0 of 14; b holds 8 >= 4 and pays in full; c pays 1
    assert [n["payment"] for n in doc["nodes"]] == [0.0, 4.0, 1.0]
    assert doc["params"]["external_liabilities"] == "pari-passu"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "debtrnk"], "unknown model 'debtrnk'; available: debtrank, eisenberg-noe"),
        (["--model", "debtrank", "--shock", "a=1.7"], "shock for 'a' is 1.7; expected a fraction"),
        (["--model", "debtrank", "--shock", "a"], "--shock 'a': expected KEY=VALUE"),
        (["--model", "debtrank", "--default", "zz"], "default: unknown node id 'zz'"),
        (["--model", "debtrank", "--param", "colour=red"], "model 'debtrank' has no parameter"),
        (["--model", "debtrank", "--price", "ftt=-0.5"], "--price needs a price model"),
    ],
)
def test_cli_errors_are_one_line(capsys, files, args, message) -> None:
    code, out, err = _run(capsys, files, *args, "--json")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and message in err


def test_cli_csv_error_names_file_row_field(capsys, files) -> None:
    (files / "exposures.csv").write_text("creditor,debtor,amount\nb,a,5\nc,b,-3.0\n")
    code, _, err = _run(capsys, files, "--model", "cascade", "--json")
    assert code == 1
    assert err.strip() == (
        "fallout: error: exposures.csv row 3, field 'amount': negative amount -3.0"
    )


def test_cli_table_without_json(capsys, files) -> None:
    code, out, _ = _run(capsys, files, "--model", "cascade", "--default", "a")
    assert code == 0
    assert "cascade" in out and "relative loss" in out and "100.00%" in out
    assert "exposures[creditor, debtor]" in out


def test_combined_runs_from_files_and_takes_old_parameter_names(tmp_path) -> None:
    from graph.contagion import MODELS, run_model
    from graph.contagion.network import ExposureNetwork

    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,equity\na,1\nb,1\n", encoding="utf-8")
    exposures = tmp_path / "exposures.csv"
    exposures.write_text("creditor,debtor,amount\na,b,2\n", encoding="utf-8")
    assert "combined" in MODELS
    net = ExposureNetwork.from_csv(nodes, exposures)
    res = run_model("combined", net, defaults=["b"], recovery=0.0, ltv_reset=0.4)
    assert res.model == "combined" and res.node("a").defaulted
    assert res.params["ltv_target"] == 0.4
    cascade = run_model("cascade", net, defaults=["b"], lgd=0.25, threshold=1.0)
    assert cascade.params["default_threshold"] == 1.0
    assert cascade.node("a").equity_loss == pytest.approx(0.5)


def test_result_as_parquet_with_rounds_on_request(tmp_path, capsys) -> None:
    import pyarrow.parquet as pq

    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,equity\na,1\nb,1\nc,5\n", encoding="utf-8")
    exposures = tmp_path / "exposures.csv"
    exposures.write_text("creditor,debtor,amount\na,b,2\nc,a,3\n", encoding="utf-8")
    out, rounds = tmp_path / "result.parquet", tmp_path / "rounds.parquet"
    args = ["--model", "debtrank", "--default", "b", "--out", str(out)]
    assert _run(capsys, tmp_path, *args)[0] == 0
    table = pq.read_table(out)
    assert table.column_names == ["id", "defaulted", "equity_loss", "relative_loss", "payment"]
    assert table.column("id").to_pylist() == ["a", "b", "c"]
    assert table.column("defaulted").to_pylist() == [True, True, False]
    assert not rounds.exists()
    assert _run(capsys, tmp_path, *args, "--rounds-out", str(rounds))[0] == 0
    r = pq.read_table(rounds).to_pylist()
    assert {"round": 0, "id": "b", "relative_loss": 1.0, "new_default": True} in r
    assert b"debtrank" in table.schema.metadata[b"fallout"]
