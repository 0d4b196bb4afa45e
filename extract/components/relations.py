"""``fallout_relations``: typed, directed relations from cue patterns between entity mentions."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from extract._data import Cues, doc_text, load_cues
from extract._schema import RelationSchema, load_relation_schema
from extract.components.attributes import Quantity
from extract.model import ORGANISATION_TYPES, DropReason, EntityType
from extract.resolve import EntityRecord, Occurrence

__all__ = ["RelationExtractor", "make_relations"]

_COORD = re.compile(r"\s*(,|and|or|&|, and|, or|as well as|plus|/)\s*")
_POSSESSIVE = re.compile(r"['\u2019](s\b|\s)")
_APPOSITION = re.compile(r"^\s*,[^,]{0,90},\s*")
_RELATIVE = re.compile(r"\s*,\s*(which|who)\b")
_QUOTE_VERB = re.compile(r"\b(told|asked|warned|said to|wrote to|messaged)\W*$")
_QUOTE_BODY = re.compile(r"\b(us|we)\b(.{0,60}?)\byou\b")
_MONEY_TYPES = frozenset(
    {
        "LENT_TO",
        "DEPOSITED_WITH",
        "ACQUIRED",
        "INVESTED_IN",
        "HOLDS",
        "PLEDGED_COLLATERAL",
        "EXPOSED_TO",
        "LIQUIDATED",
        "OWNS",
    }
)
_PARTY = frozenset(kind.value for kind in ORGANISATION_TYPES) | {EntityType.PERSON.value}
_ASSET = frozenset({"Token", "Stablecoin"})


class RelationExtractor:
    """Match the cues of ``ontologies/relation_cues.json`` between mentions of one sentence."""

    def __init__(self, name: str, path: str | None) -> None:
        self.name = name
        self.cues: Cues = load_cues(path)
        self.schema: RelationSchema = load_relation_schema()
        self.max_between: int = int(self.cues.raw["max_between_chars"])
        self.proxies: dict[str, str] = {
            k: v for k, v in self.cues.raw["proxies"].items() if not k.startswith("_")
        }
        self.hedge_factor = float(self.cues.raw["hedged_confidence_factor"])
        self._labels: list[int] = []
        self.possessive_types = frozenset(self.cues.raw["possessive_tail_types"])
        self.group_affiliation = re.compile(self.cues.raw["group_affiliation"])
        self.prep_head = re.compile(self.cues.raw["prepositional_heads"])
        self.min_confidence = float(self.cues.raw["min_confidence"])
        stand_in = self.cues.raw["person_stand_in"]
        self.stand_in_types = frozenset(stand_in["types"])
        self.personal = re.compile(stand_in["personal"])
        self.clause_by = re.compile(stand_in["clause_by"])
        self.clause_open = re.compile(stand_in["clause_open"])
        self.clause_verb = re.compile(stand_in["clause_verb"])
        self._text = ""
        self._sent_occs: list[Occurrence] = []

    # -- per document -------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        records: dict[str, EntityRecord] = doc._.fallout_entities or {}
        occs: list[Occurrence] = doc._.fallout_refs or []
        quantities: list[Quantity] = doc._.fallout_quantities or []
        drops: Counter[str] = Counter()
        found: list[dict[str, Any]] = []
        text = doc_text(doc)
        self._text = text
        starts = [o.start for o in occs]
        q_starts = [q.start for q in quantities]
        transcript = doc._.fallout_transcript
        header = [(sp.line_start, sp.line_end) for sp in transcript.speakers] if transcript else []
        if len(occs) >= 2:
            self._labels = (
                [t.label_start for t in transcript.turns] if transcript is not None else []
            )
            for sent in doc.sents:
                if any(a <= sent.start_char < b for a, b in header):
                    continue  # speaker headers are read by _transcript_header
                lo = bisect_left(starts, sent.start_char)
                hi = bisect_left(starts, sent.end_char)
                if hi - lo < 2:
                    continue
                sent_occs = _dedupe(occs[lo:hi])
                if len(sent_occs) < 2:
                    continue
                qlo = bisect_left(q_starts, sent.start_char)
                qhi = bisect_left(q_starts, sent.end_char)
                self._sentence(
                    text,
                    sent.start_char,
                    sent.end_char,
                    sent_occs,
                    quantities[qlo:qhi],
                    records,
                    found,
                    drops,
                )
        self._transcript_header(doc, records, occs, found)
        if transcript is not None:
            for rel in found:
                if rel.get("speaker") is None:
                    rel["speaker"] = transcript.speaker_at(rel["evidence"][0]["start"])
        found = self._stand_in(found, records, drops)
        found = self._on_schema(found, records, drops)
        doc._.fallout_relations = _merge(found, drops, self.min_confidence)
        doc._.fallout_drops = drops
        return doc

    def _stand_in(
        self, found: list[dict[str, Any]], records: dict[str, EntityRecord], drops: Counter[str]
    ) -> list[dict[str, Any]]:
        """Put a person's firm in the place of a person creditor, depositor or holder.

        The text must say that the person acted personally; otherwise the firm the document
        says they lead (or work for), else the proxy table, takes their place, and a person
        with no known firm leaves the relation unresolved.
        """
        firm_of: dict[str, str] = {}
        for rel in found:
            if rel["type"] == "LEADS" and not rel["negated"]:
                firm_of.setdefault(rel["head"], rel["tail"])
        for rel in found:
            if rel["type"] == "WORKS_FOR" and not rel["negated"]:
                firm_of.setdefault(rel["head"], rel["tail"])
        kept = []
        for rel in found:
            head = records.get(rel["head"])
            if (
                rel["type"] in self.stand_in_types
                and head is not None
                and head.type == "Person"
                and not self.personal.search(rel["evidence"][0]["text"].lower())
            ):
                firm = firm_of.get(rel["head"]) or self.proxies.get(rel["head"])
                if firm is None or firm not in records:
                    drops[DropReason.UNRESOLVED_ENDPOINT.value] += 1
                    continue
                rel["head"] = firm
            kept.append(rel)
        return kept

    def _described(self, occ: Occurrence) -> Occurrence:
        """Return the organisation a clause naming ``occ`` describes ("X, the firm led by P")."""
        if occ.type != "Person":
            return occ
        before = [o for o in self._sent_occs if o.end <= occ.start and _kind(o.type) == "org"]
        if not before:
            return occ
        org = before[-1]
        gap = self._text[org.end : occ.start].lower()
        if self.clause_by.search(gap) or (
            self.clause_open.search(gap)
            and self.clause_verb.match(self._text[occ.end : occ.end + 60].lower())
        ):
            return org
        return occ

    def _on_schema(
        self, found: list[dict[str, Any]], records: dict[str, EntityRecord], drops: Counter[str]
    ) -> list[dict[str, Any]]:
        """Keep the relations whose endpoints exist and whose kinds the ontology allows."""
        kept = []
        for rel in found:
            head, tail = records.get(rel["head"]), records.get(rel["tail"])
            if head is None or tail is None:
                drops[DropReason.UNRESOLVED_ENDPOINT.value] += 1
                continue
            allowed = self.schema.get(rel["type"])
            if allowed is None or head.type not in allowed[0] or tail.type not in allowed[1]:
                drops[DropReason.OFF_SCHEMA_PATTERN.value] += 1
                continue
            kept.append(rel)
        return kept

    # -- per sentence -------------------------------------------------------------------
    def _sentence(
        self,
        text: str,
        s_start: int,
        s_end: int,
        occs: list[Occurrence],
        quantities: list[Quantity],
        records: dict[str, EntityRecord],
        out: list[dict[str, Any]],
        drops: Counter[str],
    ) -> None:
        groups: list[list[Occurrence]] = [[occs[0]]]
        for prev, occ in zip(occs, occs[1:], strict=False):
            gap = text[prev.end : occ.start]
            same_kind = _kind(prev.type) == _kind(occ.type) and not _POSSESSIVE.match(text, occ.end)
            if (
                same_kind
                and not occ.ref
                and not prev.ref
                and _COORD.fullmatch(gap)
                and gap.strip() != "/"
            ):
                groups[-1].append(occ)
            else:
                groups.append([occ])
        sentence = text[s_start:s_end]
        self._sent_occs = occs
        strong_hedge = self.cues.hedging.search(sentence.lower()) is not None
        labels = set(self._labels)
        produced: list[dict[str, Any]] = []
        for group in groups:
            if len(group) < 2 or _kind(group[0].type) != "org":
                continue
            around = (
                text[max(s_start, group[0].start - 40) : group[0].start]
                + " | "
                + text[group[-1].end : min(s_end, group[-1].end + 30)]
            ).lower()
            if self.group_affiliation.search(around):
                for a, b in zip(group, group[1:], strict=False):
                    if a.entity_id != b.entity_id:
                        rel: dict[str, Any] = {
                            "head": a.entity_id,
                            "type": "AFFILIATED_WITH",
                            "tail": b.entity_id,
                            "confidence": 0.75,
                            "negated": False,
                            "hedged": strong_hedge,
                        }
                        produced.append(rel)
        for gi in range(len(groups)):
            for gj in range(gi + 1, min(len(groups), gi + 5)):
                left, right = groups[gi], groups[gj]
                b_start, b_end = left[-1].end, right[0].start
                if b_end - b_start > self.max_between:
                    break
                ends = {o.entity_id for o in left} | {o.entity_id for o in right}
                inner = [
                    o
                    for g in groups[gi + 1 : gj]
                    for o in g
                    if not (o.ref and o.entity_id in ends)  # "FTX and its sister ..."
                ]
                across = any(o.type in _PARTY and not _POSSESSIVE.match(text, o.end) for o in inner)
                first_gap = text[b_start : b_start + 2]
                if first_gap.startswith(":") and left[0].start in labels:
                    continue  # a speaker label is not the subject of what follows
                closes = (
                    first_gap.startswith(",")
                    and self.prep_head.search(
                        text[max(s_start, left[0].start - 20) : left[0].start].lower()
                    )
                    is not None
                    and _RELATIVE.match(text, b_start) is None
                )  # the left group closes a clause ("owned by X, had lent ..."): only roles
                tail_possessive = _POSSESSIVE.match(text, right[-1].end) is not None
                pieces, pos = [], b_start
                for o in inner:
                    pieces.append(text[pos : o.start].lower())
                    owner = _POSSESSIVE.match(text, o.end)
                    if owner is not None and o.type in _PARTY:
                        pos = owner.end()  # "owned by X's DCG": the possessor is not the tail
                        continue
                    pieces.append("\u00a7")
                    pos = o.end
                pieces.append(text[pos:b_end].lower())
                between = "".join(pieces)
                after = text[right[-1].end : min(s_end, right[-1].end + 80)].lower()
                appo = _APPOSITION.match(between) if across else None
                if appo is not None and "\u00a7" not in between[appo.end() :]:
                    # "X, the lender owned by Y, lent to Z": skip the apposition
                    between = " " + between[appo.end() :]
                    across = False
                rels = self._match(
                    between,
                    left,
                    right,
                    across,
                    records,
                    drops,
                    after=after,
                    tail_possessive=tail_possessive,
                )
                if closes:
                    rels = [(r, c) for r, c in rels if r["type"] in ("LEADS", "WORKS_FOR")]
                if not rels and not across and not closes and _QUOTE_VERB.search(between):
                    q = _QUOTE_BODY.search(text[right[-1].end : s_end].lower())
                    if q:
                        rels = self._match(
                            q.group(2) + " ", left, right, False, records, drops, quoted=True
                        )
                for rel, cue_span in rels:
                    self._attributes(
                        rel,
                        text,
                        s_start,
                        s_end,
                        b_start,
                        b_end,
                        between,
                        cue_span,
                        quantities,
                        occs,
                        records,
                        strong_hedge,
                    )
                    produced.append(rel)
        lenders = {r["head"] for r in produced if r["type"] == "LENT_TO" and not r["negated"]}
        produced = [
            r for r in produced if not (r["type"] == "PLEDGED_COLLATERAL" and r["head"] in lenders)
        ]
        for rel in produced:
            if rel["type"] == "PLEDGED_COLLATERAL":
                lender = next(
                    (
                        r["head"]
                        for r in produced
                        if r["type"] == "LENT_TO" and r["tail"] == rel["head"] and not r["negated"]
                    ),
                    None,
                )
                if lender:
                    rel["to"] = lender
        question = sentence.rstrip().endswith("?")
        for rel in produced:
            rel["evidence"] = [{"text": sentence, "start": s_start, "end": s_end}]
            if question:  # asked, not asserted
                rel["hedged"] = True
                rel["confidence"] = round(rel["confidence"] * 0.4, 3)
        out.extend(produced)

    def _match(
        self,
        between: str,
        left: list[Occurrence],
        right: list[Occurrence],
        across: bool,
        records: dict[str, EntityRecord],
        drops: Counter[str],
        quoted: bool = False,
        after: str = "",
        tail_possessive: bool = False,
    ) -> list[tuple[dict[str, Any], tuple[int, int]]]:
        results: list[tuple[dict[str, Any], tuple[int, int]]] = []
        matched_any = False
        for h_occ in left:
            for t_occ in right:
                done = False
                for cue in self.cues.relations:
                    if across and not cue.get("across"):
                        continue
                    if (
                        tail_possessive
                        and cue["after_regex"] is None
                        and cue["type"] not in self.possessive_types
                    ):
                        continue
                    m = cue["regex"].search(between)
                    if m is None or (
                        cue["after_regex"] is not None and cue["after_regex"].search(after) is None
                    ):
                        continue
                    matched_any = True
                    head, tail = (t_occ, h_occ) if cue.get("reverse") else (h_occ, t_occ)
                    if cue["type"] in self.stand_in_types:
                        head = self._described(head)
                    fitted = self._fit(cue, head, tail, records)
                    if fitted is None:
                        continue
                    head_id, tail_id = fitted
                    rel: dict[str, Any] = {
                        "head": head_id,
                        "type": cue["type"],
                        "tail": tail_id,
                        "confidence": 0.6 if quoted else (0.85 if len(between) < 60 else 0.7),
                        "negated": False,
                        "hedged": False,
                        "_ref": head.ref or tail.ref,
                        "_across": across,
                    }
                    if "status" in cue:
                        rel["status"] = cue["status"]
                    results.append((rel, (m.start(), m.end())))
                    done = True
                    break
                if not done and matched_any:
                    drops[DropReason.OFF_SCHEMA_PATTERN.value] += 1
        return results

    def _fit(
        self,
        cue: dict[str, Any],
        head: Occurrence,
        tail: Occurrence,
        records: dict[str, EntityRecord],
    ) -> tuple[str, str] | None:
        allowed_h, allowed_t = self.schema[cue["type"]]
        trusted_h, trusted_t = self.cues.type_kinds[cue["type"]]
        kinds_h, kinds_t = allowed_h & trusted_h, allowed_t & trusted_t
        h_type, t_type = head.type, tail.type
        h_id, t_id = head.entity_id, tail.entity_id
        head_kinds = cue.get("head_kinds")
        if head_kinds is not None and h_type not in head_kinds:
            return None
        tail_kinds = cue.get("tail_kinds")
        if tail_kinds is not None and t_type not in tail_kinds:
            return None
        if h_type not in kinds_h and h_type == "Person" and self.proxies.get(h_id) in records:
            h_id = self.proxies[h_id]
            h_type = records[h_id].type
        if t_type not in kinds_t and t_type == "Person" and self.proxies.get(t_id) in records:
            t_id = self.proxies[t_id]
            t_type = records[t_id].type
        if h_type not in kinds_h or t_type not in kinds_t:
            return None
        return h_id, t_id

    def _attributes(
        self,
        rel: dict[str, Any],
        text: str,
        s_start: int,
        s_end: int,
        b_start: int,
        b_end: int,
        between: str,
        cue_span: tuple[int, int],
        quantities: list[Quantity],
        occs: list[Occurrence],
        records: dict[str, EntityRecord],
        strong_hedge: bool,
    ) -> None:
        window = between[max(0, cue_span[0] - 30) : cue_span[1]]
        before_head = text[max(s_start, b_start - 60) : b_start].lower()
        head_start = before_head.rfind("\u00a7")
        near = between[: cue_span[1]]
        if self.cues.negation.search(window):
            rel["negated"] = True
        if (
            strong_hedge
            or self.cues.hedging_near.search(near)
            or self.cues.hedging_near.search(before_head[head_start + 1 :][-30:])
        ):
            rel["hedged"] = True
            rel["confidence"] = round(rel["confidence"] * self.hedge_factor, 3)
            if rel.get("status") == "completed":
                rel["status"] = "rumoured"
        if rel.pop("_ref"):
            rel["confidence"] = round(rel["confidence"] * 0.9, 3)
        if rel.pop("_across"):
            rel["confidence"] = round(rel["confidence"] * 0.9, 3)
        rtype = rel["type"]
        inside = [q for q in quantities if b_start <= q.start < b_end]
        pair_lo = max((o.start for o in occs if o.end <= b_start), default=b_start)
        others = sorted(
            (q for q in quantities if not b_start <= q.start < b_end),
            key=lambda q: abs(q.start - b_end),
        )
        pair_hi = max((o.end for o in occs if o.start == b_end), default=b_end)
        near_pair = [q for q in others if same_clause(text, q, pair_lo, pair_hi, occs, s_end)]
        ordered = inside + near_pair
        if rtype in _MONEY_TYPES:
            pool = inside if rtype in ("PLEDGED_COLLATERAL", "HOLDS") else ordered
            money = next((q for q in pool if q.kind == "money"), None)
            if money is not None:
                rel["amount"], rel["currency"] = money.value, money.unit
        tail_rec = records.get(rel["tail"])
        if rtype in ("PLEDGED_COLLATERAL", "HOLDS") and tail_rec is not None:
            forms = {tail_rec.name.upper(), *(a.upper() for a in tail_rec.aliases)}
            qty = next((q for q in ordered if q.kind == "quantity" and q.unit in forms), None)
            if qty is not None:
                rel["quantity"] = qty.value
                rel["asset"] = rel["tail"]
        if rtype in ("LENT_TO", "DEPOSITED_WITH", "EXPOSED_TO"):
            asset = next((o for o in occs if o.type in _ASSET and b_start <= o.start < b_end), None)
            if asset is not None:
                rel["asset"] = asset.entity_id
        date = next((q for q in inside + others if q.kind == "date"), None)
        if date is not None:
            rel["date"] = date.iso

    def _transcript_header(
        self,
        doc: Doc,
        records: dict[str, EntityRecord],
        occs: list[Occurrence],
        out: list[dict[str, Any]],
    ) -> None:
        transcript = doc._.fallout_transcript
        if transcript is None:
            return
        names = [o for o in occs if not o.ref]
        text = doc_text(doc)
        for sp in transcript.speakers:
            person = next((o for o in names if o.start <= sp.start < o.end), None)
            firm = next((o for o in names if o.start <= sp.firm_start < o.end), None)
            if person is not None and (firm is None or _kind(firm.type) != "org"):
                # "(role, Firm, City)": the firm is the last organisation before the end
                inside = [
                    o
                    for o in names
                    if person.end <= o.start < sp.firm_end and _kind(o.type) == "org"
                ]
                firm = inside[-1] if inside else firm
            if person is None or firm is None or person.entity_id == firm.entity_id:
                continue
            role = sp.role.lower()
            rtype = (
                "LEADS"
                if re.search(r"\b(ceo|founder|co-founder|chief executive)\b", role)
                else "WORKS_FOR"
            )
            line = text[sp.line_start : sp.line_end]
            out.append(
                {
                    "head": person.entity_id,
                    "type": rtype,
                    "tail": firm.entity_id,
                    "confidence": 0.9,
                    "negated": False,
                    "hedged": False,
                    "evidence": [{"text": line, "start": sp.line_start, "end": sp.line_end}],
                }
            )


_CLAUSE_BREAK = re.compile(
    r"[;:]|\s[\u2013\u2014-]\s|,|\b(?:said|says|according|while|whereas|which|who|after|"
    r"before|when|but|although|though|and)\b"
)


def same_clause(
    text: str, q: Quantity, lo: int, hi: int, occs: list[Occurrence], limit: int
) -> bool:
    """Whether a quantity outside the two mentions belongs to their clause.

    It must sit right after the later mention (within 60 characters) or right before the
    earlier one (within 40), with no clause break and no other entity in the gap.
    """
    if q.start >= hi:
        gap_lo, gap_hi, room = hi, q.start, 60
    elif q.end <= lo:
        gap_lo, gap_hi, room = q.end, lo, 40
    else:
        return True
    if gap_hi - gap_lo > room or q.start >= limit:
        return False
    if _CLAUSE_BREAK.search(text[gap_lo:gap_hi]):
        return False
    return not any(gap_lo <= o.start < gap_hi for o in occs)


def _kind(entity_type: str) -> str:
    if entity_type == "Person":
        return "person"
    if entity_type in _ASSET:
        return "asset"
    return "org" if entity_type in _PARTY else "other"


def _dedupe(occs: list[Occurrence]) -> list[Occurrence]:
    out: list[Occurrence] = []
    for o in occs:
        if out and o.start < out[-1].end:
            continue
        out.append(o)
    return out


def _merge(
    found: list[dict[str, Any]], drops: Counter[str], min_confidence: float
) -> list[dict[str, Any]]:
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    for rel in found:
        if rel["head"] == rel["tail"]:
            drops[DropReason.SELF_LOOP.value] += 1
            continue
        if rel["confidence"] < min_confidence:
            drops[DropReason.LOW_CONFIDENCE.value] += 1
            continue
        ends = (rel["head"], rel["tail"])
        if rel["type"] == "AFFILIATED_WITH":
            ends = tuple(sorted(ends))
        key = (*ends, rel["type"], str(rel["negated"]))
        if key not in merged:
            merged[key] = rel
            continue
        drops[DropReason.DUPLICATE.value] += 1
        kept = merged[key]
        for ev in rel["evidence"]:
            if ev not in kept["evidence"] and len(kept["evidence"]) < 5:
                kept["evidence"].append(ev)
        kept["confidence"] = max(kept["confidence"], rel["confidence"])
        kept["hedged"] = kept["hedged"] and rel["hedged"]
        for attr in ("amount", "currency", "asset", "quantity", "date", "status", "to", "speaker"):
            if kept.get(attr) is None and rel.get(attr) is not None:
                kept[attr] = rel[attr]
    return list(merged.values())


@Language.factory(
    "fallout_relations",
    assigns=["doc._.fallout_relations", "doc._.fallout_drops"],
    requires=[
        "doc._.fallout_entities",
        "doc._.fallout_refs",
        "doc._.fallout_quantities",
        "doc._.fallout_transcript",
        "token.is_sent_start",
    ],
    default_config={"path": None},
)
def make_relations(nlp: Language, name: str, path: str | None) -> RelationExtractor:
    """Build the relation extractor from ``ontologies/relation_cues.json`` (or ``path``)."""
    return RelationExtractor(name, path)
