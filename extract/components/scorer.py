"""``fallout_relation_scorer``: a learned scorer over candidate entity pairs.

The cue rules of ``fallout_relations`` were tuned on one corpus and do not carry over to
reporting worded differently. This component looks at every pair of entity occurrences
within a sentence and across two adjacent sentences (names and resolved references alike),
describes the pair by hand-built features (the words between and around, the kinds, the
distance and punctuation, and which cue rules fired on it) and scores each relation type
and direction with a multi-label logistic model trained on the annotated corpus by
``fallout train``. A relation is kept when its score clears the threshold picked on the
dev split; the rules then only vote, through their feature.

The weights are plain arrays saved with the pipeline (``to_disk``/``from_disk``), so a
saved pipeline scores offline. Without weights (a pipeline built from ``config.cfg`` and
never trained) the component passes the rule relations through unchanged.
"""

from __future__ import annotations

import json
import re
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from extract._data import doc_text, load_cues
from extract._schema import load_relation_schema
from extract.components.attributes import Quantity
from extract.components.relations import _merge, same_clause
from extract.model import ORGANISATION_TYPES, DropReason, RelationType
from extract.resolve import EntityRecord, Occurrence

__all__ = [
    "LABELS",
    "Candidate",
    "RelationScorer",
    "candidates",
    "pair_features",
    "make_scorer",
]

RELATION_TYPES = tuple(t.value for t in RelationType)
LABELS: tuple[str, ...] = tuple(f"{t}>" for t in RELATION_TYPES) + tuple(
    f"{t}<" for t in RELATION_TYPES if t != "AFFILIATED_WITH"
)
"""One label per relation type and direction: ``T>`` the earlier mention is the head."""

_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}

_ORG = frozenset(k.value for k in ORGANISATION_TYPES)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?|[$\u20ac\u00a3%]|[^\w\s]")
_POSS = re.compile(r"['\u2019]s?\b")
_MAX_WITHIN = 320  # characters between two mentions of one sentence
_MAX_SIDE = 12  # words of a sentence kept on each side of a cross-sentence pair
_CLAUSE_BREAK = re.compile(
    r"[;:]|\s[\u2013\u2014-]\s|,\s*(?:said|says|according|while|whereas|which|who|after|"
    r"before|when|but|although|though|as)\b"
)


def _prefixes(words: str) -> tuple[str, ...]:
    """Split a lexicon line; an underscore joins a phrase ("took_over")."""
    return tuple(w.replace("_", " ") for w in words.split())


_CLASSES: dict[str, tuple[str, ...]] = {  # word prefixes that signal each kind of relation
    "LEND": _prefixes(
        "lend lent loan borrow owe owed owing credit creditor debt claim facility "
        "financ repay repaid bond note payable unsecured exposure lender funding "
        "margin repo advance line"
    ),
    "COLL": _prefixes("collateral pledg post secur margin backed against"),
    "ISSUE": _prefixes("issu token native launch mint coin stablecoin own_token"),
    "HOLD": _prefixes("hold held stake position share holder treasury reserve sitting bought own"),
    "DEPOSIT": _prefixes(
        "deposit custod park kept account cash fund withdraw frozen stuck trapped "
        "platform customer client"
    ),
    "ACQ": _prefixes(
        "acqui buy bought purchas takeover deal merg rescue bid sale sold agreed "
        "offer take_over took_over"
    ),
    "OWN": _prefixes(
        "own parent subsidiar unit arm division wholly belong control vehicle entity branch"
    ),
    "AFF": _prefixes("affiliat sister related linked tied connected associat"),
    "INVEST": _prefixes(
        "invest round backer back raise rais led participa valuation series venture "
        "stake equity put_in"
    ),
    "LEAD": _prefixes(
        "ceo chief founder found chair president head run ran director executive boss "
        "led manag partner"
    ),
    "WORK": _prefixes(
        "analyst spokes employ staff partner trader economist strategist officer "
        "counsel adviser advisor worked join"
    ),
    "LIQ": _prefixes(
        "liquidat administrat trustee receiver seiz sold dump unwound wind appoint "
        "provisional insolvency"
    ),
    "EXPO": _prefixes("expos counterpart hit loss writedown write risk"),
    "NEG": _prefixes("not no never denied deny without n't nor"),
    "HEDGE": _prefixes(
        "reportedly may might rumou talks consider could plan think believe said_to"
    ),
    "PASSIVE": _prefixes("by"),
    "GEN": _prefixes("'s ’s its their of"),
}
_CLASS_OF: dict[str, list[str]] = {}


def _classes(word: str) -> list[str]:
    """Relation word classes a word belongs to (by prefix), cached per word."""
    got = _CLASS_OF.get(word)
    if got is None:
        got = [c for c, stems in _CLASSES.items() if any(word.startswith(x) for x in stems)]
        if len(_CLASS_OF) < 200_000:
            _CLASS_OF[word] = got
    return got


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _coarse(kind: str) -> str:
    if kind == "Person":
        return "P"
    if kind in ("Token", "Stablecoin"):
        return "T"
    return "O" if kind in _ORG else "X"


@dataclass(frozen=True)
class Candidate:
    """Two occurrences, ``a`` before ``b``, within one sentence or two adjacent ones."""

    a: Occurrence
    b: Occurrence
    start: int  # the evidence window: the sentence, or both sentences
    end: int
    across: bool
    topic: bool = False  # ``a`` is the document's main firm, named in an earlier sentence


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def candidates(
    sentences: list[tuple[int, int]],
    occs: list[Occurrence],
    *,
    across: bool = True,
    topics: list[str] | None = None,
) -> list[Candidate]:
    """Return the candidate pairs of a document, each pair of entities once per window.

    ``occs`` must be sorted by start. Within a sentence, every two occurrences of
    different entities no more than ``_MAX_WITHIN`` characters apart; across two
    adjacent sentences, every occurrence of the first with every one of the second; and
    every entity of a sentence with each of the document's ``topics`` it does not name.
    """
    starts = [o.start for o in occs]
    per_sent: list[list[Occurrence]] = []
    for s, e in sentences:
        lo, hi = bisect_left(starts, s), bisect_left(starts, e)
        per_sent.append(_first_per_entity(occs[lo:hi]))
    out: list[Candidate] = []
    for k, (s, e) in enumerate(sentences):
        mine = per_sent[k]
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                if b.entity_id != a.entity_id and b.start - a.end <= _MAX_WITHIN:
                    out.append(Candidate(a, b, s, e, False))
        if across and k + 1 < len(sentences) and mine:
            nxt = per_sent[k + 1]
            ids = {o.entity_id for o in mine}
            for a in mine:
                for b in nxt:
                    if b.entity_id != a.entity_id and b.entity_id not in ids:
                        out.append(Candidate(a, b, s, sentences[k + 1][1], True))
    if topics:
        out += _topic_candidates(sentences, per_sent, occs, topics)
    return out


_LIST_SEP = re.compile(
    r"\s*(?:\(?\s*(?:US)?[$\u20ac\u00a3]?\s?[\d.,]+\s*(?:bn|billion|m|mn|million|k)?\s*"
    r"(?:[A-Z]{3})?\s*\)?\s*)?(?:,|;|\band\b|, and|; and|\bor\b|&|/)\s*(?:and\s+)?"
)


def coordinated_lists(
    text: str, sentences: list[tuple[int, int]], occs: list[Occurrence]
) -> dict[Occurrence, tuple[int, int]]:
    """Map each name of a coordinated list of same-kind names to the list's extent.

    "Creditors include A ($5m), B ($3m) and C": A, B and C share one extent, so that the
    words before and after the list describe every member. A list may end with the amount
    of its last member.
    """
    out: dict[Occurrence, tuple[int, int]] = {}
    starts = [o.start for o in occs]
    for s, e in sentences:
        mine = _first_per_entity(occs[bisect_left(starts, s) : bisect_left(starts, e)])
        run: list[Occurrence] = []
        seq: list[Occurrence | None] = [*mine, None]
        for o in seq:
            if (
                o is not None
                and run
                and _coarse(o.type) == _coarse(run[-1].type)
                and not o.ref
                and _LIST_SEP.fullmatch(text, run[-1].end, o.start)
            ):
                run.append(o)
                continue
            if len(run) >= 2:
                extent = (run[0].start, run[-1].end)
                for member in run:
                    out[member] = extent
            run = [o] if o is not None and not o.ref else []
    return out


def document_topics(occs: list[Occurrence], limit: int = 2) -> list[str]:
    """Return the organisations a document is about: the most mentioned (names, references)."""
    counts = Counter(o.entity_id for o in occs if o.type in _ORG)
    ranked = counts.most_common(limit)
    return [e for e, n in ranked if n >= 3]


def _topic_candidates(
    sentences: list[tuple[int, int]],
    per_sent: list[list[Occurrence]],
    occs: list[Occurrence],
    topics: list[str],
) -> list[Candidate]:
    """Pair every entity of a sentence with a main firm that the sentence does not name.

    Creditor lists, investor rounds and holders' tables name one side only; the other is
    the firm the document is about, named somewhere before.
    """
    out: list[Candidate] = []
    last: dict[str, Occurrence] = {}
    k = 0
    for (s, e), mine in zip(sentences, per_sent, strict=True):
        while k < len(occs) and occs[k].start < s:
            if occs[k].entity_id in topics:
                last[occs[k].entity_id] = occs[k]
            k += 1
        named = {o.entity_id for o in mine}
        for topic in topics:
            a = last.get(topic)
            if a is None or topic in named:
                continue
            for b in mine:
                out.append(Candidate(a, b, s, e, False, True))
    return out


def _first_per_entity(occs: Iterable[Occurrence]) -> list[Occurrence]:
    """Drop overlapping occurrences and later repeats of an entity within a sentence."""
    seen: set[str] = set()
    out: list[Occurrence] = []
    last_end = -1
    for o in occs:
        if o.start < last_end:
            continue
        last_end = o.end
        if o.entity_id in seen:
            continue
        seen.add(o.entity_id)
        out.append(o)
    return out


def _masked(text: str, start: int, end: int, inner: list[Occurrence]) -> list[str]:
    """Words of ``text[start:end]`` with inner entity mentions replaced by their kind."""
    words: list[str] = []
    pos = start
    for o in inner:
        if o.start < pos or o.end > end:
            continue
        words.extend(_words(text[pos : o.start]))
        words.append("<" + _coarse(o.type) + ">")
        pos = o.end
    words.extend(_words(text[pos:end]))
    return words


def pair_features(
    text: str,
    cand: Candidate,
    sent_a: tuple[int, int],
    sent_b: tuple[int, int],
    inner: list[Occurrence],
    rules: list[str],
    lists: dict[Occurrence, tuple[int, int]] | None = None,
) -> list[str]:
    """Describe a candidate pair by feature strings (hashed by the scorer).

    ``lists`` maps a mention that is one name of a coordinated list ("A, B and C") to the
    extent of the whole list: the words around the list stand for every member.
    """
    a, b = cand.a, cand.b
    ka, kb = a.type, b.type
    ca, cb = _coarse(ka), _coarse(kb)
    cc = ca + cb
    lists = lists or {}
    ea, eb = lists.get(a), lists.get(b)
    if ea is not None and ea == eb:
        ea = eb = None  # two names of one list
        same_list = True
    else:
        same_list = False
    if cand.topic:
        if eb is not None:
            b = Occurrence(eb[0], eb[1], b.entity_id, b.type, b.ref)
            cand = Candidate(cand.a, b, cand.start, cand.end, False, True)
        out = _topic_features(text, cand, sent_b, inner, cc, f"K={ka}|{kb}")
        return out + (["Tlist"] if eb is not None else [])
    f = [f"K={ka}|{kb}", f"C={cc}"]
    if same_list:
        f.append("samelist")
    if ea is not None:
        f.append("lista")
        a = Occurrence(ea[0], ea[1], a.entity_id, a.type, a.ref)
    if eb is not None:
        f.append("listb")
        b = Occurrence(eb[0], eb[1], b.entity_id, b.type, b.ref)
    inner = [o for o in inner if not (a.start <= o.start < a.end or b.start <= o.start < b.end)]
    if a.ref:
        f += ["refa", "refa=" + text[a.start : a.end].lower()]
    if b.ref:
        f += ["refb", "refb=" + text[b.start : b.end].lower()]
    if _POSS.match(text, a.end):
        f.append("possa")
    if _POSS.match(text, b.end):
        f.append("possb")
    if cand.across:
        left = _masked(text, a.end, sent_a[1], inner)[:_MAX_SIDE]
        right = _masked(text, sent_b[0], b.start, inner)[-_MAX_SIDE:]
        f += ["X", f"X={cc}", f"XL={min(len(left), 6)}", f"XR={min(len(right), 6)}"]
        f += [f"xl={w}" for w in left] + [f"xr={w}" for w in right]
        f += [f"xr{cc}={w}" for w in right]
        if right:
            f.append(f"xr1={right[0]}")
        between = right
    else:
        between = _masked(text, a.end, b.start, inner)
        n = len(between)
        f.append(f"D={min(n // 3, 8)}")
        if n <= 24:
            f += [f"w={w}" for w in between]
            f += [f"w{cc}={w}" for w in between]
            f += [f"bg={x}_{y}" for x, y in zip(between, between[1:], strict=False)]
        else:
            f.append("long")
            f += [f"w={w}" for w in between[:5] + between[-5:]]
        if between:
            f += [f"f={between[0]}", f"l={between[-1]}", f"f{cc}={between[0]}"]
            f += [f"l{cc}={between[-1]}", f"fl={between[0]}_{between[-1]}"]
            if n >= 2:
                f += [f"f2={between[0]}_{between[1]}", f"l2={between[-2]}_{between[-1]}"]
        else:
            f.append("adjacent")
        f.append(f"I={min(sum(1 for o in inner if a.end <= o.start < b.start), 3)}")
        gap = text[a.end : b.start]
        if len(gap) <= _MAX_WITHIN:
            pieces, pos = [], a.end
            for o in inner:
                if a.end <= o.start and o.end <= b.start:
                    pieces += [gap[pos - a.end : o.start - a.end], "\u00a7"]
                    pos = o.end
            pieces.append(gap[pos - a.end :])
            votes = _cue_votes("".join(pieces).lower())
            f += [f"cue={v}" for v in votes] + [f"cue{cc}={v}" for v in votes]
        f.append(f"comma={min(gap.count(','), 3)}")
        if "(" in gap or ")" in gap:
            f.append("paren")
        if _CLAUSE_BREAK.search(gap):
            f.append("clausebreak")
    f += [f"c={c}" for w in set(between) for c in _classes(w)]
    f += [f"c{cc}={c}" for w in set(between) for c in _classes(w)]
    f += [f"s={_stem(w)}" for w in between if len(w) > 3]
    before = _masked(text, sent_a[0], a.start, inner)[-3:]
    after = _masked(text, b.end, sent_b[1], inner)[:3]
    f += [f"ca={c}" for w in set(after) for c in _classes(w)]
    f += [f"cb={c}" for w in set(before) for c in _classes(w)]
    f += [f"pl={w}" for w in before] + [f"nr={w}" for w in after]
    if before:
        f += [f"p1={before[-1]}", f"p1{cc}={before[-1]}"]
    else:
        f.append("p1=^")
    if after:
        f += [f"n1={after[0]}", f"n1{cc}={after[0]}"]
    else:
        f.append("n1=$")
    f += [f"R={r}" for r in rules] + [f"R{cc}={r}" for r in rules]
    if not rules:
        f.append("R=none")
    sentence_end = text[sent_b[0] : sent_b[1]].rstrip()
    if sentence_end.endswith("?"):
        f.append("question")
    return f


def _topic_features(
    text: str, cand: Candidate, sent: tuple[int, int], inner: list[Occurrence], cc: str, k: str
) -> list[str]:
    """Features of a pair (main firm of the document, entity of this sentence)."""
    b = cand.b
    f = ["T", f"T{k}", f"TC={cc}"]
    before = _masked(text, sent[0], b.start, inner)
    after = _masked(text, b.end, sent[1], inner)
    f += [f"Tpl={w}" for w in before[-4:]] + [f"Tnr={w}" for w in after[:6]]
    f += [f"Tnr{cc}={w}" for w in after[:6]] + [f"Tpl{cc}={w}" for w in before[-4:]]
    f += [f"Ts={w}" for w in before[:4]]
    if before:
        f += [f"Tp1={before[-1]}", f"Tp1{cc}={before[-1]}"]
    else:
        f.append("Tp1=^")
    if after:
        f += [f"Tn1={after[0]}", f"Tn1{cc}={after[0]}"]
        if len(after) > 1:
            f.append(f"Tn2={after[0]}_{after[1]}")
    else:
        f.append("Tn1=$")
    f.append(f"TI={min(len(inner), 4)}")
    f += [f"Tc{cc}={c}" for w in set(before[-6:] + after[:8]) for c in _classes(w)]
    f += [f"Ts={_stem(w)}" for w in after[:8] if len(w) > 3]
    words = set(before) | set(after)
    if "$" in words or any(w.isdigit() for w in words):
        f.append("Tmoney")
    if b.ref:
        f += ["Trefb", "Trefb=" + text[b.start : b.end].lower()]
    return f


_CUES: list[tuple[re.Pattern[str], str]] = []


def _cue_votes(between: str) -> list[str]:
    """Return the rule cues whose between-pattern matches, as TYPE and direction."""
    if not _CUES:
        for cue in load_cues().relations:
            label = cue["type"] + ("<" if cue.get("reverse") else ">")
            _CUES.append((cue["regex"], label))
    return sorted({label for regex, label in _CUES if regex.search(between)})


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8"))


class RelationScorer:
    """Score candidate pairs with a multi-label linear model and keep the likely relations."""

    def __init__(
        self,
        name: str,
        threshold: float = 0.5,
        across: bool = True,
        topics: bool = True,
        rule_threshold: float = 0.02,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.rule_threshold = rule_threshold
        self.across = across
        self.topics = topics
        self.vocab: dict[int, int] = {}
        self._rows: dict[str, int] = {}  # feature -> weight row (-1: unknown), a cache
        self.weights: np.ndarray | None = None  # (features + 1 bias row, labels)
        self.schema = load_relation_schema()
        cues = load_cues()
        self.negation = cues.negation
        self.hedging = cues.hedging
        self.hedging_near = cues.hedging_near
        self.hedge_factor = float(cues.raw["hedged_confidence_factor"])

    # -- the model ------------------------------------------------------------------------
    @property
    def trained(self) -> bool:
        """Whether weights are loaded."""
        return self.weights is not None

    def rows(self, features: list[str]) -> list[int]:
        """Return the weight rows of the known features (unknown ones are skipped)."""
        cache = self._rows
        if len(cache) > 500_000:
            cache.clear()
        out = set()
        for x in features:
            r = cache.get(x)
            if r is None:
                r = cache[x] = self.vocab.get(_hash(x), -1)
            if r >= 0:
                out.add(r)
        return sorted(out)

    def scores(self, rows_list: list[list[int]]) -> np.ndarray:
        """Return the label probabilities, one row per candidate."""
        assert self.weights is not None
        w = self.weights
        bias = w[-1]
        out = np.empty((len(rows_list), w.shape[1]), dtype=np.float64)
        for i, rows in enumerate(rows_list):
            z = bias + w[rows].sum(axis=0) if rows else bias
            out[i] = z
        return 1.0 / (1.0 + np.exp(-out))

    # -- per document ---------------------------------------------------------------------
    def describe(self, doc: Doc) -> tuple[list[Candidate], list[list[str]]]:
        """Return the candidates of a processed document and their features."""
        text = doc_text(doc)
        occs: list[Occurrence] = sorted(doc._.fallout_refs or [], key=lambda o: (o.start, -o.end))
        transcript = doc._.fallout_transcript
        labels = {(t.label_start, t.label_end) for t in transcript.turns} if transcript else set()
        header = [(sp.line_start, sp.line_end) for sp in transcript.speakers] if transcript else []
        occs = [o for o in occs if (o.start, o.end) not in labels]
        sentences = [
            (s.start_char, s.end_char)
            for s in doc.sents
            if not any(a <= s.start_char < b for a, b in header)
        ]
        cands = candidates(
            sentences, occs, across=self.across, topics=document_topics(occs) if self.topics else []
        )
        rule_index: dict[tuple[int, str, str], list[str]] = {}
        for rel in doc._.fallout_relations or []:
            ev = rel["evidence"][0]["start"]
            h, t = rel["head"], rel["tail"]
            rule_index.setdefault((ev, h, t), []).append(rel["type"] + ">")
            rule_index.setdefault((ev, t, h), []).append(rel["type"] + "<")
        sent_starts = [s for s, _ in sentences]
        starts = [o.start for o in occs]
        lists = coordinated_lists(text, sentences, occs)
        feats = []
        for c in cands:
            sb = sentences[bisect_right(sent_starts, c.b.start) - 1]
            sa = sb if c.topic else sentences[bisect_right(sent_starts, c.a.start) - 1]
            lo, hi = bisect_left(starts, sa[0]), bisect_left(starts, sb[1])
            inner = [o for o in occs[lo:hi] if o is not c.a and o is not c.b]
            rules = rule_index.get((sb[0], c.a.entity_id, c.b.entity_id), [])
            if not c.across:
                rules = rules or rule_index.get((sa[0], c.a.entity_id, c.b.entity_id), [])
            feats.append(pair_features(text, c, sa, sb, inner, rules, lists))
        return cands, feats

    def __call__(self, doc: Doc) -> Doc:
        """Replace the rule relations of the document by the scored ones."""
        if not self.trained:
            return doc
        records: dict[str, EntityRecord] = doc._.fallout_entities or {}
        rule_rels: list[dict[str, Any]] = list(doc._.fallout_relations or [])
        drops: Counter[str] = doc._.fallout_drops if doc._.fallout_drops is not None else Counter()
        cands, feats = self.describe(doc)
        text = doc_text(doc)
        kept: list[dict[str, Any]] = []
        if cands:
            probs = self.scores([self.rows(f) for f in feats])
            quantities: list[Quantity] = doc._.fallout_quantities or []
            q_starts = [q.start for q in quantities]
            occs: list[Occurrence] = sorted(doc._.fallout_refs or [], key=lambda o: o.start)
            o_starts = [o.start for o in occs]
            by_key: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]] = {}
            for r in rule_rels:
                key3 = (r["head"], r["type"], r["tail"])
                by_key.setdefault(key3, []).append((r["evidence"][0]["start"], r))
            transcript = doc._.fallout_transcript
            for cand, p in zip(cands, probs, strict=True):
                hits = np.flatnonzero(p >= self.threshold)
                if not len(hits):
                    continue
                window = quantities[
                    bisect_left(q_starts, cand.start) : bisect_left(q_starts, cand.end)
                ]
                near = occs[bisect_left(o_starts, cand.start) : bisect_left(o_starts, cand.end)]
                for j in hits:
                    label = LABELS[j]
                    rtype = label[:-1]
                    head, tail = (cand.a, cand.b) if label[-1] == ">" else (cand.b, cand.a)
                    rel = self._relation(
                        text, cand, head, tail, rtype, float(p[j]), records, by_key, window, near
                    )
                    if rel is None:
                        drops[DropReason.OFF_SCHEMA_PATTERN.value] += 1
                        continue
                    if transcript is not None and rel.get("speaker") is None:
                        rel["speaker"] = transcript.speaker_at(cand.start)
                    kept.append(rel)
            scored: dict[tuple[str, str, int], tuple[np.ndarray, str]] = {}
            for c, p in zip(cands, probs, strict=True):
                if not c.topic and not c.across:
                    scored[(c.a.entity_id, c.b.entity_id, c.start)] = (p, ">")
                    scored[(c.b.entity_id, c.a.entity_id, c.start)] = (p, "<")
        else:
            scored = {}
        kept_keys = {(r["head"], r["type"], r["tail"]) for r in kept}
        for rel in rule_rels:
            key = (rel["head"], rel["tail"], rel["evidence"][0]["start"])
            found = scored.get(key)
            if found is None:  # a speaker header, a stand-in firm: not a candidate here
                kept.append(rel)
                continue
            p, side = found
            label = rel["type"] + (">" if rel["type"] == "AFFILIATED_WITH" else side)
            if p[_LABEL_INDEX[label]] >= self.rule_threshold:
                kept.append(rel)  # a cue rule the model does not contradict
            elif (rel["head"], rel["type"], rel["tail"]) not in kept_keys:
                drops[DropReason.LOW_CONFIDENCE.value] += 1
        doc._.fallout_relations = _merge(kept, drops, 0.0)
        doc._.fallout_drops = drops
        return doc

    def _relation(
        self,
        text: str,
        cand: Candidate,
        head: Occurrence,
        tail: Occurrence,
        rtype: str,
        prob: float,
        records: dict[str, EntityRecord],
        by_key: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]],
        quantities: list[Quantity],
        window_occs: list[Occurrence],
    ) -> dict[str, Any] | None:
        h, t = records.get(head.entity_id), records.get(tail.entity_id)
        allowed = self.schema.get(rtype)
        if h is None or t is None or allowed is None:
            return None
        if h.type not in allowed[0] or t.type not in allowed[1]:
            return None
        rule = next(
            (r for at, r in by_key.get((h.id, rtype, t.id), ()) if cand.start <= at < cand.end),
            None,
        )
        if rule is not None:
            rel = dict(rule)
            rel["evidence"] = list(rule["evidence"])
            rel["confidence"] = round(max(prob, float(rule["confidence"])), 3)
            return rel
        if cand.topic:  # the main firm is named sentences before: only the entity's clause
            lo, hi = cand.b.start, cand.b.end
        else:
            lo, hi = min(cand.a.start, cand.b.start), max(cand.a.end, cand.b.end)
        near = not cand.across and not cand.topic
        gap = text[cand.a.end : cand.b.start].lower() if near else ""
        rel = {
            "head": h.id,
            "type": rtype,
            "tail": t.id,
            "confidence": round(prob, 3),
            "negated": bool(gap and self.negation.search(gap)),
            "hedged": False,
            "evidence": [
                {"text": text[cand.start : cand.end], "start": cand.start, "end": cand.end}
            ],
        }
        sentence = text[cand.start : cand.end].lower()
        if self.hedging.search(sentence) or (gap and self.hedging_near.search(gap)):
            rel["hedged"] = True
            rel["confidence"] = round(rel["confidence"] * self.hedge_factor, 3)
        if rtype == "ACQUIRED":
            rel["status"] = "rumoured" if rel["hedged"] else "agreed"
        money = next(
            (
                q
                for q in quantities
                if q.kind == "money" and same_clause(text, q, lo, hi, window_occs, cand.end)
            ),
            None,
        )
        if money is not None and rtype not in ("LEADS", "WORKS_FOR", "AFFILIATED_WITH", "ISSUED"):
            rel["amount"], rel["currency"] = money.value, money.unit
        date = next(
            (q for q in quantities if q.kind == "date" and cand.start <= q.start < cand.end),
            None,
        )
        if date is not None and date.iso:
            rel["date"] = date.iso
        return rel

    # -- serialisation --------------------------------------------------------------------
    def set_model(self, vocab: dict[int, int], weights: np.ndarray, threshold: float) -> None:
        """Install trained weights (feature hash -> row) and the decision threshold."""
        self.vocab = dict(vocab)
        self._rows.clear()
        self.weights = np.asarray(weights, dtype=np.float32)
        self.threshold = float(threshold)

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the weights, the feature table and the settings to a folder."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        cfg = {
            "threshold": self.threshold,
            "across": self.across,
            "topics": self.topics,
            "rule_threshold": self.rule_threshold,
            "labels": list(LABELS),
        }
        (folder / "cfg.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        if self.weights is not None:
            keys = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=np.uint32)
            np.save(folder / "features.npy", keys)
            np.save(folder / "weights.npy", self.weights.astype(np.float32))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> RelationScorer:
        """Read what ``to_disk`` wrote; a folder without weights leaves the rules alone."""
        folder = Path(path)
        cfg = json.loads((folder / "cfg.json").read_text(encoding="utf-8"))
        if list(cfg.get("labels", LABELS)) != list(LABELS):
            raise ValueError(f"{folder}: the scorer was trained for other labels")
        self.threshold = float(cfg["threshold"])
        self.across = bool(cfg.get("across", True))
        self.topics = bool(cfg.get("topics", True))
        self.rule_threshold = float(cfg.get("rule_threshold", 0.02))
        if (folder / "weights.npy").exists():
            keys = np.load(folder / "features.npy")
            self.vocab = {int(k): i for i, k in enumerate(keys)}
            self._rows.clear()
            self.weights = np.load(folder / "weights.npy").astype(np.float32)
        return self


@Language.factory(
    "fallout_relation_scorer",
    assigns=["doc._.fallout_relations", "doc._.fallout_drops"],
    requires=[
        "doc._.fallout_relations",
        "doc._.fallout_entities",
        "doc._.fallout_refs",
        "doc._.fallout_quantities",
        "doc._.fallout_transcript",
        "token.is_sent_start",
    ],
    default_config={"threshold": 0.5, "across": True, "topics": True, "rule_threshold": 0.02},
)
def make_scorer(
    nlp: Language, name: str, threshold: float, across: bool, topics: bool, rule_threshold: float
) -> RelationScorer:
    """Build the learned relation scorer (weights come from a trained pipeline).

    ``threshold`` keeps a relation the model proposes; ``rule_threshold`` (lower) keeps a
    relation a cue rule proposes, unless the model gives it less than that.
    """
    return RelationScorer(name, threshold, across, topics, rule_threshold)
