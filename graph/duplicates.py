"""Likely duplicate entities, ranked: name similarity, shared neighbours, shared documents.

:func:`suggest_duplicates` compares entities that share a name word (after dropping legal
suffixes and titles: "LLC", "Inc", "Mr."), of compatible kinds, and scores each pair:

- **name**: the best RapidFuzz ``token_set_ratio`` between any name or alias of one and
  any of the other (so "Amberlode Lending" and "Amberlode Lending LLC" score 1.0, and
  "Mr. Liu" against "Liu Fangzhou" scores on "liu"); a short name that fits several
  longer ones is shared among them;
- **neighbours**: the Jaccard overlap of the entities each is related to;
- **documents**: the Jaccard overlap of the documents that state their relations.

:func:`alias_clusters` and :func:`score_suggestions` measure the ranking against gold
annotations (``NAME.json`` beside each text): a pair is right when one gold entity has a
name or alias of each, wrong when both are known and no gold entity holds both.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from graph.store.base import EntityRecord, GraphDump

__all__ = [
    "DuplicateScore",
    "GoldIdentities",
    "Suggestion",
    "alias_clusters",
    "normalise",
    "score_suggestions",
    "suggest_duplicates",
]

_DROP = frozenset(
    """llc inc incorporated ltd limited corp corporation co plc sa ag gmbh lp llp nv bv
    the mr mrs ms dr sir of and""".split()
)
_ORGS = frozenset(
    "Exchange Lender TradingFirm InvestmentFirm Bank Company MediaOutlet Regulator Protocol".split()
)
_TOKENS = frozenset({"Token", "Stablecoin"})
WEIGHTS = (0.6, 0.25, 0.15)
"""Weights of the name, neighbour and document scores in a pair's score."""


def normalise(name: str) -> str:
    """Return a name as compared: lower case, no punctuation, no legal suffix or title.

    Examples
    --------
    >>> normalise("Amberlode Lending, LLC"), normalise("Mr. Liu")
    ('amberlode lending', 'liu')
    """
    plain = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    words = re.findall(r"[^\W_]+", plain)
    kept = [w for w in words if w not in _DROP]
    return " ".join(kept or words)


def _compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    return (a in _ORGS and b in _ORGS) or (a in _TOKENS and b in _TOKENS)


@dataclass(frozen=True)
class Suggestion:
    """Two entities that may be one, with the score and its three parts (each 0..1)."""

    a: str
    b: str
    a_name: str
    b_name: str
    score: float
    name: float
    neighbours: float
    documents: float

    def keep_and_drop(self) -> tuple[str, str]:
        """Return ``(keep, drop)``: keep the entity with the longer name (the fuller one)."""
        if len(self.b_name) > len(self.a_name):
            return self.b, self.a
        return self.a, self.b


def _jaccard(x: set[str], y: set[str]) -> float:
    return len(x & y) / len(x | y) if x and y else 0.0


def _surfaces(e: EntityRecord) -> list[str]:
    return list(dict.fromkeys(s for s in map(normalise, (e.name, *e.aliases)) if s))


def _candidates(entities: Sequence[EntityRecord]) -> set[tuple[int, int]]:
    """Pairs of entity positions that share a word of at least three characters."""
    index: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entities):
        for word in {w for s in _surfaces(e) for w in s.split() if len(w) >= 3}:
            index[word].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in index.values():
        if len(members) > 50:  # a word that common says nothing about identity
            continue
        for i, j in combinations(members, 2):
            if _compatible(entities[i].type, entities[j].type):
                pairs.add((i, j))
    return pairs


def _pair_score(x: str, y: str, kind: str) -> float:
    """Score two normalised names: 1 when equal, 0.9 when one's words are all in the other.

    Otherwise the RapidFuzz ratio counts only when close (spelling, hyphens), and two
    names that each have words the other lacks ("Greg Becker", "Scott Becker") stay low.
    A token's name must match all but a letter or two ("ETH" is not "stETH").
    """
    from rapidfuzz import fuzz

    if x == y:
        return 1.0
    close = fuzz.ratio(x, y) / 100.0
    if kind in _TOKENS:
        return close if close >= 0.9 else 0.0
    wx, wy = set(x.split()), set(y.split())
    if wx <= wy or wy <= wx:
        return 0.9
    if close >= 0.9:
        return close
    return 0.5 * fuzz.token_sort_ratio(x, y) / 100.0


def _name_score(a: list[str], b: list[str], kind: str) -> float:
    """Best score of one entity's own name against any name or alias of the other.

    Two aliases alone never decide: two people the extractor both called "Rafael"
    are not one person for that.
    """
    if not a or not b:
        return 0.0

    def against(name: str, other: list[str]) -> float:
        best = _pair_score(name, other[0], kind)
        for alias in other[1:]:
            score = _pair_score(name, alias, kind)
            if score == 0.9 and " " not in alias:
                score = 0.7  # one word of an alias inside a name: "MIAX" in "MIAX Pearl"
            best = max(best, score)
        return best

    return max(against(a[0], b), against(b[0], a))


def suggest_duplicates(
    dump: GraphDump,
    *,
    limit: int = 50,
    min_score: float = 0.5,
    exclude: Iterable[tuple[str, str]] = (),
) -> list[Suggestion]:
    """Rank pairs of entities that are likely one, best first.

    Parameters
    ----------
    dump
        The graph (``store.dump()``).
    limit, min_score
        At most ``limit`` pairs, each scoring at least ``min_score``.
    exclude
        Pairs already judged distinct (either order), never suggested again.

    Returns
    -------
    list of Suggestion

    Examples
    --------
    >>> from graph.store.base import EntityRecord as E
    >>> dump = GraphDump(entities=(E("a", "Amberlode Lending", "Lender"),
    ...     E("b", "Amberlode Lending LLC", "Lender"), E("c", "Amberlode Bay", "Place")))
    >>> [(s.a, s.b, s.name) for s in suggest_duplicates(dump)]
    [('a', 'b', 1.0)]
    """
    entities = list(dump.entities)
    neighbours: dict[str, set[str]] = defaultdict(set)
    documents: dict[str, set[str]] = defaultdict(set)
    for r in dump.relations:
        neighbours[r.head].add(r.tail)
        neighbours[r.tail].add(r.head)
        documents[r.head].add(r.document_id)
        documents[r.tail].add(r.document_id)
    skip = {frozenset(p) for p in exclude}
    surfaces = [_surfaces(e) for e in entities]
    scored: list[tuple[int, int, float]] = []
    fits: dict[int, int] = defaultdict(int)  # how many entities a name fits
    for i, j in _candidates(entities):
        if frozenset((entities[i].id, entities[j].id)) in skip:
            continue
        name = _name_score(surfaces[i], surfaces[j], entities[i].type)
        if 0.85 <= name < 1.0:
            fits[i] += 1
            fits[j] += 1
        scored.append((i, j, name))
    out: list[Suggestion] = []
    for i, j, name in scored:
        a, b = entities[i], entities[j]
        nb = _jaccard(neighbours[a.id] - {b.id}, neighbours[b.id] - {a.id})
        docs = _jaccard(documents[a.id], documents[b.id])
        # one name inside the other: shared among the names it fits, unless the two are
        # named in one document ("Mr. Liu" beside "Liu Fangzhou")
        near = 0.85 <= name < 1.0 and not docs
        name_part = name / max(fits[i], fits[j], 1) if near else name
        score = WEIGHTS[0] * name_part + WEIGHTS[1] * nb + WEIGHTS[2] * docs
        if name == 1.0:  # the same name once suffixes and titles are gone
            score = max(score, 0.9)
        if score >= min_score:
            x, y = (a, b) if a.id < b.id else (b, a)
            out.append(Suggestion(x.id, y.id, x.name, y.name, round(score, 4),
                                  round(name, 4), round(nb, 4), round(docs, 4)))  # fmt: skip
    out.sort(key=lambda s: (-s.score, s.a, s.b))
    return out[:limit]


@dataclass(frozen=True)
class GoldIdentities:
    """What gold annotations say about names: who is one, and who is known to be two.

    ``clusters`` are sets of normalised names and aliases, one per identity;
    ``distinct`` holds pairs of cluster positions that one gold document lists as
    separate entities.
    """

    clusters: tuple[frozenset[str], ...]
    distinct: frozenset[frozenset[int]]


def alias_clusters(folders: Iterable[str | Path]) -> GoldIdentities:
    """Read known identities from gold annotations (``NAME.json`` files in ``folders``).

    One gold entity gives one set (its name and aliases); sets from different documents
    that share a gold *name* are one identity. Aliases join only their own entity, so a
    surname used as an alias in two stories does not join two people. Two entities of
    one document are known to be distinct.
    """
    by_name: dict[str, set[str]] = defaultdict(set)
    per_doc: list[list[str]] = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")):
            gold = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(gold, dict) or "entities" not in gold:
                continue
            names = []
            for ent in gold["entities"]:
                name = normalise(ent["name"])
                if name:
                    by_name[name] |= {name, *filter(None, map(normalise, ent.get("aliases", ())))}
                    names.append(name)
            per_doc.append(names)
    order = {name: n for n, name in enumerate(by_name)}
    distinct = {
        frozenset((order[x], order[y]))
        for names in per_doc
        for x, y in combinations(sorted(set(names)), 2)
    }
    return GoldIdentities(tuple(frozenset(v) for v in by_name.values()), frozenset(distinct))


@dataclass(frozen=True)
class DuplicateScore:
    """How a ranking fares against known identities.

    ``right``: pairs one gold identity holds; ``wrong``: pairs whose names one gold
    document gives to two entities; the rest are not judged.
    """

    suggested: int
    right: int
    wrong: int
    known_duplicates: int
    found: int

    @property
    def judged(self) -> int:
        """Suggestions the gold can judge (right or wrong)."""
        return self.right + self.wrong

    @property
    def precision(self) -> float:
        """Right pairs over judged pairs (1.0 when none could be judged)."""
        return self.right / self.judged if self.judged else 1.0

    @property
    def recall(self) -> float:
        """Known duplicate pairs suggested, over all known duplicate pairs in the graph."""
        return self.found / self.known_duplicates if self.known_duplicates else 1.0


def score_suggestions(
    suggestions: Sequence[Suggestion],
    entities: Sequence[EntityRecord],
    gold: GoldIdentities,
) -> DuplicateScore:
    """Judge suggestions against gold identities: right, wrong, or not judged.

    Examples
    --------
    >>> from graph.store.base import EntityRecord as E
    >>> ents = [E("a", "Mr. Liu", "Person"), E("b", "Liu Fangzhou", "Person"),
    ...         E("c", "Liu Wenjun", "Person")]
    >>> gold = GoldIdentities((frozenset({"liu fangzhou", "liu"}), frozenset({"liu wenjun"})),
    ...                       frozenset({frozenset((0, 1))}))
    >>> s = suggest_duplicates(GraphDump(entities=tuple(ents)), min_score=0.0)
    >>> score = score_suggestions(s, ents, gold)
    >>> score.right, score.wrong, score.known_duplicates
    (1, 2, 1)
    """
    member: dict[str, set[int]] = defaultdict(set)
    for n, cluster in enumerate(gold.clusters):
        for surface in cluster:
            member[surface].add(n)
    known: dict[str, set[int]] = {}
    for e in entities:  # judged by its own name: its aliases are the extractor's guesses
        found = member.get(normalise(e.name), set())
        if found:
            known[e.id] = found
    right = wrong = 0
    right_pairs: set[frozenset[str]] = set()
    for s in suggestions:
        x, y = known.get(s.a, set()), known.get(s.b, set())
        if x & y:
            right += 1
            right_pairs.add(frozenset((s.a, s.b)))
        elif any(frozenset((i, j)) in gold.distinct for i in x for j in y):
            wrong += 1
    same = {frozenset((x, y)) for x, y in combinations(sorted(known), 2) if known[x] & known[y]}
    return DuplicateScore(len(suggestions), right, wrong, len(same), len(same & right_pairs))


def _as_mapping(score: DuplicateScore) -> Mapping[str, Any]:
    return {**score.__dict__, "precision": score.precision, "recall": score.recall}
