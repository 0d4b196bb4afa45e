"""Balance-sheet statements: the equity, total assets and deposits a text states for a firm.

A sentence such as "Lehman ... listing about $639 billion of assets", "Signature held
$11.9 billion of deposits", "total deposits of $5bn" or "against roughly $36 billion of
capital" gives the firm named last before the amount that figure. Persons, tokens and
places get none: a person has no balance sheet here. The first statement of a document
wins; across documents the store keeps the first and names its document
(``attr_source``), and the projection uses the figure before any assumption.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FIELDS", "balance_sheet", "statements"]

#: entity attribute -> (words just before the amount, words just after it)
_BEFORE = r"(?:of|at|totall?ing|worth|was|were|stood at|put at|listing|held|holding)?\s*"
_APPROX = r"(?:about|around|roughly|nearly|almost|some|close to|more than|over|just over)?\s*"
FIELDS: Mapping[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "deposits": (
        re.compile(r"\bdeposits\s+" + _BEFORE + _APPROX + r"$", re.I),
        re.compile(
            r"^\s*(?:of|in)\s+(?:customer\s+|client\s+|total\s+)?deposits\b(?!\s+tied)", re.I
        ),
    ),
    "total_assets": (
        re.compile(
            r"\b(?:total\s+)?assets\s+" + _BEFORE + _APPROX + r"$|\blisting\s+" + _APPROX + r"$",
            re.I,
        ),
        re.compile(
            r"^\s*(?:of|in)\s+(?:total\s+)?assets\b(?!\s+(?:frozen|leaving|on|inside|deposited|held|tied|kept))",
            re.I,
        ),
    ),
    "equity": (
        re.compile(r"\b(?:equity|capital|net worth)\s+" + _BEFORE + _APPROX + r"$", re.I),
        re.compile(r"^\s*(?:of|in)\s+(?:equity|capital)\b(?!\s+(?:raised|from))", re.I),
    ),
}
_NO_BALANCE_SHEET = frozenset({"Person", "Token", "Stablecoin", "Place"})


def statements(
    text: str,
    sentences: Iterable[tuple[int, int]],
    mentions: Sequence[tuple[int, int, str]],
    amounts: Sequence[tuple[int, int, float]],
) -> list[tuple[str, str, float, int, int]]:
    """Return ``(entity id, field, value, sentence start, sentence end)`` per statement.

    ``mentions`` are ``(start, end, entity id)`` of firms, ``amounts`` ``(start, end,
    value)`` of money; an amount belongs to the firm mentioned last before it in its
    sentence.

    Examples
    --------
    >>> t = "Lehman filed, listing about $639 billion of assets."
    >>> statements(t, [(0, len(t))], [(0, 6, "lehman")], [(28, 40, 639e9)])
    [('lehman', 'total_assets', 639000000000.0, 0, 51)]
    """
    out: list[tuple[str, str, float, int, int]] = []
    for s_start, s_end in sentences:
        for a_start, a_end, value in amounts:
            if not (s_start <= a_start < s_end) or value <= 0:
                continue
            before_firms = [m for m in mentions if s_start <= m[0] and m[1] <= a_start]
            if not before_firms:
                continue
            last = max(before_firms, key=lambda m: m[1])
            subject = last[2]
            # the words between the firm's name and the amount (not the name itself:
            # "Three Arrows Capital over $650 million" states no capital)
            head = text[max(s_start, last[1], a_start - 60) : a_start]
            tail = text[a_end : min(s_end, a_end + 40)]
            for name, (before, after) in FIELDS.items():
                if before.search(head) or after.search(tail):
                    out.append((subject, name, float(value), s_start, s_end))
                    break
    return out


def balance_sheet(doc: Any, types: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Return the stated ``equity``, ``total_assets`` and ``deposits`` per entity of ``doc``.

    ``doc`` is a processed spaCy ``Doc`` (entities in ``doc._.fallout_entities``, money in
    ``doc._.fallout_quantities``); ``types`` maps entity ids to their kinds (persons,
    tokens and places get nothing).
    """
    from extract._data import doc_text

    records = doc._.fallout_entities or {}
    mentions = sorted(
        (s, e, rec.id)
        for rec in records.values()
        if types.get(rec.id, "") not in _NO_BALANCE_SHEET
        for s, e, _ in rec.mentions
    )
    amounts = [
        (q.start, q.end, q.value) for q in (doc._.fallout_quantities or []) if q.kind == "money"
    ]
    if not mentions or not amounts:
        return {}
    sentences = [(s.start_char, s.end_char) for s in doc.sents]
    out: dict[str, dict[str, float]] = {}
    for ent, name, value, _, _ in statements(doc_text(doc), sentences, mentions, amounts):
        out.setdefault(ent, {}).setdefault(name, value)
    return out
