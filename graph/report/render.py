"""Render a ``Report`` as Markdown, one self-contained HTML file, or PDF (WeasyPrint)."""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graph.errors import ReportError
from graph.report.build import LossEdge, Report

__all__ = [
    "FORMATS",
    "ROUND_CHART_TITLE",
    "money",
    "nice_ticks",
    "network_svg",
    "render",
    "render_html",
    "render_markdown",
    "report_filename",
    "round_chart_svg",
    "rounds_svg",
    "subject_name",
    "write_pdf",
    "write_report",
]

FORMATS = ("html", "md", "pdf")

CHANNEL_COLOURS: Mapping[str, str] = {
    "credit": "#b03a2e",
    "deposit": "#7d3c98",
    "price": "#2471a3",
    "issuer": "#138d75",
    "fire-sale": "#ca6f1e",
    "collateral": "#5d6d7e",
    "ownership": "#1b2631",
}


def money(x: float | None) -> str:
    """Format an amount compactly, as every page and table does (:func:`graph.numbers.money`).

    Examples
    --------
    >>> money(1_234_000_000), money(5_600_000), money(12.0), money(None)
    ('$1.23bn', '$5.6m', '$12', '—')
    >>> money(10_700e9)
    '$10.7tn'
    """
    from graph.numbers import money as fmt

    return fmt(x)


def _pct(x: float | None) -> str:
    from graph.numbers import percent

    return percent(x)


def _md_money(x: float | None) -> str:
    """Money for Markdown: the dollar sign escaped, so no renderer reads it as maths."""
    return money(x).replace("$", "\\$")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(top: float, count: int = 4, *, whole: bool = False) -> list[float]:
    """Return axis ticks from 0 in round steps (1, 2, 2.5 or 5 times a power of ten).

    The last tick is at or above ``top``; ``whole`` keeps steps whole numbers (counts).

    Examples
    --------
    >>> nice_ticks(2.06e9)
    [0.0, 1000000000.0, 2000000000.0, 3000000000.0]
    >>> nice_ticks(3, whole=True), nice_ticks(0)
    ([0.0, 1.0, 2.0, 3.0], [0.0, 1.0])
    """
    if not top > 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    n = math.ceil(top / step - 1e-9)
    return [float(round(k * step, 10)) for k in range(n + 1)]


ROUND_CHART_TITLE = "Cumulative equity lost (bars, US dollars) and defaults (line) by round"
"""What the round chart shows; the app and the report caption it alike."""


def round_chart_svg(
    points: Sequence[tuple[int, float, int]], *, width: int = 640, height: int = 260
) -> str:
    """Return the round chart as SVG: the same drawing in the app and in the report.

    ``points`` are ``(round, cumulative loss in dollars, defaults so far)``. Bars show the
    loss against the left axis (dollars), the line the defaults against the right axis
    (a count); both axes have ticks and gridlines, the x axis one label per round.
    """
    left, right, top, bottom = 72, 64, 16, 46
    w, h = width - left - right, height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(ROUND_CHART_TITLE)}" font-family="DejaVu Sans, Helvetica, sans-serif">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    loss_ticks = nice_ticks(max((p[1] for p in points), default=0.0))
    def_ticks = nice_ticks(max((p[2] for p in points), default=0), whole=True)
    loss_top, def_top = loss_ticks[-1], def_ticks[-1]
    for t in loss_ticks:
        y = top + h - h * t / loss_top
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#e5e8e8"/>'
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#333"/>'
            f'<text x="{left - 7}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_e(money(t))}</text>"
        )
    for t in def_ticks:
        y = top + h - h * t / def_top
        out.append(
            f'<line x1="{left + w}" y1="{y:.1f}" x2="{left + w + 4}" y2="{y:.1f}" '
            f'stroke="#922b21"/><text x="{left + w + 7}" y="{y + 4:.1f}" font-size="11" '
            f'fill="#922b21">{int(t)}</text>'
        )
    step = w / max(len(points), 1)
    line = []
    for k, (rnd, loss, defaults) in enumerate(points):
        x = left + k * step
        bh = h * loss / loss_top
        out.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + h - bh:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bh:.1f}" fill="#e59866">'
            f"<title>round {rnd}: {_e(money(loss))} lost, {defaults} defaults</title></rect>"
            f'<text x="{x + step / 2:.1f}" y="{top + h + 16}" font-size="11" '
            f'text-anchor="middle">{rnd}</text>'
        )
        cy = top + h - h * defaults / def_top
        line.append(f"{x + step / 2:.1f},{cy:.1f}")
        out.append(f'<circle cx="{x + step / 2:.1f}" cy="{cy:.1f}" r="3.5" fill="#922b21"/>')
    if line:
        out.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#922b21" stroke-width="2"/>'
        )
    out.append(
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#333"/>'
        f'<line x1="{left + w}" y1="{top}" x2="{left + w}" y2="{top + h}" stroke="#922b21"/>'
        f'<text x="{left + w / 2:.0f}" y="{height - 8}" font-size="11" text-anchor="middle">'
        "round</text>"
        f'<text x="14" y="{top + h / 2:.0f}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + h / 2:.0f})">equity lost (US$)</text>'
        f'<text x="{width - 12}" y="{top + h / 2:.0f}" font-size="11" text-anchor="middle" '
        f'fill="#922b21" transform="rotate(90 {width - 12} {top + h / 2:.0f})">'
        "defaults (firms)</text>"
    )
    out.append("</svg>")
    return "".join(out)


def rounds_svg(report: Report, *, width: int = 640, height: int = 260) -> str:
    """Return the report's round chart (:func:`round_chart_svg` of its series)."""
    points = [(p.round, p.total_loss, p.defaults) for p in report.series]
    return round_chart_svg(points, width=width, height=height)


def _layers(report: Report, edges: tuple[LossEdge, ...]) -> dict[str, int]:
    """Column of each drawn node: hops from the shocked nodes, else the round it was hit."""
    sc = report.scenario
    ordered = sorted(edges, key=lambda e: min(e.rounds))
    layer: dict[str, int] = {
        root: 0 for root in (*sc.defaults, *sc.shocks, *sc.prices)
        if any(root in (e.source, e.target) for e in ordered)
    }
    if not layer:
        layer[ordered[0].source] = 0
    changed = True
    while changed:
        changed = False
        for e in ordered:
            if e.source in layer and e.target not in layer:
                layer[e.target] = layer[e.source] + 1
                changed = True
    for e in ordered:  # not reached from a shocked node among the drawn edges
        layer.setdefault(e.target, min(e.rounds))
    for e in ordered:
        layer.setdefault(e.source, max(layer[e.target] - 1, 0))
    return layer


def network_svg(report: Report, *, width: int = 760, height: int = 420) -> str:
    """Return an SVG figure of the contagion paths, nodes placed by the round first hit."""
    import networkx as nx

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="contagion paths">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    edges = report.figure_edges or report.edges
    if not edges:
        out.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="14">'
            "no loss travelled along any edge</text></svg>"
        )
        return "".join(out)
    layer = _layers(report, edges)
    g: nx.DiGraph[str] = nx.DiGraph()
    for node, lay in layer.items():
        g.add_node(node, layer=lay)
    for e in edges:
        g.add_edge(e.source, e.target)
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical", scale=1.0)
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    pad = 60
    fullest = max(Counter(layer.values()).values())
    height = max(height, 2 * pad + 44 * (fullest - 1))
    out[0] = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" role="img" aria-label="contagion paths">')
    out[1] = f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>'

    def place(node: str) -> tuple[float, float]:
        x, y = (float(v) for v in pos[node])
        sx = (x - min(xs)) / ((max(xs) - min(xs)) or 1.0)
        sy = (y - min(ys)) / ((max(ys) - min(ys)) or 1.0)
        return pad + sx * (width - 2 * pad), pad + sy * (height - 2 * pad)

    max_loss = max(e.loss for e in edges) or 1.0
    for e in edges:
        (x1, y1), (x2, y2) = place(e.source), place(e.target)
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        x2, y2 = x2 - dx / d * 16, y2 - dy / d * 16
        sw = 1.0 + 4.0 * math.sqrt(max(e.loss, 0.0) / max_loss)
        colour = CHANNEL_COLOURS.get(e.channel, "#555")
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{sw:.1f}" marker-end="url(#arrow)" opacity="0.85">'
            f"<title>{_e(e.source_name)} → {_e(e.target_name)}: {_e(e.channel)}, "
            f"{_e(money(e.loss))}</title></line>"
        )
        out.append(
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" font-size="10" '
            f'fill="{colour}" text-anchor="middle">{_e(e.channel)}</text>'
        )
    for node in g.nodes:
        x, y = place(node)
        state = report.figure_nodes.get(node, "asset")
        if state == "asset":
            shape = (f'<rect x="{x - 11:.1f}" y="{y - 11:.1f}" width="22" height="22" '
                     'fill="#aed6f1" stroke="#1b4f72"/>')
        else:
            fill = {"defaulted": "#c0392b", "loss": "#f5b041"}.get(state, "#d5dbdb")
            shape = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="13" fill="{fill}" '
                     'stroke="#333"/>')
        label = report.names.get(node, node)
        out.append(shape)
        out.append(
            f'<text x="{x:.1f}" y="{y + 27:.1f}" font-size="11" text-anchor="middle">'
            f"{_e(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def subject_name(subject: str, names: Mapping[str, str]) -> str:
    """Name the subject of a figure: an entity, an edge ``a->b`` or a position ``a:b``.

    Examples
    --------
    >>> subject_name("ftx->alameda", {"ftx": "FTX", "alameda": "Alameda"})
    'FTX → Alameda'
    >>> subject_name("alameda:ftt", {"alameda": "Alameda"}), subject_name("x", {})
    ('Alameda / ftt', 'x')
    """
    for sep, shown in (("->", " → "), (":", " / ")):
        if sep in subject:
            a, b = subject.split(sep, 1)
            return f"{names.get(a, a)}{shown}{names.get(b, b)}"
    return names.get(subject, subject)


def _ids(ids: str | Iterable[str]) -> Any:
    """Relation ids for HTML: each kept whole on one line (never broken at its hyphen)."""
    from markupsafe import Markup

    items = [ids] if isinstance(ids, str) else list(ids)
    return Markup(", ").join(Markup('<span class="rid">{}</span>').format(i) for i in items)


def _env(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("graph.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = money if autoescape else _md_money
    env.filters["pct"] = _pct
    env.filters["md"] = _md_cell
    env.filters["ids"] = _ids if autoescape else (
        lambda ids: ids if isinstance(ids, str) else ", ".join(ids)
    )
    return env


_MD_INLINE = re.compile(r"[\\`*_\[\]|<~]|&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^(\s*\d{0,9})((?<=\d)[.)](?=\s|$)|(?<!\d)(?:[>#]|[-+](?=\s|$|-)))")


def _md_cell(text: object) -> str:
    r"""Make text literal in Markdown: one line, no table break, no markup, no raw HTML.

    Characters that Markdown would read as markup get a backslash (CommonMark's own
    escape), so the text reads the same rendered and raw: nothing becomes an HTML entity.

    Examples
    --------
    >>> print(_md_cell("A -> B | <b>*x*</b> AT&T &amp;"))
    A -> B \| \<b>\*x\*\</b> AT&T \&amp;
    >>> print(_md_cell("> not a quote"), _md_cell("1. not a list"))
    \> not a quote 1\. not a list
    """
    s = " ".join(str(text).splitlines())
    s = _MD_INLINE.sub(lambda m: "\\" + m.group(0), s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s)


def render_markdown(report: Report) -> str:
    """Return the report as Markdown (article text escaped, no raw HTML)."""
    text: str = _env(False).get_template("report.md.j2").render(
        r=report, colours=CHANNEL_COLOURS, subject=lambda s: subject_name(s, report.names))
    return text


def render_html(report: Report) -> str:
    """Return the report as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    from markupsafe import Markup

    text: str = _env(True).get_template("report.html.j2").render(
        r=report,
        colours=CHANNEL_COLOURS,
        subject=lambda s: subject_name(s, report.names),
        rounds_chart=Markup(rounds_svg(report)),  # built here; labels escaped
        rounds_caption=ROUND_CHART_TITLE,
        network_chart=Markup(network_svg(report)),
    )
    return text


def write_pdf(report: Report, out: str | Path) -> Path:
    """Write the report as PDF with WeasyPrint (the optional ``pdf`` extra).

    Raises
    ------
    ReportError
        WeasyPrint is not installed, or it failed to render.
    """
    try:
        import weasyprint
    except ImportError as err:
        raise ReportError(
            "PDF reports need WeasyPrint: install the pdf extra with "
            '.venv/bin/pip install -e ".[pdf]"'
        ) from err
    out = Path(out)
    try:
        weasyprint.HTML(string=render_html(report)).write_pdf(out)
    except Exception as err:  # WeasyPrint raises many kinds; report one line
        raise ReportError(f"could not write PDF {out}: {err}") from err
    return out


def render(report: Report, fmt: str) -> str:
    """Return the report as text in ``fmt`` (``html`` or ``md``)."""
    if fmt == "html":
        return render_html(report)
    if fmt in ("md", "markdown"):
        return render_markdown(report)
    raise ReportError(f"unknown report format '{fmt}'; available: {', '.join(FORMATS)}")


def report_filename(report: Report, fmt: str) -> str:
    """Return a file name made from the scenario, for a report written without a path.

    Examples
    --------
    >>> from graph.report.build import Scenario
    >>> class R:
    ...     scenario_text = Scenario(defaults=("ftx",)).describe({"ftx": "FTX"})
    >>> report_filename(R(), "html")
    'ftx-defaults.html'
    """
    stem = re.sub(r"[^a-z0-9]+", "-", report.scenario_text.casefold()).strip("-")[:80]
    return f"{stem.rstrip('-') or 'report'}.{fmt}"


def write_report(report: Report, fmt: str, out: str | Path | None = None) -> Path:
    """Write the report to ``out`` in ``fmt`` (``html``, ``md`` or ``pdf``).

    Without ``out`` the file is named after the scenario (:func:`report_filename`) in the
    current directory.
    """
    out = Path(out) if out is not None else Path(report_filename(report, fmt))
    if fmt == "pdf":
        return write_pdf(report, out)
    out.write_text(render(report, fmt), encoding="utf-8")
    return out
