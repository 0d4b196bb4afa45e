"""Balance-sheet statements read into entity attributes."""

from __future__ import annotations

import pytest

from extract.balance import statements


def _one(text: str, firm: str, firm_id: str, amount: str, value: float):
    s = text.index(firm)
    a = text.index(amount)
    return statements(text, [(0, len(text))], [(s, s + len(firm), firm_id)],
                      [(a, a + len(amount), value)])


@pytest.mark.parametrize(
    ("text", "amount", "value", "field"),
    [
        ("Lehman filed for bankruptcy, listing about $639 billion of assets.", "$639 billion",
         639e9, "total_assets"),
        ("Signature held total deposits of $88 billion.", "$88 billion", 88e9, "deposits"),
        ("Lehman had roughly $25 billion of capital.", "$25 billion", 25e9, "equity"),
        ("Lehman reported equity of about $22bn.", "$22bn", 22e9, "equity"),
    ],
)
def test_a_stated_balance_sheet_figure_goes_to_the_firm_named_before_it(
    text: str, amount: str, value: float, field: str
) -> None:
    firm = text.split()[0]
    assert _one(text, firm, "x", amount, value) == [("x", field, value, 0, len(text))]


@pytest.mark.parametrize(
    ("text", "firm", "amount"),
    [
        # a firm's name is not the word that states a figure
        ("Voyager served notice on Three Arrows Capital over $650 million loan",
         "Three Arrows Capital", "$650 million"),
        # assets placed with someone else are a deposit there, not total assets
        ("Orchard Peak has about $50 million of assets deposited on Harbourline.",
         "Orchard Peak", "$50 million"),
        ("Genesis lent $575 million to DCG.", "Genesis", "$575 million"),
    ],
)
def test_other_amounts_are_not_balance_sheet_figures(text: str, firm: str, amount: str) -> None:
    assert _one(text, firm, "x", amount, 1.0) == []


def test_no_firm_before_the_amount_states_nothing() -> None:
    text = "About $11.9 billion of deposits came from Signature."
    a = text.index("$11.9")
    s = text.index("Signature")
    assert statements(text, [(0, len(text))], [(s, s + 9, "sig")], [(a, a + 13, 11.9e9)]) == []
