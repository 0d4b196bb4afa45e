"""Scoring against gold annotations (``NAME.txt`` + ``NAME.json``), as DESIGN.md defines it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract._data import normalise
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


@dataclass
class EvalReport:
    """Per-document and micro-averaged scores of a gold folder."""

    documents: list[DocScore]
    entities: Score
    relations: Score

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
        return {
            "documents": docs,
            "micro": {"entities": self.entities.as_dict(), "relations": self.relations.as_dict()},
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
    return Gold(path.stem, entities, relations)


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
        else:
            spurious.append(f"{rel.head} {rel.type.value} {rel.tail}")
    rels.found_gold = len(hit)
    missed = [f"{h} {t} {tl}" for h, t, tl in sorted(gold_rels - hit)]
    names = {e.id: e.name for e in facts.entities}
    return DocScore(
        gold.name,
        ents,
        rels,
        missed,
        spurious,
        missed_entities=sorted({g["name"] for g in gold.entities} - found),
        spurious_entities=sorted(names[k] for k, v in pred_map.items() if not v),
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
    ents, rels = Score(), Score()
    for gold_path in pairs:
        gold = load_gold(gold_path)
        read = read_file(gold_path.with_suffix(".txt"))
        facts, _ = doc_to_facts(pipe(read.text), read.document)
        score = score_doc(facts, gold)
        docs.append(score)
        ents.add(score.entities)
        rels.add(score.relations)
    return EvalReport(docs, ents, rels)


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
