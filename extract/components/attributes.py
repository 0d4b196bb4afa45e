"""``fallout_attributes``: amounts, currencies, token quantities, percentages and dates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from extract._data import doc_text

__all__ = [
    "Quantity",
    "Attributes",
    "document_date",
    "document_year",
    "find_quantities",
    "make_attributes",
    "parse_amount",
]

_SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "bln": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "t": 1e12,
}
_SYMBOLS = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "€": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "¥": "JPY",
    "hk$": "HKD",
    "s$": "SGD",
}
_WORD_CURRENCY = {
    "dollars": "USD",
    "dollar": "USD",
    "usd": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "pounds": "GBP",
    "yen": "JPY",
}
_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"(thousand|trillion|billions?|millions?|bn|mn|mln|bln|tn|[kmbt])\b"
_MONEY = re.compile(
    r"(?<![\w$])(US\$|HK\$|S\$|\$|€|£|¥|USD\s?|EUR\s?|GBP\s?)\s?"
    + _NUM
    + r"(?:\s?-?\s?"
    + _SCALE
    + r")?"
    r"|(?<![\w.])" + _NUM + r"\s?(?:" + _SCALE + r"\s)?\s?(dollars?|euros?|pounds|yen|USD)\b",
    re.I,
)
_QTY = re.compile(
    r"(?<![\w.$])"
    + _NUM
    + r"(?:\s?"
    + _SCALE
    + r")?\s+([A-Z][A-Z0-9]{1,6})\b(?:\s+(?:tokens?|coins?))?"
)
_PCT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(%|percent\b|per cent\b)")
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        1,
    )
}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE_MDY = re.compile(
    r"\b" + _MON + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+((?:19|20)\d{2}))?\b", re.I
)
_DATE_DMY = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MON + r"(?:,?\s+((?:19|20)\d{2}))?\b", re.I
)
_DATE_MY = re.compile(r"\b" + _MON + r",?\s+((?:19|20)\d{2})\b", re.I)
_DATE_ISO = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(20[0-4]\d|19[89]\d)\b")
_QUARTER = re.compile(
    r"\b(?:Q([1-4])|(first|second|third|fourth) quarter(?: of)?),?\s+((?:19|20)\d{2})\b", re.I
)
_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(
    r"\b(yesterday|today|(?:last|on|this past)\s+(" + "|".join(_WEEKDAYS) + r"))\b", re.I
)


@dataclass(frozen=True)
class Quantity:
    """A normalised amount, token quantity, percentage or date found in the text."""

    start: int
    end: int
    kind: str  # "money", "quantity", "percent", "date"
    value: float = 0.0
    unit: str = ""
    iso: str = ""


def parse_amount(number: str, scale: str | None) -> float:
    """Return the value of ``number`` times its scale word.

    Examples
    --------
    >>> parse_amount("1.1", "bn")
    1100000000.0
    >>> parse_amount("40", "million")
    40000000.0
    """
    value = float(number.replace(",", ""))
    if scale:
        value *= _SCALES.get(scale.lower(), 1.0)
    return value


def document_date(text: str) -> tuple[int | None, str | None]:
    """Return the year a document's undated dates belong to, and its own date if stated.

    The document's own date is the first full date (day, month and year) of its opening
    lines: a dateline or a filing date. Without one, the year is the latest year the text
    mentions, so that background years ("founded in 2017") do not date the news.

    Examples
    --------
    >>> document_date("NEW YORK, Nov. 9, 2022 - In 2017 the firm...")
    (2022, '2022-11-09')
    >>> document_date("Founded in 2017, the lender failed in 2022.")
    (2022, None)
    """
    head = text[:600]
    found = [q for q in find_quantities(head) if q.kind == "date" and len(q.iso) == 10]
    if found:
        iso = found[0].iso
        return int(iso[:4]), iso
    years = [int(m.group(1)) for m in _YEAR.finditer(text)]
    return (max(years) if years else None), None


def document_year(text: str) -> int | None:
    """Return the year of a document's undated dates (see ``document_date``)."""
    return document_date(text)[0]


def _iso(year: int | None, month: int, day: int | None) -> str:
    if day is not None and not 1 <= day <= 31:
        return ""
    if year is None:
        return f"--{month:02d}-{day:02d}" if day else ""
    return f"{year:04d}-{month:02d}-{day:02d}" if day else f"{year:04d}-{month:02d}"


def find_quantities(text: str, year: int | None = None, today: str | None = None) -> list[Quantity]:
    """Find and normalise money, token quantities, percentages and dates in ``text``.

    Examples
    --------
    >>> [(q.kind, q.value, q.unit) for q in find_quantities("lent $1.1bn")]
    [('money', 1100000000.0, 'USD')]
    >>> [q.iso for q in find_quantities("on June 21", 2022)]
    ['2022-06-21']
    >>> [q.iso for q in find_quantities("in Q3 2022, and last Tuesday", 2022, "2022-11-10")]
    ['2022-Q3', '2022-11-08']
    """
    found: list[Quantity] = []
    for m in _MONEY.finditer(text):
        if m.group(2):
            cur = _SYMBOLS.get(m.group(1).strip().lower(), "USD")
            value = parse_amount(m.group(2), m.group(3))
        else:
            cur = _WORD_CURRENCY.get(m.group(6).lower(), "USD")
            value = parse_amount(m.group(4), m.group(5))
        found.append(Quantity(m.start(), m.end(), "money", value, cur))
    taken = [(q.start, q.end) for q in found]
    for m in _QTY.finditer(text):
        if any(s <= m.start() < e for s, e in taken) or m.group(3) in ("USD", "EUR", "GBP"):
            continue
        found.append(
            Quantity(
                m.start(), m.end(), "quantity", parse_amount(m.group(1), m.group(2)), m.group(3)
            )
        )
    for m in _PCT.finditer(text):
        found.append(Quantity(m.start(), m.end(), "percent", float(m.group(1)), "%"))
    for m in _DATE_ISO.finditer(text):
        found.append(Quantity(m.start(), m.end(), "date", iso=m.group(0)))
    for m in _DATE_MDY.finditer(text):
        y = int(m.group(3)) if m.group(3) else year
        iso = _iso(y, _month(m.group(1)), int(m.group(2)))
        if iso:
            found.append(Quantity(m.start(), m.end(), "date", iso=iso))
    for m in _DATE_DMY.finditer(text):
        y = int(m.group(3)) if m.group(3) else year
        iso = _iso(y, _month(m.group(2)), int(m.group(1)))
        if iso and not any(q.kind == "date" and q.start <= m.start() < q.end for q in found):
            found.append(Quantity(m.start(), m.end(), "date", iso=iso))
    for m in _DATE_MY.finditer(text):
        if not any(q.kind == "date" and q.start <= m.start() < q.end for q in found):
            found.append(
                Quantity(
                    m.start(), m.end(), "date", iso=_iso(int(m.group(2)), _month(m.group(1)), None)
                )
            )
    for m in _QUARTER.finditer(text):
        quarter = int(m.group(1)) if m.group(1) else _QUARTER_WORDS[m.group(2).lower()]
        found.append(Quantity(m.start(), m.end(), "date", iso=f"{m.group(3)}-Q{quarter}"))
    if today is not None:
        for m in _RELATIVE.finditer(text):
            found.append(Quantity(m.start(), m.end(), "date", iso=_relative(m, today)))
    found.sort(key=lambda q: q.start)
    return found


def _relative(m: re.Match[str], today: str) -> str:
    """Return the date of "yesterday", "last Tuesday" or "on Monday" seen from ``today``."""
    from datetime import date, timedelta

    day = date.fromisoformat(today)
    word = m.group(1).lower()
    if word == "today":
        return day.isoformat()
    if word == "yesterday":
        return (day - timedelta(days=1)).isoformat()
    target = _WEEKDAYS.index(m.group(2).lower())
    back = (day.weekday() - target) % 7 or 7
    return (day - timedelta(days=back)).isoformat()


def _month(word: str) -> int:
    w = word.lower().rstrip(".")
    return _MONTHS.get(w, _MONTHS.get(w[:3], 1))


class Attributes:
    """Store the quantities of a document in ``Doc._.fallout_quantities``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        """Process one document in place and return it."""
        text = doc_text(doc)
        given = doc._.fallout_date  # from the reader (HTML metadata) or ``--date``
        year, today = document_date(text)
        if given:
            year, today = int(given[:4]), given
        doc._.fallout_date = today
        has_digit = any(c.isdigit() for c in text)
        doc._.fallout_quantities = find_quantities(text, year, today) if has_digit else []
        return doc


@Language.factory(
    "fallout_attributes",
    assigns=["doc._.fallout_quantities", "doc._.fallout_date"],
)
def make_attributes(nlp: Language, name: str) -> Attributes:
    """Build the attribute finder (amounts, quantities, percentages, dates)."""
    return Attributes(name)
