"""Curation records in both real stores: each action, its survival of a re-load, its undo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extract.model import Facts
from graph.curation import CurationError, apply_curation, curate, list_records, undo
from graph.store import GraphStore, open_store
from graph.store.shared import SharedStore


def facts(doc: str, entities: list[dict[str, Any]], relations: list[dict[str, Any]]) -> Facts:
    return Facts.from_dict(
        {
            "document": {"id": doc, "source": f"{doc}.txt", "title": f"Title {doc}"},
            "entities": entities,
            "relations": relations,
        }
    )


def rel(head: str, kind: str, tail: str, text: str, start: int, **extra: Any) -> dict[str, Any]:
    return {
        "head": head, "type": kind, "tail": tail, "confidence": 0.8,
        "evidence": [{"text": text, "start": start, "end": start + len(text)}], **extra,
    }  # fmt: skip


AMB = {"id": "amberlode-lending", "name": "Amberlode Lending", "type": "Lender"}
AMB_LLC = {"id": "amberlode-lending-llc", "name": "Amberlode Lending LLC", "type": "Lender",
           "aliases": ["Amberlode"]}  # fmt: skip
QUILL = {"id": "quillfeather", "name": "Quillfeather", "type": "TradingFirm",
         "aliases": ["Quill Desk"]}  # fmt: skip
BRWD = {"id": "brwd", "name": "BRWD", "type": "Token"}

DOC1 = facts(
    "d1",
    [AMB, QUILL, BRWD],
    [
        rel(
            "amberlode-lending",
            "LENT_TO",
            "quillfeather",
            "Amberlode lent Quillfeather $40m.",
            0,
            amount=4e7,
            currency="USD",
        ),
        rel("quillfeather", "PLEDGED_COLLATERAL", "brwd", "Quillfeather pledged BRWD.", 40),
    ],
)
DOC2 = facts(
    "d2",
    [AMB_LLC, QUILL],
    [
        rel(
            "quillfeather",
            "LENT_TO",
            "amberlode-lending-llc",
            "Quillfeather borrowed from Amberlode Lending LLC.",
            0,
            date="2022-11-08",
        ),
        rel(
            "quillfeather",
            "HOLDS",
            "amberlode-lending-llc",
            "Quill Desk holds Amberlode paper.",
            60,
        ),
    ],
)


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    url = ":memory:" if request.param == "embedded" else request.getfixturevalue("neo4j_url")
    with open_store(url) as opened:
        if request.param == "neo4j":
            opened.cypher("MATCH (n) DETACH DELETE n", write=True)
        opened.load([DOC1, DOC2])
        yield opened


def shapes(store: GraphStore) -> set[tuple[str, str, str]]:
    return {(r.head, r.type, r.tail) for r in store.relations()}


def rid(store: GraphStore, head: str, kind: str, tail: str) -> str:
    [found] = [r.id for r in store.relations() if (r.head, r.type, r.tail) == (head, kind, tail)]
    return found


def test_merge_moves_relations_keeps_names_and_survives_reload(store: GraphStore) -> None:
    rec = curate(
        store,
        "merge",
        "amberlode-lending-llc",
        keep="amberlode-lending",
        why="same lender",
        who="ana",
    )
    after = shapes(store)
    assert store.entity("amberlode-lending-llc") is None
    assert ("quillfeather", "LENT_TO", "amberlode-lending") in after
    kept = store.entity("amberlode-lending")
    assert kept is not None
    assert {"Amberlode Lending LLC", "Amberlode"} <= set(kept.aliases)
    store.load([DOC1, DOC2])  # re-ingest: the raw entity and statements come back ...
    assert store.entity("amberlode-lending-llc") is None  # ... and the merge holds
    assert shapes(store) == after
    assert len(store.relations()) == 4  # no copy left beside the curated statement
    [listed] = list_records(store)
    assert (listed.id, listed.who, listed.why, listed.action) == (
        rec.id,
        "ana",
        "same lender",
        "merge",
    )
    assert listed.at.endswith("+00:00")


def test_undo_merge_restores_both_entities(store: GraphStore) -> None:
    before = shapes(store)
    rec = curate(store, "merge", "amberlode-lending-llc", keep="amberlode-lending")
    undo(store, rec.id)
    assert shapes(store) == before
    restored = store.entity("amberlode-lending-llc")
    assert restored is not None and restored.name == "Amberlode Lending LLC"
    kept = store.entity("amberlode-lending")
    assert kept is not None and "Amberlode Lending LLC" not in kept.aliases
    store.load([DOC2])
    assert shapes(store) == before  # an undone record is not applied on load
    assert list_records(store)[0].undone
    assert list_records(store, include_undone=False) == []
    with pytest.raises(CurationError, match="already undone"):
        undo(store, rec.id)


def test_relation_actions_survive_reload_and_undo(store: GraphStore) -> None:
    lent = rid(store, "amberlode-lending", "LENT_TO", "quillfeather")
    pledged = rid(store, "quillfeather", "PLEDGED_COLLATERAL", "brwd")
    borrowed = rid(store, "quillfeather", "LENT_TO", "amberlode-lending-llc")
    held = rid(store, "quillfeather", "HOLDS", "amberlode-lending-llc")
    original = shapes(store)
    r1 = curate(store, "reverse", borrowed, why="borrowed from: the lender is the head")
    r2 = curate(store, "retype", held, type="EXPOSED_TO")
    r3 = curate(store, "reject", pledged, why="hedged rumour")
    r4 = curate(store, "edit", lent, field="amount", value=45e6)
    r5 = curate(store, "edit", lent, field="date", value="2022-11-09")
    expected = {
        ("amberlode-lending", "LENT_TO", "quillfeather"),
        ("amberlode-lending-llc", "LENT_TO", "quillfeather"),
        ("quillfeather", "EXPOSED_TO", "amberlode-lending-llc"),
    }
    assert shapes(store) == expected
    store.load([DOC1, DOC2])
    assert shapes(store) == expected
    [edited] = [r for r in store.relations() if r.id == lent]
    assert (edited.amount, edited.date, edited.evidence) == (
        45e6,
        "2022-11-09",
        "Amberlode lent Quillfeather $40m.",
    )
    for rec in (r5, r4, r3, r2, r1):
        undo(store, rec.id)
    assert shapes(store) == original
    [edited] = [r for r in store.relations() if r.id == lent]
    assert (edited.amount, edited.date) == (4e7, None)


def test_entity_actions_survive_reload_and_undo(store: GraphStore) -> None:
    held = rid(store, "quillfeather", "HOLDS", "amberlode-lending-llc")
    r1 = curate(
        store, "split", "quillfeather", alias="Quill Desk", kind="TradingFirm", relations=[held]
    )
    r2 = curate(store, "rename", "amberlode-lending", name="Amberlode Lending Ltd")
    r3 = curate(store, "kind", "brwd", type="Stablecoin")
    store.load([DOC1, DOC2])
    quill = store.entity("quillfeather")
    desk = store.entity("quill-desk")
    assert quill is not None and "Quill Desk" not in quill.aliases
    assert desk is not None and (desk.name, desk.type) == ("Quill Desk", "TradingFirm")
    assert ("quill-desk", "HOLDS", "amberlode-lending-llc") in shapes(store)
    amb = store.entity("amberlode-lending")
    assert amb is not None and amb.name == "Amberlode Lending Ltd"
    assert "Amberlode Lending" in amb.aliases
    brwd = store.entity("brwd")
    assert brwd is not None and brwd.type == "Stablecoin"
    for rec in (r3, r2, r1):
        undo(store, rec.id)
    assert store.entity("quill-desk") is None
    quill = store.entity("quillfeather")
    assert quill is not None and "Quill Desk" in quill.aliases
    amb = store.entity("amberlode-lending")
    assert amb is not None and (amb.name, amb.aliases) == ("Amberlode Lending", ())
    brwd = store.entity("brwd")
    assert brwd is not None and brwd.type == "Token"


def test_bad_actions_name_what_is_wrong(store: GraphStore) -> None:
    with pytest.raises(CurationError, match="no entity with id 'nobody'"):
        curate(store, "merge", "nobody", keep="brwd")
    with pytest.raises(CurationError, match="into itself"):
        curate(store, "merge", "brwd", keep="brwd")
    with pytest.raises(CurationError, match="no relation with id 'r-x'"):
        curate(store, "reject", "r-x")
    lent = rid(store, "amberlode-lending", "LENT_TO", "quillfeather")
    with pytest.raises(CurationError, match="cannot edit 'confidence'"):
        curate(store, "edit", lent, field="confidence", value=1)
    with pytest.raises(CurationError, match="not a non-negative"):
        curate(store, "edit", lent, field="amount", value=-3)
    with pytest.raises(CurationError, match="unknown kind 'Bankish'"):
        curate(store, "kind", "brwd", type="Bankish")
    with pytest.raises(CurationError, match="not an alias"):
        curate(store, "split", "brwd", alias="Quill Desk")
    assert list_records(store) == []
    assert apply_curation(store) == 0


def test_records_persist_on_disk_through_the_shared_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with open_store(str(path)) as first:
        first.load([DOC1, DOC2])
    shared = SharedStore(path)
    rec = curate(shared, "merge", "amberlode-lending-llc", keep="amberlode-lending")
    shared.load([DOC2])
    with open_store(str(path)) as again:
        assert again.entity("amberlode-lending-llc") is None
        assert [r.id for r in list_records(again)] == [rec.id]
        again.load([DOC1, DOC2])
        assert again.entity("amberlode-lending-llc") is None
