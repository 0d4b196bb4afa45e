"""Simulate: shock the graph (defaults, price falls) and watch the cascade round by round."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from graph.contagion._prices import IMPACTS
from graph.contagion.params import DEFAULTS
from graph.errors import GraphError
from graph.report.render import ROUND_CHART_TITLE, round_chart_svg
from pages._shared import (
    ASSUMPTIONS_KEY,
    RESULT_KEY,
    RUN_REQUEST_KEY,
    Scenario,
    cached_dump,
    current_store,
    get_scenario,
    init_state,
    md_escape,
    money,
    render_graph,
    set_scenario,
    store_key,
)
from pages._simulation import MODELS, assumption_rows, run_scenario

init_state()
store = current_store()
skey = store_key(store)
dump = cached_dump(store, skey)
names = {e.id: e.name for e in dump.entities}
kinds = {e.id: e.type for e in dump.entities}
tokens = sorted((e.id for e in dump.entities if e.type in ("Token", "Stablecoin")),
                key=lambda i: names[i].lower())
firms = sorted((e.id for e in dump.entities if e.type not in ("Token", "Stablecoin", "Place")),
               key=lambda i: names[i].lower())
scenario = get_scenario()

st.title("Simulate a shock")

quick = [(i, f"{md_escape(names[i])} defaults") for i in ("ftx", "alameda-research", "celsius")
         if i in names]
cols = st.columns(len(quick) + 1)
for col, (eid, label) in zip(cols, quick, strict=False):
    if col.button(label, key=f"quick_{eid}"):
        scenario = Scenario(defaults=(eid,), model="combined")
        set_scenario(scenario)
        st.session_state[RUN_REQUEST_KEY] = True

setup = st.expander("Scenario: who fails, what falls, which model",
                    expanded=st.session_state[RESULT_KEY] is None)
with setup, st.form("scenario_form"):
    defaults = st.multiselect("Defaulting entities", firms,
                              default=[d for d in scenario.defaults if d in names],
                              format_func=lambda i: f"{names[i]} ({kinds[i]})")
    price_rows = pd.DataFrame(
        [{"token": t, "change %": round(c * 100, 1)} for t, c in scenario.prices.items()]
        or [{"token": None, "change %": None}]
    )
    prices = st.data_editor(
        price_rows, num_rows="dynamic", hide_index=True, key="simulate_prices",
        column_config={
            "token": st.column_config.SelectboxColumn("token", options=tokens),
            "change %": st.column_config.NumberColumn("change %", min_value=-100.0,
                                                      max_value=0.0, step=5.0),
        },
    )
    st.markdown("**Model and parameters**")
    c1, c2, c3 = st.columns(3)
    model = c1.selectbox("Model", list(MODELS),
                         index=MODELS.index(scenario.model) if scenario.model in MODELS else 0)
    p = {**DEFAULTS, **scenario.params}
    recovery = c2.slider("Recovery rate", 0.0, 1.0, float(p["recovery"]), 0.05)
    ltv = c3.slider("LTV trigger", 0.5, 1.0, float(p["ltv_trigger"]), 0.05)
    issuer_drop = c1.slider("Issuer reflexivity (token fall when issuer defaults)", 0.0, 1.0,
                            float(p["issuer_drop"]), 0.05)
    impacts = list(IMPACTS)
    impact = c2.selectbox("Price impact of sales", impacts,
                          index=impacts.index(str(p["impact"])) if p["impact"] in impacts else 0)
    runs = c3.number_input("Monte Carlo runs for the ranges (0 = a point estimate)", 0, 5000,
                           int(scenario.runs), step=100)
    st.markdown("**Assumptions** — edit a value to override it for this run; `origin` says "
                "whether the documents state it (extracted) or a documented rule sets it "
                "(assumed).")
    assumptions = st.data_editor(pd.DataFrame(assumption_rows(store, skey)), hide_index=True,
                                 disabled=["kind", "target", "field", "origin"], height=220,
                                 key="simulate_assumptions", width="stretch",
                                 column_config={"value": st.column_config.NumberColumn(
                                     "value", format="compact")})
    submitted = st.form_submit_button("Run", type="primary")

if submitted:
    shocks = {
        str(r["token"]): float(r["change %"]) / 100.0
        for r in prices.to_dict("records")
        if r.get("token") and r.get("change %") == r.get("change %") and r.get("change %")
    }
    scenario = Scenario(defaults=tuple(defaults), prices=shocks, model=model,
                        params={"recovery": recovery, "ltv_trigger": ltv,
                                "issuer_drop": issuer_drop, "impact": str(impact)},
                        runs=int(runs))
    set_scenario(scenario)
    st.session_state[ASSUMPTIONS_KEY] = assumptions.to_dict("records")
    st.session_state[RUN_REQUEST_KEY] = True

# a link that carries a scenario reproduces its run on open
first_visit = st.session_state[RESULT_KEY] is None and not scenario.empty
run_requested, st.session_state[RUN_REQUEST_KEY] = st.session_state[RUN_REQUEST_KEY], False
if run_requested or first_visit:
    if scenario.empty:
        st.warning("Choose at least one defaulting entity or one price shock.")
        st.stop()
    if scenario.prices and scenario.model != "combined":
        st.warning(f"The {md_escape(scenario.model)} model ignores price shocks; use the "
                   "combined model.")
    try:
        with st.spinner("Running the cascade…"):
            run = run_scenario(store, scenario,
                               st.session_state[ASSUMPTIONS_KEY])
    except GraphError as err:
        st.error(f"Cannot run this scenario: {md_escape(str(err))}")
        st.stop()
    st.session_state[RESULT_KEY] = (scenario, run)

stored = st.session_state[RESULT_KEY]
if stored is None:
    st.info("Pick a shock and press Run, or try one of the quick scenarios above.")
    st.stop()
ran_scenario, run = stored
result = run.result

st.subheader(f"Cascade: {md_escape(ran_scenario.describe())} ({md_escape(ran_scenario.model)})")
st.markdown(md_escape(run.report.summary))
rounds = max(len(result.rounds), 1)
shown = st.slider("Round", 0, rounds - 1, rounds - 1, key="simulate_round") if rounds > 1 else 0
states = run.states_at(shown)
st.caption(f"Round {shown}: {sum(s == 'defaulted' for s in states.values())} defaulted, "
           f"{sum(s == 'stressed' for s in states.values())} stressed. Red edges carried loss.")
render_graph(run.subgraph, key="simulate_graph", node_states=states,
             loss_edges=run.loss_edges_until(shown), layout="cached")

st.subheader("Ranked losses")
loss_rows = run.loss_rows()
if loss_rows:
    st.markdown("Largest losses: " + "; ".join(
        f"**{md_escape(r['entity'])}** {md_escape(r['equity loss'])}"
        + (" (defaulted)" if r["defaulted"] else "")
        for r in loss_rows[:5]))
st.dataframe(pd.DataFrame(loss_rows), hide_index=True, width="stretch",
             column_config={"relative loss": st.column_config.ProgressColumn(
                 "relative loss", min_value=0.0, max_value=1.0, format="percent")})

st.subheader("Losses and defaults per round")
# the report's own chart, so the app and the report draw the rounds alike
st.image(round_chart_svg([(int(r["round"]), float(r["cumulative loss"]), int(r["defaults"]))
                          for r in run.round_rows()]))
st.caption(ROUND_CHART_TITLE)

st.subheader("Paths that carried loss")
path_rows = run.path_rows()
if path_rows:
    st.dataframe(pd.DataFrame(path_rows), hide_index=True, width="stretch")
else:
    st.caption("No loss travelled along an edge.")

st.subheader("Which numbers move the answer")
st.caption("Each number tried alone: a stated amount removed (as if its sentence were not "
           "there), an assumed one moved to the ends of its band.")
if run.report.sensitivity:
    st.dataframe(pd.DataFrame(
        [{"subject": r["subject"], "field": r["field"], "provenance": r["provenance"],
          "test": r["test"], "total loss low": money(r["total_loss_low"]),
          "total loss high": money(r["total_loss_high"]), "move": money(r["swing"])}
         for r in run.report.sensitivity]), hide_index=True, width="stretch")
else:
    st.caption("No single number moves the total loss.")

if run.montecarlo is not None:
    st.subheader(f"Monte Carlo ({ran_scenario.runs} runs)")
    st.dataframe(pd.DataFrame(run.montecarlo), hide_index=True, width="stretch",
                 column_config={"P(default)": st.column_config.NumberColumn(
                     "P(default)", format="percent")})

st.caption(f"Total loss {md_escape(money(run.total_loss))}. "
           "See the Reports page to download this run.")
