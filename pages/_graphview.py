"""The graph view of the app: Cytoscape elements and styles, cached layout, formatting.

Everything here presents; nothing computes on the domain. ``render_graph`` is the one
place the app draws a graph (with st-link-analysis), re-exported by ``pages._shared``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from graph.store.base import EntityRecord, QueryResult, RelationRecord, Subgraph

__all__ = [
    "EDGE_COLOURS",
    "KIND_COLOURS",
    "LAYOUTS",
    "graph_elements",
    "graph_positions",
    "highlight_mention",
    "highlight_mentions",
    "md_escape",
    "money",
    "render_graph",
    "result_subgraph",
]

KIND_COLOURS: dict[str, str] = {
    "Exchange": "#1f77b4",
    "Lender": "#2ca02c",
    "TradingFirm": "#d62728",
    "InvestmentFirm": "#9467bd",
    "Bank": "#17becf",
    "Company": "#8c564b",
    "MediaOutlet": "#bcbd22",
    "Regulator": "#7f7f7f",
    "Protocol": "#e377c2",
    "Person": "#ff7f0e",
    "Token": "#f5c518",
    "Stablecoin": "#aec7e8",
    "Place": "#c7c7c7",
}
"""Node colour per entity kind."""

EDGE_COLOURS: dict[str, tuple[str, str]] = {
    "LENT_TO": ("#d62728", "solid"),
    "PLEDGED_COLLATERAL": ("#ff7f0e", "dashed"),
    "ISSUED": ("#f5c518", "solid"),
    "HOLDS": ("#bcbd22", "dotted"),
    "DEPOSITED_WITH": ("#1f77b4", "solid"),
    "ACQUIRED": ("#9467bd", "dashed"),
    "OWNS": ("#8c564b", "solid"),
    "AFFILIATED_WITH": ("#7f7f7f", "dashed"),
    "INVESTED_IN": ("#2ca02c", "solid"),
    "LEADS": ("#e377c2", "dotted"),
    "WORKS_FOR": ("#e377c2", "dotted"),
    "LIQUIDATED": ("#000000", "solid"),
    "EXPOSED_TO": ("#17becf", "dashed"),
}
"""Edge colour and line style per relation type."""




def money(amount: float | None, currency: str | None = None) -> str:
    """Format an amount compactly: ``$1.2bn``, ``€30.0m``, ``—`` when unknown (graph.numbers)."""
    from graph.numbers import money as fmt

    return fmt(amount, currency)


_MD_SPECIAL = frozenset("\\`*_[]#|<>$~@:")
_JOINER = "\u2060"  # WORD JOINER: invisible, and no letter, digit or punctuation
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=\\@)")


def md_escape(text: str) -> str:
    r"""Escape Markdown so text from documents shows literally, never as a link or a tag.

    Backslash-escaped: emphasis, code, links and images (``[``), headings, tables,
    HTML and angle-bracket links (``<``), maths (``$``), Streamlit's ``:colour[...]``
    and ``:icon:`` (``:``), e-mail addresses (``@``). What GitHub Markdown links by
    itself is also broken up with an invisible word joiner (U+2060), because Streamlit's
    renderer (remark-gfm) looks for ``http://``, ``www.`` and ``name@host`` in the text
    after escapes are resolved: after the ``:`` of ``://``, after ``www`` and before ``@``.

    Examples
    --------
    >>> print(md_escape("lent $250m to [A](y) <b>").replace("\u2060", "|"))
    lent \$250m to \[A\](y) \<b\>
    >>> print(md_escape("http://x.io www.c.io a@b.io").replace("\u2060", "|"))
    http\:|//x.io www|.c.io a|\@b.io
    """
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
    return _AUTOLINK.sub(_JOINER, out)


def highlight_mentions(text: str, mentions: Sequence[str]) -> str:
    """Markdown of ``text`` (escaped) with every occurrence of each mention in bold."""
    lower = text.lower()
    marked = [False] * len(text)
    for mention in mentions:
        needle = mention.lower()
        if not needle:
            continue
        j = lower.find(needle)
        while j >= 0:
            marked[j:j + len(needle)] = [True] * len(needle)
            j = lower.find(needle, j + len(needle))
    out, i = [], 0
    while i < len(text):
        k = i
        while k < len(text) and marked[k] == marked[i]:
            k += 1
        part = md_escape(text[i:k])
        out.append(f"**{part}**" if marked[i] else part)
        i = k
    return "".join(out)


def highlight_mention(text: str, mention: str) -> str:
    """Markdown of ``text`` (escaped) with every occurrence of ``mention`` in bold."""
    return highlight_mentions(text, [mention])


class _Style:
    """A Cytoscape style rule, in the shape ``st_link_analysis`` expects (``dump()``)."""

    def __init__(self, selector: str, style: dict[str, Any]) -> None:
        self.selector, self.style = selector, style

    def dump(self) -> dict[str, Any]:
        return {"selector": self.selector, "style": self.style}


LABELLED = 25
"""How many of the most connected nodes keep their label drawn."""

LARGE_GRAPH = 500
"""Above this many nodes, edges are drawn straight (haystack) and without arrows."""


def _styles(large: bool = False) -> tuple[list[_Style], list[_Style]]:
    nodes = [_Style("node", {"label": "data(label)", "font-size": 12, "width": 22, "height": 22})]
    nodes += [
        _Style(f"node[kind='{k}']", {"background-color": c}) for k, c in KIND_COLOURS.items()
    ]
    nodes += [
        # only the most connected nodes carry a label; the others show it when selected
        # (no label at all, not a transparent one: nothing to measure or draw)
        _Style("node[shown='no']", {"label": ""}),
        _Style("node[shown='no']:selected", {"label": "data(label)"}),
        _Style("node[faded='yes']", {"opacity": 0.12}),
        _Style("node[state='stressed']", {"border-width": 4, "border-color": "#ff7f0e"}),
        _Style("node[state='defaulted']", {"border-width": 6, "border-color": "#d62728",
                                           "background-blacken": 0.4}),
    ]
    edges = [_Style("edge", {"width": "data(width)", "curve-style": "bezier",
                             "target-arrow-shape": "triangle", "arrow-scale": 0.8})]
    for rel, (colour, line) in EDGE_COLOURS.items():
        style: dict[str, Any] = {"line-color": colour, "target-arrow-color": colour,
                                 "line-style": line}
        if rel == "AFFILIATED_WITH":
            style["target-arrow-shape"] = "none"
        edges.append(_Style(f"edge[label='{rel}']", style))
    edges.append(_Style("edge[hedged='yes']", {"line-style": "dashed", "opacity": 0.55,
                                               "line-dash-pattern": [6, 4]}))
    edges.append(_Style("edge[negated='yes']", {"line-style": "dotted", "opacity": 0.4,
                                                "line-color": "#999999",
                                                "target-arrow-shape": "tee"}))
    edges.append(_Style("edge[faded='yes']", {"opacity": 0.06}))
    edges.append(_Style("edge[loss='yes']", {"line-color": "#d62728", "target-arrow-color":
                                             "#d62728", "z-index": 10}))
    if large:  # straight, arrowless edges draw several times faster in Cytoscape
        edges.append(_Style("edge", {"curve-style": "haystack", "target-arrow-shape": "none",
                                     "line-style": "solid"}))
    return nodes, edges


def _html(text: str) -> str:
    """HTML-escape ``text`` (quotes too): the graph component's panel parses it as HTML."""
    return html.escape(str(text), quote=True)


def _edge_width(amount: float | None, top: float) -> float:
    if not amount or amount <= 0 or top <= 1:
        return 1.5
    return round(1.5 + 6.5 * math.log10(1 + amount) / math.log10(1 + top), 2)


@st.cache_data(show_spinner=False, max_entries=64)
def graph_positions(
    node_ids: tuple[str, ...],
    edges: tuple[tuple[str, str], ...],
    groups: tuple[tuple[str, str], ...] | None = None,
) -> dict[str, tuple[float, float]]:
    """Node positions for a graph, computed once per node and edge set (cached).

    With ``groups`` (``(id, group)`` pairs: kinds), each group is laid out on its own
    and the groups sit apart on a circle; with ``groups=()``, the groups are the graph's
    communities (greedy modularity).
    """
    import networkx as nx

    g: nx.Graph[str] = nx.Graph()
    g.add_nodes_from(node_ids)
    g.add_edges_from(edges)
    n = max(len(node_ids), 1)
    if groups is not None:
        if groups:
            member = dict(groups)
        else:
            found = nx.community.greedy_modularity_communities(g) if g.number_of_edges() else [
                set(node_ids)]
            member = {v: str(k) for k, c in enumerate(found) for v in c}
        names = sorted(set(member.values()))
        out: dict[str, tuple[float, float]] = {}
        ring = 60 * math.sqrt(n)
        for k, name in enumerate(names):
            part = tuple(sorted(v for v in node_ids if member.get(v) == name))
            inner = graph_positions(part, tuple(e for e in edges if e[0] in part and e[1] in part))
            cx = ring * math.cos(2 * math.pi * k / len(names))
            cy = ring * math.sin(2 * math.pi * k / len(names))
            out |= {v: (round(x * 0.5 + cx, 1), round(y * 0.5 + cy, 1))
                    for v, (x, y) in inner.items()}
        return out
    # nodes without an edge would be pushed to the rim and shrink the rest to a knot:
    # lay out the connected part, then line the lone nodes up beneath it
    lone = sorted(v for v in node_ids if g.degree(v) == 0)
    g.remove_nodes_from(lone)
    m = max(g.number_of_nodes(), 1)
    pos = nx.spring_layout(g, seed=7, k=1.6 / math.sqrt(m), iterations=50 if n <= 500 else 20)
    scale = 45 * math.sqrt(n)  # labels (12 px) stay readable up to about 60 nodes
    out = {k: (round(float(x) * scale, 1), round(float(y) * scale, 1)) for k, (x, y) in
           pos.items()}
    bottom = max((y for _, y in out.values()), default=0.0) + 60
    per_row = max(1, int(math.sqrt(len(lone)) * 2))
    for i, v in enumerate(lone):
        out[v] = (round(-scale + 40.0 * (i % per_row), 1), round(bottom + 40.0 * (i // per_row), 1))
    return out


def graph_elements(
    subgraph: Subgraph,
    *,
    node_states: Mapping[str, str] | None = None,
    loss_edges: Sequence[str | tuple[str, str]] = (),
    positions: Mapping[str, tuple[float, float]] | None = None,
    focus: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Cytoscape elements for a subgraph: nodes coloured by kind, edges by relation type.

    The graph component writes every data field but ``label`` into its side panel as
    HTML, so each of them is HTML-escaped here (ids too: a click returns the escaped
    id, which :func:`render_graph` unescapes). ``label`` is shown as text and drawn on
    the canvas: a node's name, an edge's relation type, as they are.

    Only the :data:`LABELLED` most connected nodes (and shocked or hit ones) keep their
    label on the canvas; the others show it when selected. Hedged edges are dashed and
    faint, denied ones dotted grey with a bar for an arrow. With ``focus``, everything
    but that node, its neighbours and its own edges fades.
    """
    states = node_states or {}
    degree: dict[str, int] = {}
    for r in subgraph.relations:
        degree[r.head] = degree.get(r.head, 0) + 1
        degree[r.tail] = degree.get(r.tail, 0) + 1
    ranked = sorted(subgraph.entities, key=lambda e: (-degree.get(e.id, 0), e.name))
    labelled = {e.id for e in ranked[:LABELLED]} | set(states) | ({focus} if focus else set())
    near = None
    if focus:
        near = {focus} | {r.tail for r in subgraph.relations if r.head == focus}
        near |= {r.head for r in subgraph.relations if r.tail == focus}
    lossy = set(loss_edges)  # relation ids, or (head, tail) pairs in either direction
    top = max((r.amount or 0.0 for r in subgraph.relations), default=0.0)
    known = {e.id for e in subgraph.entities}
    nodes = []
    for e in subgraph.entities:
        node: dict[str, Any] = {"data": {"id": _html(e.id), "label": e.name,
                                         "name": _html(e.name), "kind": _html(e.type)}}
        if e.id in states:
            node["data"]["state"] = states[e.id]
        if e.id not in labelled:
            node["data"]["shown"] = "no"
        if near is not None and e.id not in near:
            node["data"]["faded"] = "yes"
        if positions and e.id in positions:
            x, y = positions[e.id]
            node["position"] = {"x": x, "y": y}
        nodes.append(node)
    edges = []
    for r in subgraph.relations:
        if r.head not in known or r.tail not in known:
            continue
        data: dict[str, Any] = {
            "id": _html(r.id), "source": _html(r.head), "target": _html(r.tail),
            "label": r.type, "type": _html(r.type), "width": _edge_width(r.amount, top),
        }
        if r.amount:
            data["amount"] = _html(money(r.amount, r.currency))
        if r.id in lossy or (r.head, r.tail) in lossy or (r.tail, r.head) in lossy:
            data["loss"] = "yes"
        if r.hedged:
            data["hedged"] = "yes"
        if r.negated:
            data["negated"] = "yes"
        if focus and focus not in (r.head, r.tail):
            data["faded"] = "yes"
        edges.append({"data": data})
    return {"nodes": nodes, "edges": edges}


LAYOUTS = ("cached", "cose", "concentric", "breadthfirst", "circle", "grid")


def _legend(subgraph: Subgraph) -> None:
    """Under the graph: the colour of each kind and the line of each relation type present."""
    kinds = sorted({e.type for e in subgraph.entities})
    dots = " &nbsp; ".join(
        f'<span style="color:{KIND_COLOURS.get(k, "#888")}">&#9679;</span> {html.escape(k)}'
        for k in kinds
    )
    dash = {"solid": "&#9472;&#9472;", "dashed": "&#9472; &#9472;", "dotted": "&#183;&#183;&#183;"}
    types = sorted({r.type for r in subgraph.relations})
    lines = " &nbsp; ".join(
        f'<span style="color:{EDGE_COLOURS.get(t, ("#888", "solid"))[0]}">'
        f'{dash[EDGE_COLOURS.get(t, ("#888", "solid"))[1]]}</span> {html.escape(t)}'
        for t in types
    )
    marks = []
    if any(r.hedged for r in subgraph.relations):
        marks.append('<span style="opacity:0.55">&#9472; &#9472;</span> hedged (faint, dashed)')
    if any(r.negated for r in subgraph.relations):
        marks.append('<span style="color:#999">&#183;&#183;&#183;&#8867;</span> denied (grey)')
    extra = f"<br>{' &nbsp; '.join(marks)}" if marks else ""
    st.markdown(f'<div style="font-size:0.8em">{dots}<br>{lines}{extra}</div>',
                unsafe_allow_html=True)


def render_graph(
    subgraph: Subgraph,
    *,
    key: str,
    layout: str = "cached",
    node_states: Mapping[str, str] | None = None,
    loss_edges: Sequence[str | tuple[str, str]] = (),
    height: int = 520,
    focus: str | None = None,
    group: str = "none",
) -> str | None:
    """Draw ``subgraph`` with st-link-analysis; return the id of a clicked node, if any.

    ``layout="cached"`` places nodes at positions computed once per graph and cached,
    so large graphs redraw without running a force layout in the browser.
    """
    if not subgraph.entities:
        st.info("Nothing to draw.")
        return None
    from st_link_analysis import Event, st_link_analysis

    positions = None
    cy_layout: str | dict[str, Any] = layout
    if layout == "cached":
        ids = tuple(sorted(e.id for e in subgraph.entities))
        pairs = tuple(sorted({(r.head, r.tail) for r in subgraph.relations}))
        kinds = tuple(sorted((e.id, e.type) for e in subgraph.entities)) if group == "kind" \
            else ()
        positions = graph_positions(ids, pairs, kinds) if group != "none" else \
            graph_positions(ids, pairs)
        cy_layout = {"name": "preset", "fit": True, "padding": 20, "animate": False}
    elements = graph_elements(subgraph, node_states=node_states, loss_edges=loss_edges,
                              positions=positions, focus=focus)
    node_styles, edge_styles = _styles(large=len(subgraph.entities) > LARGE_GRAPH)
    value = st_link_analysis(
        elements,
        layout=cy_layout,
        node_styles=node_styles,  # duck-typed: st-link-analysis calls .dump() on each
        edge_styles=edge_styles,
        height=height,
        key=key,
        events=[Event("select_node", "tap", "node")],
    )
    _legend(subgraph)
    if isinstance(value, dict) and value.get("action") == "select_node":
        target = (value.get("data") or {}).get("target_id")
        return html.unescape(str(target)) if target else None
    return None


def _walk(value: Any) -> Any:
    """Yield every dict nested in a query cell (nodes, relationships, paths, lists)."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            if isinstance(inner, (dict, list, tuple)):
                yield from _walk(inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _walk(inner)


def _internal(item: dict[str, Any], *names: str) -> str | None:
    """The database's internal id under any of ``names`` (LadybugDB: ``_ID``, ``_SRC``)."""
    for name in names:
        if name in item:
            value = item[name]
            return repr(sorted(value.items())) if isinstance(value, dict) else str(value)
    return None


_HEAD_KEYS = ("head", "_head", "_start")
_TAIL_KEYS = ("tail", "_tail", "_end")


def result_subgraph(result: QueryResult) -> Subgraph:
    """The entities and relationships found in a query's rows, for drawing.

    A cell counts as an entity when it is a mapping with ``id``, ``name`` and ``type``,
    and as a relationship when it names its endpoints by entity id (``head``/``tail``,
    ``_head``/``_tail`` or ``_start``/``_end``) or by the embedded store's internal
    ``_SRC``/``_DST``, resolved through the nodes' ``_ID``.
    """
    entities: dict[str, EntityRecord] = {}
    internal: dict[str, str] = {}
    raw_rels: list[dict[str, Any]] = []
    for row in result.rows:
        for cell in row.values():
            for item in _walk(cell):
                src = _internal(item, "_SRC", "_src")
                if {"id", "name", "type"} <= item.keys() and src is None:
                    eid = str(item["id"])
                    aliases = item.get("aliases") or ()
                    entities[eid] = EntityRecord(
                        id=eid, name=str(item["name"]), type=str(item["type"]),
                        aliases=tuple(aliases) if isinstance(aliases, (list, tuple)) else (),
                    )
                    own = _internal(item, "_ID", "_id")
                    if own is not None:
                        internal[own] = eid
                elif src is not None or any(h in item for h in _HEAD_KEYS):
                    raw_rels.append(item)
    relations: dict[str, RelationRecord] = {}
    for k, item in enumerate(raw_rels):
        head = next((item[k] for k in _HEAD_KEYS if item.get(k)), None) or internal.get(
            _internal(item, "_SRC", "_src") or "")
        tail = next((item[k] for k in _TAIL_KEYS if item.get(k)), None) or internal.get(
            _internal(item, "_DST", "_dst") or "")
        if head is None or tail is None:
            continue
        rel_type = (item.get("type") or item.get("_type") or item.get("_LABEL")
                    or item.get("_label") or "EXPOSED_TO")
        rid = str(item.get("id") or f"r{k}")
        amount = item.get("amount")
        relations[rid] = RelationRecord(
            id=rid, head=str(head), type=str(rel_type), tail=str(tail),
            document_id=str(item.get("document_id") or ""),
            confidence=float(item.get("confidence") or 0.0),
            amount=float(amount) if isinstance(amount, (int, float)) else None,
            currency=item.get("currency"),
        )
    return Subgraph(entities=tuple(entities.values()), relations=tuple(relations.values()))
