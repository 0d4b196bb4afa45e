"""Scenario reports: the ``Report`` model and its Markdown, HTML and PDF renderings."""

from __future__ import annotations

from graph.report.build import Report, Scenario, build_report, report_for
from graph.report.render import render, render_html, render_markdown, write_pdf, write_report

__all__ = [
    "Report",
    "Scenario",
    "build_report",
    "render",
    "render_html",
    "render_markdown",
    "report_for",
    "write_pdf",
    "write_report",
]
