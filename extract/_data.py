"""Loading of the rule data in ``ontologies/`` (gazetteer, relation cues), cached."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.errors import PipelineConfigError

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = [
    "Cues",
    "GazetteerEntry",
    "Gazetteer",
    "kebab",
    "load_cues",
    "load_gazetteer",
    "normalise",
    "ontology_path",
    "token_texts",
]

_NON_WORD = re.compile(r"[^\w$]+")


def token_texts(doc: Doc) -> list[str]:
    """Return the token texts of ``doc``, computed once and cached in ``doc.user_data``."""
    cached: list[str] | None = doc.user_data.get("fallout_texts")
    if cached is None or len(cached) != len(doc):
        cached = [t.text for t in doc]
        doc.user_data["fallout_texts"] = cached
    return cached


def doc_text(doc: Doc) -> str:
    """Return ``doc.text``, built once and cached (spaCy joins the tokens on every access)."""
    cached: str | None = doc.user_data.get("fallout_text")
    if cached is None:
        cached = doc.text
        doc.user_data["fallout_text"] = cached
    return cached


def token_spaces(doc: Doc) -> list[bool]:
    """Return whether each token is followed by whitespace (read as one array)."""
    from spacy.attrs import SPACY

    return [bool(x) for x in doc.to_array([SPACY]).ravel()]


def ontology_path(name: str) -> Path:
    """Return the path of a data file shipped in the ``ontologies`` package."""
    return Path(str(resources.files("ontologies").joinpath(name)))


def normalise(surface: str) -> str:
    """Return the normalised surface form used to compare names.

    Examples
    --------
    >>> normalise("The  Alameda Research's")
    'alameda research'
    >>> normalise("Bankman-Fried")
    'bankman fried'
    """
    text = unicodedata.normalize("NFKC", surface).lower().replace("\u2019", "'").replace("_", " ")
    text = re.sub(r"'s\b", "", text)
    text = _NON_WORD.sub(" ", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text


def kebab(name: str) -> str:
    """Return the cross-document id of a name the gazetteer does not know.

    Examples
    --------
    >>> kebab("Quarry Capital")
    'quarry-capital'
    """
    slug = "-".join(normalise(name).replace("_", " ").replace("$", "").split())
    return slug or "entity"


@dataclass(frozen=True)
class GazetteerEntry:
    """One known entity: stable id, canonical name, kind."""

    id: str
    name: str
    label: str


@dataclass
class Gazetteer:
    """The known entities: SpanRuler-style patterns and a name index."""

    patterns: list[dict[str, Any]] = field(default_factory=list)
    entries: dict[str, GazetteerEntry] = field(default_factory=dict)
    by_form: dict[str, str] = field(default_factory=dict)

    def lookup(self, surface: str) -> GazetteerEntry | None:
        """Return the entry whose name or alias normalises like ``surface``."""
        key = self.by_form.get(normalise(surface))
        return self.entries.get(key) if key else None


@lru_cache(maxsize=4)
def load_gazetteer(path: str | None = None) -> Gazetteer:
    """Read the gazetteer JSONL (``{"label", "pattern", "id", "name"}`` per line).

    A missing file gives an empty gazetteer; a malformed line raises.
    """
    p = Path(path) if path else ontology_path("gazetteer.jsonl")
    gaz = Gazetteer()
    if not p.exists():
        return gaz
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label, pattern, ident = row["label"], row["pattern"], row["id"]
        except (ValueError, KeyError, TypeError) as err:
            raise PipelineConfigError(f"{p.name} line {lineno}: bad pattern ({err})") from err
        if not isinstance(pattern, str) or not pattern.strip():
            continue
        name = row.get("name") or pattern
        gaz.patterns.append({"label": label, "pattern": pattern, "id": ident})
        if ident not in gaz.entries:
            gaz.entries[ident] = GazetteerEntry(ident, name, label)
        for form in (normalise(pattern), normalise(name)):
            if form:
                gaz.by_form.setdefault(form, ident)
    return gaz


@dataclass
class Cues:
    """The relation cues and lexicons of ``ontologies/relation_cues.json``."""

    raw: dict[str, Any]
    relations: list[dict[str, Any]]
    type_kinds: dict[str, tuple[frozenset[str], frozenset[str]]]
    negation: re.Pattern[str]
    hedging: re.Pattern[str]
    hedging_near: re.Pattern[str]


@lru_cache(maxsize=4)
def load_cues(path: str | None = None) -> Cues:
    """Read and compile the relation cues (regexes compiled once)."""
    p = Path(path) if path else ontology_path("relation_cues.json")
    try:
        raw: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PipelineConfigError(f"{p}: cannot read relation cues ({err})") from err
    groups = {k: frozenset(v) for k, v in raw["kind_groups"].items()}
    relations = []
    for i, cue in enumerate(raw["relations"]):
        try:
            compiled = re.compile(cue["between"])
        except re.error as err:
            raise PipelineConfigError(f"{p.name}: relation cue {i} is not a regex ({err})") from err
        after = re.compile(cue["after"]) if "after" in cue else None
        relations.append(
            {
                **cue,
                "regex": compiled,
                "after_regex": after,
                "head_kinds": groups[cue["head"]] if "head" in cue else None,
                "tail_kinds": groups[cue["tail"]] if "tail" in cue else None,
            }
        )

    type_kinds = {
        t: (groups[ends[0]], groups[ends[1]])
        for t, ends in raw["cue_kinds"].items()
        if not t.startswith("_")
    }

    def words(items: list[str]) -> re.Pattern[str]:
        return re.compile(r"(?<![\w'])(" + "|".join(items) + r")(?![\w'])")

    return Cues(
        raw=raw,
        relations=relations,
        type_kinds=type_kinds,
        negation=words([re.escape(w).replace("n't", "n[’']t") for w in raw["negation"]]),
        hedging=words(raw["hedging"]),
        hedging_near=words(raw["hedging_near"]),
    )
