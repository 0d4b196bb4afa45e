"""Reports that print: rows kept whole, ids unbroken, page furniture, chart axes.

The layout is checked on WeasyPrint's own boxes (the PDF's rows and lines), and the PDF
of the sample scenario page by page as PNG.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from graph.report import write_report
from graph.report.render import ROUND_CHART_TITLE, nice_ticks, render_html, rounds_svg
from tests.test_graph.test_report import INJECTED, _report

ROOT = Path(__file__).resolve().parents[2]
RID = re.compile(r'(?<=<span class="rid">)[^<]+(?=</span>)')


def _boxes(box):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def _layout(html: str):
    import weasyprint

    return weasyprint.HTML(string=html).render()


def _body_rows(box, in_head: bool = False):
    """Table rows of the body (a header row is repeated on every page by design)."""
    tag = getattr(box, "element_tag", None)
    in_head = in_head or tag == "thead"
    if tag == "tr" and not in_head:
        yield box
    for child in getattr(box, "children", None) or []:
        yield from _body_rows(child, in_head)


def _rows_on_pages(document) -> dict[int, set[int]]:
    pages: dict[int, set[int]] = {}
    for number, page in enumerate(document.pages, 1):
        for box in _body_rows(page._page_box):
            pages.setdefault(id(box.element), set()).add(number)
    return pages


def _ids_past_the_margin(document) -> list[tuple[int, float]]:
    """Relation ids (kept on one line) that run past the right edge of the page's content."""
    out = []
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = box.position_x + box.margin_left + box.width
        for child in _boxes(box):
            if getattr(child, "element_tag", None) == "span" and (
                child.element.get("class") == "rid"
            ):
                past = child.position_x + child.margin_width() - right
                if past > 0.5:
                    out.append((number, round(past, 1)))
    return out


def _pdf_pages(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(str(pdf)).pages]


def test_print_rows_never_split_and_ids_never_break() -> None:
    report = _report(INJECTED, mc=True)
    html = render_html(report)
    document = _layout(html)
    assert len(document.pages) >= 3
    rows = _rows_on_pages(document)
    assert len(rows) > 20
    split = [pages for pages in rows.values() if len(pages) > 1]
    assert split == []
    assert _ids_past_the_margin(document) == []
    # every relation id is one unbreakable run of text: a box with one line
    for page in document.pages:
        for box in _boxes(page._page_box):
            if getattr(box, "element_tag", None) == "span" and box.element.get("class") == "rid":
                assert "\n" not in (getattr(box, "text", "") or "")
    ids = set(RID.findall(html))
    assert len(ids) > 5
    for rid in ids:  # every id in the page is wrapped whole
        alone = re.findall(rf"(?<![\w-]){re.escape(rid)}(?![\w-])", html)
        assert len(alone) == html.count(f'<span class="rid">{rid}</span>'), rid


def test_print_pages_carry_title_scenario_date_and_numbers(tmp_path: Path) -> None:
    report = _report(INJECTED)
    pdf = write_report(report, "pdf", tmp_path / "r.pdf")
    pages = _pdf_pages(pdf)
    for number, text in enumerate(pages, 1):
        assert f"page {number} of {len(pages)}" in text
        assert report.title in text
        assert report.scenario_text in text
        assert f"generated {report.created}" in text
    ids = set(RID.findall(render_html(report)))
    flat = "".join(pages)
    assert ids and all(rid in flat for rid in ids)  # never cut at the hyphen


def test_round_chart_has_axes_ticks_and_units() -> None:
    svg = rounds_svg(_report())
    top = max(p.total_loss for p in _report().series)
    ticks = nice_ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) >= 3
    from graph.report.render import money

    for t in ticks:
        assert f">{money(t)}</text>" in svg
    assert "equity lost (US$)" in svg and "defaults (firms)" in svg and ">round</text>" in svg
    assert ROUND_CHART_TITLE in render_html(_report())


def test_app_draws_the_report_round_chart() -> None:
    simulate = (ROOT / "pages" / "simulate.py").read_text(encoding="utf-8")
    assert "round_chart_svg(" in simulate and "plotly_chart" not in simulate


@pytest.mark.slow
def test_sample_scenario_pdf_page_by_page(tmp_path: Path) -> None:
    from PIL import Image

    from graph.cli import main
    from graph.sample import load_sample_corpus
    from graph.store import open_store

    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed (scripts/install-system-packages)")
    store = tmp_path / "store"
    with open_store(str(store)) as opened:
        load_sample_corpus(opened)
    pdf = tmp_path / "ftx.pdf"
    try:
        main(["report", "FTX", "--store", str(store), "--format", "pdf", "--out", str(pdf)])
    except SystemExit as done:
        assert done.code in (0, None)
    pages = _pdf_pages(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")],
                   check=True)
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == len(pages) > 3
    for number, image in enumerate(images, 1):
        grey = Image.open(image).convert("L")
        width, height = grey.size
        body = grey.crop((0, height // 10, width, height * 9 // 10))
        assert sum(body.histogram()[:200]) > 300, f"page {number} is blank"
        footer = grey.crop((0, height * 93 // 100, width, height))
        assert sum(footer.histogram()[:200]) > 10, f"page {number} has no footer"
        assert f"page {number} of {len(pages)}" in pages[number - 1]
    from graph.report import build_report  # noqa: F401  (the same path the CLI took)

    html = tmp_path / "ftx.html"
    try:
        main(["report", "FTX", "--store", str(store), "--format", "html", "--out", str(html)])
    except SystemExit as done:
        assert done.code in (0, None)
    document = _layout(html.read_text(encoding="utf-8"))
    rows = _rows_on_pages(document)
    assert rows and all(len(p) == 1 for p in rows.values())
    assert _ids_past_the_margin(document) == []
