"""One validation for facts, before they reach a store or a model.

``fallout load``, ``fallout ingest`` and the app's Ingest page pass facts through
:func:`check_facts` before they open a store; the stores refuse them again while writing
(:meth:`graph.load.Batch.check`; the embedded store checks the relation rules on its
Arrow columns). ``fallout contagion run`` bounds ids with the same limit and phrasing
(:data:`MAX_NAME_CHARS`, :func:`text_problem`, :func:`where`). The rules:

- amounts (``amount``, ``quantity``, an entity's ``total_assets`` and ``deposits``) are
  finite numbers >= 0; ``equity`` may be negative (insolvent) but is finite;
- no relation points from an entity to itself, and both ends are entities of the
  relation's own document;
- every relation has its evidence (a sentence with offsets) and its document (an id
  and a source);
- JSON is nested at most :data:`MAX_DEPTH` levels deep, names and ids are at most
  :data:`MAX_NAME_CHARS` characters, evidence sentences at most :data:`MAX_TEXT_CHARS`.

Each refusal is one :class:`Problem`, printed as one line that names the file, the
document, the relation (or entity, or CSV row) and the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import eq, gt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.errors import SchemaViolation

if TYPE_CHECKING:
    from extract.model import Facts

__all__ = [
    "MAX_DEPTH",
    "MAX_NAME_CHARS",
    "MAX_TEXT_CHARS",
    "FactsRefused",
    "Problem",
    "check_facts",
    "json_depth",
    "number_problem",
    "parse_facts",
    "read_checked_facts",
    "require_valid",
    "text_problem",
    "where",
]

MAX_DEPTH = 32
"""Deepest JSON nesting accepted; the facts format itself is six levels deep."""

MAX_NAME_CHARS = 4_096
"""Longest id, name, alias, title, source, currency, date or speaker accepted."""

MAX_TEXT_CHARS = 100_000
"""Longest evidence sentence or mention text accepted."""

_SHORT_RELATION_FIELDS = ("currency", "asset", "date", "status", "to", "speaker")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def where(
    file: str | None = None,
    *,
    document: str | None = None,
    relation: str | None = None,
    entity: str | None = None,
    row: int | None = None,
    field: str | None = None,
) -> str:
    """Name the place of a problem: ``file: document 'd', relation 0 (...), field 'f'``.

    Examples
    --------
    >>> where("f.json", document="d1", relation="0 (a LENT_TO b)", field="amount")
    "f.json: document 'd1', relation 0 (a LENT_TO b), field 'amount'"
    >>> where("exposures.csv", row=3, field="debtor")
    "exposures.csv row 3, field 'debtor'"
    """
    head = file or ""
    if row is not None:
        head = f"{head} row {row}".strip()
    parts = []
    if document is not None:
        parts.append(f"document {document!r}")
    if entity is not None:
        parts.append(f"entity {entity}")
    if relation is not None:
        parts.append(f"relation {relation}")
    if field is not None:
        parts.append(f"field {field!r}")
    if not parts:
        return head
    if not head:
        return ", ".join(parts)
    return f"{head}{',' if row is not None else ':'} " + ", ".join(parts)


def number_problem(value: Any, *, nonnegative: bool = True, raw: str | None = None) -> str | None:
    """Say what is wrong with a number, or return ``None`` when it is acceptable.

    ``raw`` is the text as given (a CSV cell), used to name what was found.

    Examples
    --------
    >>> number_problem(-5e8)
    'negative amount -500000000.0; expected a number >= 0'
    >>> number_problem(float("nan"))
    'NaN is not a number'
    >>> number_problem(None, raw="")
    'blank; expected a number'
    >>> number_problem(None, raw="12 million")
    "non-numeric value '12 million'"
    >>> number_problem(-1.0, nonnegative=False) is None
    True
    """
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        text = "" if raw is None else raw.strip()
        if not text:
            return "blank; expected a number"
        if text.lower() in ("nan", "+nan", "-nan"):
            return "NaN is not a number"
        return f"non-numeric value {text!r}"
    number = float(value)
    if math.isnan(number):
        return "NaN is not a number"
    if math.isinf(number):
        return f"infinite value {raw.strip() if raw else str(number)!r}; expected a finite number"
    if nonnegative and number < 0:
        return f"negative amount {number!r}; expected a number >= 0"
    return None


def text_problem(value: str, limit: int = MAX_NAME_CHARS) -> str | None:
    """Say what is wrong with a string's size, or return ``None``.

    Examples
    --------
    >>> text_problem("x" * 5000)
    '5000 characters; at most 4096 are accepted'
    """
    if len(value) > limit:
        return f"{len(value)} characters; at most {limit} are accepted"
    return None


@dataclass(frozen=True)
class Problem:
    """One refusal: where (file, document, relation or entity, field) and what."""

    file: str | None
    document: str | None
    relation: str | None
    field: str | None
    message: str
    entity: str | None = None

    def __str__(self) -> str:
        place = where(
            self.file,
            document=self.document,
            relation=self.relation,
            entity=self.entity,
            field=self.field,
        )
        return f"{place}: {self.message}"


class FactsRefused(SchemaViolation):
    """Facts break the rules of :mod:`graph.validation`; ``problems`` lists each one.

    The message is the first problem's line, with the count of the others.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid facts"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problems)" if more > 0 else ""))


def _relation_label(n: int, head: str, kind: str, tail: str) -> str:
    return f"{n} ({head[:60]} {kind} {tail[:60]})"


def check_facts(facts: Facts, *, file: str | None = None) -> list[Problem]:
    """Return every problem of one document's facts (an empty list when they pass).

    Examples
    --------
    >>> from extract.model import Facts
    >>> f = Facts.model_validate({"document": {"id": "d1", "source": "d1.txt"},
    ...     "entities": [{"id": "a", "name": "A", "type": "Bank"}],
    ...     "relations": [{"head": "a", "type": "OWNS", "tail": "a", "confidence": 1,
    ...                    "amount": -1, "evidence": [{"text": "A", "start": 0, "end": 1}]}]})
    >>> for p in check_facts(f, file="f.json"):
    ...     print(p)
    f.json: document 'd1', relation 0 (a OWNS a), field 'tail': 'a' is the head too; a relation cannot point at its own head
    f.json: document 'd1', relation 0 (a OWNS a), field 'amount': negative amount -1.0; expected a number >= 0
    """  # noqa: E501
    if _passes(facts):
        return []
    doc = facts.document
    doc_id = doc.id
    problems: list[Problem] = []

    def add(
        field: str, message: str, relation: str | None = None, entity: str | None = None
    ) -> None:
        problems.append(Problem(file, doc_id, relation, field, message, entity))

    for name, value in (("id", doc.id), ("source", doc.source)):
        if not value.strip():
            add(f"document.{name}", "empty; every document needs an id and a source")
    for name, value in (("id", doc.id), ("source", doc.source), ("title", doc.title)):
        if (msg := text_problem(value)) is not None:
            add(f"document.{name}", msg)

    known = _entity_problems(facts, add)
    _relation_problems(facts, known, add)
    return problems


_Add = Callable[..., None]


def _entity_problems(facts: Facts, add: _Add) -> set[str]:
    """Report the entities' problems through ``add``; return the entity ids."""
    known: set[str] = set()
    for n, ent in enumerate(facts.entities):
        label = f"{n} ({ent.id[:60]!r})"
        known.add(ent.id)
        for name, value in (("id", ent.id), ("name", ent.name)):
            if (msg := text_problem(value)) is not None:
                add(name, msg, entity=label)
        for k, alias in enumerate(ent.aliases):
            if (msg := text_problem(alias)) is not None:
                add(f"aliases[{k}]", msg, entity=label)
        for k, mention in enumerate(ent.mentions):
            if (msg := text_problem(mention.text, MAX_TEXT_CHARS)) is not None:
                add(f"mentions[{k}].text", msg, entity=label)
        for name in ("equity", "total_assets", "deposits"):
            value = getattr(ent, name)
            if value is not None:
                msg = number_problem(value, nonnegative=name != "equity")
                if msg is not None:
                    add(name, msg, entity=label)
    return known


def _relation_problems(facts: Facts, known: set[str], add: _Add) -> None:
    """Report the relations' problems through ``add``."""
    for n, rel in enumerate(facts.relations):
        kind = rel.type.value
        label = _relation_label(n, rel.head, kind, rel.tail)
        for name in ("head", "tail"):
            end = getattr(rel, name)
            if end not in known:
                add(name, f"entity {end[:200]!r} is not among the document's entities", label)
        if rel.head == rel.tail:
            add("tail", f"{rel.tail[:200]!r} is the head too; a relation cannot point at its "
                "own head", label)
        for name in ("amount", "quantity"):
            value = getattr(rel, name)
            if value is not None and (msg := number_problem(value)) is not None:
                add(name, msg, label)
        if not rel.evidence:
            add("evidence", "no evidence; every relation needs the sentence that states it",
                label)
        for k, ev in enumerate(rel.evidence):
            if not ev.text.strip():
                add(f"evidence[{k}].text", "empty sentence", label)
            elif (msg := text_problem(ev.text, MAX_TEXT_CHARS)) is not None:
                add(f"evidence[{k}].text", msg, label)
            if ev.end < ev.start:
                add(f"evidence[{k}].end", f"ends at {ev.end}, before its start {ev.start}",
                    label)
        for name in _SHORT_RELATION_FIELDS:
            value = getattr(rel, name)
            if value is not None and (msg := text_problem(value)) is not None:
                add(name, msg, label)


def _passes(facts: Facts) -> bool:
    """Whether ``facts`` certainly pass :func:`check_facts` (a fast, whole-document test).

    A ``False`` sends the document through the detailed checks that name each problem.
    Fields are read from the models' ``__dict__`` a column at a time: this runs on every
    document of every load.
    """
    doc = facts.document
    if not (doc.id.strip() and doc.source.strip()) or max(
        len(doc.id), len(doc.source), len(doc.title)
    ) > MAX_NAME_CHARS:
        return False
    ents = [e.__dict__ for e in facts.entities]
    known = {e["id"] for e in ents}
    names = [e["id"] for e in ents] + [e["name"] for e in ents]
    names += chain.from_iterable(e["aliases"] for e in ents)
    if names and max(map(len, names)) > MAX_NAME_CHARS:
        return False
    mentions = [m.text for e in ents for m in e["mentions"]]
    if mentions and max(map(len, mentions)) > MAX_TEXT_CHARS:
        return False
    for e in ents:
        equity, assets, deposits = e["equity"], e["total_assets"], e["deposits"]
        if (equity is not None and not math.isfinite(equity)) or (
            assets is not None and not assets >= 0
        ) or (deposits is not None and not deposits >= 0):
            return False
    if not facts.relations:
        return True
    rels = [r.__dict__ for r in facts.relations]
    heads = [r["head"] for r in rels]
    tails = [r["tail"] for r in rels]
    if not (known.issuperset(heads) and known.issuperset(tails)) or any(map(eq, heads, tails)):
        return False
    evidence = [r["evidence"] for r in rels]
    if not all(evidence):
        return False
    for name in ("amount", "quantity"):
        numbers = [x for r in rels if (x := r[name]) is not None]
        if numbers and not min(numbers) >= 0:
            return False
    ev = [e.__dict__ for e in chain.from_iterable(evidence)]
    texts = [e["text"] for e in ev]
    if max(map(len, texts)) > MAX_TEXT_CHARS or not all(map(str.strip, texts)):
        return False
    if any(map(gt, [e["start"] for e in ev], [e["end"] for e in ev])):
        return False
    for name in _SHORT_RELATION_FIELDS:
        values = [x for r in rels if (x := r[name])]
        if values and max(map(len, values)) > MAX_NAME_CHARS:
            return False
    return True


def require_valid(facts: Iterable[Facts], *, file: str | None = None) -> None:
    """Raise :class:`FactsRefused` listing every problem of ``facts``, if any."""
    problems = [p for item in facts for p in check_facts(item, file=file)]
    if problems:
        raise FactsRefused(problems)


def json_depth(text: str) -> int:
    """Return how deeply ``text`` (JSON) nests arrays and objects, brackets in strings aside.

    Examples
    --------
    >>> json_depth('[{"a": [1, "]]]["]}]')
    3
    """
    import numpy as np

    steps_of = np.zeros(256, dtype=np.int8)
    steps_of[[0x5B, 0x7B]] = 1  # [ {
    steps_of[[0x5D, 0x7D]] = -1  # ] }

    def deepest(s: str) -> int:
        steps = steps_of[np.frombuffer(s.encode("utf-8", "replace"), dtype=np.uint8)]
        steps = steps[steps != 0]
        return int(np.cumsum(steps, dtype=np.int32).max()) if steps.size else 0

    # counting every bracket is fast and, when nothing is deep, almost always enough;
    # only then are brackets inside strings taken out, which costs more
    rough = deepest(text)
    if rough <= MAX_DEPTH:
        return rough
    return deepest(_STRING.sub('""', text))


def parse_facts(text: str, file: str) -> tuple[list[Facts], list[Problem]]:
    """Parse facts JSON (one object or a list) into facts and the problems of the text.

    Too deep, not JSON, or not facts: the problems say where, one line each, and no
    facts are returned. The facts' own rules are checked by :func:`check_facts`.
    """
    from pydantic import ValidationError

    from extract.model import Facts

    def refused(field: str | None, message: str, document: str | None = None) -> Problem:
        return Problem(file, document, None, field, message)

    depth = json_depth(text)
    if depth > MAX_DEPTH:
        return [], [refused(None, f"nested {depth} levels deep; at most {MAX_DEPTH} "
                            "are accepted (the facts format has six)")]
    try:
        data = json.loads(text)
    except RecursionError:
        return [], [refused(None, f"nested more than {MAX_DEPTH} levels deep")]
    except json.JSONDecodeError as err:
        return [], [refused(None, f"not JSON (line {err.lineno}: {err.msg})")]
    items = data if isinstance(data, list) else [data]
    facts: list[Facts] = []
    problems: list[Problem] = []
    for n, item in enumerate(items):
        try:
            facts.append(Facts.from_dict(item))
        except ValidationError as err:
            doc = item.get("document") if isinstance(item, dict) else None
            doc_id = doc.get("id") if isinstance(doc, dict) else None
            label = doc_id if isinstance(doc_id, str) else f"#{n}"
            for detail in err.errors()[:20]:
                loc = ".".join(str(x) for x in detail["loc"]) or "(object)"
                problems.append(refused(loc, f"invalid facts: {detail['msg']}", label))
    if problems:
        return [], problems
    return facts, []


def read_checked_facts(paths: Sequence[str | Path]) -> list[Facts]:
    """Read facts JSON files and check every document; raise :class:`FactsRefused` on any.

    Every file is read before refusing, so the problems of all files are listed.
    """
    facts: list[Facts] = []
    problems: list[Problem] = []
    for path in paths:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem(str(p), None, None, None, "no such facts file"))
            continue
        except UnicodeDecodeError as err:
            problems.append(Problem(str(p), None, None, None, f"not UTF-8 text ({err.reason})"))
            continue
        except OSError as err:
            problems.append(
                Problem(str(p), None, None, None, f"cannot read ({err.strerror or err})")
            )
            continue
        parsed, bad = parse_facts(text, str(p))
        problems += bad
        for item in parsed:
            problems += check_facts(item, file=str(p))
        facts += parsed
    if problems:
        raise FactsRefused(problems)
    return facts
