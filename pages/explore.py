"""Explore: search entities, draw a neighbourhood, read a node's relations and evidence."""

from __future__ import annotations

import streamlit as st

from extract.model import EntityType, RelationType
from graph.evidence import document_text, page_of, relation_title
from graph.numbers import percent, when
from graph.timeline import as_of, days, new_on
from pages._shared import (
    LAYOUTS,
    MATCH_KEY,
    SELECTED_KEY,
    assumed_figure,
    cached_document_titles,
    cached_entity,
    cached_evidence,
    cached_neighbourhood,
    cached_relations,
    cached_search,
    current_store,
    highlight_mentions,
    init_state,
    md_escape,
    money,
    render_graph,
    store_key,
)

EVIDENCE_PAGE = 25  # relations per page of evidence

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
        st.warning(f"No entity matches “{md_escape(query.strip())}”.")
    if hits:
        labels = {h.id: f"{h.name} ({h.type})" for h in hits}
        ids = list(labels)
        current = st.session_state[SELECTED_KEY]
        choice = st.selectbox("Matches", ids, index=ids.index(current) if current in ids else 0,
                              format_func=labels.__getitem__, key="explore_match")
        if st.session_state[MATCH_KEY] != choice:
            st.session_state[MATCH_KEY] = choice
            st.session_state[SELECTED_KEY] = choice
    depth = st.slider("Neighbourhood depth", 1, 3, 1, key="explore_depth")
    rel_types = st.multiselect("Relation types", [r.value for r in RelationType],
                               key="explore_rel_types")
    layout = st.selectbox("Layout", LAYOUTS, key="explore_layout",
                          help="'cached' places nodes once per graph and remembers it.")
    group = st.selectbox("Group by", ["none", "kind", "community"], key="explore_group",
                         help="With the cached layout: each kind or community drawn apart.")
    focus = st.toggle("Focus on the selected entity", key="explore_focus",
                      help="Fade everything but its own relations and neighbours.")

selected = st.session_state[SELECTED_KEY]
entity = cached_entity(store, skey, selected) if selected else None

with right:
    if entity is None:
        st.info("Search for an entity and pick it to see its neighbourhood.")
    else:
        sub = cached_neighbourhood(store, skey, entity.id, depth, tuple(rel_types))
        dated = days(sub.relations)
        if len(dated) > 1 and st.toggle("As of a date", key="explore_asof_on",
                                        help="The graph as known on a day: statements dated "
                                        "later are left out; undated ones stay."):
            day = st.select_slider("As of", dated, value=dated[-1], format_func=when,
                                   key=f"explore_asof_{entity.id}_{depth}")
            new = new_on(sub.relations, day)
            sub = as_of(sub, day)
            st.caption(f"As of {when(day)}: {len(new)} statement(s) dated that day.")
        st.caption(f"{len(sub.entities)} entities, {len(sub.relations)} relations within "
                   f"{depth} hop(s) of {md_escape(entity.name)}. Click a node to select it.")
        clicked = render_graph(sub, key=f"explore_graph_{entity.id}_{depth}", layout=layout,
                               group=group, focus=entity.id if focus else None)
        if clicked and clicked != selected:
            st.session_state[SELECTED_KEY] = clicked
            st.rerun()

if entity is not None:
    st.header(md_escape(entity.name))
    st.markdown(f"**Kind:** {md_escape(entity.type)}  ·  **Id:** {md_escape(entity.id)}")
    if entity.aliases:
        st.markdown("**Aliases:** " + md_escape(", ".join(entity.aliases)))
    cols = st.columns(3)
    figures = (("Equity", entity.equity), ("Total assets", entity.total_assets),
               ("Deposits", entity.deposits))
    for col, (label, value) in zip(cols, figures, strict=True):
        if value is not None:
            col.metric(label, money(value),
                       help=md_escape(f"extracted ({entity.attr_source or 'documents'})"))
            col.caption("extracted")
            continue
        rule = assumed_figure(entity.type, label.lower().replace(" ", "_"))
        if rule is None:
            col.metric(label, "—", help="not stated in the documents")
            continue
        col.metric(label, money(rule.value), help=md_escape(rule.rule))
        col.caption(f"assumed: {md_escape(rule.rule)}")

    relations = cached_relations(store, skey, entity.id, tuple(rel_types))
    st.subheader(f"Relations ({len(relations)})")
    names: dict[str, str] = {entity.id: entity.name}
    surface: dict[str, list[str]] = {entity.id: [entity.name, *entity.aliases]}
    for rel in relations:
        for end in (rel.head, rel.tail):
            if end not in names:
                other = cached_entity(store, skey, end)
                names[end] = other.name if other else end
                surface[end] = [other.name, *other.aliases] if other else [end]
    docs = cached_document_titles(store, skey, tuple(sorted({r.document_id for r in relations})))

    def doc_name(doc_id: str) -> str:
        found = docs.get(doc_id)
        return (found.title or found.source) if found else doc_id

    st.dataframe(
        [
            {
                "head": names[r.head], "relation": r.type, "tail": names[r.tail],
                "amount": money(r.amount, r.currency) if r.amount is not None else "",
                "date": when(r.date) if r.date else "", "status": r.status or "",
                "confidence": percent(r.confidence),
                "hedged": "hedged" if r.hedged else "", "negated": "denied" if r.negated else "",
                "speaker": r.speaker or "", "document": doc_name(r.document_id),
            }
            for r in relations
        ],
        hide_index=True, width="stretch",
    )
    st.subheader("Evidence")
    pages = page_of(relations, 1, EVIDENCE_PAGE).pages
    number = st.number_input("Evidence page", 1, pages, 1, key=f"explore_page_{entity.id}",
                             disabled=pages == 1) if pages > 1 else 1
    shown = page_of(relations, int(number), EVIDENCE_PAGE)
    st.caption(f"Showing {shown.describe()}; every relation is listed, page by page.")
    for rel in shown.items:
        with st.expander(md_escape(relation_title(rel, names))):
            found = cached_evidence(store, skey, rel.id)
            mentions = surface[rel.head] + surface[rel.tail]
            if not found and rel.evidence:
                st.markdown("> " + highlight_mentions(rel.evidence, mentions))
            for n, ev in enumerate(found):
                st.markdown("> " + highlight_mentions(ev.text, mentions))
                who = f" — said by {ev.speaker}" if ev.speaker else ""
                st.caption(md_escape(f"{ev.document_title or ev.document_id} "
                                     f"({ev.document_source}){who}"))
                if st.toggle("Open the document", key=f"explore_doc_{rel.id}_{n}"):
                    text = document_text(ev.document_source)
                    if text is None or ev.start is None or ev.end is None:
                        st.info("The source document is not available on this machine.")
                        continue
                    with st.container(height=260):
                        st.markdown(
                            md_escape(text[max(0, ev.start - 1500):ev.start]).replace("\n", "  \n")
                            + " :orange-background[**" + md_escape(text[ev.start:ev.end]) + "**] "
                            + md_escape(text[ev.end:ev.end + 1500]).replace("\n", "  \n"))
