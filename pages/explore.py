"""Explore: search entities, draw a neighbourhood, read a node's relations and evidence."""

from __future__ import annotations

import streamlit as st

from extract.model import EntityType, RelationType
from pages._shared import (
    LAYOUTS,
    SELECTED_KEY,
    cached_entity,
    cached_evidence,
    cached_neighbourhood,
    cached_relations,
    cached_search,
    current_store,
    highlight_mention,
    init_state,
    money,
    render_graph,
    store_key,
)

init_state()
store = current_store()
skey = store_key(store)

st.title("fallout · Explore the graph")

left, right = st.columns([1, 2])
with left:
    query = st.text_input("Search by name or alias", key="explore_query",
                          placeholder="e.g. FTX, Alameda, BlockFi")
    kinds = st.multiselect("Kinds", [k.value for k in EntityType], key="explore_kinds")
    hits = cached_search(store, skey, query.strip(), tuple(kinds), 30) if query.strip() else []
    if query.strip() and not hits:
        st.warning(f"No entity matches “{query.strip()}”.")
    if hits:
        labels = {h.id: f"{h.name} ({h.type})" for h in hits}
        ids = list(labels)
        current = st.session_state[SELECTED_KEY]
        choice = st.selectbox("Matches", ids, index=ids.index(current) if current in ids else 0,
                              format_func=labels.__getitem__, key="explore_match")
        if st.session_state.get("explore_last_choice") != choice:
            st.session_state["explore_last_choice"] = choice
            st.session_state[SELECTED_KEY] = choice
    depth = st.slider("Neighbourhood depth", 1, 3, 1, key="explore_depth")
    rel_types = st.multiselect("Relation types", [r.value for r in RelationType],
                               key="explore_rel_types")
    layout = st.selectbox("Layout", LAYOUTS, key="explore_layout",
                          help="'cached' places nodes once per graph and remembers it.")

selected = st.session_state[SELECTED_KEY]
entity = cached_entity(store, skey, selected) if selected else None

with right:
    if entity is None:
        st.info("Search for an entity and pick it to see its neighbourhood.")
    else:
        sub = cached_neighbourhood(store, skey, entity.id, depth, tuple(rel_types))
        st.caption(f"{len(sub.entities)} entities, {len(sub.relations)} relations within "
                   f"{depth} hop(s) of {entity.name}. Click a node to select it.")
        clicked = render_graph(sub, key=f"explore_graph_{entity.id}_{depth}", layout=layout)
        if clicked and clicked != selected:
            st.session_state[SELECTED_KEY] = clicked
            st.rerun()

if entity is not None:
    st.header(entity.name)
    st.markdown(f"**Kind:** {entity.type}  ·  **Id:** `{entity.id}`")
    if entity.aliases:
        st.markdown("**Aliases:** " + ", ".join(entity.aliases))
    source = entity.attr_source or "assumed"
    cols = st.columns(3)
    for col, (label, value) in zip(
        cols,
        (("Equity", entity.equity), ("Total assets", entity.total_assets),
         ("Deposits", entity.deposits)),
        strict=True,
    ):
        col.metric(label, money(value), help=None if value is None else f"{source}")
    if all(v is None for v in (entity.equity, entity.total_assets, entity.deposits)):
        st.caption("No balance-sheet figure is stated in the documents; simulations use the "
                   "assumptions table (marked assumed).")
    else:
        st.caption(f"Balance-sheet figures are {source}.")

    relations = cached_relations(store, skey, entity.id, tuple(rel_types))
    st.subheader(f"Relations ({len(relations)})")
    names: dict[str, str] = {entity.id: entity.name}
    for rel in relations:
        for end in (rel.head, rel.tail):
            if end not in names:
                other = cached_entity(store, skey, end)
                names[end] = other.name if other else end
    st.dataframe(
        [
            {
                "head": names[r.head], "relation": r.type, "tail": names[r.tail],
                "amount": money(r.amount, r.currency) if r.amount else "",
                "date": r.date or "", "status": r.status or "",
                "confidence": round(r.confidence, 2),
                "hedged": r.hedged, "negated": r.negated,
            }
            for r in relations
        ],
        hide_index=True, width="stretch",
    )
    st.subheader("Evidence")
    for rel in relations[:60]:
        title = f"{names[rel.head]} {rel.type} {names[rel.tail]}"
        if rel.amount:
            title += f" · {money(rel.amount, rel.currency)}"
        with st.expander(title):
            found = cached_evidence(store, skey, rel.id)
            if not found and rel.evidence:
                st.markdown("> " + highlight_mention(rel.evidence, names[rel.head]))
            for ev in found:
                text = ev.text
                for name in {names[rel.head], names[rel.tail]}:
                    text = highlight_mention(text, name)
                st.markdown("> " + text)
                who = f" — said by {ev.speaker}" if ev.speaker else ""
                st.caption(f"{ev.document_title or ev.document_id} ({ev.document_source}){who}")
