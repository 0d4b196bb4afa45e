from __future__ import annotations

import pytest

from extract.components.attributes import document_year, find_quantities


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


@pytest.mark.parametrize(("text", "year"), [("Filed in 2022. Later 2023.", 2022), ("none", None)])
def test_attributes_document_year(text, year):
    assert document_year(text) == year
