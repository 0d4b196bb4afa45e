"""Rule components: sentences, transcript speakers, names the gazetteer does not know, merging."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy
from spacy import util
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from extract._data import doc_text, load_cues, load_gazetteer, token_spaces, token_texts
from extract.components.gazetteer import SPANS_KEY as GAZETTEER_KEY
from extract.transcript import parse_transcript

__all__ = [
    "EntityMerger",
    "EntityRules",
    "Sentences",
    "TranscriptSpeakers",
    "make_entities",
    "make_entity_rules",
    "make_sentences",
    "make_transcript",
]

TRANSCRIPT_KEY = "fallout_transcript"
RULES_KEY = "fallout_rules"
_SENT_END = frozenset({".", "!", "?", "...", "\u2026", "?!", "!?"})
_CLOSERS = frozenset({"\u201d", '"', ")", "\u2019"})
_TICKER = re.compile(r"^\$?[A-Z][A-Z0-9]{1,6}$")
_INITIAL = re.compile(r"^[A-Z]\.$")
_DOMAIN_END = re.compile(r"^(?:[A-Z]{2,3}|com|io|net|org|co|us|xyz)$")  # "Binance.US", "FTX.com"


def _is_name_text(text: str) -> bool:
    return bool(text) and text[0].isupper() and "\n" not in text and any(c.isalpha() for c in text)


class Sentences:
    """Split at sentence-final punctuation and at line breaks (fast, rule-based)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        n = len(doc)
        if n == 0:
            return doc
        flags = numpy.full((n, 1), -1, dtype="int32")
        texts = token_texts(doc)
        spaces = [t.whitespace_ for t in doc]
        start = True
        for i in range(n):
            text = texts[i]
            if start:
                flags[i, 0] = 1
            if text.isspace():
                start = start or "\n" in text
                continue
            start = (
                (
                    text in _SENT_END
                    and not (i + 1 < n and texts[i + 1] in _CLOSERS and not spaces[i])
                    and not (i + 1 < n and not spaces[i] and _DOMAIN_END.match(texts[i + 1]))
                )
                or "\n" in spaces[i]
                or (text in _CLOSERS and i > 0 and texts[i - 1] in _SENT_END)
            )
        doc.from_array([SENT_START], flags.astype("uint64"))  # type: ignore[arg-type]
        return doc


@Language.factory("fallout_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> Sentences:
    """Build the rule-based sentence splitter."""
    return Sentences(name)


class TranscriptSpeakers:
    """Find speaker turns and the header's speakers and firms; store the transcript."""

    def __init__(self, name: str, path: str | None) -> None:
        self.name = name
        self.path = path

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        transcript = parse_transcript(doc_text(doc)) if ":" in doc_text(doc) else None
        doc._.fallout_transcript = transcript
        spans: list[Span] = []
        if transcript is not None:
            gaz = load_gazetteer(self.path)
            suffixes = load_cues().raw["org_suffixes"]
            for sp in transcript.speakers:
                span = doc.char_span(sp.start, sp.end, label="Person", alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                if sp.firm and sp.firm_start >= 0:
                    entry = gaz.lookup(sp.firm)
                    last = sp.firm.split()[-1]
                    label = entry.label if entry else suffixes.get(last, "InvestmentFirm")
                    firm = doc.char_span(
                        sp.firm_start,
                        sp.firm_end,
                        label=label,
                        alignment_mode="expand",
                        span_id=entry.id if entry else "",
                    )
                    if firm is not None:
                        spans.append(firm)
            for turn in transcript.turns:
                span = doc.char_span(
                    turn.label_start, turn.label_end, label="Person", alignment_mode="expand"
                )
                if span is not None:
                    spans.append(span)
        doc.spans[TRANSCRIPT_KEY] = spans
        return doc


@Language.factory(
    "fallout_transcript",
    assigns=["doc.spans", "doc._.fallout_transcript"],
    default_config={"path": None},
)
def make_transcript(nlp: Language, name: str, path: str | None) -> TranscriptSpeakers:
    """Build the transcript component (speaker labels and header)."""
    return TranscriptSpeakers(name, path)


class EntityRules:
    """Names no list knows: organisation suffixes, tickers, persons near titles."""

    def __init__(self, name: str) -> None:
        self.name = name
        raw = load_cues().raw
        self.suffixes: dict[str, str] = raw["org_suffixes"]
        self.stop = frozenset(raw["name_stopwords"])
        self.token_cues = frozenset(raw["token_cues_after"])
        self.title_cues = frozenset(raw["person_title_cues"])
        self.not_names = frozenset(w.upper() for w in raw["not_names"]["words"])

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        spans: list[Span] = []
        texts = token_texts(doc)
        n = len(texts)
        i = 0
        while i < n:
            if not _is_name_text(texts[i]):
                i += 1
                continue
            j = i
            while j < n and j - i < 6:
                if _is_name_text(texts[j]):
                    j += 1
                elif (
                    texts[j] == "-"
                    and j + 1 < n
                    and _is_name_text(texts[j + 1])
                    and not doc[j - 1].whitespace_
                    and not doc[j].whitespace_
                ):
                    j += 2  # hyphenated names: "Okonkwo-Finch"
                elif texts[j] == "&" and j + 1 < n and _is_name_text(texts[j + 1]):
                    j += 2  # "Kirkland & Ellis", "Alvarez & Marsal"
                else:
                    break
            spans.extend(self._run(doc, texts, i, j))
            i = j
        for i, text in enumerate(texts):
            if text[:1].isupper() or text[:1] == "$":
                if (
                    _TICKER.match(text)
                    and len(text.lstrip("$")) >= 2
                    and text.lstrip("$").upper() not in self.not_names
                ):
                    nxt = texts[i + 1].lower() if i + 1 < n else ""
                    prev = texts[i - 1].lower() if i else ""
                    if (
                        nxt in self.token_cues
                        or text.startswith("$")
                        or (prev in ("million", "billion", "thousand", "m", "bn") and nxt != "of")
                    ):
                        spans.append(Span(doc, i, i + 1, label="Token"))
        doc.spans[RULES_KEY] = spans
        return doc

    def _run(self, doc: Doc, texts: list[str], i: int, j: int) -> list[Span]:
        while i < j and texts[i] in self.stop:
            i += 1
        if i >= j:
            return []
        words = texts[i:j]
        # organisation: capitalised words ending in a known suffix
        for k in range(len(words) - 1, 0, -1):
            label = self.suffixes.get(words[k])
            if label:
                return [Span(doc, i, i + k + 1, label=label)]
        # person: two or three name words near a title cue
        if (
            2 <= len(words) <= 3
            and all(w.isalpha() or "-" in w or _INITIAL.match(w) for w in words)
            and not any(w.isupper() and len(w) > 1 for w in words)
        ):
            before = " ".join(t.lower() for t in texts[max(0, i - 3) : i])
            after = " ".join(t.lower() for t in texts[j : j + 4])
            if any(cue in before for cue in self.title_cues) or after.startswith(_PERSON_AFTER):
                return [Span(doc, i, j, label="Person")]
        return []


_PERSON_AFTER = (
    ", the",
    ", a ",
    ", its",
    ", who",
    "said",
    ", former",
    ", chief",
    ", ceo",
    ", founder",
    ", co-founder",
    "told",
    "wrote",
)


@Language.factory("fallout_entity_rules", assigns=["doc.spans"])
def make_entity_rules(nlp: Language, name: str) -> EntityRules:
    """Build the rules for names the gazetteer does not know."""
    return EntityRules(name)


class EntityMerger:
    """Merge candidates into ``doc.ents``: transcript > gazetteer > rules > statistical NER.

    The statistical NER (a disabled pipe named by ``ner``) runs only on sentences holding a
    capitalised word that no rule or list explains, gathered across a batch.
    """

    def __init__(self, nlp: Language, name: str, ner: str) -> None:
        self.name = name
        self.nlp = nlp
        self.ner_name = ner
        raw = load_cues().raw
        self.stop = frozenset(raw["name_stopwords"])
        self.not_names = frozenset(w.upper() for w in raw["not_names"]["words"])

    def _ner(self) -> Any:
        names = self.nlp.component_names
        return self.nlp.get_pipe(self.ner_name) if self.ner_name in names else None

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        return next(iter(self.pipe([doc])))

    def pipe(self, stream: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        """Process a stream of documents in batches."""
        ner = self._ner()
        for batch in util.minibatch(stream, size=batch_size):  # type: ignore[no-untyped-call]
            docs: list[Doc] = list(batch)
            if ner is None:
                for doc in docs:
                    self._merge(doc, [])
                    yield doc
                continue
            pieces: list[tuple[int, int]] = []
            subdocs: list[Doc] = []
            for k, doc in enumerate(docs):
                texts = token_texts(doc)
                spaces = token_spaces(doc)
                for sent_start, sent_end in self._unexplained(doc):
                    # a fresh Doc per sentence: Span.as_doc copies the whole document's
                    # arrays each time, which made long documents quadratic
                    subdocs.append(
                        Doc(
                            doc.vocab,
                            words=texts[sent_start:sent_end],
                            spaces=spaces[sent_start:sent_end],
                        )
                    )
                    pieces.append((k, sent_start))
            found: list[list[Span]] = [[] for _ in docs]
            for (k, offset), sub in zip(pieces, ner.pipe(subdocs, batch_size=512), strict=True):
                doc = docs[k]
                for ent in sub.ents:
                    found[k].append(
                        Span(doc, ent.start + offset, ent.end + offset, label=ent.label_)
                    )
            for doc, ents in zip(docs, found, strict=True):
                self._merge(doc, ents)
                yield doc

    def _unexplained(self, doc: Doc) -> list[tuple[int, int]]:
        covered = bytearray(len(doc))
        for key in (TRANSCRIPT_KEY, GAZETTEER_KEY, RULES_KEY):
            if key in doc.spans:
                for span in doc.spans[key]:
                    covered[span.start : span.end] = b"\x01" * (span.end - span.start)
        texts = token_texts(doc)
        n = len(texts)
        out = []
        for sent in doc.sents:
            first, last = sent.start, sent.end
            for i in range(first, last):
                text = texts[i]
                if covered[i] or not text[:1].isupper() or text in self.stop:
                    continue
                if i == first and not (i + 1 < n and texts[i + 1][:1].isupper()):
                    continue
                out.append((first, last))
                break
        return out

    def _merge(self, doc: Doc, ner_spans: list[Span]) -> None:
        candidates: list[tuple[int, int, Span]] = []
        for priority, key in enumerate((TRANSCRIPT_KEY, GAZETTEER_KEY, RULES_KEY)):
            if key in doc.spans:
                candidates.extend((priority, -len(s), s) for s in doc.spans[key])
        candidates.extend(
            (3, -len(s), s) for s in (_clean_ner(e, self.stop) for e in ner_spans) if s
        )
        text = doc_text(doc)  # built from the tokens on every access: once here
        headlines = _headline_lines(text)
        candidates = [
            c
            for c in candidates
            if c[2].text.upper() not in self.not_names
            and (c[0] <= 1 or not _only_in_headline(text, c[2], headlines))
        ]
        candidates.sort(key=lambda c: (c[0], c[1], c[2].start))
        taken = bytearray(len(doc))
        chosen: list[Span] = []
        for _, _, span in candidates:
            if any(taken[span.start : span.end]):
                continue
            for k in range(span.start, span.end):
                taken[k] = 1
            chosen.append(Span(doc, span.start, span.end, label=span.label_, span_id=span.id_))
        chosen = [_with_legal_suffix(span, taken) for span in chosen]
        doc.set_ents(sorted(chosen, key=lambda s: s.start), default="outside")


_LEGAL = frozenset(
    "llc ltd ltd. limited inc inc. incorporated corp corp. corporation plc lp l.p. llp "
    "ag sa s.a. nv n.v. bv b.v. gmbh pte pty co co. n.a. se spa s.p.a.".split()
)
_ORG_LABELS = frozenset(
    "Exchange Lender TradingFirm InvestmentFirm Bank Company MediaOutlet Regulator Protocol".split()
)


def _with_legal_suffix(span: Span, taken: bytearray) -> Span:
    """Extend an organisation over a legal form that follows it ("Gemini Trust Company, LLC")."""
    if span.label_ not in _ORG_LABELS:
        return span
    doc = span.doc
    end = span.end
    k = end
    if k < len(doc) and doc[k].text == "," and k + 1 < len(doc) and doc[k + 1].lower_ in _LEGAL:
        k += 1
    grew = False
    while k < len(doc) and doc[k].lower_.rstrip(",") in _LEGAL and not taken[k]:
        if doc[k].text[:1].islower():
            break
        k += 1
        grew = True
        if k < len(doc) and doc[k].text == "." and not doc[k - 1].whitespace_:
            k += 1  # "Inc" "." split by the tokenizer
    if not grew:
        return span
    for t in range(end, k):
        taken[t] = 1
    return Span(doc, span.start, k, label=span.label_, span_id=span.id_)


_HEADLINE_SMALL = frozenset(
    "a an the and or but of to in on at for by as with from into over after amid vs via is "
    "are was were be its it".split()
)


def _headline_lines(text: str) -> list[tuple[int, int]]:
    """Return the character ranges of lines written in Title Case (headlines, headings).

    A line qualifies when it has at least four words, no sentence-final full stop, and
    every word but the small ones starts with a capital letter.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        words = [w for w in line.split() if any(c.isalpha() for c in w)]
        stripped = line.rstrip()
        if (
            len(words) >= 4
            and not stripped.endswith(".")
            and all(w[:1].isupper() or w.lower() in _HEADLINE_SMALL for w in words)
            and sum(1 for w in words if w[:1].isupper()) >= 3
        ):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _only_in_headline(text: str, span: Span, headlines: list[tuple[int, int]]) -> bool:
    """Whether a candidate name sits in a Title Case line and nowhere else in the text."""
    start = span.start_char
    inside = next(((a, b) for a, b in headlines if a <= start < b), None)
    if inside is None:
        return False
    name = span.text
    first = text.find(name)
    while first != -1:
        if not inside[0] <= first < inside[1] and not any(a <= first < b for a, b in headlines):
            return False
        first = text.find(name, first + 1)
    return True


_TRIM = frozenset(
    {
        "'s",
        "\u2019s",
        "'",
        "\u2019",
        ",",
        "-",
        ".",
        ":",
        ";",
        "(",
        ")",
        '"',
        "\u201c",
        "\u201d",
        "'d",
        "\u2019d",
    }
)


def _clean_ner(span: Span, stop: frozenset[str]) -> Span | None:
    """Trim punctuation and stop words off a statistical NER span; refuse implausible ones."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].text in _TRIM or doc[start].text in stop):
        start += 1
    while end > start and (doc[end - 1].text in _TRIM or doc[end - 1].text in stop):
        end -= 1
    if end <= start:
        return None
    first = doc[start]
    text = doc[start:end].text
    if "://" in text or "(" in text or ")" in text or "@" in text:
        return None
    if "\n" in text or not text[0].isupper() or len(text) < 2:
        if not (text[:1].isdigit() and any(c.isupper() for c in text)):
            return None
    if end - start == 1 and first.is_title and not first.is_upper and _opens_clause(first):
        return None  # "Customer balances ...", "- Customer ...", a common word
    if (
        any(t.is_digit for t in doc[start:end])
        and end - start == 1
        and not first.is_alpha
        and not any(c.isupper() for c in first.text)
    ):
        return None
    return Span(doc, start, end, label=span.label_)


def _opens_clause(token: Token) -> bool:
    """Whether a word is capitalised for its position: first of a sentence or a line."""
    if token.is_sent_start:
        return True
    doc = token.doc
    k = token.i - 1
    while k >= 0 and doc[k].is_punct and doc[k].text not in (",", ";"):
        if doc[k].is_sent_start or "\n" in doc[k].whitespace_:
            return True
        k -= 1
    return k < 0 or doc[k].is_space or "\n" in doc[k].whitespace_


@Language.factory(
    "fallout_entities",
    assigns=["doc.ents"],
    requires=["doc.spans", "token.is_sent_start"],
    default_config={"ner": "ner"},
)
def make_entities(nlp: Language, name: str, ner: str) -> EntityMerger:
    """Build the merger of entity candidates (``ner``: the statistical pipe to consult)."""
    return EntityMerger(nlp, name, ner)
