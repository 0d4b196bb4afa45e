from __future__ import annotations

import pytest

from extract.components.attributes import document_date, document_year, find_quantities


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("$1.1bn", 1.1e9, "USD"),
        ("$40 million", 4e7, "USD"),
        ("€250m", 2.5e8, "EUR"),
        ("3,000 dollars", 3000.0, "USD"),
        ("US$2.3 billion", 2.3e9, "USD"),
    ],
)
def test_attributes_money(text, value, unit):
    money = [q for q in find_quantities(text) if q.kind == "money"]
    assert [(q.value, q.unit) for q in money] == [(pytest.approx(value), unit)]


@pytest.mark.parametrize(
    ("text", "year", "iso"),
    [
        ("on June 21", 2022, "2022-06-21"),
        ("21 June 2021", None, "2021-06-21"),
        ("in November 2022", None, "2022-11"),
        ("Nov. 8, 2022", None, "2022-11-08"),
    ],
)
def test_attributes_dates(text, year, iso):
    assert [q.iso for q in find_quantities(text, year) if q.kind == "date"] == [iso]


@pytest.mark.parametrize(("text", "qty", "unit"), [("2 million BWX tokens", 2e6, "BWX")])
def test_attributes_token_quantity(text, qty, unit):
    q = [x for x in find_quantities(text) if x.kind == "quantity"]
    assert [(x.value, x.unit) for x in q] == [(qty, unit)]


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("Filed in 2022. Later 2023.", 2023),
        ("Founded in 2017, it failed in June 2022.", 2022),
        ("LONDON, March 3, 2021 - Founded in 2017 and sold in 2023, the firm...", 2021),
        ("none", None),
    ],
)
def test_attributes_document_year(text, year):
    """The dateline's year wins; without one, background years do not date the news."""
    assert document_year(text) == year


@pytest.mark.parametrize(
    ("text", "today", "iso"),
    [
        ("Founded in 2017, after the May 2022 crash it lent on June 21.", None, "2022-06-21"),
        ("The fund, started in 2017, lost money in Q3 2022.", None, "2022-Q3"),
        ("In the third quarter of 2021 it borrowed.", None, "2021-Q3"),
        ("It repaid the loan last Tuesday (2022).", "2022-11-10", "2022-11-08"),
        ("The exchange halted withdrawals yesterday.", "2022-11-09", "2022-11-08"),
        ("It filed on Friday.", "2022-11-14", "2022-11-11"),
    ],
)
def test_attributes_dates_without_year(text, today, iso):
    """Dates without a year take the document's; relative ones count back from its date."""
    year, own = document_date(text)
    found = find_quantities(text, year or 2022, today or own)
    assert iso in [q.iso for q in found if q.kind == "date"]
