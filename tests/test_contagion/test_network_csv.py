"""Reading nodes.csv / exposures.csv / holdings.csv / prices.csv, and its error messages."""

from __future__ import annotations

import numpy as np
import pytest

from graph.contagion import ExposureNetwork
from graph.errors import ContagionInputError

NODES = "id,equity,external_assets,external_liabilities,weight\na,5,10,9,1\nb,4,8,6,1\nc,3,6,5,2\n"
EXPOSURES = "creditor,debtor,amount,kind\nb,a,6,loan\nc,b,5,deposit\na,c,4,loan\nb,a,1,loan\n"


def _write(tmp_path, **files: str):
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def test_from_csv_reads_balance_sheets_and_sums_repeated_pairs(tmp_path) -> None:
    d = _write(tmp_path, nodes=NODES, exposures=EXPOSURES)
    n = ExposureNetwork.from_csv(d / "nodes.csv", d / "exposures.csv")
    assert n.ids == ("a", "b", "c")
    assert n.exposures.toarray().tolist() == [[0, 0, 4], [7, 0, 0], [0, 5, 0]]
    assert n.equity.tolist() == [5, 4, 3]
    assert n.weight is not None and n.weight.tolist() == [1, 1, 2]
    assert n.interbank_liabilities().tolist() == [7, 5, 4]


@pytest.mark.parametrize(
    ("nodes", "exposures", "message"),
    [
        (NODES, "creditor,debtor,amount\nb,a,6\nc,b,-3.0\n",
         "exposures.csv row 3, field 'amount': negative amount -3.0"),
        (NODES, "creditor,debtor,amount\nb,a,6\nc,zz,1\n",
         "exposures.csv row 3, field 'debtor': unknown node id 'zz'"),
        (NODES, "creditor,debtor\nb,a\n", "exposures.csv: missing column 'amount'"),
        (NODES, "creditor,debtor,amount\nb,a,six\n",
         "exposures.csv row 2, field 'amount': non-numeric value 'six'"),
        (NODES, "creditor,debtor,amount\nb,b,1\n", "exposures.csv row 2, field 'debtor': 'b'"),
        ("id,equity\na,1\na,2\n", "creditor,debtor,amount\n",
         "nodes.csv row 3, field 'id': repeated id 'a'"),
        ("name,equity\na,1\n", "creditor,debtor,amount\n", "nodes.csv: missing column 'id'"),
        ("id,equity\na,1\nb,x1\n", "creditor,debtor,amount\n",
         "nodes.csv row 3, field 'equity': non-numeric value 'x1'"),
        ("id,equity\na,1\n,2\n", "creditor,debtor,amount\n", "nodes.csv row 3, field 'id': empty"),
    ],
)
def test_from_csv_errors_name_file_row_and_field(tmp_path, nodes, exposures, message) -> None:
    d = _write(tmp_path, nodes=nodes, exposures=exposures)
    with pytest.raises(ContagionInputError) as err:
        ExposureNetwork.from_csv(d / "nodes.csv", d / "exposures.csv")
    assert str(err.value).startswith(message)


def test_from_csv_holdings_prices_issuers_loans_recovery(tmp_path) -> None:
    d = _write(
        tmp_path,
        nodes="id,equity\nftx,10\nalameda,2\nlender,5\n",
        exposures=(
            "creditor,debtor,amount,recovery,collateral,collateral_quantity\n"
            "lender,alameda,8,0.5,ftt,4\nftx,alameda,3,0.1,,\n"
        ),
        holdings="holder,asset,value\nalameda,ftt,20\nlender,sol,4\n",
        prices="asset,price,depth,issuer\nftt,22,1000,ftx\nsol,30,5000,\n",
    )
    n = ExposureNetwork.from_csv(d / "nodes.csv", d / "exposures.csv", d / "holdings.csv",
                                 d / "prices.csv")
    assert n.asset_ids == ("ftt", "sol")
    assert n.issuers == {"ftt": "ftx"}
    assert n.holdings is not None and n.holdings.toarray().tolist() == [[0, 0], [20, 0], [0, 4]]
    assert n.prices is not None and n.prices.tolist() == [22, 30]
    assert [(x.lender, x.borrower, x.amount, x.asset, x.quantity) for x in n.loans] == [
        ("lender", "alameda", 8.0, "ftt", 4.0)
    ]
    assert n.recovery is not None
    assert n.recovery.toarray() == pytest.approx(np.array([[0, 0.1, 0], [0, 0, 0],
                                                           [0, 0.5, 0]]), abs=1e-12)


def test_from_csv_unknown_asset_and_bad_recovery(tmp_path) -> None:
    d = _write(tmp_path, nodes="id,equity\na,1\n", exposures="creditor,debtor,amount\n",
               holdings="holder,asset,value\na,zzz,1\n", prices="asset,price,depth\nx,1,1\n")
    with pytest.raises(ContagionInputError, match="holdings.csv row 2, field 'asset': unknown"):
        ExposureNetwork.from_csv(d / "nodes.csv", d / "exposures.csv", d / "holdings.csv",
                                 d / "prices.csv")
    e = _write(tmp_path, nodes="id,equity\na,1\nb,1\n",
               exposures="creditor,debtor,amount,recovery\na,b,1,1.5\n")
    with pytest.raises(ContagionInputError, match="row 2, field 'recovery': 1.5 is not a fraction"):
        ExposureNetwork.from_csv(e / "nodes.csv", e / "exposures.csv")
