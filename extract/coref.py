"""Coreference without a downloaded model: pronouns and descriptions -> entities.

News and transcripts name a firm once and then call it "the exchange", "the lender", "it"
or "the company"; people become "he", "she" or "his". Each such mention is linked to an
entity of the document by agreement and recency:

- a definite description ("the exchange", "the bankrupt lender", "the Singapore-based
  fund") goes to the most recent entity whose kind fits its head noun, within a few
  sentences; a generic head ("the firm", "the company", "the group") to the most recent
  organisation;
- "it" and "its" go to the organisation that is the subject of the current sentence
  before the pronoun, else the subject of the previous sentence, else the most recent
  organisation; "it" in "it is unclear" and the like is left alone;
- "they", "them" and "their" go to an organisation only when the previous sentence
  names exactly one, as its subject;
- "he", "she", "him", "her", "his" go to the most recent person.

A subject is the first entity of a sentence that no preposition governs. The lexicon
(head nouns and their kinds) is the ``coreference`` entry of ``relation_cues.json``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from extract._data import doc_text, token_texts
from extract.model import ORGANISATION_TYPES

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from extract.resolve import EntityRecord, Occurrence

__all__ = ["CorefLexicon", "resolve_references"]

_ORGS = frozenset(k.value for k in ORGANISATION_TYPES)
_GOVERNED = re.compile(
    r"\b(of|by|to|from|with|at|in|on|for|into|against|than|like|via|about|over|and|or)\s+"
    r"(the\s+)?$"
)


@dataclass(frozen=True)
class CorefLexicon:
    """Head nouns of descriptions with the kinds they fit, and the words around them."""

    heads: dict[str, tuple[str, ...]]
    generic: frozenset[str]
    modifiers_max: int
    stop_after: frozenset[str]
    expletive: re.Pattern[str]
    window: int

    @classmethod
    def from_cues(cls, raw: dict[str, Any]) -> CorefLexicon:
        """Build the lexicon from the ``coreference`` entry of the cue file."""
        spec = raw["coreference"]
        return cls(
            heads={k: tuple(v) for k, v in spec["heads"].items()},
            generic=frozenset(spec["generic"]),
            modifiers_max=int(spec["modifiers_max"]),
            stop_after=frozenset(spec["stop_after"]),
            expletive=re.compile(spec["expletive"]),
            window=int(spec["window_sentences"]),
        )


_PERSONAL = {"he", "him", "his", "she", "her", "himself", "herself"}
_IT = {"it", "its", "itself"}
_THEY = {"they", "them", "their", "themselves"}


def resolve_references(
    doc: Doc,
    records: dict[str, EntityRecord],
    occurrences: list[Occurrence],
    lexicon: CorefLexicon,
) -> list[Occurrence]:
    """Return reference occurrences (``ref=True``) for the pronouns and descriptions."""
    from extract.resolve import Occurrence

    text = doc_text(doc)
    names = sorted((o for o in occurrences if not o.ref), key=lambda o: (o.start, -o.end))
    starts = [o.start for o in names]
    lows = [t.lower() for t in token_texts(doc)]
    taken = bytearray(len(text) + 1)
    for o in names:
        taken[o.start : o.end] = b"\x01" * (o.end - o.start)
    sents = [(s.start, s.end, s.start_char, s.end_char) for s in doc.sents]
    refs: list[Occurrence] = []
    subject_of: list[Occurrence | None] = []
    orgs_in: list[list[Occurrence]] = []
    for k, (t0, t1, c0, c1) in enumerate(sents):
        lo, hi = bisect_left(starts, c0), bisect_left(starts, c1)
        mine = names[lo:hi]
        subj = _subject(text, c0, mine)
        subject_of.append(subj)
        orgs_in.append([o for o in mine if o.type in _ORGS])
        first_sent = max(0, k - lexicon.window)
        window_lo = bisect_left(starts, sents[first_sent][2])
        i = t0
        while i < t1:
            low = lows[i]
            tok = doc[i]
            if taken[tok.idx]:
                i += 1
                continue
            target: Occurrence | None = None
            end = i + 1
            if low == "the":
                end, kinds, generic = _description(lows, i, t1, lexicon)
                if kinds:
                    nxt = doc[end] if end < len(doc) else None
                    if nxt is not None and nxt.text[:1].isupper() and taken[nxt.idx]:
                        i = end  # "the exchange FTX": an apposition, not a reference
                        continue
                    before = names[window_lo : bisect_left(starts, tok.idx)]
                    target = _latest(before, kinds)
                    if target is None and generic:
                        target = _latest(before, tuple(_ORGS))
            elif low in ("'s", "\u2019s") and i + 1 < t1 and lows[i + 1] in lexicon.heads:
                # "Bankman-Fried's exchange": the firm a person is said to have
                owner = _latest(names[window_lo : bisect_left(starts, tok.idx)], ("Person",))
                if owner is not None and owner.end == tok.idx:
                    kinds = lexicon.heads[lows[i + 1]]
                    later = [o for o in mine if o.start > tok.idx and o.type in kinds]
                    before = names[window_lo : bisect_left(starts, tok.idx)]
                    target = _latest(before, kinds) or (later[0] if later else None)
                    i, end = i + 1, i + 2
            elif low in _PERSONAL:
                before = names[window_lo : bisect_left(starts, tok.idx)]
                target = _latest(before, ("Person",))
            elif low in _IT:
                if low == "it" and lexicon.expletive.match(text, tok.idx + 2):
                    i += 1
                    continue
                target = _it_target(text, tok.idx, c0, mine, subject_of, k)
            elif low in _THEY and k > 0:
                prev = orgs_in[k - 1]
                same = [o for o in mine if o.end <= tok.idx and o.type in _ORGS]
                if not same and len({o.entity_id for o in prev}) == 1 and subject_of[k - 1]:
                    target = prev[0]
            if target is not None and target.entity_id in records:
                span = doc[i:end]
                rec = records[target.entity_id]
                refs.append(Occurrence(span.start_char, span.end_char, rec.id, rec.type, True))
            i = end
    return refs


def _description(
    lows: list[str], i: int, limit: int, lexicon: CorefLexicon
) -> tuple[int, tuple[str, ...], bool]:
    """Read "the [modifiers] HEAD" at token ``i``: (end, kinds, generic)."""
    for width in range(1, lexicon.modifiers_max + 2):
        j = i + width
        if j >= limit:
            break
        word = lows[j]
        kinds = lexicon.heads.get(word)
        if kinds is not None:
            two = f"{word} {lows[j + 1]}" if j + 1 < limit else ""
            if two in lexicon.heads:  # "the trading firm", "the parent company"
                return j + 2, lexicon.heads[two], two in lexicon.generic
            nxt = lows[j + 1] if j + 1 < limit else ""
            if nxt in lexicon.stop_after:
                return i + 1, (), False
            return j + 1, kinds, word in lexicon.generic
        if not (word.isalpha() or "-" in word) or word in lexicon.stop_after:
            break
    return i + 1, (), False


def _latest(before: list[Occurrence], kinds: tuple[str, ...]) -> Occurrence | None:
    for o in reversed(before):
        if o.type in kinds:
            return o
    return None


def _subject(text: str, sent_start: int, mine: list[Occurrence]) -> Occurrence | None:
    """Return the first entity of a sentence that no preposition governs."""
    for o in mine:
        if not _GOVERNED.search(text[max(sent_start, o.start - 16) : o.start].lower()):
            return o
    return None


def _it_target(
    text: str,
    at: int,
    sent_start: int,
    mine: list[Occurrence],
    subject_of: list[Occurrence | None],
    k: int,
) -> Occurrence | None:
    before = [o for o in mine if o.end <= at]
    subj = _subject(text, sent_start, before)
    if subj is not None and subj.type in _ORGS:
        return subj
    for back in range(k - 1, max(-1, k - 3), -1):
        prev = subject_of[back]
        if prev is not None and prev.type in _ORGS:
            return prev
    orgs = [o for o in before if o.type in _ORGS]
    return orgs[-1] if orgs else None
