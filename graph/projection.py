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

from graph.assumptions import Assumption, AssumptionBook, default_assumptions, merge_assumptions
from graph.contagion.combined import Channels, OwnershipLink
from graph.contagion.montecarlo import Uncertainty
from graph.contagion.network import CollateralLoan, ExposureNetwork
from graph.store.base import EntityRecord, GraphDump, RelationRecord

__all__ = ["ASSET_TYPES", "Figure", "Projection", "project", "ras_complete"]

ASSET_TYPES = frozenset({"Token", "Stablecoin"})
_FINANCIAL = ("LENT_TO", "DEPOSITED_WITH", "HOLDS", "PLEDGED_COLLATERAL", "OWNS", "ISSUED")
_NOT_NODES = frozenset({"Place"})


@dataclass(frozen=True)
class Figure:
    """One number of the projection and where it comes from.

    ``provenance`` is ``"extracted"`` (``relation_ids`` or an entity attribute state it)
    or ``"assumed"`` (``rule`` says how it was set). ``alternatives`` lists other
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

    def figure(self, subject: str, field_: str) -> Figure:
        """Return the figure for ``subject`` and ``field_`` (``KeyError`` if none)."""
        for f in self.figures:
            if f.subject == subject and f.field == field_:
                return f
        raise KeyError((subject, field_))

    def uncertainty(self) -> Uncertainty:
        """Masks of the assumed numbers, for :func:`graph.contagion.montecarlo.monte_carlo`."""
        return Uncertainty(
            self.equity_assumed, self.exposure_assumed, self.holding_assumed, self.loan_assumed
        )

    def assumed_figures(self) -> tuple[Figure, ...]:
        """Every number no text states."""
        return tuple(f for f in self.figures if f.assumed)


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


def _pick(statements: list[RelationRecord], attr: str) -> RelationRecord:
    """Return the winning statement: stated first, then most recent, then most confident."""
    return max(
        statements,
        key=lambda r: (getattr(r, attr) is not None, r.date or "", r.confidence, r.id),
    )


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


def project(
    dump: GraphDump,
    assumptions: Sequence[Assumption] | None = None,
    *,
    use_defaults: bool = True,
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

    Returns
    -------
    Projection
        The network, ownership and relation ids per edge, and a ``Figure`` for every
        equity, exposure, holding, loan and price.

    Notes
    -----
    Amounts come, in order, from an analyst override (kind ``relation``), the statement
    chosen among several (stated, then most recent, then most confident), a
    maximum-entropy (RAS) completion from stated totals (``deposits`` of a platform,
    ``lent_total``/``borrowed_total``/``deposits_placed`` rows of kind ``entity``), and
    last the per-kind default. Equity comes from an override, the entity's stated equity,
    stated total assets times ``equity_ratio``, or the default of its kind. A pledge
    without a named lender secures every loan into the pledger (those naming the token if
    any), split in proportion to the loans; a ``LENT_TO`` secured by a pledge becomes a
    collateralised loan and leaves the exposure matrix. External assets follow the balance
    sheet identity with no outside liabilities (used by the clearing models only).

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
    rows = merge_assumptions(default_assumptions() if use_defaults else (), assumptions or ())
    book = AssumptionBook(rows)
    entities: dict[str, EntityRecord] = {e.id: e for e in dump.entities}
    by_name: dict[str, str] = {}
    for ent in dump.entities:
        for label in (ent.id, ent.name, *ent.aliases):
            by_name.setdefault(label.casefold(), ent.id)
    ignored: list[tuple[str, str]] = []
    figures: list[Figure] = []

    def is_asset(id_: str) -> bool:
        ent = entities.get(id_)
        return ent is not None and ent.type in ASSET_TYPES

    kept: list[RelationRecord] = []
    for r in dump.relations:
        if r.type not in _FINANCIAL:
            continue
        if r.negated:
            ignored.append((r.id, "negated"))
        elif r.head == r.tail:
            ignored.append((r.id, "self loop"))
        elif r.head not in entities or r.tail not in entities:
            ignored.append((r.id, "endpoint not among the entities"))
        elif entities[r.head].type in _NOT_NODES or entities[r.tail].type in _NOT_NODES:
            ignored.append((r.id, "endpoint is a place"))
        elif r.type in ("HOLDS", "PLEDGED_COLLATERAL", "ISSUED") and not is_asset(r.tail):
            ignored.append((r.id, f"{r.type} tail '{r.tail}' is not a token"))
        elif r.type not in ("HOLDS", "PLEDGED_COLLATERAL", "ISSUED") and (
            is_asset(r.head) or is_asset(r.tail)
        ):
            ignored.append((r.id, f"{r.type} between a firm and a token"))
        else:
            kept.append(r)

    groups = _group(kept)
    edges: dict[str, list[_Edge]] = defaultdict(list)
    for (type_, head, tail), stmts in sorted(groups.items()):
        attr = "quantity" if type_ == "OWNS" else "amount"
        edges[type_].append(_Edge(type_, head, tail, _pick(stmts, attr), stmts))

    # analyst overrides of single edges: kind `relation`, target a relation id or
    # TYPE:head->tail; fields amount, quantity (OWNS: fraction)
    overrides: dict[str, Assumption] = {}
    for es in edges.values():
        for e in es:
            changes: dict[str, float] = {}
            for fld in ("amount", "quantity", "fraction"):
                row = book.get("relation", f"{e.type}:{e.head}->{e.tail}", fld) or next(
                    (r for r in (book.get("relation", rid, fld) for rid in e.ids) if r), None
                )
                if row is not None:
                    changes["quantity" if fld == "fraction" else fld] = row.value
                    for rid in e.ids:
                        overrides[rid] = row
            if changes:
                e.chosen = replace(e.chosen, **changes)  # type: ignore[arg-type]

    # nodes and assets
    assets: set[str] = set()
    nodes: set[str] = set()
    for type_, es in edges.items():
        for e in es:
            if type_ in ("HOLDS", "PLEDGED_COLLATERAL", "ISSUED"):
                nodes.add(e.head)
                assets.add(e.tail)
            else:
                nodes.update((e.head, e.tail))
    lender_of: dict[str, str] = {}
    for e in edges["PLEDGED_COLLATERAL"]:
        to = e.chosen.to
        if to:
            resolved = to if to in entities else by_name.get(to.casefold())
            if resolved and not is_asset(resolved) and resolved != e.head:
                lender_of[e.chosen.id] = resolved
                nodes.add(resolved)
    ids = tuple(sorted(nodes))
    asset_ids = tuple(sorted(assets))
    index = {id_: i for i, id_ in enumerate(ids)}
    aindex = {a: k for k, a in enumerate(asset_ids)}
    n, m = len(ids), len(asset_ids)

    def assumed(kind: str, target: str, fld: str) -> Assumption:
        row = book.lookup(kind, target, fld)
        if row is None:
            raise KeyError(f"no assumption for {kind} {target} {fld}")
        return row

    # prices and depths
    prices = np.ones(m)
    depth = np.ones(m)
    for a, k in aindex.items():
        pr = assumed("token", a, "price")
        dp = assumed("token", a, "depth")
        prices[k], depth[k] = pr.value, dp.value
        figures.append(Figure(a, "price", pr.value, "assumed", rule=pr.rule))
        figures.append(Figure(a, "depth", dp.value, "assumed", rule=dp.rule))

    # equity
    equity = np.zeros(n)
    equity_assumed = np.zeros(n, dtype=bool)
    for id_, i in index.items():
        ent = entities[id_]
        override = book.get("entity", id_, "equity")
        if override is not None:
            equity[i] = override.value
            equity_assumed[i] = True
            figures.append(Figure(id_, "equity", override.value, "assumed", rule=override.rule))
        elif ent.equity is not None:
            equity[i] = ent.equity
            src = f"entity attribute ({ent.attr_source})" if ent.attr_source else ""
            figures.append(Figure(id_, "equity", float(ent.equity), "extracted", rule=src))
        elif ent.total_assets is not None:
            ratio = assumed("entity_type", ent.type, "equity_ratio")
            equity[i] = ent.total_assets * ratio.value
            equity_assumed[i] = True
            rule = f"{ratio.rule}; stated total assets {ent.total_assets:,.0f}"
            figures.append(Figure(id_, "equity", float(equity[i]), "assumed", rule=rule))
        else:
            row = assumed("entity_type", ent.type, "equity")
            equity[i] = row.value
            equity_assumed[i] = True
            figures.append(Figure(id_, "equity", row.value, "assumed", rule=row.rule))

    # collateralised loans (they claim the LENT_TO they secure)
    lent_into: dict[str, list[_Edge]] = defaultdict(list)
    for e in edges["LENT_TO"]:
        lent_into[e.tail].append(e)
    secured: set[tuple[str, str]] = set()
    loans: list[CollateralLoan] = []
    loan_assumed: list[bool] = []
    pledged_value: dict[tuple[str, str], float] = defaultdict(float)
    ratio = assumed("relation_type", "PLEDGED_COLLATERAL", "collateral_ratio")
    # which lenders each pledge secures: the stated `to`, else the pledger's lenders
    # (those whose loan names the token, else all of them)
    secures: list[tuple[_Edge, list[str], bool]] = []
    for e in edges["PLEDGED_COLLATERAL"]:
        candidates = [x.head for x in lent_into[e.head] if x.head != e.head]
        stated = lender_of.get(e.chosen.id)
        if stated is not None:
            secures.append((e, [stated], True))
            continue
        matching = [x.head for x in lent_into[e.head] if (x.chosen.asset or "") == e.tail]
        lenders = matching or candidates
        if not lenders:
            ignored.extend((rid, "pledge with no lender stated or inferable") for rid in e.ids)
            continue
        secures.append((e, sorted(set(lenders)), len(set(lenders)) == 1))
    pledges_per_loan: dict[tuple[str, str], int] = defaultdict(int)
    for e, lenders, _ in secures:
        for lender in lenders:
            pledges_per_loan[(lender, e.head)] += 1
    for e, lenders, single in secures:
        pledger, token = e.head, e.tail
        price = prices[aindex[token]]
        parts: list[tuple[str, float, bool, _Edge | None, str]] = []
        for lender in lenders:
            loan_edge = next((x for x in lent_into[pledger] if x.head == lender), None)
            k = pledges_per_loan[(lender, pledger)]
            split = f"; split over the {k} pledges securing it" if k > 1 else ""
            if loan_edge is not None and loan_edge.chosen.amount is not None:
                amount, is_assumed = float(loan_edge.chosen.amount) / k, k > 1
                rule = f"stated loan{split}" if k > 1 else ""
            elif e.chosen.amount is not None and single:
                amount, is_assumed = float(e.chosen.amount) / ratio.value, True
                rule = f"stated collateral value divided by: {ratio.rule}"
            else:
                row = assumed("relation_type", "LENT_TO" if loan_edge else
                              "PLEDGED_COLLATERAL", "amount")
                amount, is_assumed, rule = row.value / k, True, row.rule + split
            if loan_edge is not None:
                secured.add((lender, pledger))
            parts.append((lender, amount, is_assumed, loan_edge, rule))
        total = sum(p[1] for p in parts)
        if e.chosen.quantity is not None:
            qty_total, qty_prov, qty_rule = float(e.chosen.quantity), "extracted", ""
        elif e.chosen.amount is not None:
            qty_total, qty_prov = float(e.chosen.amount) / price, "extracted"
            qty_rule = "stated value divided by the token price"
        else:
            qty_total, qty_prov, qty_rule = total * ratio.value / price, "assumed", ratio.rule
        figures.append(Figure(f"{pledger}:{token}", "collateral_quantity", qty_total, qty_prov,
                              e.ids, rule=qty_rule, hedged=e.hedged,
                              alternatives=e.alternatives("quantity")))
        for lender, amount, is_assumed, loan_edge, rule in parts:
            share = amount / total if total > 0 else 1.0 / len(parts)
            rel_ids = e.ids + (loan_edge.ids if loan_edge else ())
            if not single:
                is_assumed = True
                rule = ("pledge names no lender: collateral split among the pledger's lenders "
                        "in proportion to their loans" + (f"; {rule}" if rule else ""))
            figures.append(Figure(f"{lender}->{pledger}", "secured_loan", amount,
                                  "assumed" if is_assumed else "extracted", rel_ids, rule=rule,
                                  hedged=e.hedged or bool(loan_edge and loan_edge.hedged)))
            loans.append(CollateralLoan(lender, pledger, amount, token, qty_total * share,
                                        rel_ids))
            loan_assumed.append(is_assumed or qty_prov == "assumed")
        pledged_value[(pledger, token)] += qty_total * price

    # exposures: stated amounts, then RAS from totals, then per-kind defaults
    exposure: dict[tuple[str, str], float] = defaultdict(float)
    exp_assumed: dict[tuple[str, str], bool] = {}
    kinds: dict[tuple[str, str], str] = {}
    exp_rel: dict[tuple[str, str], tuple[str, ...]] = defaultdict(tuple)
    totals_field = {"LENT_TO": ("lent_total", "borrowed_total"),
                    "DEPOSITED_WITH": ("deposits_placed", "deposits")}
    for type_ in ("LENT_TO", "DEPOSITED_WITH"):
        kind = "loan" if type_ == "LENT_TO" else "deposit"
        unknown: list[_Edge] = []
        known_row: dict[str, float] = defaultdict(float)
        known_col: dict[str, float] = defaultdict(float)
        for e in edges[type_]:
            if type_ == "LENT_TO" and (e.head, e.tail) in secured:
                continue
            key = (e.head, e.tail)
            if e.chosen.amount is None:
                unknown.append(e)
                continue
            amt = float(e.chosen.amount)
            known_row[e.head] += amt
            known_col[e.tail] += amt
            exposure[key] += amt
            exp_assumed.setdefault(key, False)
            kinds[key] = kind if key not in kinds or kinds[key] == kind else "loan"
            exp_rel[key] += e.ids
            figures.append(Figure(f"{e.head}->{e.tail}", "exposure" if kind == "loan"
                                  else "deposit", amt, "extracted", e.ids, hedged=e.hedged,
                                  alternatives=e.alternatives("amount")))
        row_t: dict[int, float] = {}
        col_t: dict[int, float] = {}
        notes: dict[tuple[str, int], str] = {}
        for axis, fld, known, targets in ((0, totals_field[type_][0], known_row, row_t),
                                          (1, totals_field[type_][1], known_col, col_t)):
            for id_, i in index.items():
                stated_total: float | None = None
                given = book.get("entity", id_, fld)
                if given is not None:
                    stated_total, why = given.value, f"{fld} {given.value:,.0f} ({given.rule})"
                elif fld == "deposits" and entities[id_].deposits is not None:
                    stated_total = float(entities[id_].deposits or 0.0)
                    why = f"stated deposits {stated_total:,.0f}"
                if stated_total is not None:
                    targets[i] = max(stated_total - known[id_], 0.0)
                    notes[(id_, axis)] = why
        touches = [e for e in unknown
                   if index[e.head] in row_t or index[e.tail] in col_t]
        fitted = np.zeros(0)
        if touches:
            r_idx = np.array([index[e.head] for e in touches])
            c_idx = np.array([index[e.tail] for e in touches])
            fitted = ras_complete(r_idx, c_idx, row_t, col_t)
        for j, e in enumerate(touches):
            key = (e.head, e.tail)
            basis = [notes[(x, a)] for x, a in ((e.head, 0), (e.tail, 1)) if (x, a) in notes]
            rule = ("max-entropy (RAS) completion of the unstated amounts from "
                    + "; ".join(basis) + " less the stated ones")
            exposure[key] += float(fitted[j])
            exp_assumed[key] = True
            kinds[key] = kind if key not in kinds or kinds[key] == kind else "loan"
            exp_rel[key] += e.ids
            figures.append(Figure(f"{e.head}->{e.tail}", "exposure" if kind == "loan"
                                  else "deposit", float(fitted[j]), "assumed", e.ids, rule=rule,
                                  hedged=e.hedged))
        default = assumed("relation_type", type_, "amount")
        for e in unknown:
            if e in touches:
                continue
            key = (e.head, e.tail)
            exposure[key] += default.value
            exp_assumed[key] = True
            kinds[key] = kind if key not in kinds or kinds[key] == kind else "loan"
            exp_rel[key] += e.ids
            figures.append(Figure(f"{e.head}->{e.tail}", "exposure" if kind == "loan"
                                  else "deposit", default.value, "assumed", e.ids,
                                  rule=default.rule, hedged=e.hedged))

    # holdings (values at the starting price)
    holding: dict[tuple[str, str], float] = defaultdict(float)
    hold_assumed: dict[tuple[str, str], bool] = {}
    hold_rel: dict[tuple[str, str], tuple[str, ...]] = defaultdict(tuple)
    for e in edges["HOLDS"]:
        key = (e.head, e.tail)
        price = prices[aindex[e.tail]]
        if e.chosen.amount is not None:
            val, prov, rule = float(e.chosen.amount), "extracted", ""
        elif e.chosen.quantity is not None:
            val, prov, rule = float(e.chosen.quantity) * price, "extracted", \
                "stated quantity times the token price"
        else:
            row = assumed("relation_type", "HOLDS", "amount")
            val, prov, rule = row.value, "assumed", row.rule
        holding[key] += val
        hold_assumed[key] = prov == "assumed"
        hold_rel[key] += e.ids
        figures.append(Figure(f"{e.head}:{e.tail}", "holding", val, prov, e.ids, rule=rule,
                              hedged=e.hedged, alternatives=e.alternatives("amount")))
    for key, value in pledged_value.items():
        if holding.get(key, 0.0) < value:
            extra = value - holding.get(key, 0.0)
            holding[key] = value
            hold_assumed[key] = True
            figures.append(Figure(f"{key[0]}:{key[1]}", "holding", extra, "assumed",
                                  rule="pledged collateral counts as held by the pledger"))

    # ownership and issuers
    ownership: list[OwnershipLink] = []
    for e in edges["OWNS"]:
        q = e.chosen.quantity
        if q is not None and 0.0 < q <= 1.0:
            frac = float(q)
            figures.append(Figure(f"{e.head}->{e.tail}", "ownership", frac, "extracted", e.ids,
                                  hedged=e.hedged))
        else:
            row = assumed("relation_type", "OWNS", "fraction")
            frac = row.value
            figures.append(Figure(f"{e.head}->{e.tail}", "ownership", frac, "assumed", e.ids,
                                  rule=row.rule, hedged=e.hedged))
        ownership.append(OwnershipLink(e.head, e.tail, frac, e.ids))
    issuers: dict[str, str] = {}
    issuer_rel: dict[str, tuple[str, ...]] = {}
    for e in edges["ISSUED"]:
        if e.tail in issuers:
            ignored.extend((rid, f"second issuer of '{e.tail}'") for rid in e.ids)
            continue
        issuers[e.tail] = e.head
        issuer_rel[e.tail] = e.ids

    def matrix(values: Mapping[tuple[str, str], float], rows_: Mapping[str, int],
               cols_: Mapping[str, int], shape: tuple[int, int]) -> sp.csr_array:
        keys = sorted(values)
        r = np.array([rows_[a] for a, _ in keys], dtype=np.int64)
        c = np.array([cols_[b] for _, b in keys], dtype=np.int64)
        v = np.array([values[k] for k in keys], dtype=float)
        return sp.csr_array((v, (r, c)), shape=shape)

    def mask(flags: Mapping[tuple[str, str], bool], mat: sp.csr_array,
             rows_: Sequence[str], cols_: Sequence[str]) -> np.ndarray:
        out = np.zeros(mat.nnz, dtype=bool)
        for i in range(mat.shape[0]):
            for pos in range(int(mat.indptr[i]), int(mat.indptr[i + 1])):
                out[pos] = flags.get((rows_[i], cols_[int(mat.indices[pos])]), False)
        return out

    a_mat = matrix(exposure, index, index, (n, n))
    h_mat = matrix(holding, index, aindex, (n, m))
    ext_assets = np.maximum(equity + a_mat.sum(axis=0) - a_mat.sum(axis=1), 0.0)
    total = float(equity.sum())
    network = ExposureNetwork(
        ids=ids,
        equity=equity,
        exposures=a_mat,
        external_assets=np.asarray(ext_assets, dtype=float),
        external_liabilities=np.zeros(n),
        weight=equity / total if total > 0 else np.zeros(n),
        asset_ids=asset_ids,
        holdings=h_mat,
        prices=prices,
        depth=depth,
        loans=tuple(loans),
        issuers=issuers,
    )
    channels = Channels(
        ownership=tuple(ownership),
        exposure_kinds=dict(kinds),
        exposure_relations=dict(exp_rel),
        holding_relations=dict(hold_rel),
        issuer_relations=issuer_rel,
    )
    if overrides:
        figures = [
            replace(f, provenance="assumed", rule=next(
                overrides[r].rule for r in f.relation_ids if r in overrides))
            if f.provenance == "extracted" and any(r in overrides for r in f.relation_ids)
            else f
            for f in figures
        ]
    return Projection(
        network=network,
        channels=channels,
        figures=tuple(figures),
        assumptions=tuple(book.rows),
        names={x.id: x.name for x in dump.entities},
        types={x.id: x.type for x in dump.entities},
        ignored=tuple(ignored),
        equity_assumed=equity_assumed,
        exposure_assumed=mask(exp_assumed, a_mat, ids, ids),
        holding_assumed=mask(hold_assumed, h_mat, ids, asset_ids),
        loan_assumed=np.array(loan_assumed, dtype=bool),
    )
