"""How much each report section shows, and the stated count of what it leaves out."""

from __future__ import annotations

from dataclasses import dataclass

from graph.errors import ReportError

__all__ = ["LeftOut", "ReportLimits"]


@dataclass(frozen=True)
class ReportLimits:
    """Caps on each section of a report, so a report on a large graph stays readable.

    Every cap is stated in the report with the count of what it left out (see
    :class:`LeftOut`). The defaults keep a report on 6,000 entities and 120,000
    relations to a few megabytes of HTML.

    Attributes
    ----------
    ranking : int
        Rows of the ranked losses table: the entities the scenario hit, largest loss first.
    rounds : int
        Rows of the per-round table (the first ones and the last round).
    names_per_round : int
        New defaults named in one round of that table.
    paths : int
        Loss steps listed in the contagion paths table, largest loss first.
    figure_edges : int
        Edges drawn in the contagion figure, largest loss first.
    evidence_share : float
        Evidence is given for the edges that together carry this share of the loss ...
    evidence_min : int
        ... and at least for this many edges, where there are so many ...
    evidence_max : int
        ... and at most for this many.
    statements : int
        Sentences quoted for one edge, most confident first.
    rows : int
        Rows of the other tables: assumed numbers, assumption rules, statements left out.

    Examples
    --------
    >>> ReportLimits(paths=50).paths
    50
    """

    ranking: int = 200
    rounds: int = 100
    names_per_round: int = 20
    paths: int = 200
    figure_edges: int = 30
    evidence_share: float = 0.99
    evidence_min: int = 20
    evidence_max: int = 200
    statements: int = 3
    rows: int = 200

    def __post_init__(self) -> None:
        """Refuse a cap that would leave a section empty.

        Raises
        ------
        ReportError
            A cap is below 1 (``rounds`` below 2), or ``evidence_share`` is not in (0, 1].
        """
        for name in ("ranking", "rounds", "names_per_round", "paths", "figure_edges",
                     "evidence_max", "statements", "rows"):
            if getattr(self, name) < 1:
                raise ReportError(f"report limit {name} is {getattr(self, name)}; expected >= 1")
        if self.rounds < 2:
            raise ReportError(f"report limit rounds is {self.rounds}; expected >= 2")
        if not 0.0 < self.evidence_share <= 1.0:
            raise ReportError(
                f"report limit evidence_share is {self.evidence_share}; expected (0, 1]"
            )


@dataclass(frozen=True)
class LeftOut:
    """What one section of a report shows of what it could show.

    ``loss_total`` and ``loss_shown`` are set for sections whose items carry loss
    (paths and edges), so the statement can say how much of the loss was left out.

    Examples
    --------
    >>> print(LeftOut("steps", 200, 5000, "largest first", 9.0e9, 9.9e9).text)
    Showing 200 of 5,000 steps (largest first); 4,800 left out, carrying 9.1% of the loss ($900m).
    >>> LeftOut("loss steps", 3, 3).text
    ''
    """

    what: str
    shown: int
    total: int
    order: str = ""
    loss_shown: float | None = None
    loss_total: float | None = None

    @property
    def left_out(self) -> int:
        """How many items the section does not show."""
        return self.total - self.shown

    @property
    def loss_left_out(self) -> float | None:
        """Loss carried by the items left out (``None`` for sections without loss)."""
        if self.loss_total is None or self.loss_shown is None:
            return None
        return max(self.loss_total - self.loss_shown, 0.0)

    @property
    def text(self) -> str:
        """The statement printed under the section; empty when nothing is left out."""
        if self.left_out <= 0:
            return ""
        from graph.report.render import money

        order = f" ({self.order})" if self.order else ""
        out = (f"Showing {self.shown:,} of {self.total:,} {self.what}{order}; "
               f"{self.left_out:,} left out")
        rest = self.loss_left_out
        if rest is not None and self.loss_total:
            out += f", carrying {rest / self.loss_total:.1%} of the loss ({money(rest)})"
        return out + "."
