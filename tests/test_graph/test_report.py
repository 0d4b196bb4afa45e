"""Reports: the Report model, Markdown, self-contained HTML, and a PDF that is not blank."""

from __future__ import annotations

import html as html_lib
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
from graph.report import (
    ReportLimits,
    Scenario,
    build_report,
    render,
    render_html,
    render_markdown,
    write_report,
)
from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord
from tests.test_graph._scenario import ftx_dump, ftx_facts

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
                    "Contagion paths", "Evidence for the edges that carried loss",
                    "Scenario and assumptions"):
        assert section in html
    assert "Alameda Research" in html and "assumed" in html and "extracted" in html


def test_markdown_report_escapes_html_and_table_pipes() -> None:
    md = render_markdown(_report(INJECTED, mc=True))
    assert "\\<script>" in md and "\\| to Alameda" in md
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


# --- issue 15: Markdown escaped as Markdown, and --out named after the scenario -------------
MARKUP = ('Genesis lent <script>alert("x")</script> | to Alameda -> FTX, AT&T &amp; '
          '*bold* _it_ `code` [Verify](http://127.0.0.1:1/x) <http://127.0.0.1:1/y>')


def test_issue15_markdown_has_no_html_entities_and_renders_the_text_literally() -> None:
    from markdown_it import MarkdownIt

    md = render_markdown(_report(MARKUP, mc=True))
    assert not re.search(r"&(gt|lt|amp|quot|#\d+);", md.replace("\\&amp;", "")), md
    assert "Alameda -> FTX" in md  # an arrow stays an arrow in the file
    assert "| FTX → Alameda Research | ownership |" in md  # figures name their edge
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in html
    quotes = [html_lib.unescape(re.sub(r"<[^>]+>", "", q).split("\n")[0])
              for q in re.findall(r"<blockquote>\s*<p>(.*?)</p>", html, re.S)
              if "Genesis lent" in q]
    assert quotes and all(q == MARKUP for q in quotes), quotes
    raw = [q for q in re.findall(r"<blockquote>\s*<p>(.*?)</p>", html, re.S) if "Genesis" in q]
    assert not any(re.search(r"<(a|em|strong|code)\b", q) for q in raw), raw


@pytest.mark.parametrize(("fmt", "name"), [("html", "ftx-defaults.html"),
                                            ("md", "ftx-defaults.md")])
def test_issue15_report_without_out_writes_a_file_named_after_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    fmt: str, name: str,
) -> None:
    from graph.cli import main
    from graph.store import open_store

    store = tmp_path / "store"
    with open_store(str(store)) as st:
        st.load(ftx_facts())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        main(["report", "FTX", "--format", fmt, "--store", str(store)])
    except SystemExit as done:
        assert done.code in (0, None), capsys.readouterr().err
    assert [p.name for p in work.iterdir()] == [name]
    assert "Alameda Research" in (work / name).read_text(encoding="utf-8")
    assert name in capsys.readouterr().err


# --- issue 11: every section capped, with a stated count of what was left out ---------------
def _wide_dump(n: int) -> GraphDump:
    """A hub that lenders lent to; each lender was lent to by a second-tier lender.

    Each hub loan is stated in two documents; second-tier equities are left unstated
    (assumed), and every fifth second-tier loan is negated (left out of the network).
    """
    ents = [EntityRecord("hub", "Hub Exchange", "Exchange", equity=1e9)]
    rels = []
    for i in range(n):
        ents.append(EntityRecord(f"l{i}", f"Lender {i}", "Lender", equity=1e8))
        ents.append(EntityRecord(f"m{i}", f"Fund {i}", "Lender"))
        for doc in ("d1", "d2"):
            rels.append(RelationRecord(f"r{i}-{doc}", f"l{i}", "LENT_TO", "hub", doc, 0.9,
                                       evidence=f"Lender {i} lent to the hub ({doc}).",
                                       amount=(i + 1) * 1e7))
        rels.append(RelationRecord(f"s{i}", f"m{i}", "LENT_TO", f"l{i}", "d1", 0.8,
                                   evidence=f"Fund {i} lent to Lender {i}.",
                                   amount=2e7 + i * 1e5, negated=i % 5 == 4))
    docs = (DocumentRecord("d1", "Wire one", "one.txt"),
            DocumentRecord("d2", "Wire two", "two.txt"))
    return GraphDump(tuple(ents), tuple(rels), docs)


def _wide(n: int, limits: ReportLimits | None = None):
    dump = _wide_dump(n)
    p = project(dump)
    res = combined(p.network, channels=p.channels, defaults=["hub"])
    return p, res, build_report(dump, p, res, Scenario(defaults=("hub",)), limits=limits)


def _edge_losses(res) -> list[float]:
    edges: dict[tuple[str, str, str], float] = {}
    for s in res.paths:
        key = (s.source, s.target, s.channel)
        edges[key] = edges.get(key, 0.0) + s.loss
    return sorted(edges.values(), reverse=True)


SMALL = ReportLimits(ranking=5, rounds=2, names_per_round=2, paths=7, figure_edges=4,
                     evidence_min=2, evidence_max=6, statements=1, rows=3)


def test_report_caps_each_section_and_counts_what_it_left_out() -> None:
    p, res, rep = _wide(30, SMALL)
    cut = rep.left_out
    hit = sorted((n.equity_loss for n in res.nodes if n.defaulted or n.equity_loss > 0),
                 reverse=True)
    assert [r.equity_loss for r in rep.ranking] == hit[:5]
    assert (cut["ranking"].shown, cut["ranking"].total) == (5, len(hit))
    assert rep.unaffected == len(res.nodes) - len(hit)

    steps = sorted((s.loss for s in res.paths), reverse=True)
    assert sorted((s["loss"] for s in rep.paths), reverse=True) == pytest.approx(steps[:7])
    assert (cut["paths"].shown, cut["paths"].total) == (7, len(res.paths))
    assert cut["paths"].loss_left_out == pytest.approx(sum(steps[7:]), rel=1e-9)

    edges = _edge_losses(res)
    assert sorted((e.loss for e in rep.edges), reverse=True) == pytest.approx(edges[:6])
    assert (cut["evidence"].shown, cut["evidence"].total) == (6, len(edges))
    assert [e.loss for e in rep.figure_edges] == pytest.approx(edges[:4])
    assert (cut["figure"].shown, cut["figure"].total) == (4, len(edges))
    hub_loans = [e for e in rep.edges if e.target.startswith("l")]
    assert hub_loans and all(len(e.evidence) == 1 and e.more_statements == 1 for e in hub_loans)

    assert len(res.rounds) == 3 and [pt.round for pt in rep.series] == [0, 2]
    assert (cut["rounds"].shown, cut["rounds"].total) == (2, 3)
    assert rep.series[-1].defaults == rep.headline["defaults"]
    assert rep.series[0].new_defaults == ("hub",) and rep.series[0].more_defaults == 0

    assumed = p.assumed_figures()
    assert len(rep.assumed_figures) == 3 and cut["assumed_figures"].total == len(assumed) > 3
    assert (cut["assumptions"].shown, cut["assumptions"].total) == (3, len(p.assumptions))
    assert len(rep.ignored) == 3 and cut["ignored"].total == len(p.ignored) == 6
    assert rep.headline["assumed_numbers"] == len(assumed)

    html, md = render_html(rep), render_markdown(rep)
    for section, c in cut.items():
        assert c.left_out > 0, section
        assert c.text.startswith(f"Showing {c.shown:,} of {c.total:,} "), c.text
        assert c.text in html, section
        assert c.text in md or section == "figure", section  # Markdown draws no figure
    assert "1 more statements of this edge not quoted" in html
    paths = html[html.index('aria-label="contagion paths"'):]
    assert paths[: paths.index("</svg>")].count("<line ") == 4  # four drawn edges


def test_rounds_cap_names_a_few_new_defaults_and_counts_the_rest() -> None:
    _, res, rep = _wide(30, ReportLimits(names_per_round=2))
    full = next(rnd for rnd in res.rounds if len(rnd.new_defaults) > 2)
    point = next(pt for pt in rep.series if pt.round == full.index)
    assert point.new_defaults == tuple(full.new_defaults[:2])
    assert point.more_defaults == len(full.new_defaults) - 2
    assert f"and {point.more_defaults} more" in render_html(rep)


def test_evidence_covers_the_edges_carrying_the_share_of_the_loss() -> None:
    limits = ReportLimits(evidence_share=0.9, evidence_min=1)
    _, res, rep = _wide(30, limits)
    edges = _edge_losses(res)
    total, carried, k = sum(edges), 0.0, 0
    while carried < 0.9 * total:
        carried += edges[k]
        k += 1
    assert 0 < k < len(edges)
    assert len(rep.edges) == k and rep.left_out["evidence"].left_out == len(edges) - k
    assert rep.left_out["evidence"].loss_left_out == pytest.approx(total - carried, rel=1e-9)


def test_default_caps_hold_on_a_graph_larger_than_them() -> None:
    _, res, rep = _wide(260)
    assert len(rep.ranking) == 200 < rep.left_out["ranking"].total
    assert len(rep.paths) == 200 < len(res.paths)
    assert len(rep.edges) <= 200 and len(rep.figure_edges) == 30
    md = render_markdown(rep)
    ranked = md.split("## Ranked losses and defaults")[1].split("## ")[0]
    assert len(re.findall(r"^\| \d+ \|", ranked, re.M)) == 200
    assert rep.left_out["ranking"].text in ranked


def test_report_that_leaves_nothing_out_says_nothing_about_it() -> None:
    rep = _report()
    assert all(c.left_out == 0 for c in rep.left_out.values())
    assert "Showing" not in render_html(rep) and "Showing" not in render_markdown(rep)


@pytest.mark.parametrize("bad", [{"paths": 0}, {"rounds": 1}, {"evidence_share": 0.0},
                                 {"evidence_share": 1.5}])
def test_report_limits_refuse_a_cap_that_leaves_a_section_empty(bad: dict) -> None:
    name = next(iter(bad))
    with pytest.raises(ReportError, match=f"report limit {name}"):
        ReportLimits(**bad)


def test_figure_draws_firms_outside_the_ranking_as_firms() -> None:
    from graph.report.render import network_svg

    _, res, rep = _wide(30, ReportLimits(ranking=1, figure_edges=8))
    outcome = {n.id: n for n in res.nodes}
    drawn = {end for e in rep.figure_edges for end in (e.source, e.target)}
    assert len(drawn) > 2 and drawn - {r.id for r in rep.ranking}
    assert rep.figure_nodes == {
        i: "defaulted" if outcome[i].defaulted else "loss" if outcome[i].equity_loss > 0
        else "unaffected" for i in drawn}
    svg = network_svg(rep)
    assert 'width="22"' not in svg  # no firm drawn as a token square
    assert svg.count("<circle") == len(drawn)
