"""Reports: the Report model, Markdown, self-contained HTML, and a PDF that is not blank."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from graph.contagion.combined import combined
from graph.contagion.montecarlo import monte_carlo
from graph.errors import ReportError
from graph.projection import project
from graph.report import Scenario, build_report, render, render_html, render_markdown, write_report
from tests.test_graph._scenario import ftx_dump

INJECTED = 'Genesis lent <script>alert("x")</script> | to Alameda'


def _report(evidence: str | None = None, mc: bool = False):
    dump = ftx_dump(evidence=evidence)
    p = project(dump)
    res = combined(p.network, channels=p.channels, defaults=["ftx"])
    summary = (monte_carlo(p.network, channels=p.channels, uncertainty=p.uncertainty(),
                           defaults=["ftx"], scenarios=20, seed=1) if mc else None)
    return build_report(dump, p, res, Scenario(defaults=("ftx",)), monte_carlo=summary)


def test_report_model_holds_scenario_headline_ranking_series_and_evidence() -> None:
    rep = _report()
    assert rep.scenario_text == "FTX defaults"
    assert rep.headline["defaults"] == 3 and rep.headline["induced_defaults"] == 2
    assert rep.ranking[0].defaulted and rep.ranking[-1].equity_loss <= rep.ranking[0].equity_loss
    assert [p.round for p in rep.series] == [0, 1, 2]
    assert rep.series[-1].defaults == 3
    assert rep.series[-1].total_loss == pytest.approx(rep.headline["total_loss"], rel=1e-9)
    # every edge that carried loss and names a relation has that relation's sentence
    for edge in rep.edges:
        assert {ev.relation_id for ev in edge.evidence} == set(edge.relation_ids)
    lent = next(e for e in rep.edges if e.channel == "collateral")
    assert any("1.5 billion" in ev.text for ev in lent.evidence)
    assert any(ev.document_title == "A feature on the collapse" for ev in lent.evidence)
    # every assumption in force and every assumed number is listed
    assert any(a["field"] == "equity" and a["target"] == "Exchange" for a in rep.assumptions)
    assert any(f.subject == "ftx" and f.field == "equity" for f in rep.assumed_figures)


def test_html_is_one_self_contained_file_that_escapes_article_text() -> None:
    html = render_html(_report(INJECTED))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html and "@import" not in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("<svg") == 2  # the round chart and the network figure
    for section in ("Headline", "Ranked losses and defaults", "Losses and defaults per round",
                    "Contagion paths", "Evidence for every edge", "Scenario and assumptions"):
        assert section in html
    assert "Alameda Research" in html and "assumed" in html and "extracted" in html


def test_markdown_report_escapes_html_and_table_pipes() -> None:
    md = render_markdown(_report(INJECTED, mc=True))
    assert "<script" not in md
    assert "&lt;script&gt;" in md and "\\| to Alameda" in md
    assert md.startswith("# What if: FTX defaults")
    assert "| 1 | Alameda Research |" in md or "| 1 | FTX |" in md
    assert "Monte Carlo scenarios (seed 1)" in md
    assert "P(default)" in md


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        render(_report(), "docx")


def test_report_with_no_shock_says_nothing_travelled() -> None:
    dump = ftx_dump()
    p = project(dump)
    rep = build_report(dump, p, combined(p.network, channels=p.channels), Scenario())
    assert rep.edges == () and rep.headline["defaults"] == 0
    assert "No loss travelled along any edge" in render_html(rep)


def test_pdf_renders_to_a_page_that_is_not_blank(tmp_path: Path) -> None:
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing; scripts/install-system-packages installs it")
        pytest.skip("poppler-utils not installed")

    pdf = write_report(_report(INJECTED), "pdf", tmp_path / "r.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(pdf),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2
    for page in pages:
        img = Image.open(page).convert("L")
        dark = sum(img.histogram()[:200])  # pixels darker than light grey
        assert dark > 500, f"{page.name} is blank"
