"""Projection of the graph onto an exposure network, with provenance for every number."""

from __future__ import annotations

import numpy as np
import pytest

from graph.assumptions import Assumption, default_assumptions, read_assumptions
from graph.errors import ContagionInputError
from graph.projection import project, ras_complete
from graph.store.base import EntityRecord, GraphDump, RelationRecord
from tests.test_graph._scenario import ftx_dump


def test_projection_builds_every_channel() -> None:
    p = project(ftx_dump())
    net = p.network
    assert net.ids == ("alameda", "blockfi", "ftx", "genesis")
    assert net.asset_ids == ("ftt",)
    assert net.issuers == {"ftt": "ftx"}
    idx = net.index()
    # the deposit: blockfi is a creditor of ftx; the most recent statement wins
    assert net.exposures[idx["blockfi"], idx["ftx"]] == pytest.approx(0.4e9, abs=1)
    fig = p.figure("blockfi->ftx", "deposit")
    assert fig.provenance == "extracted"
    assert fig.alternatives == ((0.2e9, ("r-dep-old",)),)
    assert p.channels.exposure_kinds[("blockfi", "ftx")] == "deposit"
    # the LENT_TO secured by the pledge becomes a collateralised loan, not an exposure
    assert net.exposures[idx["genesis"], idx["alameda"]] == 0
    (loan,) = net.loans
    assert (loan.lender, loan.borrower, loan.asset) == ("genesis", "alameda", "ftt")
    assert loan.amount == pytest.approx(1.5e9, abs=1)
    assert loan.quantity == pytest.approx(2.5e9, abs=1)
    assert set(loan.relation_ids) == {"r-pledge", "r-lent"}
    assert net.holdings is not None
    assert net.holdings[idx["alameda"], 0] == pytest.approx(3.0e9, abs=1)
    (own,) = p.channels.ownership
    assert (own.owner, own.owned, own.fraction) == ("ftx", "alameda", 1.0)
    assert p.figure("ftx->alameda", "ownership").hedged


def test_projection_drops_negated_and_places_and_says_why() -> None:
    p = project(ftx_dump())
    reasons = dict(p.ignored)
    assert reasons["r-neg"] == "negated"
    assert "place" in reasons["r-place"]
    assert "bahamas" not in p.network.ids


def test_projection_never_shows_an_assumed_number_as_extracted() -> None:
    p = project(ftx_dump())
    assert p.figure("alameda", "equity").provenance == "extracted"
    ftx_equity = p.figure("ftx", "equity")
    assert ftx_equity.assumed and "exchange" in ftx_equity.rule
    idx = p.network.index()
    assert p.equity_assumed[idx["ftx"]] and not p.equity_assumed[idx["alameda"]]
    for f in p.figures:
        assert f.provenance in {"extracted", "assumed", "none"}
        if f.assumed:
            assert f.rule, f
        else:
            assert f.relation_ids or f.field == "equity", f


def test_projection_assumptions_override_defaults(tmp_path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text(
        "kind,target,field,value,rule\n"
        "entity,ftx,equity,7,analyst estimate\n"
        "entity_type,Lender,equity,3,\n",
        encoding="utf-8",
    )
    rows = read_assumptions(csv)
    p = project(ftx_dump(), rows)
    idx = p.network.index()
    assert p.network.equity[idx["ftx"]] == 7
    assert p.figure("ftx", "equity").rule == "analyst estimate"
    assert p.figure("ftx", "equity").assumed
    # stated equity beats a kind default
    assert p.network.equity[idx["genesis"]] == 0.5e9
    # the API takes rows too
    p2 = project(ftx_dump(), [Assumption("entity", "blockfi", "equity", 11.0, "api")])
    assert p2.network.equity[p2.network.index()["blockfi"]] == 11.0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("kind,target,field\nentity,x,equity\n", "missing column 'value'"),
        ("kind,target,field,value\nplanet,x,equity,1\n", "row 2, field 'kind'"),
        ("kind,target,field,value\nentity,x,equity,lots\n", "row 2, field 'value'"),
        ("kind,target,field,value\nentity,x,equity,-1\n", "row 2, field 'value'"),
    ],
)
def test_assumptions_bad_csv_names_row_and_field(tmp_path, body: str, needle: str) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(body, encoding="utf-8")
    with pytest.raises(ContagionInputError, match=needle) as err:
        read_assumptions(csv)
    assert "bad.csv" in str(err.value)


def test_default_assumptions_cover_every_organisation_kind() -> None:
    rows = {(a.kind, a.target, a.field) for a in default_assumptions()}
    assert ("entity_type", "*", "equity") in rows
    for kind in ("LENT_TO", "DEPOSITED_WITH", "HOLDS", "PLEDGED_COLLATERAL"):
        assert ("relation_type", kind, "amount") in rows


def _deposits_dump(total: float | None) -> GraphDump:
    ents = (
        EntityRecord("x", "X", "Exchange", deposits=total),
        EntityRecord("a", "A", "TradingFirm"),
        EntityRecord("b", "B", "TradingFirm"),
        EntityRecord("c", "C", "TradingFirm"),
    )
    rels = (
        RelationRecord("d1", "a", "DEPOSITED_WITH", "x", "doc", 0.9, amount=40.0),
        RelationRecord("d2", "b", "DEPOSITED_WITH", "x", "doc", 0.9),
        RelationRecord("d3", "c", "DEPOSITED_WITH", "x", "doc", 0.9),
    )
    return GraphDump(ents, rels)


def test_unknown_deposits_completed_by_max_entropy_from_the_stated_total() -> None:
    p = project(_deposits_dump(100.0))
    idx = p.network.index()
    col = p.network.exposures[:, [idx["x"]]].toarray().ravel()
    assert col[idx["b"]] == pytest.approx(30.0, abs=1e-9)
    assert col[idx["c"]] == pytest.approx(30.0, abs=1e-9)
    fig = p.figure("b->x", "deposit")
    assert fig.assumed and "RAS" in fig.rule and "100" in fig.rule
    assert p.figure("a->x", "deposit").provenance == "extracted"
    assert p.exposure_assumed.sum() == 2


def test_unknown_deposits_without_totals_take_the_kind_default() -> None:
    p = project(_deposits_dump(None))
    fig = p.figure("b->x", "deposit")
    assert fig.assumed and fig.value == 50_000_000
    assert "RAS" not in fig.rule


def test_ras_matches_both_margins() -> None:
    rows = np.array([0, 0, 1, 1])
    cols = np.array([0, 1, 0, 1])
    x = ras_complete(rows, cols, {0: 30.0, 1: 70.0}, {0: 60.0, 1: 40.0})
    assert np.bincount(rows, weights=x) == pytest.approx([30.0, 70.0], abs=1e-6)
    assert np.bincount(cols, weights=x) == pytest.approx([60.0, 40.0], abs=1e-6)
    # max entropy with these margins is the product form r_i c_j / total
    assert x == pytest.approx([18.0, 12.0, 42.0, 28.0], abs=1e-6)


def test_empty_graph_projects_to_an_empty_network() -> None:
    p = project(GraphDump())
    assert p.network.n == 0 and p.figures == ()


def test_a_person_gets_no_invented_balance_sheet() -> None:
    dump = GraphDump(
        entities=(
            EntityRecord("sbf", "Sam Bankman-Fried", "Person"),
            EntityRecord("ftx", "FTX", "Exchange"),
        ),
        relations=(RelationRecord("r1", "sbf", "LENT_TO", "ftx", "d1", 0.9, amount=1.0e9),),
    )
    p = project(dump)
    fig = p.figure("sbf", "equity")
    assert (fig.value, fig.provenance, fig.assumed) == (0.0, "none", False)
    assert "person" in fig.rule
    assert all(f.subject != "sbf" for f in p.assumed_figures())
    assert p.figure("sbf->ftx", "exposure").value == 1.0e9


@pytest.mark.parametrize(
    ("choice", "amount"),
    [("latest", 0.4e9), ("largest", 0.4e9), ("smallest", 0.2e9), ("median", 0.2e9)],
)
def test_conflicting_statements_are_kept_and_a_choice_picks_one(choice, amount) -> None:
    p = project(ftx_dump(), choice=choice)
    fig = p.figure("blockfi->ftx", "deposit")
    assert fig.value == pytest.approx(amount)
    assert len(fig.alternatives) == 1
    assert fig in p.conflicts()


def test_unknown_statement_choice_is_refused() -> None:
    with pytest.raises(ContagionInputError, match="statement choice"):
        project(ftx_dump(), choice="newest")


def test_stated_share_counts_value_and_numbers() -> None:
    share = project(ftx_dump()).stated_share()
    # alameda, genesis, blockfi state equity (1.8bn); ftx is assumed (1bn)
    assert share["equity"] == pytest.approx(1.8e9 / 2.8e9)
    assert share["equity_count"] == pytest.approx(3 / 4)
    assert 0.0 < share["exposure"] <= 1.0
    assert share["assumed"] == len(project(ftx_dump()).assumed_figures())
