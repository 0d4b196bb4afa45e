"""Reports: preview the report of the current scenario and download it as HTML, PDF, Markdown."""

from __future__ import annotations

import streamlit as st

from graph.errors import GraphError
from pages._shared import (
    ASSUMPTIONS_KEY,
    current_store,
    get_scenario,
    init_state,
    md_escape,
    store_key,
)
from pages._simulation import cached_report

init_state()
store = current_store()
scenario = get_scenario()

st.title("Reports")
if scenario.empty:
    st.info("No scenario yet: choose a shock on the Simulate page (or open a link that "
            "carries one), then come back here.")
    st.stop()

st.markdown(f"**Scenario:** {md_escape(scenario.describe())}")
edited = st.session_state[ASSUMPTIONS_KEY]
try:
    with st.spinner("Writing the report…"):
        report = cached_report(store, store_key(store), repr(scenario), scenario,
                               tuple(tuple(sorted(r.items())) for r in edited or ()))
except GraphError as err:
    st.error(f"Cannot write the report: {md_escape(str(err))}")
    st.stop()
slug = "fallout-report-" + "-".join([*scenario.defaults, *scenario.prices])[:60]
c1, c2, c3 = st.columns(3)
c1.download_button("Download HTML", report.html.encode("utf-8"), file_name=f"{slug}.html",
                   mime="text/html", type="primary", key="report_html")
c2.download_button("Download PDF", report.pdf, file_name=f"{slug}.pdf",
                   mime="application/pdf", key="report_pdf")
c3.download_button("Download Markdown", report.markdown.encode("utf-8"),
                   file_name=f"{slug}.md", mime="text/markdown", key="report_md")

st.subheader("Preview")
st.iframe(report.html, height=900)
