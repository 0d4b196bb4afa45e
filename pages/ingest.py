"""Ingest: upload or paste texts, review what was extracted, load what you accept."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from extract.model import EntityType, RelationType
from graph.validation import check_facts
from pages._shared import (
    INGEST_KEY,
    current_store,
    entity_review_rows,
    facts_from_review,
    get_nlp,
    init_state,
    md_escape,
    relation_review_rows,
)

init_state()
store = current_store()

st.title("Ingest documents")
st.caption("Extract entities and relations from your texts, check them, then load them into "
           "the graph. Nothing is written until you press Load.")

with st.form("ingest_form"):
    uploads = st.file_uploader("Files (txt, md, html, pdf)", accept_multiple_files=True,
                               type=["txt", "md", "html", "htm", "pdf"], key="ingest_files")
    pasted = st.text_area("…or paste a text", key="ingest_text", height=160)
    go = st.form_submit_button("Extract", type="primary")

if go:
    from extract.pipeline import extract_files

    with tempfile.TemporaryDirectory(prefix="fallout-ingest-") as tmp:
        paths: list[Path] = []
        shown: dict[str, str] = {}  # where a text was saved on the server -> its own name
        for i, upload in enumerate(uploads or []):
            path = Path(tmp) / f"{i:03d}-{Path(upload.name).name}"
            path.write_bytes(upload.getvalue())
            paths.append(path)
            shown[str(path)] = Path(upload.name).name
        if pasted.strip():
            path = Path(tmp) / "pasted.txt"
            path.write_text(pasted, encoding="utf-8")
            paths.append(path)
            shown[str(path)] = "pasted.txt"
        if not paths:
            st.warning("Upload a file or paste a text first.")
            st.stop()
        with st.spinner(f"Extracting {len(paths)} document(s)…"):
            results = extract_files(paths, nlp=get_nlp(), on_error="skip")

    def _own_names(message: str) -> str:
        """Say the uploaded file's name where a message names the server's copy of it."""
        for saved, name in shown.items():
            message = message.replace(saved, name)
        return message.replace(tmp, "(upload)")

    for r in results:
        r.error = None if r.error is None else _own_names(r.error)
        r.warnings = [_own_names(w) for w in r.warnings]
    st.session_state[INGEST_KEY] = [(shown.get(r.path, Path(r.path).name), r) for r in results]

pending = st.session_state[INGEST_KEY]
if pending:
    ready = []
    for n, (name, res) in enumerate(pending):
        st.subheader(md_escape(name))
        if res.error or res.facts is None:
            reason = str(res.error or "")
            reason = reason.removeprefix(f"{name}: ")
            st.error(f"Could not read {md_escape(name)}: {md_escape(reason)}")
            continue
        for warning in res.warnings:
            st.warning(md_escape(warning))
        facts = res.facts
        st.markdown(f"**Entities** ({len(facts.entities)}) — untick to reject, edit kind or "
                    "name in place.")
        ents = st.data_editor(
            pd.DataFrame(entity_review_rows(facts)), key=f"ingest_ents_{n}", hide_index=True,
            width="stretch", disabled=["id", "mentions"],
            column_config={
                "accept": st.column_config.CheckboxColumn("accept"),
                "type": st.column_config.SelectboxColumn(
                    "kind", options=[k.value for k in EntityType], required=True),
            },
        )
        ids = [e.id for e in facts.entities]
        st.markdown(f"**Relations** ({len(facts.relations)}) with their evidence")
        rels = st.data_editor(
            pd.DataFrame(relation_review_rows(facts)), key=f"ingest_rels_{n}",
            hide_index=True, width="stretch", disabled=["evidence"],
            column_config={
                "accept": st.column_config.CheckboxColumn("accept"),
                "head": st.column_config.SelectboxColumn("head", options=ids, required=True),
                "tail": st.column_config.SelectboxColumn("tail", options=ids, required=True),
                "type": st.column_config.SelectboxColumn(
                    "type", options=[r.value for r in RelationType], required=True),
                "amount": st.column_config.NumberColumn("amount", format="compact"),
                "evidence": st.column_config.TextColumn("evidence", width="large"),
            },
        )
        if res.stats.dropped:
            st.markdown("**Dropped by the extractor**")
            st.dataframe(
                [{"reason": k.replace("_", " "), "count": v}
                 for k, v in sorted(res.stats.dropped.items())],
                hide_index=True,
            )
        else:
            st.caption("The extractor dropped nothing from this document.")
        ready.append((name, facts, ents.to_dict("records"), rels.to_dict("records")))

    if ready and st.button("Load accepted facts into the graph", type="primary"):
        try:
            reviewed = [facts_from_review(f, e, r, source=name) for name, f, e, r in ready]
        except ValueError as err:
            st.error(f"Cannot load: {md_escape(str(err))}")
            st.stop()
        problems = [p for (name, *_), f in zip(ready, reviewed, strict=True)
                    for p in check_facts(f, file=name)]
        if problems:
            st.error("Cannot load: the reviewed facts break the rules every load follows. "
                     "Nothing was loaded.\n\n" + "\n".join(f"- {md_escape(str(p))}"
                                                             for p in problems[:20]))
            st.stop()
        summary = store.load(reviewed)
        st.cache_data.clear()
        st.session_state[INGEST_KEY] = None
        st.success(f"Loaded {summary.documents} document(s), {summary.entities} entities and "
                   f"{summary.relations} relations.")
