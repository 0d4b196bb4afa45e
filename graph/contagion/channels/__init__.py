"""The channels of the combined engine, one module each.

- :mod:`~graph.contagion.channels.state`: the round's loss book and the state every
  channel reads (losses, defaults, prices, token positions);
- :mod:`~graph.contagion.channels.credit`: loans and deposits of a defaulted debtor;
- :mod:`~graph.contagion.channels.issuer`: a token's price when its issuer defaults;
- :mod:`~graph.contagion.channels.market`: fire sales and the price impact of every sale
  (the one law of :func:`graph.contagion._prices.impact_factor`);
- :mod:`~graph.contagion.channels.margin`: margin calls and liquidations of collateralised
  loans;
- :mod:`~graph.contagion.channels.ownership`: an owner's share of the owned firm's losses.

:func:`graph.contagion.combined.combined` composes them round by round.
"""

__all__ = ["credit", "issuer", "margin", "market", "ownership", "state"]
