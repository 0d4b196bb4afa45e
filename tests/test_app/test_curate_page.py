"""The Curate page under AppTest, against a real in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from extract.model import Facts
from graph.curation import list_records
from pages._shared import STORE_KEY

ROOT = Path(__file__).resolve().parents[2]


def _facts() -> list[Facts]:
    def rel(h: str, t: str, text: str, **extra: object) -> dict[str, object]:
        return {"head": h, "type": "LENT_TO", "tail": t, "confidence": 0.9,
                "evidence": [{"text": text, "start": 0, "end": len(text)}], **extra}  # fmt: skip

    return [
        Facts.from_dict({
            "document": {"id": "d1", "source": "a.txt", "title": "A"},
            "entities": [{"id": "amb", "name": "Amberlode Lending", "type": "Lender"},
                         {"id": "quill", "name": "Quillfeather", "type": "TradingFirm"}],
            "relations": [rel("amb", "quill", "Amberlode lent to Quillfeather.", amount=4e7)],
        }),
        Facts.from_dict({
            "document": {"id": "d2", "source": "b.txt", "title": "B"},
            "entities": [{"id": "amb-llc", "name": "Amberlode Lending LLC", "type": "Lender"},
                         {"id": "quill", "name": "Quillfeather", "type": "TradingFirm"}],
            "relations": [rel("quill", "amb-llc", "Quillfeather lent to Amberlode Lending LLC.")],
        }),
    ]  # fmt: skip


@pytest.fixture
def store() -> Iterator[Any]:
    from graph.store import open_store

    with open_store(":memory:") as st:
        st.load(_facts())
        yield st


def _app(store: Any) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/curate.py"), default_timeout=60)
    at.session_state[STORE_KEY] = store
    return at.run()


def test_merge_a_suggested_pair_and_undo_it(store: Any) -> None:
    at = _app(store)
    assert not at.exception, at.exception
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "**Amberlode Lending** ~ **Amberlode Lending LLC**" in text
    at.text_input(key="curate_why").input("same lender").run()
    at.button(key="dup_merge_amb__amb-llc").click().run()
    assert not at.exception, at.exception
    assert store.entity("amb") is None  # the fuller name stays
    [rec] = list_records(store)
    assert (rec.action, rec.why) == ("merge", "same lender")
    assert any("Recorded" in str(s.value) for s in at.success)
    at.button(key="cur_undo").click().run()
    assert store.entity("amb") is not None
    assert list_records(store)[0].undone


def test_reject_a_relation_from_the_relations_tab(store: Any) -> None:
    at = _app(store)
    at.text_input(key="cur_rel_text").input("Quill").run()
    rid = at.selectbox(key="cur_rel_id").value
    at.button(key="cur_reject").click().run()
    assert not at.exception, at.exception
    assert rid not in {r.id for r in store.relations()}
    assert list_records(store)[0].action == "reject"
