"""Scoring against gold annotations (``NAME.txt`` + ``NAME.json``), as DESIGN.md defines it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract._data import doc_text, normalise
from extract.errors import GoldFormatError
from extract.model import Facts

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = [
    "DocScore",
    "EvalReport",
    "Gold",
    "Score",
    "evaluate_dir",
    "evaluate_file",
    "gold_names_of",
    "load_gold",
    "score_coref",
    "score_doc",
]


@dataclass
class Score:
    """Counts behind precision, recall and F1."""

    predicted: int = 0
    gold: int = 0
    correct_predicted: int = 0
    found_gold: int = 0

    @property
    def precision(self) -> float:
        """Share of predictions that match gold (1.0 when nothing was predicted)."""
        return self.correct_predicted / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of gold items found (1.0 when the gold is empty)."""
        return self.found_gold / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Score) -> None:
        """Add another score's counts (micro-averaging)."""
        self.predicted += other.predicted
        self.gold += other.gold
        self.correct_predicted += other.correct_predicted
        self.found_gold += other.found_gold

    def as_dict(self) -> dict[str, float | int]:
        """Return counts and rounded P/R/F1."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "predicted": self.predicted,
            "gold": self.gold,
        }


@dataclass
class Gold:
    """A gold annotation file."""

    name: str
    entities: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the file as read


@dataclass
class DocScore:
    """Scores of one document, with the relations missed and the spurious ones."""

    name: str
    entities: Score
    relations: Score
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    missed_entities: list[str] = field(default_factory=list)
    spurious_entities: list[str] = field(default_factory=list)
    by_type: dict[str, Score] = field(default_factory=dict)
    coref: Score = field(default_factory=Score)


@dataclass
class EvalReport:
    """Per-document and micro-averaged scores of a gold folder."""

    documents: list[DocScore]
    entities: Score
    relations: Score
    coref: Score = field(default_factory=Score)

    def by_type(self) -> dict[str, Score]:
        """Micro-averaged relation scores per relation type."""
        out: dict[str, Score] = {}
        for d in self.documents:
            for rtype, score in d.by_type.items():
                out.setdefault(rtype, Score()).add(score)
        return dict(sorted(out.items()))

    def to_dict(self, *, verbose: bool = False) -> dict[str, Any]:
        """Return the JSON-ready report."""
        docs = []
        for d in self.documents:
            row: dict[str, Any] = {
                "document": d.name,
                "entities": d.entities.as_dict(),
                "relations": d.relations.as_dict(),
            }
            if verbose:
                row.update(
                    missed=d.missed,
                    spurious=d.spurious,
                    missed_entities=d.missed_entities,
                    spurious_entities=d.spurious_entities,
                )
            docs.append(row)
        micro: dict[str, Any] = {
            "entities": self.entities.as_dict(),
            "relations": self.relations.as_dict(),
        }
        if self.coref.gold:
            micro["coref"] = self.coref.as_dict()
        return {
            "documents": docs,
            "micro": micro,
            "by_type": {k: v.as_dict() for k, v in self.by_type().items()},
        }


def load_gold(path: Path) -> Gold:
    """Read one gold JSON file.

    Raises
    ------
    GoldFormatError
        If the file is not valid JSON or misses ``entities``/``relations`` fields.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entities = [
            {"name": e["name"], "type": e.get("type", ""), "aliases": list(e.get("aliases", []))}
            for e in data["entities"]
        ]
        relations = [
            {"head": r["head"], "type": r["type"], "tail": r["tail"]}
            for r in data.get("relations", [])
            if not r.get("negated")
        ]
    except (ValueError, KeyError, TypeError) as err:
        raise GoldFormatError(f"{path}: not a gold annotation file ({err!r})") from err
    return Gold(path.stem, entities, relations, data)


def score_doc(facts: Facts, gold: Gold) -> DocScore:
    """Score one document's facts against its gold annotation."""
    pred_map = gold_names_of(facts, gold)
    ents = Score(predicted=len(facts.entities), gold=len(gold.entities))
    ents.correct_predicted = sum(1 for v in pred_map.values() if v)
    found = set().union(*pred_map.values()) if pred_map else set()
    ents.found_gold = len(found)
    gold_rels = {(r["head"], r["type"], r["tail"]) for r in gold.relations}
    rels = Score(gold=len(gold_rels))
    hit: set[tuple[str, str, str]] = set()
    spurious = []
    seen_pred: set[tuple[str, str, str]] = set()
    correct: set[tuple[str, str, str]] = set()
    for rel in facts.relations:
        if rel.negated:
            continue
        key = (rel.head, rel.type.value, rel.tail)
        if key in seen_pred:
            continue
        seen_pred.add(key)
        rels.predicted += 1
        matches = set()
        for h in pred_map.get(rel.head, ()):
            for t in pred_map.get(rel.tail, ()):
                for cand in ((h, rel.type.value, t),) + (
                    ((t, rel.type.value, h),) if rel.type.value == "AFFILIATED_WITH" else ()
                ):
                    if cand in gold_rels:
                        matches.add(cand)
        if matches:
            rels.correct_predicted += 1
            hit |= matches
            correct.add(key)
        else:
            spurious.append(f"{rel.head} {rel.type.value} {rel.tail}")
    rels.found_gold = len(hit)
    missed = [f"{h} {t} {tl}" for h, t, tl in sorted(gold_rels - hit)]
    names = {e.id: e.name for e in facts.entities}
    by_type: dict[str, Score] = {}
    for _, rtype, _ in gold_rels:
        by_type.setdefault(rtype, Score()).gold += 1
    for _, rtype, _ in hit:
        by_type[rtype].found_gold += 1
    for key in seen_pred:
        by_type.setdefault(key[1], Score()).predicted += 1
    for key in correct:
        by_type[key[1]].correct_predicted += 1
    return DocScore(
        gold.name,
        ents,
        rels,
        missed,
        spurious,
        missed_entities=sorted({g["name"] for g in gold.entities} - found),
        spurious_entities=sorted(names[k] for k, v in pred_map.items() if not v),
        by_type=by_type,
    )


def evaluate_dir(gold_dir: str | Path, *, nlp: Language | None = None) -> EvalReport:
    """Extract every ``NAME.txt`` of ``gold_dir`` and score it against ``NAME.json``.

    Raises
    ------
    GoldFormatError
        If the folder holds no annotated pair or a gold file is malformed.
    """
    from extract.pipeline import default_nlp, doc_to_facts
    from extract.readers import read_file

    folder = Path(gold_dir)
    pairs = sorted(p for p in folder.glob("*.json") if p.with_suffix(".txt").exists())
    if not pairs:
        raise GoldFormatError(f"{folder}: no NAME.txt + NAME.json pairs found")
    pipe = nlp or default_nlp()
    docs: list[DocScore] = []
    ents, rels, coref = Score(), Score(), Score()
    for gold_path in pairs:
        gold = load_gold(gold_path)
        read = read_file(gold_path.with_suffix(".txt"))
        doc = pipe(read.text)
        facts, _ = doc_to_facts(doc, read.document)
        score = score_doc(facts, gold)
        score.coref = score_coref(doc, facts, gold)
        docs.append(score)
        ents.add(score.entities)
        rels.add(score.relations)
        coref.add(score.coref)
    return EvalReport(docs, ents, rels, coref)


def gold_mentions(text: str, raw: dict[str, Any]) -> list[tuple[int, int, str]]:
    """Locate the gold coreference links of a gold file: (start, end, entity name)."""
    out = []
    for link in raw.get("coref", []):
        sentence, mention = link.get("sentence", ""), link.get("mention", "")
        at = text.find(sentence) if sentence else -1
        if at < 0 or not mention:
            continue
        m = re.search(r"(?<!\w)" + re.escape(mention) + r"(?!\w)", sentence)
        if m is not None:
            out.append((at + m.start(), at + m.end(), link["entity"]))
    return out


def score_coref(doc: Any, facts: Facts, gold: Gold) -> Score:
    """Precision and recall of the mention links (pronouns, descriptions) of one document.

    Recall: the share of gold links whose span a reference of the pipeline covers,
    resolved to the gold entity. Precision: of the pipeline's references that fall on a
    gold-annotated span, the share resolved to the right entity.
    """
    links = gold_mentions(doc_text(doc), gold.raw)
    names = gold_names_of(facts, gold)
    refs = [o for o in (doc._.fallout_refs or []) if o.ref]
    score = Score(gold=len(links))
    for start, end, entity in links:
        over = [o for o in refs if o.start < end and start < o.end]
        if not over:
            continue
        score.predicted += 1
        if any(entity in names.get(o.entity_id, ()) for o in over):
            score.correct_predicted += 1
            score.found_gold += 1
    return score


def evaluate_file(
    text_path: str | Path, gold_path: str | Path, *, nlp: Language | None = None
) -> DocScore:
    """Extract one text file and score it against a gold JSON kept elsewhere."""
    from extract.pipeline import default_nlp, doc_to_facts
    from extract.readers import read_file

    pipe = nlp or default_nlp()
    read = read_file(text_path)
    facts, _ = doc_to_facts(pipe(read.text), read.document)
    return score_doc(facts, load_gold(Path(gold_path)))


def gold_names_of(facts: Facts, gold: Gold) -> dict[str, set[str]]:
    """Map each predicted entity id to the gold entity names it matches (by surface form)."""
    gold_forms: dict[str, set[str]] = {}
    for g in gold.entities:
        forms = {normalise(g["name"]), *(normalise(a) for a in g["aliases"])}
        gold_forms[g["name"]] = {f for f in forms if f}
    out: dict[str, set[str]] = {}
    for ent in facts.entities:
        forms = {
            normalise(ent.name),
            *(normalise(a) for a in ent.aliases),
            *(normalise(m.text) for m in ent.mentions),
        }
        out[ent.id] = {name for name, gf in gold_forms.items() if gf & forms}
    return out


def gold_problems(gold_path: Path) -> list[str]:
    """Check one gold file against its text: one line per problem (empty when sound).

    Every relation names listed entities of kinds its type allows, its evidence occurs
    in the text, and every coreference link's sentence and mention occur.
    """
    from extract._schema import load_relation_schema
    from extract.model import EntityType

    text = gold_path.with_suffix(".txt").read_text(encoding="utf-8")
    try:
        raw = json.loads(gold_path.read_text(encoding="utf-8"))
        kinds = {e["name"]: e["type"] for e in raw["entities"]}
    except (ValueError, KeyError, TypeError) as err:
        return [f"{gold_path}: not a gold annotation file ({err!r})"]
    schema = load_relation_schema()
    known = {k.value for k in EntityType}
    out = [
        f"{gold_path}: entity {name!r}: unknown type {kind!r}"
        for name, kind in kinds.items()
        if kind not in known
    ]
    for i, rel in enumerate(raw.get("relations", [])):
        where = f"{gold_path}: relation {i} ({rel.get('head')} {rel.get('type')} {rel.get('tail')})"
        allowed = schema.get(rel.get("type", ""))
        if allowed is None:
            out.append(f"{where}: unknown relation type")
            continue
        for end, side in ((rel.get("head"), allowed[0]), (rel.get("tail"), allowed[1])):
            if end not in kinds:
                out.append(f"{where}: {end!r} is not a listed entity")
            elif kinds[end] not in side:
                out.append(f"{where}: {end!r} is a {kinds[end]}")
        if not rel.get("evidence") or rel["evidence"] not in text:
            out.append(f"{where}: evidence not found in the text")
    found = len(gold_mentions(text, raw))
    if found != len(raw.get("coref", [])):
        out.append(f"{gold_path}: {len(raw['coref']) - found} coreference links not found")
    return out
