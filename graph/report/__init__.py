"""Scenario reports: the ``Report`` model and its Markdown, HTML and PDF renderings."""

from __future__ import annotations

from graph.report.build import Report, Scenario, build_report, report_for
from graph.report.limits import LeftOut, ReportLimits
from graph.report.render import (
    render,
    render_html,
    render_markdown,
    report_filename,
    write_pdf,
    write_report,
)

__all__ = [
    "LeftOut",
    "Report",
    "ReportLimits",
    "Scenario",
    "build_report",
    "render",
    "render_html",
    "render_markdown",
    "report_filename",
    "report_for",
    "write_pdf",
    "write_report",
]
