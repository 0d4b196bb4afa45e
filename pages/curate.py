"""Curate: correct what the extractor got wrong; each correction is a record, re-applied."""

from __future__ import annotations

from typing import Any

import streamlit as st

from extract.model import EntityType, RelationType
from graph.curation import CurationError, curate, list_records, undo
from graph.duplicates import suggest_duplicates
from graph.numbers import BLANK, money, percent, when
from pages._shared import (
    SELECTED_KEY,
    cached_dump,
    cached_entity,
    cached_relations,
    cached_search,
    current_store,
    init_state,
    md_escape,
    store_key,
)

init_state()
store = current_store()
skey = store_key(store)

st.title("fallout · Curate the graph")
st.caption("Each correction is a record (who, when, why, what) kept beside the graph and "
           "applied again after every load, so a re-ingest never undoes it.")

if "curate_done" in st.session_state:
    st.success(st.session_state.pop("curate_done"), icon=":material/check:")


def act(action: str, target: str, **args: Any) -> None:
    """Record one correction, then redraw every page from the store."""
    try:
        rec = curate(store, action, target, why=st.session_state.get("curate_why", ""), **args)
    except CurationError as err:
        st.error(md_escape(str(err)))
        return
    st.cache_data.clear()
    st.session_state["curate_done"] = f"Recorded {rec.id}: {md_escape(rec.describe())}"
    st.rerun()


@st.cache_data(ttl=300, show_spinner="Looking for duplicates…")
def cached_suggestions(_store: object, store_key: str) -> list:  # type: ignore[type-arg]
    distinct = [(r.payload["a"], r.payload["b"])
                for r in list_records(_store, include_undone=False) if r.action == "distinct"]
    return suggest_duplicates(cached_dump(_store, store_key), limit=30, min_score=0.7,  # type: ignore[arg-type]
                              exclude=distinct)


st.text_input("Why (kept with the record)", key="curate_why",
              placeholder="e.g. same lender: the filing names it with LLC")
dup_tab, ent_tab, rel_tab, rec_tab = st.tabs(["Duplicates", "Entities", "Relations", "Records"])

with dup_tab:
    st.markdown("Pairs that may be one entity, best first: name similarity, shared "
                "neighbours and shared documents. Merge keeps the fuller name.")
    suggestions = cached_suggestions(store, skey)
    if not suggestions:
        st.info("No likely duplicates.")
    for s in suggestions:
        keep, drop = s.keep_and_drop()
        names = {s.a: s.a_name, s.b: s.b_name}
        c1, c2, c3, c4 = st.columns([4, 3, 1.2, 1.8])
        c1.markdown(f"**{md_escape(s.a_name)}** ~ **{md_escape(s.b_name)}**")
        c2.caption(f"score {percent(s.score)} · name {percent(s.name)} · neighbours "
                   f"{percent(s.neighbours)} · documents {percent(s.documents)}")
        if c3.button("Merge", key=f"dup_merge_{s.a}__{s.b}",
                     help=f"merge {names[drop]} into {names[keep]}"):
            act("merge", drop, keep=keep)
        if c4.button("Not the same", key=f"dup_distinct_{s.a}__{s.b}"):
            act("distinct", s.a, other=s.b)


def pick_entity(label: str, key: str, default: str | None = None) -> str | None:
    text = st.text_input(label, key=f"{key}_text", placeholder="a name or alias")
    hits = cached_search(store, skey, text.strip(), (), 30) if text.strip() else []
    if not hits and default:
        found = cached_entity(store, skey, default)
        hits = [found] if found else []
    if not hits:
        return None
    labels = {h.id: f"{h.name} ({h.type}, {h.id})" for h in hits}
    return st.selectbox(f"{label}: matches", list(labels), format_func=labels.__getitem__,
                        key=f"{key}_pick")


with ent_tab:
    chosen = pick_entity("Entity", "cur_ent", st.session_state.get(SELECTED_KEY))
    entity = cached_entity(store, skey, chosen) if chosen else None
    if entity is None:
        st.info("Search an entity to merge, rename, re-kind or split it.")
    else:
        st.markdown(f"**{md_escape(entity.name)}** · {md_escape(entity.type)} · aliases: "
                    f"{md_escape(', '.join(entity.aliases) or BLANK)}")
        left, right = st.columns(2)
        with left:
            other = pick_entity("Merge into", "cur_into")
            if other and other != entity.id and st.button("Merge", key="cur_merge"):
                act("merge", entity.id, keep=other)
            name = st.text_input("New name", value=entity.name, key=f"cur_name_{entity.id}")
            if st.button("Rename", key="cur_rename") and name.strip() != entity.name:
                act("rename", entity.id, name=name)
        with right:
            kinds = [k.value for k in EntityType]
            kind = st.selectbox("Kind", kinds, index=kinds.index(entity.type)
                                if entity.type in kinds else 0, key=f"cur_kind_{entity.id}")
            if st.button("Change kind", key="cur_kind_go") and kind != entity.type:
                act("kind", entity.id, type=kind)
            if entity.aliases:
                alias = st.selectbox("Alias to split off", list(entity.aliases),
                                     key=f"cur_alias_{entity.id}")
                rels = cached_relations(store, skey, entity.id, ())
                rel_labels = {r.id: f"{r.type} · {r.evidence[:80]}" for r in rels}
                moving = st.multiselect(
                    "Relations that belong to it", list(rel_labels), key="cur_split_rels",
                    format_func=rel_labels.__getitem__)
                if st.button("Split alias off", key="cur_split"):
                    act("split", entity.id, alias=alias, kind=kind, relations=moving)

with rel_tab:
    chosen = pick_entity("Relations of", "cur_rel", st.session_state.get(SELECTED_KEY))
    rels = cached_relations(store, skey, chosen, ()) if chosen else []
    if not rels:
        st.info("Search an entity to reverse, retype, reject or edit one of its relations.")
    else:
        names = {e.id: e.name for e in cached_dump(store, skey).entities}

        def label(rid: str) -> str:
            r = next(x for x in rels if x.id == rid)
            marks = "".join((" · hedged" if r.hedged else "", " · negated" if r.negated else ""))
            return (f"{names.get(r.head, r.head)} {r.type} {names.get(r.tail, r.tail)} · "
                    f"{money(r.amount, r.currency)} · {when(r.date)}{marks} · {r.id}")

        rid = st.selectbox("Relation", [r.id for r in rels], format_func=label, key="cur_rel_id")
        rel = next(r for r in rels if r.id == rid)
        st.markdown("> " + md_escape(rel.evidence or BLANK))
        c1, c2, c3 = st.columns(3)
        if c1.button("Reverse", key="cur_reverse"):
            act("reverse", rid)
        if c1.button("Reject", key="cur_reject", type="primary"):
            act("reject", rid)
        types = [t.value for t in RelationType]
        new_type = c2.selectbox("Type", types, index=types.index(rel.type), key=f"cur_t_{rid}")
        if c2.button("Retype", key="cur_retype") and new_type != rel.type:
            act("retype", rid, type=new_type)
        amount = c3.number_input("Amount", value=float(rel.amount or 0.0), min_value=0.0,
                                 step=1e6, format="%.0f", key=f"cur_amount_{rid}")
        if c3.button("Set amount", key="cur_amount_go"):
            act("edit", rid, field="amount", value=amount)
        day = c3.text_input("Date (YYYY-MM-DD)", value=rel.date or "", key=f"cur_date_{rid}")
        if c3.button("Set date", key="cur_date_go"):
            act("edit", rid, field="date", value=day.strip() or None)

with rec_tab:
    records = list_records(store)
    if not records:
        st.info("No corrections yet.")
    else:
        st.dataframe(
            [{"record": r.id, "when": when(r.at[:10]) + " " + r.at[11:16], "who": r.who,
              "what": r.describe(), "why": r.why or BLANK,
              "state": "undone" if r.undone else "applied"} for r in reversed(records)],
            hide_index=True, width="stretch",
        )
        active = [r for r in reversed(records) if not r.undone]
        if active:
            undo_labels = {r.id: f"{r.id} · {r.describe()}" for r in active}
            target = st.selectbox("Record to undo", list(undo_labels), key="cur_undo_id",
                                  format_func=undo_labels.__getitem__)
            if target is not None and st.button("Undo", key="cur_undo"):
                try:
                    undone = undo(store, target)
                except CurationError as err:
                    st.error(md_escape(str(err)))
                else:
                    st.cache_data.clear()
                    st.session_state["curate_done"] = f"Undone {undone.id}"
                    st.rerun()
