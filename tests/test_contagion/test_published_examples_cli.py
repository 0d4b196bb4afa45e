"""The published examples, written as DESIGN.md describes the files, through ``contagion run``.

Each network is written the way a new user would write it from the source: ``nodes.csv``
with all five columns of DESIGN.md (``id, equity, external_assets, external_liabilities,
weight``), leaving blank what the source does not give, and ``exposures.csv`` with one
``creditor, debtor, amount`` row per entry of the published matrix. The numbers and their
sources are stated in ``test_published_examples.py``; here they must come out of
``fallout contagion run --json`` to 1e-4 or better, from CSV and from Parquet alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from graph.cli import main

from .test_published_examples import (
    NRM_ASSETS,
    NRM_BUFFER,
    NRM_DEBTRANK,
    NRM_SHOCK_ADDITIONAL,
    NRM_SHOCK_FINAL,
    NRM_WEIGHTS,
    SR_EA,
    SR_EL,
    SR_EN_CLEARING,
    SR_EN_DEFAULTS,
    SR_L,
    SR_RV_CLEARING,
    SR_RV_DEFAULTS,
)

HEADER = "id,equity,external_assets,external_liabilities,weight"


def _cell(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _nodes_csv(rows: list[tuple[str, float | None, float | None, float | None, float | None]]
               ) -> str:
    return HEADER + "\n" + "".join(
        f"{id_},{','.join(_cell(v) for v in values)}\n" for id_, *values in rows
    )


def _exposures_csv(ids: list[str], creditor_rows: np.ndarray) -> str:
    """``creditor_rows[i, j]``: what ``ids[j]`` owes ``ids[i]``; zero entries are left out."""
    lines = ["creditor,debtor,amount"]
    for i, j in zip(*np.nonzero(creditor_rows), strict=True):
        lines.append(f"{ids[i]},{ids[j]},{float(creditor_rows[i, j])!r}")
    return "\n".join(lines) + "\n"


def _to_parquet(csv_path: Path) -> Path:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = csv_path.with_suffix(".parquet")
    pq.write_table(pacsv.read_csv(csv_path), out)
    return out


def _run(capsys, nodes: Path, exposures: Path, *args: str) -> dict:
    argv = ["contagion", "run", "--nodes", str(nodes), "--exposures", str(exposures), *args,
            "--json"]
    code = 0
    try:
        main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    assert code == 0, out.err.strip()
    doc: dict = json.loads(out.out)
    return doc


def _write(tmp_path: Path, nodes: str, exposures: str, fmt: str) -> tuple[Path, Path]:
    n, e = tmp_path / "nodes.csv", tmp_path / "exposures.csv"
    n.write_text(nodes, encoding="utf-8")
    e.write_text(exposures, encoding="utf-8")
    if fmt == "parquet":
        return _to_parquet(n), _to_parquet(e)
    return n, e


# systemicrisk's default_clearing() example: L[i, j] is what i owes j, so the creditor rows
# are L transposed. Bank 1 starts insolvent: 0.5 + 1.0 - (1.0 + 1.5) = -1.
SR_IDS = ["1", "2", "3"]
SR_EQUITY = [-1.0, 0.125, 0.25]


def _sr_nodes(equity: list[float] | list[None]) -> str:
    return _nodes_csv([
        (i, e, a, x, None) for i, e, a, x in zip(SR_IDS, equity, SR_EA, SR_EL, strict=True)
    ])


FORMATS = ["csv", "parquet"]
EQUITY_GIVEN = {"equity blank": [None, None, None], "equity stated, one negative": SR_EQUITY}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("equity", list(EQUITY_GIVEN))
def test_eisenberg_noe_systemicrisk_example_through_the_cli(capsys, tmp_path, fmt, equity):
    nodes, exposures = _write(tmp_path, _sr_nodes(EQUITY_GIVEN[equity]),
                              _exposures_csv(SR_IDS, SR_L.T), fmt)
    doc = _run(capsys, nodes, exposures, "--model", "eisenberg-noe")
    assert doc["params"]["external_liabilities"] == "pari-passu"
    assert [int(n["defaulted"]) for n in doc["nodes"]] == SR_EN_DEFAULTS
    for node, published in zip(doc["nodes"], SR_EN_CLEARING, strict=True):
        assert node["payment"] == pytest.approx(published, abs=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("equity", list(EQUITY_GIVEN))
def test_rogers_veraart_systemicrisk_example_through_the_cli(capsys, tmp_path, fmt, equity):
    nodes, exposures = _write(tmp_path, _sr_nodes(EQUITY_GIVEN[equity]),
                              _exposures_csv(SR_IDS, SR_L.T), fmt)
    doc = _run(capsys, nodes, exposures, "--model", "rogers-veraart",
               "--param", "alpha=0.5", "--param", "beta=0.7")
    assert (doc["params"]["alpha"], doc["params"]["beta"]) == (0.5, 0.7)
    assert [int(n["defaulted"]) for n in doc["nodes"]] == SR_RV_DEFAULTS
    for node, published in zip(doc["nodes"], SR_RV_CLEARING, strict=True):
        assert node["payment"] == pytest.approx(published, abs=1e-7)


# NetworkRiskMeasures README: buffers and weights given, no outside balance sheet.
NRM_IDS = ["a", "b", "c"]


def _nrm_files(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    nodes = _nodes_csv([
        (i, b, None, None, w) for i, b, w in zip(NRM_IDS, NRM_BUFFER, NRM_WEIGHTS, strict=True)
    ])
    return _write(tmp_path, nodes, _exposures_csv(NRM_IDS, NRM_ASSETS), fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_debtrank_2012_networkriskmeasures_defaults_through_the_cli(capsys, tmp_path, fmt):
    nodes, exposures = _nrm_files(tmp_path, fmt)
    for bank, (stress, defaults) in NRM_DEBTRANK.items():
        doc = _run(capsys, nodes, exposures, "--model", "debtrank", "--default", bank,
                   "--param", "variant=single-hit", "--param", "cap=true")
        assert doc["params"]["weighting"] == "weight"
        assert doc["totals"]["debtrank"] == pytest.approx(stress, abs=1e-6), bank
        assert int(doc["totals"]["additional_defaults"]) == defaults, bank


@pytest.mark.parametrize("fmt", FORMATS)
def test_debtrank_2012_networkriskmeasures_shock_through_the_cli(capsys, tmp_path, fmt):
    nodes, exposures = _nrm_files(tmp_path, fmt)
    doc = _run(capsys, nodes, exposures, "--model", "debtrank", "--shock", "a=0.1",
               "--shock", "b=0.1", "--shock", "c=0.1", "--param", "cap=true")
    assert doc["totals"]["debtrank"] == pytest.approx(NRM_SHOCK_ADDITIONAL, abs=1e-4)
    assert int(doc["totals"]["additional_defaults"]) == 0
    final = {n["id"]: n["relative_loss"] for n in doc["nodes"]}
    for bank, published in NRM_SHOCK_FINAL.items():
        assert final[bank] == pytest.approx(published, abs=5e-3), bank


def test_debtrank_125_bank_network_through_the_cli(capsys, tmp_path, nrm_network_path):
    """The README's 125-bank network, its largest published DebtRank, from a written CSV."""
    data = json.loads(nrm_network_path.read_text(encoding="utf-8"))
    nodes = _nodes_csv([(n["id"], n["buffer"], None, None, n["weight"]) for n in data["nodes"]])
    exposures = "creditor,debtor,amount\n" + "".join(
        f"{e['creditor']},{e['debtor']},{e['amount']!r}\n" for e in data["edges"]
    )
    n, e = _write(tmp_path, nodes, exposures, "csv")
    doc = _run(capsys, n, e, "--model", "debtrank", "--default", "b55",
               "--param", "variant=linear", "--param", "cap=false")
    assert doc["totals"]["original_stress"] == pytest.approx(0.1102, abs=5e-5)
    assert doc["totals"]["debtrank"] == pytest.approx(0.280, abs=5e-4)
    assert int(doc["totals"]["additional_defaults"]) == 17
