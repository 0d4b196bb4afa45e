"""``fallout_gazetteer``: known entities by phrase matching against the gazetteer."""

from __future__ import annotations

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from extract._data import load_gazetteer

__all__ = ["GazetteerMatcher", "make_gazetteer"]

SPANS_KEY = "fallout_gazetteer"


class GazetteerMatcher:
    """Match every gazetteer pattern (case-sensitive, token-exact) into ``doc.spans``."""

    def __init__(self, nlp: Language, name: str, path: str | None) -> None:
        self.name = name
        gaz = load_gazetteer(path)
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._labels: dict[int, tuple[str, str]] = {}
        by_key: dict[str, list[Doc]] = {}
        for pat in gaz.patterns:
            key = f"{pat['label']}|{pat['id']}"
            by_key.setdefault(key, []).append(nlp.make_doc(pat["pattern"]))
        for key, docs in by_key.items():
            self.matcher.add(key, docs)
            label, ident = key.split("|", 1)
            self._labels[nlp.vocab.strings[key]] = (label, ident)

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        spans: list[Span] = []
        for match_id, start, end in self.matcher(doc):
            label, ident = self._labels[match_id]
            spans.append(Span(doc, start, end, label=label, span_id=ident))
        doc.spans[SPANS_KEY] = spans
        return doc


@Language.factory(
    "fallout_gazetteer",
    assigns=["doc.spans"],
    default_config={"path": None},
)
def make_gazetteer(nlp: Language, name: str, path: str | None) -> GazetteerMatcher:
    """Build the gazetteer matcher from ``ontologies/gazetteer.jsonl`` (or ``path``)."""
    return GazetteerMatcher(nlp, name, path)

