"""The input contract of DESIGN.md, rule by rule: blanks, unread columns, signs, NaN, Parquet.

* A model reads the columns it needs and names the one that is missing.
* A blank cell means "not given"; a column no model reads may be blank throughout.
* Negative equity is valid: the node is insolvent before the shock.
* A blank or missing ``external_liabilities`` is 0.
* NaN and inf are named as such, with the file, row and field.
* Parquet files with the same columns are read wherever CSV is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from graph.cli import main
from graph.contagion import (
    CollateralLoan,
    ExposureNetwork,
    collateral,
    debtrank,
    default_cascade,
    eisenberg_noe,
    fire_sale,
)
from graph.errors import ContagionInputError

from ._nets import net

EXPOSURES = "creditor,debtor,amount\nb,a,5\nc,b,2\n"


def _files(tmp_path: Path, nodes: str, exposures: str = EXPOSURES) -> tuple[Path, Path]:
    n, e = tmp_path / "nodes.csv", tmp_path / "exposures.csv"
    n.write_text(nodes, encoding="utf-8")
    e.write_text(exposures, encoding="utf-8")
    return n, e


def _cli(capsys, nodes: Path, exposures: Path, *args: str) -> tuple[int, dict | None, str]:
    code = 0
    try:
        main(["contagion", "run", "--nodes", str(nodes), "--exposures", str(exposures), *args,
              "--json"])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err.strip()


def _payments(doc: dict | None) -> list[float]:
    assert doc is not None
    return [n["payment"] for n in doc["nodes"]]


# -- a model reads the columns it needs ----------------------------------------------------


def test_clearing_model_runs_without_an_equity_column(capsys, tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,external_assets,external_liabilities\n"
                                        "a,10,9\nb,8,2\nc,6,1\n")
    code, doc, err = _cli(capsys, nodes, exposures, "--model", "eisenberg-noe", "--default", "a")
    assert code == 0, err
    assert _payments(doc) == [0.0, 4.0, 1.0]


@pytest.mark.parametrize("model", ["debtrank", "cascade"])
def test_model_that_reads_equity_names_the_missing_column(capsys, tmp_path, model) -> None:
    nodes, exposures = _files(tmp_path, "id,external_assets\na,10\nb,8\nc,6\n")
    code, _, err = _cli(capsys, nodes, exposures, "--model", model, "--default", "a")
    assert code == 1
    assert err == f"fallout: error: nodes.csv: missing column 'equity' (needed by {model})"


def test_clearing_model_names_a_missing_external_assets_column(capsys, tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity\na,1\nb,1\nc,1\n")
    code, _, err = _cli(capsys, nodes, exposures, "--model", "rogers-veraart")
    assert code == 1
    assert err == (
        "fallout: error: nodes.csv: missing column 'external_assets' (needed by rogers-veraart)"
    )


# -- a blank cell means "not given" --------------------------------------------------------


def test_blank_equity_cell_is_not_given_and_unread_by_clearing(capsys, tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity,external_assets,external_liabilities\n"
                                        "a,4,10,9\nb,,8,2\nc,3,6,1\n")
    code, doc, err = _cli(capsys, nodes, exposures, "--model", "eisenberg-noe", "--default", "a")
    assert code == 0, err
    assert _payments(doc) == [0.0, 4.0, 1.0]
    network = ExposureNetwork.from_csv(nodes, exposures)
    assert math.isnan(network.equity[1]) and network.equity[[0, 2]].tolist() == [4.0, 3.0]


@pytest.mark.parametrize("model", ["debtrank", "cascade"])
def test_blank_equity_cell_is_named_by_a_model_that_reads_it(capsys, tmp_path, model) -> None:
    nodes, exposures = _files(tmp_path, "id,equity\na,4\nb,\nc,3\n")
    code, _, err = _cli(capsys, nodes, exposures, "--model", model, "--default", "a")
    assert code == 1
    assert err == (
        f"fallout: error: nodes.csv row 3, field 'equity': not given (needed by {model})"
    )


def test_blank_cell_in_a_required_exposure_field_is_named(tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity\na,1\nb,1\nc,1\n",
                              "creditor,debtor,amount\nb,a,5\nc,b,\n")
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(nodes, exposures)
    assert str(err.value) == "exposures.csv row 3, field 'amount': not given"


def test_python_network_with_unknown_equity_names_the_node() -> None:
    network = net("ab", [[0, 1], [0, 0]], [1.0, float("nan")])
    with pytest.raises(ContagionInputError, match="equity of 'b' is not given"):
        debtrank(network, defaults=["b"])


# -- a column the model does not read may be blank throughout ------------------------------


def test_columns_blank_throughout_are_not_given(tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity,external_assets,external_liabilities,weight\n"
                                        "a,4,,,\nb,10,,,\nc,3,,,\n")
    network = ExposureNetwork.from_csv(nodes, exposures)
    assert network.external_assets is not None and np.isnan(network.external_assets).all()
    assert network.external_liabilities is not None
    assert network.external_liabilities.tolist() == [0.0, 0.0, 0.0]
    r = debtrank(network, defaults=["a"])
    assert r.params["weighting"] == "equity"
    assert r.node("b").relative_loss == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ContagionInputError) as err:
        eisenberg_noe(network)
    assert str(err.value) == (
        "nodes.csv row 2, field 'external_assets': not given (needed by eisenberg-noe)"
    )


def test_weight_is_read_only_when_the_weighting_uses_it(capsys, tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity,weight\na,4,1\nb,10,\nc,3,2\n")
    code, _, err = _cli(capsys, nodes, exposures, "--model", "debtrank", "--default", "a")
    assert code == 1
    assert err == "fallout: error: nodes.csv row 3, field 'weight': not given (needed by debtrank)"
    code, doc, err = _cli(capsys, nodes, exposures, "--model", "debtrank", "--default", "a",
                          "--param", "weighting=equity")
    assert code == 0, err
    assert doc is not None and doc["params"]["weighting"] == "equity"
    assert doc["totals"]["debtrank"] == pytest.approx(0.5 * 10 / 17 + (1 / 3) * 3 / 17, abs=1e-12)


# -- negative equity: insolvent before the shock -------------------------------------------


def test_reader_accepts_negative_equity_but_no_other_negative_amount(tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity,external_assets\na,-5,1\nb,10,1\nc,3,1\n")
    assert ExposureNetwork.from_csv(nodes, exposures).equity.tolist() == [-5.0, 10.0, 3.0]
    nodes, _ = _files(tmp_path, "id,equity,external_assets\na,5,-1\nb,10,1\nc,3,1\n")
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(nodes, exposures)
    assert str(err.value) == "nodes.csv row 2, field 'external_assets': negative amount -1.0"


def test_debtrank_starts_an_insolvent_node_in_default(capsys, tmp_path) -> None:
    # a owes b 5 and is insolvent before any shock; b (equity 10) owes c 2 (equity 3)
    nodes, exposures = _files(tmp_path, "id,equity,weight\na,-5,1\nb,10,1\nc,3,2\n")
    code, doc, err = _cli(capsys, nodes, exposures, "--model", "debtrank")
    assert code == 0, err
    assert doc is not None
    assert doc["params"]["insolvent"] == "equity < 0: in default in round 0 (h = 1)"
    assert doc["nodes"][0] == {"id": "a", "defaulted": True, "equity_loss": 0.0,
                               "relative_loss": 1.0, "payment": None}
    assert doc["nodes"][1]["relative_loss"] == pytest.approx(0.5, abs=1e-12)
    assert doc["rounds"][0]["new_defaults"] == ["a"]
    totals = doc["totals"]
    assert totals["original_stress"] == pytest.approx(0.25, abs=1e-12)
    assert totals["debtrank"] == pytest.approx(0.5 * 0.25 + (1 / 3) * 0.5, abs=1e-12)
    assert totals["additional_defaults"] == 0.0


def test_cascade_starts_an_insolvent_node_in_default() -> None:
    network = net("abc", [[0, 0, 0], [5, 0, 0], [0, 2, 0]], [-5.0, 4.0, 3.0])
    r = default_cascade(network)
    assert [n.defaulted for n in r.nodes] == [True, True, False]
    assert r.node("a").equity_loss == 0.0
    assert r.node("c").relative_loss == pytest.approx(2 / 3, abs=1e-12)
    assert r.totals["additional_defaults"] == 1.0


def test_negative_equity_weighs_nothing_under_equity_weighting() -> None:
    network = net("abc", [[0, 0, 0], [5, 0, 0], [0, 2, 0]], [-5.0, 10.0, 3.0])
    r = debtrank(network, weighting="equity")
    assert r.totals["debtrank"] == pytest.approx(0.5 * 10 / 13 + (1 / 3) * 3 / 13, abs=1e-12)


def test_price_models_start_an_insolvent_node_in_default() -> None:
    """A fund insolvent before the shock liquidates; the collateral spiral runs unshocked."""
    funds = net("fg", np.zeros((2, 2)), [-1.0, 50.0], asset_ids=("x",),
                holdings=sp.csr_array(np.array([[40.0], [60.0]])), prices=np.array([1.0]),
                depth=np.array([200.0]))
    r = fire_sale(funds)
    assert r.params["insolvent"] == "equity < 0: in default in round 0 (h = 1)"
    assert r.rounds[0].new_defaults == ("f",) and r.node("f").equity_loss == 0.0
    assert r.rounds[-1].prices["x"] < 1.0 and r.node("g").equity_loss > 0.0
    # ftx issues ftt and is insolvent: the same spiral as the hand-solved default of ftx
    a = np.zeros((4, 4))
    a[2, 1] = 60
    ftx = net(["ftx", "alameda", "lender", "holder"], a, [-3.0, 5.0, 20.0, 50.0],
              asset_ids=("ftt",), prices=np.array([1.0]), depth=np.array([1000.0]),
              holdings=sp.csr_array(np.array([[0.0], [0.0], [0.0], [30.0]])),
              loans=(CollateralLoan("lender", "alameda", 60.0, "ftt", 100.0),),
              issuers={"ftt": "ftx"})
    c = collateral(ftx)
    assert [o.defaulted for o in c.nodes] == [True, True, True, False]
    assert c.rounds[-1].prices["ftt"] == pytest.approx(0.18, abs=1e-12)
    assert c.totals["credit_loss"] == pytest.approx(42.0, abs=1e-12)


# -- a blank or missing external_liabilities is 0 ------------------------------------------


@pytest.mark.parametrize(
    "nodes",
    [
        "id,external_assets,external_liabilities\na,10,\nb,8,\nc,6,\n",
        "id,external_assets\na,10\nb,8\nc,6\n",
        "id,equity,external_assets,external_liabilities,weight\na,,10,,\nb,,8,0,\nc,,6,,\n",
    ],
    ids=["blank", "missing", "partly blank"],
)
def test_blank_or_missing_external_liabilities_is_zero(capsys, tmp_path, nodes) -> None:
    (tmp_path / "zero").mkdir()
    zero_n, zero_e = _files(tmp_path / "zero", "id,external_assets,external_liabilities\n"
                                               "a,10,0\nb,8,0\nc,6,0\n")
    code, expected, err = _cli(capsys, zero_n, zero_e, "--model", "eisenberg-noe",
                               "--shock", "a=0.8")
    assert code == 0, err
    n, e = _files(tmp_path, nodes)
    code, doc, err = _cli(capsys, n, e, "--model", "eisenberg-noe", "--shock", "a=0.8")
    assert code == 0, err
    assert _payments(doc) == _payments(expected)
    assert _payments(doc) == pytest.approx([2.0, 2.0, 0.0], abs=1e-12)
    assert eisenberg_noe(net("ab", [[0, 1], [0, 0]], [0, 0], external_assets=[1.0, 0.0])
                         ).node("b").payment == 0.0


# -- NaN and inf are named -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [("nan", "NaN"), ("NaN", "NaN"), ("inf", "inf"), ("-inf", "-inf"), ("Infinity", "inf")],
)
@pytest.mark.parametrize("where", ["equity", "weight", "amount"])
def test_nan_and_inf_are_named_with_file_row_and_field(tmp_path, text, named, where) -> None:
    cell = {"equity": "", "weight": "", "amount": ""}
    cell[where] = text
    nodes, exposures = _files(
        tmp_path,
        f"id,equity,weight\na,1,1\nb,{cell['equity'] or 2},{cell['weight'] or 1}\nc,3,1\n",
        f"creditor,debtor,amount\nb,a,5\nc,b,{cell['amount'] or 2}\n",
    )
    file = "exposures.csv" if where == "amount" else "nodes.csv"
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(nodes, exposures)
    assert str(err.value) == f"{file} row 3, field '{where}': {named}; expected a finite number"


def test_python_network_with_infinite_equity_is_refused() -> None:
    network = net("ab", [[0, 1], [0, 0]], [1.0, float("inf")])
    with pytest.raises(ContagionInputError, match="equity of 'b' is inf; expected a finite"):
        debtrank(network, defaults=["a"])


def test_non_numeric_text_is_still_named_as_text(tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity\na,1\nb,NA\nc, 3 \n")
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(nodes, exposures)
    assert str(err.value) == "nodes.csv row 3, field 'equity': non-numeric value 'NA'"


def test_id_spelled_like_a_missing_value_stays_an_id(tmp_path) -> None:
    nodes, exposures = _files(tmp_path, "id,equity\nNA,1\nnull,1\nc,3\n",
                              "creditor,debtor,amount\nnull,NA,5\n")
    network = ExposureNetwork.from_csv(nodes, exposures)
    assert network.ids == ("NA", "null", "c")
    assert network.exposures.toarray()[1].tolist() == [5.0, 0.0, 0.0]


# -- Parquet beside CSV ----------------------------------------------------------------------


def _parquet(path: Path, columns: dict[str, list]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_and_csv_give_the_same_result(capsys, tmp_path) -> None:
    nodes_csv, exposures_csv = _files(
        tmp_path, "id,equity,external_assets,external_liabilities,weight\n"
                  "a,4,10,9,1\nb,10,8,2,1\nc,3,6,1,2\n")
    nodes_pq = _parquet(tmp_path / "nodes.parquet", {
        "id": ["a", "b", "c"], "equity": [4.0, 10.0, 3.0], "external_assets": [10, 8, 6],
        "external_liabilities": [9.0, 2.0, 1.0], "weight": [1, 1, 2], "kind": ["x", "y", "z"],
    })
    exposures_pq = _parquet(tmp_path / "exposures.parquet", {
        "creditor": ["b", "c"], "debtor": ["a", "b"], "amount": [5.0, 2.0],
    })
    for model in ("debtrank", "eisenberg-noe"):
        args = ("--model", model, "--default", "a")
        _, from_csv, _ = _cli(capsys, nodes_csv, exposures_csv, *args)
        _, from_pq, err = _cli(capsys, nodes_pq, exposures_pq, *args)
        _, mixed, _ = _cli(capsys, nodes_pq, exposures_csv, *args)
        assert from_pq is not None, err
        assert from_pq == from_csv == mixed


def test_parquet_nulls_are_blank_and_nan_is_named(capsys, tmp_path) -> None:
    exposures = _parquet(tmp_path / "exposures.parquet", {
        "creditor": ["b", "c"], "debtor": ["a", "b"], "amount": [5.0, 2.0],
    })
    nodes = _parquet(tmp_path / "nodes.parquet", {
        "id": ["a", "b", "c"], "equity": [None, None, None],
        "external_assets": [10.0, 8.0, 6.0], "external_liabilities": [9.0, None, 1.0],
        "weight": pa_nulls(3),
    })
    code, doc, err = _cli(capsys, nodes, exposures, "--model", "eisenberg-noe", "--default", "a")
    assert code == 0, err
    assert _payments(doc) == [0.0, 2.0, 1.0]
    code, _, err = _cli(capsys, nodes, exposures, "--model", "debtrank", "--default", "a")
    assert err == (
        "fallout: error: nodes.parquet row 1, field 'equity': not given (needed by debtrank)"
    )
    nan = _parquet(tmp_path / "nan.parquet", {"id": ["a", "b", "c"],
                                              "equity": [1.0, 2.0, float("nan")]})
    code, _, err = _cli(capsys, nan, exposures, "--model", "debtrank")
    assert code == 1
    assert err == "fallout: error: nan.parquet row 3, field 'equity': NaN; expected a finite number"


def pa_nulls(n: int):
    import pyarrow as pa

    return pa.nulls(n)


def test_parquet_text_amounts_and_integer_ids_follow_the_same_rules(tmp_path) -> None:
    nodes = _parquet(tmp_path / "nodes.parquet", {"id": [1, 2], "equity": ["4", " "]})
    exposures = _parquet(tmp_path / "exposures.parquet", {
        "creditor": [2], "debtor": [1], "amount": ["inf"],
    })
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(nodes, exposures)
    assert str(err.value) == (
        "exposures.parquet row 1, field 'amount': inf; expected a finite number"
    )
    exposures = _parquet(tmp_path / "exposures.parquet", {
        "creditor": [2], "debtor": [1], "amount": ["5"],
    })
    network = ExposureNetwork.from_csv(nodes, exposures)
    assert network.ids == ("1", "2")
    assert network.equity[0] == 4.0 and math.isnan(network.equity[1])
    assert np.asarray(network.exposures.toarray()).tolist() == [[0.0, 0.0], [5.0, 0.0]]


def test_unreadable_parquet_is_named(tmp_path) -> None:
    bad = tmp_path / "nodes.parquet"
    bad.write_bytes(b"id,equity\na,1\n")
    _, exposures = _files(tmp_path, "id,equity\na,1\n", "creditor,debtor,amount\n")
    with pytest.raises(ContagionInputError, match=r"^nodes.parquet: "):
        ExposureNetwork.from_csv(bad, exposures)
