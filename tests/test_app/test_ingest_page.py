"""The Ingest page names uploads by their own names and checks reviewed facts before loading."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pages._shared import STORE_KEY
from tests.fixtures.documents import BROKEN_PDF, pdf_bytes

ROOT = Path(__file__).resolve().parents[2]


def _page(store: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "ingest.py"), default_timeout=120)
    at.session_state[STORE_KEY] = store
    return at


def test_errors_and_warnings_name_the_upload_not_a_server_path() -> None:
    from graph.store import open_store

    with open_store(":memory:") as store:
        at = _page(store).run()
        at.file_uploader(key="ingest_files").set_value([
            ("broken.pdf", BROKEN_PDF, "application/pdf"),
            ("repaired.pdf", pdf_bytes("Harbor Bank lent 9 million dollars to Quarry Capital.",
                                       wrong_xref=True), "application/pdf"),
        ])
        next(b for b in at.button if b.label == "Extract").click().run()
        assert not at.exception, at.exception
        # the page escapes Markdown: compare the text as it shows
        shown = [str(m.value).replace("\\", "") for m in [*at.error, *at.warning]]
        assert any(m.startswith("Could not read broken.pdf: not a readable PDF") for m in shown)
        assert any(m.startswith("repaired.pdf: PDF: incorrect startxref") for m in shown), shown
        for message in shown:
            assert "fallout-ingest-" not in message and "/tmp" not in message, message


def test_reviewed_facts_that_break_the_rules_are_refused_by_field() -> None:
    from graph.store import open_store

    with open_store(":memory:") as store:
        at = _page(store).run()
        at.text_area(key="ingest_text").input(
            "FTX lent $4 billion to Alameda Research, the trading firm, in 2022."
        )
        next(b for b in at.button if b.label == "Extract").click().run()
        assert not at.exception, at.exception
        # the reviewer types a negative amount and points the loan back at its lender
        at.session_state["ingest_rels_0"] = {
            "edited_rows": {0: {"amount": -5e8, "tail": "ftx"}},
            "added_rows": [], "deleted_rows": [],
        }
        next(b for b in at.button if b.label.startswith("Load accepted")).click().run()
        assert not at.exception, at.exception
        [error] = [str(e.value).replace("\\", "") for e in at.error]
        assert "Nothing was loaded" in error
        assert "pasted.txt: document" in error
        assert "field 'amount': negative amount -500000000.0" in error
        assert "field 'tail': 'ftx' is the head too" in error
        assert not at.success
        assert store.counts()["documents"] == 0
