"""Numbers as people read them: one formatter for money, percentages, dates and counts.

Every page of the app, the CLI's tables and the reports format through these functions,
so that a person never sees ``85000000000.0``, ``3.9e-09``, ``None`` or ``nan``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

__all__ = ["BLANK", "cell", "fraction", "is_missing", "money", "number", "percent", "when"]

BLANK = "—"
"""What a missing value is shown as."""

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def is_missing(value: Any) -> bool:
    """Whether ``value`` is absent: ``None``, NaN, or an empty string.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing("")
    (True, True, False, True)
    """
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _three(x: float) -> str:
    """Three significant figures; below 10 at most two decimals (``85.0``, ``120``, ``4.0``)."""
    a = abs(x)
    if a >= 100 or a == 0:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    text = f"{x:.2f}"
    return text[:-1] if text.endswith("0") else text


def money(amount: Any, currency: str | None = None) -> str:
    """Format an amount of money compactly: ``$85.0bn``, ``$120m``, ``€3.4k``, ``$950``.

    Examples
    --------
    >>> money(85_000_000_000.0), money(120e6), money(1e9), money(950), money(None)
    ('$85.0bn', '$120m', '$1.0bn', '$950', '—')
    >>> money(2.5e6, "EUR"), money(4e6, "CHF"), money(-3.23e9), money(0.4)
    ('€2.5m', '4.0m CHF', '-$3.23bn', '$0.40')
    """
    if is_missing(amount):
        return BLANK
    x = float(amount)
    if math.isinf(x):
        return "∞"
    symbol = _SYMBOLS.get(currency or "USD", "")
    suffix = f" {currency}" if not symbol and currency else ""
    sign, a = ("-" if x < 0 else ""), abs(x)
    for scale, unit in _SCALES:
        if a >= scale * 0.9995:
            return f"{sign}{symbol}{_three(a / scale)}{unit}{suffix}"
    if a < 1 and a > 0:
        return f"{sign}{symbol}{a:.2f}{suffix}"
    return f"{sign}{symbol}{a:,.0f}{suffix}"


def number(value: Any) -> str:
    """Format a plain quantity: grouped digits, compact when large, never scientific.

    Examples
    --------
    >>> number(1234567), number(12.5), number(3.9e-09), number(0.0421), number(None)
    ('1.23m', '12.5', '0', '0.042', '—')
    >>> number(7), number(950.0), number(2e13), number(float("inf"))
    ('7', '950', '20.0tn', '∞')
    """
    if is_missing(value):
        return BLANK
    if isinstance(value, bool):
        return "yes" if value else "no"
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    a = abs(x)
    for scale, unit in _SCALES[:3]:
        if a >= scale * 0.9995:
            return f"{_three(x / scale)}{unit}"
    if x == int(x):
        return f"{int(x):,}"
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.3g}"
    if a < 5e-4:
        return "0"
    return f"{x:.2g}"


def percent(value: Any, digits: int = 0) -> str:
    """Format a fraction as a percentage: ``0.30`` is ``30%``.

    Examples
    --------
    >>> percent(0.3), percent(1), percent(0.0042, 1), percent(None), percent(-0.8)
    ('30%', '100%', '0.4%', '—', '-80%')
    """
    if is_missing(value):
        return BLANK
    return f"{float(value) * 100:.{digits}f}%"


def fraction(value: Any) -> str:
    """Format a share of 0..1 for a table: a percentage with one decimal below 10 %.

    Examples
    --------
    >>> fraction(0.034), fraction(0.5), fraction(3.9e-09)
    ('3.4%', '50%', '0%')
    """
    if is_missing(value):
        return BLANK
    x = float(value)
    if abs(x) < 5e-5:
        return "0%"
    return percent(x, 1 if abs(x) < 0.1 else 0)


def when(value: Any) -> str:
    """Format a date as people write it: ``8 Nov 2022``, ``Nov 2022``, ``2022``, ``Q3 2022``.

    Examples
    --------
    >>> when("2022-11-08"), when("2022-11"), when("2022-Q3"), when(None), when("soon")
    ('8 Nov 2022', 'Nov 2022', 'Q3 2022', '—', 'soon')
    """
    if is_missing(value):
        return BLANK
    if isinstance(value, datetime | date):
        value = value.isoformat()[:10]
    text = str(value).strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return f"{d.day} {d:%b %Y}"
        if len(text) == 7 and text[4] == "-" and text[5:].isdigit():
            return f"{date(int(text[:4]), int(text[5:]), 1):%b %Y}"
    except ValueError:
        return text
    if len(text) == 7 and text[4:6] == "-Q":
        return f"{text[5:]} {text[:4]}"
    return text


def cell(value: Any) -> str:
    """Format any value for a table cell shown to a person (no ``None``, ``nan``, ``e-09``).

    Examples
    --------
    >>> cell(85000000000.0), cell(None), cell(float("nan")), cell(True), cell("FTX")
    ('85.0bn', '—', '—', 'yes', 'FTX')
    >>> cell([1.5, None]), cell({"a": 2})
    ('1.5, —', 'a: 2')
    """
    if is_missing(value):
        return BLANK
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    return str(value)
