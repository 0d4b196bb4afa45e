"""Compare: two to four scenarios side by side, losses per entity and the difference."""

from __future__ import annotations

import streamlit as st

from graph.compare import compare, comparison_markdown, parse_scenario_line
from graph.errors import GraphError
from graph.numbers import money
from pages._shared import cached_dump, current_store, init_state, md_escape, store_key

init_state()
store = current_store()
skey = store_key(store)

EXAMPLE = ["FTX defaults: default=ftx", "FTT -80%: price=ftt:-0.8",
           "Both: default=ftx, price=ftt:-0.8"]

st.title("fallout · Scenarios side by side")
st.caption("One scenario a line: NAME: default=ID, price=TOKEN:CHANGE (several of each, "
           "comma-separated). The list is kept in the page's link.")
saved = [line for line in st.query_params.get_all("cmp") if line.strip()]
text = st.text_area("Scenarios (two to four)", "\n".join(saved or EXAMPLE), height=120,
                    key="compare_text")
lines = [line.strip() for line in text.splitlines() if line.strip()]
if st.button("Compare", type="primary", key="compare_go") or saved:
    st.query_params["cmp"] = lines
    try:
        parsed = [parse_scenario_line(line) for line in lines]
        with st.spinner("Running the scenarios…"):
            result = compare(cached_dump(store, skey), parsed)
    except GraphError as err:
        st.error(md_escape(str(err)))
        st.stop()
    cols = st.columns(len(result.scenarios))
    for col, name, total in zip(cols, result.scenarios, result.totals, strict=True):
        col.metric(f"{name}: total loss", money(total))
    st.dataframe(result.rows(), hide_index=True, width="stretch")
    report = comparison_markdown(result, lines)
    st.download_button("Download the comparison (Markdown)", report.encode("utf-8"),
                       file_name="scenarios.md", mime="text/markdown", key="compare_md")
