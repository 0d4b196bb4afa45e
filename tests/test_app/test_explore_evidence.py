"""Explore's evidence under AppTest: every relation paged, titles that say denied and hedged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from extract.model import Facts
from pages._shared import SELECTED_KEY, STORE_KEY

ROOT = Path(__file__).resolve().parents[2]
FIRMS = 30


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    from graph.store import open_store

    ents = [
        {"id": "hub", "name": "Hub Exchange", "type": "Exchange"},
        {"id": "bidder", "name": "Bidder", "type": "Exchange"},
    ]
    ents += [{"id": f"f{i}", "name": f"Firm {i}", "type": "Company"} for i in range(FIRMS)]
    rels: list[dict[str, Any]] = [
        {
            "head": "hub",
            "type": "LENT_TO",
            "tail": f"f{i}",
            "confidence": 0.8,
            "amount": 85e9 if i == 0 else None,
            "evidence": [{"text": f"Hub lent to Firm {i}.", "start": 40 * i, "end": 40 * i + 20}],
        }
        for i in range(FIRMS)
    ]
    rels.append(
        {
            "head": "bidder",
            "type": "ACQUIRED",
            "tail": "hub",
            "confidence": 0.6,
            "negated": True,
            "hedged": True,
            "date": "2022-11-09",
            "evidence": [{"text": "Bidder may not buy Hub.", "start": 2000, "end": 2023}],
        }
    )
    facts = Facts.from_dict({"document": {"id": "d1", "source": "wire.txt", "title": "The wire"},
                             "entities": ents, "relations": rels})  # fmt: skip
    with open_store(":memory:") as st:
        st.load([facts])
        yield st


def _titles(at: AppTest) -> list[str]:
    return [str(e.label) for e in at.expander]


def test_every_relation_is_reachable_page_by_page(store: Any) -> None:
    at = AppTest.from_file(str(ROOT / "pages/explore.py"), default_timeout=60)
    at.session_state[STORE_KEY] = store
    at.session_state[SELECTED_KEY] = "hub"
    at.run()
    assert not at.exception, at.exception
    first = _titles(at)
    assert len(first) == 25
    assert any("relations 1–25 of 31 (page 1 of 2)" in str(c.value) for c in at.caption)
    at.number_input(key="explore_page_hub").set_value(2).run()
    second = _titles(at)
    assert len(second) == 6 and not set(first) & set(second)
    assert "not\\: Bidder ACQUIRED Hub Exchange · hedged · 9 Nov 2022" in first + second
    assert "Hub Exchange LENT\\_TO Firm 0 · \\$85.0bn" in first + second
    table = at.dataframe[0].value
    assert set(table["document"]) == {"The wire"}
    assert "denied" in set(table["negated"]) and "$85.0bn" in set(table["amount"])
