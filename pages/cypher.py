"""Cypher: a read-only console with ready examples, a table, a graph and a CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from graph.errors import GraphError, QueryRefused
from graph.numbers import cell
from graph.sample import EXAMPLE_QUERIES
from graph.store.bounded import QueryLimits, format_size, memory_bound, run_query
from pages._shared import (
    CYPHER_RESULT_KEY,
    current_store,
    init_state,
    md_escape,
    render_graph,
    result_subgraph,
)

init_state()
store = current_store()
try:
    limits = QueryLimits.from_env()
except ValueError as err:
    st.error(f"Cannot run queries: {md_escape(str(err))}", icon=":material/error:")
    st.stop()

st.title("Cypher")
st.caption(
    "Read-only: the store refuses anything that writes. Nodes are `:Entity` with `id`, "
    "`name`, `type`, `aliases`; relationships are typed by relation (`LENT_TO`, `HOLDS`, "
    "`ISSUED`, …) and carry `amount`, `currency`, `date`, `status`, `confidence`, `evidence`."
)

EDITOR_KEY = "cypher_text"
if EDITOR_KEY not in st.session_state:
    st.session_state[EDITOR_KEY] = next(iter(EXAMPLE_QUERIES.values()))


def _use_example() -> None:
    st.session_state[EDITOR_KEY] = EXAMPLE_QUERIES[st.session_state["cypher_example"]]


st.selectbox("Examples", list(EXAMPLE_QUERIES), key="cypher_example", on_change=_use_example)
with st.form("cypher_form"):
    query = st.text_area("Query", key=EDITOR_KEY, height=180)
    longest = max(1.0, limits.timeout)
    timeout = st.number_input("Timeout (seconds)", 1.0, longest, min(10.0, longest), step=1.0,
                              key="cypher_timeout",
                              help="At most the wall-clock limit below (FALLOUT_QUERY_TIMEOUT).")
    submitted = st.form_submit_button("Run", type="primary")
st.caption(
    f"Limits: {limits.timeout:g} s wall clock at most (`FALLOUT_QUERY_TIMEOUT`); memory "
    f"{format_size(limits.memory)} (`FALLOUT_QUERY_MEMORY`), bounded by "
    f"{md_escape(memory_bound(store, limits))}. A query past either is stopped.",
)

if submitted:
    try:
        ran = run_query(store, query,
                        limits=QueryLimits(timeout=float(timeout), memory=limits.memory))
    except QueryRefused as err:  # the database's own message: "query refused: …" / "… failed: …"
        message = str(err)
        st.error(md_escape(message[:1].upper() + message[1:]), icon=":material/block:")
        st.stop()
    except GraphError as err:
        st.error(f"Query failed: {md_escape(str(err))}", icon=":material/error:")
        st.stop()
    st.session_state[CYPHER_RESULT_KEY] = ran

result = st.session_state[CYPHER_RESULT_KEY]
if result is not None:
    frame = pd.DataFrame(list(result.rows),
                         columns=list(result.columns))
    st.success(f"{len(result.rows)} row(s)")
    # numbers as people read them (85.0bn, not 85000000000.0); the CSV keeps raw values
    st.dataframe(frame.map(cell) if len(frame) else frame, hide_index=True,
                 width="stretch")
    st.download_button("Download CSV", frame.to_csv(index=False).encode("utf-8"),
                       file_name="query.csv", mime="text/csv")
    sub = result_subgraph(result)
    if sub.entities:
        st.subheader("As a graph")
        render_graph(sub, key="cypher_graph", layout="cose")
