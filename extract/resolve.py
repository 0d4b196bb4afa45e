"""Resolution: mentions -> entities within a document, and stable ids across documents."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from extract._data import Gazetteer, kebab, load_cues, load_gazetteer, normalise, token_texts
from extract.coref import CorefLexicon, resolve_references
from extract.model import ORGANISATION_TYPES
from extract.transcript import handle_to_name

__all__ = ["EntityRecord", "Occurrence", "Resolver", "make_resolver", "resolve_doc"]

_ORGANISATIONS = frozenset(kind.value for kind in ORGANISATION_TYPES)


@dataclass
class EntityRecord:
    """An entity of one document with its mentions (character offsets)."""

    id: str
    name: str
    type: str
    known: bool = False
    forms: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)
    mentions: list[tuple[int, int, str]] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Occurrence:
    """A span that stands for an entity: a name mention or a resolved reference."""

    start: int
    end: int
    entity_id: str
    type: str
    ref: bool = False


@lru_cache(maxsize=1)
def _lexicon() -> CorefLexicon:
    return CorefLexicon.from_cues(load_cues().raw)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if w[:1].isalpha()).upper()


def resolve_doc(doc: Doc, gaz: Gazetteer) -> tuple[dict[str, EntityRecord], list[Occurrence]]:
    """Group the entity mentions of ``doc`` into entities and resolve references."""
    cues = load_cues().raw
    records: dict[str, EntityRecord] = {}
    occurrences: list[Occurrence] = []
    form_index: dict[str, str] = {}

    def add(rec_id: str, name: str, label: str, known: bool) -> EntityRecord:
        rec = records.get(rec_id)
        if rec is None:
            rec = records[rec_id] = EntityRecord(rec_id, name, label, known)
            rec.forms.add(normalise(name))
            form_index.setdefault(normalise(name), rec_id)
        return rec

    def mention(rec: EntityRecord, start: int, end: int, text: str, label: str) -> None:
        rec.mentions.append((start, end, text))
        form = normalise(text)
        rec.forms.add(form)
        form_index.setdefault(form, rec.id)
        rec.types[label] += 1
        if text != rec.name:
            rec.aliases.add(" ".join(text.split()))
        occurrences.append(Occurrence(start, end, rec.id, rec.type))

    unknown = []
    for ent in doc.ents:
        entry = gaz.entries.get(ent.ent_id_) if ent.ent_id_ else gaz.lookup(ent.text)
        if entry is not None:
            rec = add(entry.id, entry.name, entry.label, True)
            mention(rec, ent.start_char, ent.end_char, ent.text, ent.label_)
        else:
            unknown.append(ent)
    unknown.sort(key=lambda e: -len(e.text))
    for ent in unknown:
        text = " ".join(ent.text.replace("_", " ").split())
        if text.startswith("@"):
            text = handle_to_name(ent.text[1:])
        form = normalise(text)
        if not form:
            continue
        target = form_index.get(form)
        if target is None:
            words = form.split()
            for rec in records.values():
                rec_words = normalise(rec.name).split()
                if (
                    len(words) < len(rec_words)
                    and rec_words[: len(words)] == words
                    and (ent.label_ != "Person" or rec.type == "Person" or len(words) >= 2)
                ):
                    target = rec.id
                    break
                if rec.type == "Person" and len(words) == 1 and words[0] in rec_words:
                    target = rec.id
                    break
                if len(form) >= 2 and form.upper() == _initials(rec.name) and len(rec_words) > 1:
                    target = rec.id
                    break
        if target is None:
            # an acronym of a longer name mentioned later?
            rec = add(kebab(text), text, ent.label_, False)
        else:
            rec = records[target]
        mention(rec, ent.start_char, ent.end_char, ent.text, ent.label_)
    # a short name mentioned before its long form (e.g. "OFR" ... "Old Fashion Research")
    for rec in list(records.values()):
        if rec.known or " " in rec.name or rec.id not in records:
            continue
        for other in list(records.values()):
            if other is not rec and " " in other.name and _initials(other.name) == rec.name.upper():
                for start, end, text in rec.mentions:
                    other.mentions.append((start, end, text))
                    other.aliases.add(text)
                    other.forms.add(normalise(text))
                del records[rec.id]
                occurrences[:] = [
                    Occurrence(o.start, o.end, other.id, other.type, o.ref)
                    if o.entity_id == rec.id
                    else o
                    for o in occurrences
                ]
                break
    # unknown names take their most frequent label
    for rec in records.values():
        if not rec.known and rec.types:
            rec.type = rec.types.most_common(1)[0][0]
        if not rec.known:
            longest = max((m[2] for m in rec.mentions), key=len, default=rec.name)
            if longest.startswith("@"):
                longest = handle_to_name(longest[1:])
            rec.name = " ".join(longest.replace("_", " ").split())
    _name_parts(doc, records, occurrences, set(cues["name_stopwords"]))
    occurrences.extend(resolve_references(doc, records, occurrences, _lexicon()))
    occurrences.sort(key=lambda o: (o.start, -o.end))
    return records, occurrences


def _name_parts(
    doc: Doc, records: dict[str, EntityRecord], occurrences: list[Occurrence], stop: set[str]
) -> None:
    """Single-word short names ("Alameda", "Rafael") of multiword entities of the document."""
    parts: dict[str, str] = {}
    for rec in records.values():
        words = rec.name.split()
        if len(words) < 2:
            if len(rec.name) > 2 and rec.name not in stop and rec.name[0].isupper():
                parts.setdefault(rec.name, rec.id)
            continue
        if rec.type == "Person":
            for w in (words[0], words[-1]):
                if len(w) > 2 and w not in stop:
                    parts.setdefault(w, rec.id)
        elif len(words[0]) > 3 and words[0] not in stop and words[0][0].isupper():
            parts.setdefault(words[0], rec.id)
    if not parts:
        return
    covered = bytearray(len(doc))
    for ent in doc.ents:
        covered[ent.start : ent.end] = b"\x01" * (ent.end - ent.start)
    for i, text in enumerate(token_texts(doc)):
        rec_id = parts.get(text)
        if rec_id is not None and not covered[i]:
            token = doc[i]
            rec = records[rec_id]
            rec.mentions.append((token.idx, token.idx + len(token), token.text))
            occurrences.append(Occurrence(token.idx, token.idx + len(token), rec.id, rec.type))


class Resolver:
    """``fallout_resolve``: entities and reference occurrences into ``Doc._`` attributes."""

    def __init__(self, name: str, path: str | None) -> None:
        self.name = name
        self.gaz = load_gazetteer(path)

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        records, occurrences = resolve_doc(doc, self.gaz)
        doc._.fallout_entities = records
        doc._.fallout_refs = occurrences
        return doc


@Language.factory(
    "fallout_resolve",
    assigns=["doc._.fallout_entities", "doc._.fallout_refs"],
    requires=["doc.ents", "token.is_sent_start"],
    default_config={"path": None},
)
def make_resolver(nlp: Language, name: str, path: str | None) -> Resolver:
    """Build the in-document resolver."""
    return Resolver(name, path)
