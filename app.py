"""fallout in the browser: the router and the frame (``streamlit run app.py``).

The frame is the sidebar (which store is open, what it holds, the current scenario);
each page lives in ``pages/`` and is chosen by ``st.navigation``.
"""

from __future__ import annotations

import streamlit as st

from graph.errors import GraphError, StoreBusy
from pages._shared import (
    cached_counts,
    cached_last_update,
    current_store,
    get_scenario,
    init_state,
    md_escape,
    set_scenario,
    store_busy_message,
    store_interaction,
    store_key,
    store_label,
    store_url,
)

st.set_page_config(page_title="fallout", page_icon=":material/hub:", layout="wide")
init_state()
set_scenario(get_scenario())  # keep the scenario in the URL on every page, so links carry it

PAGES = [
    st.Page("pages/explore.py", title="Explore", icon=":material/hub:", default=True),
    st.Page("pages/cypher.py", title="Cypher", icon=":material/terminal:"),
    st.Page("pages/simulate.py", title="Simulate", icon=":material/bolt:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/report.py", title="Reports", icon=":material/description:"),
    st.Page("pages/ingest.py", title="Ingest", icon=":material/upload_file:"),
    st.Page("pages/curate.py", title="Curate", icon=":material/edit_note:"),
]
page = st.navigation(PAGES)

with st.sidebar:
    st.markdown("## fallout")
    st.caption("Who owes whom, who holds what, and what breaks next.")
    try:
        store = current_store()
        counts = cached_counts(store, store_key(store))
    except StoreBusy as err:
        st.warning(store_busy_message(err), icon=":material/lock:")
        st.stop()
    except (GraphError, OSError) as err:
        st.error(
            f"Cannot open the graph store `{store_url()}`: {md_escape(str(err))}\n\n"
            "To fix: set `FALLOUT_STORE` to a writable directory (embedded store) or to a "
            "reachable `neo4j://` or `bolt://` URI, with `NEO4J_USER` and `NEO4J_PASSWORD` "
            "set, then reload."
        )
        st.stop()
    st.markdown(f"**Store:** {store_label(store)}")
    if counts.get("entities", 0) == 0 and not str(store.url).startswith(("neo4j", "bolt")):
        from graph.sample import ensure_sample_loaded

        with st.spinner("First run: reading the sample corpus into the graph…"):
            ensure_sample_loaded(store)
        cached_counts.clear()
        counts = cached_counts(store, store_key(store))
    c1, c2, c3 = st.columns(3)
    c1.metric("Entities", counts.get("entities", 0))
    c2.metric("Relations", counts.get("relations", 0))
    c3.metric("Documents", counts.get("documents", 0))
    last = cached_last_update(store, store_key(store))
    if last:
        st.caption(f"Last update: {last.replace('T', ' ').replace('+00:00', ' UTC')}")
    scenario_line = st.empty()
    scenario_line.markdown(f"**Scenario:** {md_escape(get_scenario().describe())}")

with store_interaction():  # the page's reads share one handle, released when it ends
    page.run()
# the page may have changed the scenario (a run, a quick button): show the one now in force
scenario_line.markdown(f"**Scenario:** {md_escape(get_scenario().describe())}")
