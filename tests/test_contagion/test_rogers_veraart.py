"""Rogers-Veraart: default costs, hand-solved examples, reduction to Eisenberg-Noe."""

from __future__ import annotations

import numpy as np
import pytest

from graph.contagion import eisenberg_noe, rogers_veraart
from graph.errors import ContagionInputError

from ._nets import net
from .test_eisenberg_noe import _sr, plain_fixed_point


def test_rogers_veraart_alpha_beta_one_is_eisenberg_noe() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.uniform(0, 5, (12, 12)) * (rng.uniform(size=(12, 12)) < 0.3)
        np.fill_diagonal(a, 0)
        n = net([f"n{i}" for i in range(12)], a, [0] * 12,
                external_assets=rng.uniform(0, 6, 12), external_liabilities=rng.uniform(0, 3, 12))
        en, rv = eisenberg_noe(n), rogers_veraart(n, alpha=1.0, beta=1.0)
        assert [o.payment for o in rv.nodes] == pytest.approx([o.payment for o in en.nodes],
                                                              abs=1e-12)
        assert rv.params["alpha"] == 1.0 and rv.params["beta"] == 1.0


# Hand-solved: a owes b 10, has 4 outside; b owes outsiders 8, has 5 outside.
# alpha = 0.5, beta = 0.8: a pays 0.5 * 4 = 2; b then has 5 + 2 = 7 < 8 and defaults,
# paying 0.5 * 5 + 0.8 * 2 = 4.1. Without costs a pays 4 and b, holding 9, pays its 8.
def test_rogers_veraart_default_costs_by_hand() -> None:
    n = net("ab", [[0, 0], [10, 0]], [0, 0], external_assets=[4, 5],
            external_liabilities=[0, 8])
    r = rogers_veraart(n, alpha=0.5, beta=0.8)
    assert [o.payment for o in r.nodes] == pytest.approx([2.0, 4.1], abs=1e-12)
    assert [o.defaulted for o in r.nodes] == [True, True]
    assert [o.payment for o in eisenberg_noe(n).nodes] == pytest.approx([4, 8], abs=1e-12)


# The systemicrisk example with alpha = beta = 0.9 (solved by hand): bank 1 defaults in
# wave 1 and pays 0.45 + 0.9 (1.5 + 1.5) / 3 = 1.35; bank 2 then holds 5/8 + 0.27 + 0.5 =
# 1.395 < 1.5 and defaults (wave 2). The wave-2 system p1 = 0.9 + 0.3 p2,
# p2 = 1.0125 + 0.18 p1 gives p1 = 1.20375 / 0.946 = 1.2725, p2 = 1.2415, so bank 3 holds
# 0.75 + 0.2 p1 + p2 / 3 = 1.4183 < 1.5 and defaults too (wave 3). The final payments are
# checked against the plain fixed-point iteration.
def test_rogers_veraart_costs_turn_survivor_into_default() -> None:
    r = rogers_veraart(_sr(), alpha=0.9, beta=0.9)
    assert [rd.new_defaults for rd in r.rounds] == [("1",), ("2",), ("3",)]
    expected = plain_fixed_point((np.ones((3, 3)) - np.eye(3)) * 0.5,
                                 np.array([0.5, 0.625, 0.75]), np.array([1.5, 0.5, 0.5]),
                                 alpha=0.9, beta=0.9)
    assert [o.payment for o in r.nodes] == pytest.approx(expected.tolist(), abs=1e-9)
    assert eisenberg_noe(_sr()).node("3").defaulted is False


def test_rogers_veraart_rejects_costs_outside_unit_interval() -> None:
    with pytest.raises(ContagionInputError, match="alpha is 1.5"):
        rogers_veraart(_sr(), alpha=1.5)
    with pytest.raises(ContagionInputError, match="beta is -0.1"):
        rogers_veraart(_sr(), beta=-0.1)
