"""Project the knowledge graph onto an ``ExposureNetwork``, with provenance for every number.

Relations become the arrays the contagion models read:

- ``LENT_TO`` creditor -> debtor and ``DEPOSITED_WITH`` depositor -> platform become
  exposures (the head is the creditor);
- ``HOLDS`` holder -> token becomes a holding; ``ISSUED`` issuer -> token an issuer link;
- ``PLEDGED_COLLATERAL`` pledger -> token becomes a ``CollateralLoan`` whose lender is the
  relation's ``to`` or the creditor of a ``LENT_TO`` into the pledger;
- ``OWNS`` owner -> owned becomes an ownership link.

Negated statements are dropped; hedged ones are kept and marked. Where several
statements give one edge different amounts, the most recent (then the most confident)
wins and the others are kept as alternatives. Every number carries a :class:`Figure`
saying whether it was extracted (with the relation ids) or assumed (with the rule).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from extract._schema import load_relation_channels
from graph.assumptions import Assumption, AssumptionBook, default_assumptions, merge_assumptions
from graph.contagion._validate import require_choice
from graph.contagion.combined import Channels, OwnershipLink
from graph.contagion.montecarlo import Uncertainty
from graph.contagion.network import CollateralLoan, ExposureNetwork
from graph.store.base import EntityRecord, GraphDump, RelationRecord

__all__ = [
    "ASSET_TYPES",
    "CHANNEL_OF",
    "CHOICES",
    "NO_BALANCE_SHEET",
    "Figure",
    "Projection",
    "project",
    "ras_complete",
]

ASSET_TYPES = frozenset({"Token", "Stablecoin"})
#: kinds of entity that get no invented balance sheet (equity 0, provenance ``none``)
NO_BALANCE_SHEET = frozenset({"Person"})
PERSON_RULE = (
    "a person has no balance sheet here: takes part only through the holdings and loans "
    "the text states"
)
#: how one amount is chosen where statements of one edge disagree
CHOICES = ("latest", "largest", "smallest", "median")
#: fields that count towards the stated share of exposures
EXPOSURE_FIELDS = frozenset({"exposure", "deposit", "secured_loan", "holding"})
#: relation type -> contagion channel, generated from the ontology into
#: ``ontologies/relation_schema.json`` (a relation type without a channel carries no loss)
CHANNEL_OF: Mapping[str, str] = load_relation_channels()
_FINANCIAL = frozenset(CHANNEL_OF)
_NOT_NODES = frozenset({"Place"})


@dataclass(frozen=True)
class Figure:
    """One number of the projection and where it comes from.

    ``provenance`` is ``"extracted"`` (``relation_ids`` or an entity attribute state it),
    ``"assumed"`` (``rule`` says how it was set) or ``"none"`` (nothing is stated and
    nothing is invented: a person's equity). ``alternatives`` lists other
    stated values of the same edge as ``(value, relation_ids)``.
    """

    subject: str
    field: str
    value: float
    provenance: str
    relation_ids: tuple[str, ...] = ()
    rule: str = ""
    hedged: bool = False
    alternatives: tuple[tuple[float, tuple[str, ...]], ...] = ()

    @property
    def assumed(self) -> bool:
        """True when no text states this number."""
        return self.provenance == "assumed"

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "subject": self.subject,
            "field": self.field,
            "value": self.value,
            "provenance": self.provenance,
            "relation_ids": list(self.relation_ids),
            "rule": self.rule,
            "hedged": self.hedged,
            "alternatives": [{"value": v, "relation_ids": list(r)} for v, r in self.alternatives],
        }


@dataclass(frozen=True)
class Projection:
    """The network, the channel links, and the provenance of every number in them."""

    network: ExposureNetwork
    channels: Channels
    figures: tuple[Figure, ...]
    assumptions: tuple[Assumption, ...]
    names: Mapping[str, str]
    types: Mapping[str, str]
    ignored: tuple[tuple[str, str], ...] = ()
    equity_assumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    exposure_assumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    holding_assumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    loan_assumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    choice: str = "latest"
    exposure_presence: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def figure(self, subject: str, field_: str) -> Figure:
        """Return the figure for ``subject`` and ``field_`` (``KeyError`` if none)."""
        for f in self.figures:
            if f.subject == subject and f.field == field_:
                return f
        raise KeyError((subject, field_))

    def uncertainty(self) -> Uncertainty:
        """Masks of the assumed numbers, for :func:`graph.contagion.montecarlo.monte_carlo`."""
        return Uncertainty(
            self.equity_assumed,
            self.exposure_assumed,
            self.holding_assumed,
            self.loan_assumed,
            self.exposure_presence,
        )

    def assumed_figures(self) -> tuple[Figure, ...]:
        """Every number no text states."""
        return tuple(f for f in self.figures if f.assumed)

    def conflicts(self) -> tuple[Figure, ...]:
        """Figures whose statements disagree (each lists the amounts not chosen)."""
        return tuple(f for f in self.figures if f.alternatives)

    def stated_share(self) -> dict[str, float]:
        """Share of equity and of exposures (by value and by count) that the text states.

        ``equity`` and ``exposure`` are shares of the total value; ``equity_count`` and
        ``exposure_count`` shares of the numbers; ``stated`` and ``assumed`` count the
        figures of the two kinds. A person's equity (provenance ``none``) counts in neither.

        Examples
        --------
        >>> from graph.store.base import EntityRecord, RelationRecord
        >>> d = GraphDump(entities=(EntityRecord("a", "A", "Lender", equity=10.0),
        ...                         EntityRecord("b", "B", "Person")),
        ...               relations=(RelationRecord("r", "b", "LENT_TO", "a", "d", 0.9,
        ...                                         amount=4.0),))
        >>> s = project(d).stated_share()
        >>> s["equity"], s["exposure"]
        (1.0, 1.0)
        """
        out: dict[str, float] = {}
        for name, fields in (("equity", {"equity"}), ("exposure", EXPOSURE_FIELDS)):
            figs = [f for f in self.figures if f.field in fields and f.provenance != "none"]
            total = sum(f.value for f in figs)
            stated = [f for f in figs if not f.assumed]
            out[name] = sum(f.value for f in stated) / total if total > 0 else 0.0
            out[f"{name}_count"] = len(stated) / len(figs) if figs else 0.0
        out["stated"] = float(sum(1 for f in self.figures if f.provenance == "extracted"))
        out["assumed"] = float(len(self.assumed_figures()))
        return out


@dataclass
class _Edge:
    type: str
    head: str
    tail: str
    chosen: RelationRecord
    statements: list[RelationRecord]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.statements)

    @property
    def hedged(self) -> bool:
        return all(r.hedged for r in self.statements)

    def alternatives(self, attr: str) -> tuple[tuple[float, tuple[str, ...]], ...]:
        chosen = getattr(self.chosen, attr)
        seen: dict[float, list[str]] = defaultdict(list)
        for r in self.statements:
            v = getattr(r, attr)
            if v is not None and v != chosen:
                seen[float(v)].append(r.id)
        return tuple((v, tuple(ids)) for v, ids in seen.items())


def _pick(statements: list[RelationRecord], attr: str, choice: str = "latest") -> RelationRecord:
    """Return the winning statement.

    ``latest``: stated first, then most recent, then most confident; ``largest``,
    ``smallest`` and ``median`` (the lower of two middles) rank the stated amounts, ties
    broken as ``latest``.
    """

    def recency(r: RelationRecord) -> tuple[str, float, str]:
        return (r.date or "", r.confidence, r.id)

    stated = [r for r in statements if getattr(r, attr) is not None]
    if choice == "latest" or len(stated) < 2:
        return max(statements, key=lambda r: (getattr(r, attr) is not None, *recency(r)))
    ranked = sorted(stated, key=lambda r: (float(getattr(r, attr)), recency(r)))
    if choice == "largest":
        return ranked[-1]
    if choice == "smallest":
        return ranked[0]
    return ranked[(len(ranked) - 1) // 2]


def ras_complete(
    rows: np.ndarray,
    cols: np.ndarray,
    row_targets: Mapping[int, float],
    col_targets: Mapping[int, float],
    *,
    iterations: int = 500,
    tol: float = 1e-10,
) -> np.ndarray:
    r"""Spread known totals over edges of unknown amount by maximum entropy (RAS).

    Starting from equal amounts on the given pattern, rows and columns that have a
    target are rescaled in turn until their sums match (iterative proportional
    fitting); rows and columns without a target are left free.

    Parameters
    ----------
    rows, cols : ndarray of int
        Endpoints of the unknown edges (row = creditor, column = debtor).
    row_targets, col_targets : mapping
        Remaining total of a row or a column, where known.
    iterations : int
        Maximum sweeps.
    tol : float
        Stop when no amount changes by more than this fraction.

    Returns
    -------
    ndarray
        One amount per edge.

    Examples
    --------
    >>> ras_complete(np.array([0, 0]), np.array([1, 2]), {0: 10.0}, {}).tolist()
    [5.0, 5.0]

    Notes
    -----
    With only row or only column totals, this is the equal split of each total; with
    both it is the matrix closest to uniform (in relative entropy) with those margins.

    References
    ----------
    .. [1] C. Upper, "Simulation methods to assess the danger of contagion in interbank
       markets", Journal of Financial Stability 7(3), 111-125, 2011,
       doi:10.1016/j.jfs.2010.12.001.
    """
    x = np.ones(rows.size)
    if not rows.size:
        return x
    for _ in range(iterations):
        old = x.copy()
        for axis, targets in ((rows, row_targets), (cols, col_targets)):
            if not targets:
                continue
            sums = np.bincount(axis, weights=x, minlength=int(axis.max()) + 1)
            scale = np.ones_like(sums)
            for k, t in targets.items():
                if k < sums.size:
                    scale[k] = t / sums[k] if sums[k] > 0 else 0.0
            x = x * scale[axis]
        if np.all(np.abs(x - old) <= tol * np.maximum(np.abs(old), 1.0)):
            break
    return x


def _group(relations: Iterable[RelationRecord]) -> dict[tuple[str, str, str], list[RelationRecord]]:
    groups: dict[tuple[str, str, str], list[RelationRecord]] = defaultdict(list)
    for r in relations:
        groups[(r.type, r.head, r.tail)].append(r)
    return groups


_TOKEN_RELATIONS = ("HOLDS", "PLEDGED_COLLATERAL", "ISSUED")


@dataclass
class _Build:
    """What the projection steps share: the inputs, the running figures and the indexes."""

    book: AssumptionBook
    entities: dict[str, EntityRecord]
    choice: str = "latest"
    by_name: dict[str, str] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    edges: dict[str, list[_Edge]] = field(default_factory=lambda: defaultdict(list))
    overrides: dict[str, Assumption] = field(default_factory=dict)
    lender_of: dict[str, str] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    asset_ids: tuple[str, ...] = ()
    index: dict[str, int] = field(default_factory=dict)
    aindex: dict[str, int] = field(default_factory=dict)
    prices: np.ndarray = field(default_factory=lambda: np.ones(0))
    depth: np.ndarray = field(default_factory=lambda: np.ones(0))
    equity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    equity_assumed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def is_asset(self, id_: str) -> bool:
        ent = self.entities.get(id_)
        return ent is not None and ent.type in ASSET_TYPES

    def assumed(self, kind: str, target: str, fld: str) -> Assumption:
        row = self.book.lookup(kind, target, fld)
        if row is None:
            raise KeyError(f"no assumption for {kind} {target} {fld}")
        return row


@dataclass
class _Links:
    """Edge values of one matrix, with provenance flags, kinds and relation ids per pair."""

    value: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    assumed: dict[tuple[str, str], bool] = field(default_factory=dict)
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    relations: dict[tuple[str, str], tuple[str, ...]] = field(
        default_factory=lambda: defaultdict(tuple)
    )
    presence: dict[tuple[str, str], float] = field(default_factory=dict)

    def add(self, e: _Edge, amount: float, assumed: bool, kind: str = "") -> None:
        key = (e.head, e.tail)
        # an edge stated only in hedged sentences exists with its extraction confidence
        if e.hedged:
            conf = sum(r.confidence for r in e.statements) / len(e.statements)
            self.presence[key] = min(self.presence.get(key, conf), conf)
        else:
            self.presence[key] = 1.0
        self.value[key] += amount
        if assumed:
            self.assumed[key] = True
        else:
            self.assumed.setdefault(key, False)
        if kind:
            self.kinds[key] = kind if self.kinds.get(key, kind) == kind else "loan"
        self.relations[key] += e.ids


def _why_ignored(r: RelationRecord, b: _Build) -> str | None:
    """Return why a financial relation cannot enter the network, or ``None``."""
    ents = b.entities
    if r.negated:
        return "negated"
    if r.head == r.tail:
        return "self loop"
    if r.head not in ents or r.tail not in ents:
        return "endpoint not among the entities"
    if ents[r.head].type in _NOT_NODES or ents[r.tail].type in _NOT_NODES:
        return "endpoint is a place"
    if r.type in _TOKEN_RELATIONS and not b.is_asset(r.tail):
        return f"{r.type} tail '{r.tail}' is not a token"
    if r.type not in _TOKEN_RELATIONS and (b.is_asset(r.head) or b.is_asset(r.tail)):
        return f"{r.type} between a firm and a token"
    return None


def _step_edges(b: _Build, relations: Iterable[RelationRecord]) -> None:
    """Keep the financial relations that fit, group them into edges, pick one statement each."""
    kept: list[RelationRecord] = []
    for r in relations:
        if r.type not in _FINANCIAL:
            continue
        why = _why_ignored(r, b)
        if why is None:
            kept.append(r)
        else:
            b.ignored.append((r.id, why))
    for (type_, head, tail), stmts in sorted(_group(kept).items()):
        attr = "quantity" if type_ == "OWNS" else "amount"
        b.edges[type_].append(_Edge(type_, head, tail, _pick(stmts, attr, b.choice), stmts))


def _step_overrides(b: _Build) -> None:
    """Apply analyst overrides of single edges (kind ``relation``)."""
    for es in b.edges.values():
        for e in es:
            changes: dict[str, float] = {}
            for fld in ("amount", "quantity", "fraction"):
                row = b.book.get("relation", f"{e.type}:{e.head}->{e.tail}", fld) or next(
                    (r for r in (b.book.get("relation", rid, fld) for rid in e.ids) if r), None
                )
                if row is not None:
                    changes["quantity" if fld == "fraction" else fld] = row.value
                    for rid in e.ids:
                        b.overrides[rid] = row
            if changes:
                e.chosen = replace(e.chosen, **changes)  # type: ignore[arg-type]


def _step_nodes(b: _Build) -> None:
    """Fix the node and asset ids (a pledge's stated lender is a node too)."""
    assets: set[str] = set()
    nodes: set[str] = set()
    for type_, es in b.edges.items():
        for e in es:
            if type_ in _TOKEN_RELATIONS:
                nodes.add(e.head)
                assets.add(e.tail)
            else:
                nodes.update((e.head, e.tail))
    for e in b.edges["PLEDGED_COLLATERAL"]:
        to = e.chosen.to
        if to:
            resolved = to if to in b.entities else b.by_name.get(to.casefold())
            if resolved and not b.is_asset(resolved) and resolved != e.head:
                b.lender_of[e.chosen.id] = resolved
                nodes.add(resolved)
    b.ids = tuple(sorted(nodes))
    b.asset_ids = tuple(sorted(assets))
    b.index = {id_: i for i, id_ in enumerate(b.ids)}
    b.aindex = {a: k for k, a in enumerate(b.asset_ids)}


def _step_prices(b: _Build) -> None:
    """Market channel inputs: each token's starting price and market depth."""
    m = len(b.asset_ids)
    b.prices, b.depth = np.ones(m), np.ones(m)
    for a, k in b.aindex.items():
        pr = b.assumed("token", a, "price")
        dp = b.assumed("token", a, "depth")
        b.prices[k], b.depth[k] = pr.value, dp.value
        b.figures.append(Figure(a, "price", pr.value, "assumed", rule=pr.rule))
        b.figures.append(Figure(a, "depth", dp.value, "assumed", rule=dp.rule))


def _equity_of(b: _Build, ent: EntityRecord) -> Figure:
    """Return the equity figure of one node: override, stated, from total assets, person, kind."""
    override = b.book.get("entity", ent.id, "equity")
    if override is not None:
        return Figure(ent.id, "equity", override.value, "assumed", rule=override.rule)
    if ent.equity is not None:
        src = f"entity attribute ({ent.attr_source})" if ent.attr_source else ""
        return Figure(ent.id, "equity", float(ent.equity), "extracted", rule=src)
    if ent.total_assets is not None:
        ratio = b.assumed("entity_type", ent.type, "equity_ratio")
        rule = f"{ratio.rule}; stated total assets {ent.total_assets:,.0f}"
        return Figure(ent.id, "equity", ent.total_assets * ratio.value, "assumed", rule=rule)
    if ent.type in NO_BALANCE_SHEET:
        return Figure(ent.id, "equity", 0.0, "none", rule=PERSON_RULE)
    row = b.assumed("entity_type", ent.type, "equity")
    return Figure(ent.id, "equity", row.value, "assumed", rule=row.rule)


def _step_equity(b: _Build) -> None:
    """Equity of every node, stated before assumed; a person gets none."""
    n = len(b.ids)
    b.equity, b.equity_assumed = np.zeros(n), np.zeros(n, dtype=bool)
    for id_, i in b.index.items():
        fig = _equity_of(b, b.entities[id_])
        b.equity[i] = fig.value
        b.equity_assumed[i] = fig.assumed
        b.figures.append(fig)


@dataclass
class _Collateral:
    """Collateral channel output: the loans and what they take from the other channels."""

    loans: list[CollateralLoan] = field(default_factory=list)
    assumed: list[bool] = field(default_factory=list)
    secured: set[tuple[str, str]] = field(default_factory=set)
    pledged_value: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))


def _pledge_lenders(
    b: _Build, lent_into: Mapping[str, list[_Edge]]
) -> list[tuple[_Edge, list[str], bool]]:
    """Which lenders each pledge secures: the stated ``to``, else the pledger's lenders.

    Among the pledger's lenders, those whose loan names the token win; the flag is True
    when exactly one lender is secured.
    """
    secures: list[tuple[_Edge, list[str], bool]] = []
    for e in b.edges["PLEDGED_COLLATERAL"]:
        stated = b.lender_of.get(e.chosen.id)
        if stated is not None:
            secures.append((e, [stated], True))
            continue
        candidates = [x.head for x in lent_into[e.head] if x.head != e.head]
        matching = [x.head for x in lent_into[e.head] if (x.chosen.asset or "") == e.tail]
        lenders = sorted(set(matching or candidates))
        if not lenders:
            b.ignored.extend((rid, "pledge with no lender stated or inferable") for rid in e.ids)
            continue
        secures.append((e, lenders, len(lenders) == 1))
    return secures


def _secured_amount(
    b: _Build, e: _Edge, loan_edge: _Edge | None, k: int, single: bool
) -> tuple[float, bool, str]:
    """Amount of one secured loan: the stated loan, the pledge's value, else the default."""
    ratio = b.assumed("relation_type", "PLEDGED_COLLATERAL", "collateral_ratio")
    split = f"; split over the {k} pledges securing it" if k > 1 else ""
    if loan_edge is not None and loan_edge.chosen.amount is not None:
        return float(loan_edge.chosen.amount) / k, k > 1, (f"stated loan{split}" if k > 1 else "")
    if e.chosen.amount is not None and single:
        return (
            float(e.chosen.amount) / ratio.value,
            True,
            f"stated collateral value divided by: {ratio.rule}",
        )
    row = b.assumed("relation_type", "LENT_TO" if loan_edge else "PLEDGED_COLLATERAL", "amount")
    return row.value / k, True, row.rule + split


def _pledge_quantity(b: _Build, e: _Edge, total: float, price: float) -> tuple[float, str, str]:
    """Units pledged: stated, from the stated value, else from the loans and the ratio."""
    if e.chosen.quantity is not None:
        return float(e.chosen.quantity), "extracted", ""
    if e.chosen.amount is not None:
        return (
            float(e.chosen.amount) / price,
            "extracted",
            "stated value divided by the token price",
        )
    ratio = b.assumed("relation_type", "PLEDGED_COLLATERAL", "collateral_ratio")
    return total * ratio.value / price, "assumed", ratio.rule


def _one_pledge(
    b: _Build,
    out: _Collateral,
    e: _Edge,
    lenders: list[str],
    single: bool,
    lent_into: Mapping[str, list[_Edge]],
    per_loan: Mapping[tuple[str, str], int],
) -> None:
    """Turn one pledge into the collateralised loans it secures."""
    pledger, token = e.head, e.tail
    price = float(b.prices[b.aindex[token]])
    parts: list[tuple[str, float, bool, _Edge | None, str]] = []
    for lender in lenders:
        loan_edge = next((x for x in lent_into[pledger] if x.head == lender), None)
        amount, is_assumed, rule = _secured_amount(
            b, e, loan_edge, per_loan[(lender, pledger)], single
        )
        if loan_edge is not None:
            out.secured.add((lender, pledger))
        parts.append((lender, amount, is_assumed, loan_edge, rule))
    total = sum(p[1] for p in parts)
    qty_total, qty_prov, qty_rule = _pledge_quantity(b, e, total, price)
    b.figures.append(
        Figure(
            f"{pledger}:{token}",
            "collateral_quantity",
            qty_total,
            qty_prov,
            e.ids,
            rule=qty_rule,
            hedged=e.hedged,
            alternatives=e.alternatives("quantity"),
        )
    )
    for lender, amount, is_assumed, loan_edge, rule in parts:
        share = amount / total if total > 0 else 1.0 / len(parts)
        rel_ids = e.ids + (loan_edge.ids if loan_edge else ())
        if not single:
            is_assumed = True
            rule = (
                "pledge names no lender: collateral split among the pledger's lenders "
                "in proportion to their loans" + (f"; {rule}" if rule else "")
            )
        b.figures.append(
            Figure(
                f"{lender}->{pledger}",
                "secured_loan",
                amount,
                "assumed" if is_assumed else "extracted",
                rel_ids,
                rule=rule,
                hedged=e.hedged or bool(loan_edge and loan_edge.hedged),
            )
        )
        out.loans.append(CollateralLoan(lender, pledger, amount, token, qty_total * share, rel_ids))
        out.assumed.append(is_assumed or qty_prov == "assumed")
    out.pledged_value[(pledger, token)] += qty_total * price


def _step_collateral(b: _Build) -> _Collateral:
    """Collateral channel: pledges become collateralised loans (claiming the loans they secure)."""
    lent_into: dict[str, list[_Edge]] = defaultdict(list)
    for e in b.edges["LENT_TO"]:
        lent_into[e.tail].append(e)
    secures = _pledge_lenders(b, lent_into)
    per_loan: dict[tuple[str, str], int] = defaultdict(int)
    for e, lenders, _ in secures:
        for lender in lenders:
            per_loan[(lender, e.head)] += 1
    out = _Collateral()
    for e, lenders, single in secures:
        _one_pledge(b, out, e, lenders, single, lent_into, per_loan)
    return out


_TOTALS_FIELD = {
    "LENT_TO": ("lent_total", "borrowed_total"),
    "DEPOSITED_WITH": ("deposits_placed", "deposits"),
}


def _stated_totals(
    b: _Build, type_: str, known_row: Mapping[str, float], known_col: Mapping[str, float]
) -> tuple[dict[int, float], dict[int, float], dict[tuple[str, int], str]]:
    """Remaining row and column totals stated (or set) for the RAS completion."""
    row_t: dict[int, float] = {}
    col_t: dict[int, float] = {}
    notes: dict[tuple[str, int], str] = {}
    for axis, fld, known, targets in (
        (0, _TOTALS_FIELD[type_][0], known_row, row_t),
        (1, _TOTALS_FIELD[type_][1], known_col, col_t),
    ):
        for id_, i in b.index.items():
            given = b.book.get("entity", id_, fld)
            if given is not None:
                stated, why = given.value, f"{fld} {given.value:,.0f} ({given.rule})"
            elif fld == "deposits" and b.entities[id_].deposits is not None:
                stated = float(b.entities[id_].deposits or 0.0)
                why = f"stated deposits {stated:,.0f}"
            else:
                continue
            targets[i] = max(stated - known.get(id_, 0.0), 0.0)
            notes[(id_, axis)] = why
    return row_t, col_t, notes


def _exposure_type(b: _Build, links: _Links, type_: str, secured: set[tuple[str, str]]) -> None:
    """Credit channel, one relation type: stated amounts, then RAS from totals, then defaults."""
    kind = "loan" if type_ == "LENT_TO" else "deposit"
    label = "exposure" if kind == "loan" else "deposit"
    unknown: list[_Edge] = []
    known_row: dict[str, float] = defaultdict(float)
    known_col: dict[str, float] = defaultdict(float)
    for e in b.edges[type_]:
        if type_ == "LENT_TO" and (e.head, e.tail) in secured:
            continue
        if e.chosen.amount is None:
            unknown.append(e)
            continue
        amt = float(e.chosen.amount)
        known_row[e.head] += amt
        known_col[e.tail] += amt
        links.add(e, amt, False, kind)
        b.figures.append(
            Figure(
                f"{e.head}->{e.tail}",
                label,
                amt,
                "extracted",
                e.ids,
                hedged=e.hedged,
                alternatives=e.alternatives("amount"),
            )
        )
    row_t, col_t, notes = _stated_totals(b, type_, known_row, known_col)
    touches = [e for e in unknown if b.index[e.head] in row_t or b.index[e.tail] in col_t]
    if touches:
        fitted = ras_complete(
            np.array([b.index[e.head] for e in touches]),
            np.array([b.index[e.tail] for e in touches]),
            row_t,
            col_t,
        )
        for j, e in enumerate(touches):
            basis = [notes[(x, a)] for x, a in ((e.head, 0), (e.tail, 1)) if (x, a) in notes]
            rule = (
                "max-entropy (RAS) completion of the unstated amounts from "
                + "; ".join(basis)
                + " less the stated ones"
            )
            links.add(e, float(fitted[j]), True, kind)
            b.figures.append(
                Figure(
                    f"{e.head}->{e.tail}",
                    label,
                    float(fitted[j]),
                    "assumed",
                    e.ids,
                    rule=rule,
                    hedged=e.hedged,
                )
            )
    default = b.assumed("relation_type", type_, "amount")
    for e in unknown:
        if e not in touches:
            links.add(e, default.value, True, kind)
            b.figures.append(
                Figure(
                    f"{e.head}->{e.tail}",
                    label,
                    default.value,
                    "assumed",
                    e.ids,
                    rule=default.rule,
                    hedged=e.hedged,
                )
            )


def _step_credit(b: _Build, secured: set[tuple[str, str]]) -> _Links:
    """Credit channel: loans and deposits not secured by a pledge become exposures."""
    links = _Links()
    for type_ in ("LENT_TO", "DEPOSITED_WITH"):
        _exposure_type(b, links, type_, secured)
    return links


def _step_holdings(b: _Build, pledged_value: Mapping[tuple[str, str], float]) -> _Links:
    """Market channel: token positions valued at the starting price (pledged ones included)."""
    links = _Links()
    for e in b.edges["HOLDS"]:
        price = b.prices[b.aindex[e.tail]]
        if e.chosen.amount is not None:
            val, prov, rule = float(e.chosen.amount), "extracted", ""
        elif e.chosen.quantity is not None:
            val, prov = float(e.chosen.quantity) * price, "extracted"
            rule = "stated quantity times the token price"
        else:
            row = b.assumed("relation_type", "HOLDS", "amount")
            val, prov, rule = row.value, "assumed", row.rule
        links.add(e, val, prov == "assumed")
        links.assumed[(e.head, e.tail)] = prov == "assumed"
        b.figures.append(
            Figure(
                f"{e.head}:{e.tail}",
                "holding",
                val,
                prov,
                e.ids,
                rule=rule,
                hedged=e.hedged,
                alternatives=e.alternatives("amount"),
            )
        )
    for key, value in pledged_value.items():
        if links.value.get(key, 0.0) < value:
            extra = value - links.value.get(key, 0.0)
            links.value[key] = value
            links.assumed[key] = True
            b.figures.append(
                Figure(
                    f"{key[0]}:{key[1]}",
                    "holding",
                    extra,
                    "assumed",
                    rule="pledged collateral counts as held by the pledger",
                )
            )
    return links


def _step_ownership(b: _Build) -> tuple[OwnershipLink, ...]:
    """Ownership channel: stated stakes, else the documented fraction."""
    out: list[OwnershipLink] = []
    for e in b.edges["OWNS"]:
        q = e.chosen.quantity
        if q is not None and 0.0 < q <= 1.0:
            frac = float(q)
            b.figures.append(
                Figure(
                    f"{e.head}->{e.tail}", "ownership", frac, "extracted", e.ids, hedged=e.hedged
                )
            )
        else:
            row = b.assumed("relation_type", "OWNS", "fraction")
            frac = row.value
            b.figures.append(
                Figure(
                    f"{e.head}->{e.tail}",
                    "ownership",
                    frac,
                    "assumed",
                    e.ids,
                    rule=row.rule,
                    hedged=e.hedged,
                )
            )
        out.append(OwnershipLink(e.head, e.tail, frac, e.ids))
    return tuple(out)


def _step_issuers(b: _Build) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Issuer reflexivity: one issuer per token (a second is ignored and said so)."""
    issuers: dict[str, str] = {}
    relations: dict[str, tuple[str, ...]] = {}
    for e in b.edges["ISSUED"]:
        if e.tail in issuers:
            b.ignored.extend((rid, f"second issuer of '{e.tail}'") for rid in e.ids)
            continue
        issuers[e.tail] = e.head
        relations[e.tail] = e.ids
    return issuers, relations


def _matrix(
    values: Mapping[tuple[str, str], float],
    rows_: Mapping[str, int],
    cols_: Mapping[str, int],
    shape: tuple[int, int],
) -> sp.csr_array:
    keys = sorted(values)
    r = np.array([rows_[a] for a, _ in keys], dtype=np.int64)
    c = np.array([cols_[b] for _, b in keys], dtype=np.int64)
    v = np.array([values[k] for k in keys], dtype=float)
    return sp.csr_array((v, (r, c)), shape=shape)


def _mask(
    flags: Mapping[tuple[str, str], bool],
    mat: sp.csr_array,
    rows_: Sequence[str],
    cols_: Sequence[str],
) -> np.ndarray:
    out = np.zeros(mat.nnz, dtype=bool)
    for i in range(mat.shape[0]):
        for pos in range(int(mat.indptr[i]), int(mat.indptr[i + 1])):
            out[pos] = flags.get((rows_[i], cols_[int(mat.indices[pos])]), False)
    return out


def _aligned(
    values: Mapping[tuple[str, str], float], mat: sp.csr_array, ids: Sequence[str]
) -> np.ndarray:
    """Per stored entry of ``mat``, the value of its pair (1.0 where none is given)."""
    out = np.ones(mat.nnz)
    for i in range(mat.shape[0]):
        for pos in range(int(mat.indptr[i]), int(mat.indptr[i + 1])):
            out[pos] = values.get((ids[i], ids[int(mat.indices[pos])]), 1.0)
    return out


def _overridden(b: _Build) -> list[Figure]:
    """Mark figures whose statements an analyst overrode as assumed, with the rule."""
    if not b.overrides:
        return b.figures
    return [
        replace(
            f,
            provenance="assumed",
            rule=next(b.overrides[r].rule for r in f.relation_ids if r in b.overrides),
        )
        if f.provenance == "extracted" and any(r in b.overrides for r in f.relation_ids)
        else f
        for f in b.figures
    ]


def project(
    dump: GraphDump,
    assumptions: Sequence[Assumption] | None = None,
    *,
    use_defaults: bool = True,
    choice: str = "latest",
) -> Projection:
    """Build the exposure network of a graph, filling gaps from documented assumptions.

    Parameters
    ----------
    dump : GraphDump
        Entities, relations and documents (``store.dump()``).
    assumptions : sequence of Assumption, optional
        Rows that override the defaults (same ``kind, target, field``) or add to them.
    use_defaults : bool
        Start from ``ontologies/assumptions.csv`` (default) or from ``assumptions`` only.
    choice : {"latest", "largest", "smallest", "median"}
        Which amount wins where several statements give one edge different amounts
        (the others stay as ``alternatives`` and are listed as conflicts).

    Returns
    -------
    Projection
        The network, ownership and relation ids per edge, and a ``Figure`` for every
        equity, exposure, holding, loan and price.

    Notes
    -----
    The steps run one channel at a time: the edges (statements grouped and one chosen),
    analyst overrides, the nodes, prices (market), equity, collateral, credit (loans
    and deposits), holdings (market), ownership and issuers. Amounts come, in order,
    from an analyst override (kind ``relation``), the statement chosen among several, a
    maximum-entropy (RAS) completion from stated totals (``deposits`` of a platform,
    ``lent_total``/``borrowed_total``/``deposits_placed`` rows of kind ``entity``), and
    last the per-kind default. Equity comes from an override, the entity's stated equity,
    stated total assets times ``equity_ratio``, or the default of its kind; a person gets
    no balance sheet (equity 0, provenance ``none``) and takes part only through the
    positions the text states. A pledge without a named lender secures every loan into
    the pledger (those naming the token if any), split in proportion to the loans; a
    ``LENT_TO`` secured by a pledge becomes a collateralised loan and leaves the exposure
    matrix. External assets follow the balance sheet identity with no outside
    liabilities (used by the clearing models only).

    Examples
    --------
    >>> from graph.store.base import EntityRecord, RelationRecord
    >>> dump = GraphDump(
    ...     entities=(EntityRecord("a", "A", "Lender", equity=10.0),
    ...               EntityRecord("b", "B", "TradingFirm")),
    ...     relations=(RelationRecord("r1", "a", "LENT_TO", "b", "d1", 0.9, amount=4.0),))
    >>> p = project(dump)
    >>> p.network.ids, p.figure("a->b", "exposure").provenance
    (('a', 'b'), 'extracted')
    >>> p.figure("b", "equity").provenance
    'assumed'
    """
    require_choice("statement choice", choice, CHOICES)
    rows = merge_assumptions(default_assumptions() if use_defaults else (), assumptions or ())
    b = _Build(AssumptionBook(rows), {e.id: e for e in dump.entities}, choice)
    for ent in dump.entities:
        for label in (ent.id, ent.name, *ent.aliases):
            b.by_name.setdefault(label.casefold(), ent.id)
    _step_edges(b, dump.relations)
    _step_overrides(b)
    _step_nodes(b)
    _step_prices(b)
    _step_equity(b)
    coll = _step_collateral(b)
    credit = _step_credit(b, coll.secured)
    held = _step_holdings(b, coll.pledged_value)
    ownership = _step_ownership(b)
    issuers, issuer_rel = _step_issuers(b)
    n, m = len(b.ids), len(b.asset_ids)
    a_mat = _matrix(credit.value, b.index, b.index, (n, n))
    h_mat = _matrix(held.value, b.index, b.aindex, (n, m))
    ext_assets = np.maximum(b.equity + a_mat.sum(axis=0) - a_mat.sum(axis=1), 0.0)
    total = float(b.equity.sum())
    network = ExposureNetwork(
        ids=b.ids,
        equity=b.equity,
        exposures=a_mat,
        external_assets=np.asarray(ext_assets, dtype=float),
        external_liabilities=np.zeros(n),
        weight=b.equity / total if total > 0 else np.zeros(n),
        asset_ids=b.asset_ids,
        holdings=h_mat,
        prices=b.prices,
        depth=b.depth,
        loans=tuple(coll.loans),
        issuers=issuers,
    )
    channels = Channels(
        ownership=ownership,
        exposure_kinds=dict(credit.kinds),
        exposure_relations=dict(credit.relations),
        holding_relations=dict(held.relations),
        issuer_relations=issuer_rel,
    )
    return Projection(
        network=network,
        channels=channels,
        figures=tuple(_overridden(b)),
        assumptions=tuple(b.book.rows),
        names={x.id: x.name for x in dump.entities},
        types={x.id: x.type for x in dump.entities},
        ignored=tuple(b.ignored),
        equity_assumed=b.equity_assumed,
        exposure_assumed=_mask(credit.assumed, a_mat, b.ids, b.ids),
        holding_assumed=_mask(held.assumed, h_mat, b.ids, b.asset_ids),
        loan_assumed=np.array(coll.assumed, dtype=bool),
        choice=choice,
        exposure_presence=_aligned(credit.presence, a_mat, b.ids),
    )
