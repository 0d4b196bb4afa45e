"""Word documents and PDFs written by the tests, read back through the readers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from extract.errors import ReaderError
from extract.pipeline import extract_files
from extract.readers import read_file


def _write_docx(path):
    import docx

    doc = docx.Document()
    doc.core_properties.title = "Quarry Capital exposure note"
    doc.core_properties.author = "Desk research"
    doc.add_heading("Who owes Quarry Capital", level=1)
    doc.add_paragraph("Bellwether Exchange borrowed $40 million from Quarry Capital in March.")
    doc.add_heading("Counterparties", level=2)
    table = doc.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("Lender", "Borrower", "Amount"), ("Tamsin Bank", "Pellam Research", "$5 million")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "Figures as of the March filing"
    doc.add_paragraph("Ostrava Exchange lent $3 million to Pellam Research.")
    doc.save(str(path))


def test_readers_docx_headings_paragraphs_tables(tmp_path):
    path = tmp_path / "note.docx"
    _write_docx(path)
    read = read_file(path)
    assert read.document.title == "Quarry Capital exposure note"
    assert read.author == "Desk research"
    assert read.text.splitlines() == [
        "# Who owes Quarry Capital",
        "Bellwether Exchange borrowed $40 million from Quarry Capital in March.",
        "## Counterparties",
        "Lender | Borrower | Amount",
        "Tamsin Bank | Pellam Research | $5 million",
        "Figures as of the March filing",  # a merged row is one cell, not three copies
        "",
        "Ostrava Exchange lent $3 million to Pellam Research.",
    ]


def test_readers_docx_is_extracted(tmp_path, nlp_rules):
    path = tmp_path / "note.docx"
    _write_docx(path)
    (result,) = extract_files([path], nlp=nlp_rules)
    assert result.facts is not None
    found = {(r.head, r.type.value, r.tail) for r in result.facts.relations}
    assert ("quarry-capital", "LENT_TO", "bellwether-exchange") in found
    assert ("ostrava-exchange", "LENT_TO", "pellam-research") in found


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable Word document"),
        ("old.doc", b"\xd0\xcf\x11\xe0 old word", "old binary Word file; save it as .docx"),
        ("sheet.xlsx", b"PK\x03\x04", "spreadsheet"),
    ],
)
def test_readers_word_problems_named(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReaderError, match=reason) as info:
        read_file(path)
    assert str(info.value).startswith(str(path))


HTML = Path(__file__).parents[1] / "data" / "html"
HTML_GOLD = json.loads((HTML / "gold.json").read_text(encoding="utf-8"))["pages"]


@pytest.mark.parametrize("page", sorted(HTML_GOLD))
def test_readers_html_page_main_text_and_metadata(page):
    want = HTML_GOLD[page]
    read = read_file(HTML / page)
    flat = " ".join(read.text.split())
    for paragraph in want["main"]:
        assert paragraph in flat
    leaked = [piece for piece in want["junk"] if piece in flat]
    assert len(leaked) <= 2, leaked
    got = (read.document.title, read.date, read.author, read.site)
    assert got == (want["title"], want["date"], want["author"], want["site"])


def test_readers_html_beats_the_hand_written_cleaner():
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from bench_readers import html_scores

    old, new = html_scores("hand-written"), html_scores("trafilatura")
    assert new["paragraphs kept"] == old["paragraphs kept"] == "17/17"
    assert int(new["furniture let through"].split("/")[0]) < 5
    assert int(old["furniture let through"].split("/")[0]) > 20
    assert new["metadata right"] == "20/20"
