"""``ExposureNetwork``: the arrays every contagion model reads.

Orientation: ``exposures[i, j]`` is the amount debtor ``j`` owes creditor ``i``
(an interbank asset of ``i``), as in ``exposures.csv`` (``creditor, debtor, amount``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from graph.contagion._validate import (
    numeric_column,
    positions,
    read_table,
    require_column,
    row_of,
    text_column,
)
from graph.errors import ContagionInputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["NODE_COLUMNS", "CollateralLoan", "ExposureNetwork", "NodeSource"]

#: the numeric columns of ``nodes.csv``; each is optional, and a model names the ones it needs
NODE_COLUMNS = ("equity", "external_assets", "external_liabilities", "weight")


@dataclass(frozen=True)
class NodeSource:
    """The file the node columns were read from, so that a model can name a missing value.

    ``file`` is the file name; ``columns`` the columns it has (blank or not).
    """

    file: str
    columns: frozenset[str]


@dataclass(frozen=True)
class CollateralLoan:
    """A loan from ``lender`` to ``borrower`` secured by ``quantity`` units of ``asset``."""

    lender: str
    borrower: str
    amount: float
    asset: str
    quantity: float
    relation_ids: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ExposureNetwork:
    """Nodes with balance sheets, bilateral exposures, holdings, collateral and issuers.

    Parameters
    ----------
    ids : sequence of str
        Node ids, in matrix order.
    equity : ndarray
        Equity (capital buffer) per node; negative means insolvent before any shock, NaN
        not given (a model that reads equity then refuses to run, naming the node).
    exposures : sparse matrix
        ``exposures[i, j]``: amount owed by ``j`` to ``i`` (``i`` is the creditor).
    external_assets, external_liabilities, weight : ndarray, optional
        Per-node outside assets, outside liabilities and relative size (DebtRank weight).
    asset_ids, holdings, prices, depth : optional
        Common holdings: ``holdings[i, k]`` is the value node ``i`` holds of asset ``k``
        at price ``prices[k]``; ``depth[k]`` is the market depth (value that moves the
        price by 100% under linear impact).
    loans : tuple of CollateralLoan
        Collateralised loans.
    issuers : mapping
        ``asset id -> issuer node id`` (issuer reflexivity).
    recovery : sparse matrix, optional
        Per exposure, the fraction recovered when the debtor defaults.
    source : NodeSource, optional
        Where the node columns were read from; messages then name file, row and field.
    """

    ids: tuple[str, ...]
    equity: np.ndarray
    exposures: sp.csr_array
    external_assets: np.ndarray | None = None
    external_liabilities: np.ndarray | None = None
    weight: np.ndarray | None = None
    asset_ids: tuple[str, ...] = ()
    holdings: sp.csr_array | None = None
    prices: np.ndarray | None = None
    depth: np.ndarray | None = None
    loans: tuple[CollateralLoan, ...] = ()
    issuers: Mapping[str, str] = field(default_factory=dict)
    recovery: sp.csr_array | None = None
    source: NodeSource | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.exposures.shape != (n, n):
            raise ContagionInputError(
                f"exposure matrix has shape {self.exposures.shape}; expected ({n}, {n})"
            )
        if len(self.equity) != n:
            raise ContagionInputError(f"equity has {len(self.equity)} values; expected {n}")
        if len(set(self.ids)) != n:
            raise ContagionInputError("node ids are not unique")

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.ids)

    def index(self) -> dict[str, int]:
        """Return ``{id: position}`` (built once, then cached; do not modify it)."""
        cached: dict[str, int] | None = self.__dict__.get("_index")
        if cached is None:
            cached = dict(zip(self.ids, range(len(self.ids)), strict=True))
            self.__dict__["_index"] = cached
        return cached

    def positions(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of ``ids``; raises ``ContagionInputError`` naming an unknown id."""
        index = self.index()
        out = np.empty(len(ids), dtype=np.int64)
        for k, id_ in enumerate(ids):
            if id_ not in index:
                raise ContagionInputError(f"unknown node id '{id_}'")
            out[k] = index[id_]
        return out

    def interbank_assets(self) -> np.ndarray:
        """Row sums: what each node is owed by other nodes."""
        return np.asarray(self.exposures.sum(axis=1)).ravel()

    def interbank_liabilities(self) -> np.ndarray:
        """Column sums: what each node owes other nodes."""
        return np.asarray(self.exposures.sum(axis=0)).ravel()

    @classmethod
    def from_csv(
        cls,
        nodes: str | Path,
        exposures: str | Path,
        holdings: str | Path | None = None,
        prices: str | Path | None = None,
    ) -> ExposureNetwork:
        """Read ``nodes``, ``exposures`` and optionally ``holdings``/``prices`` files.

        Each file is CSV, or Parquet when its name ends in ``.parquet`` (or ``.pq``), with
        the same columns; more columns are allowed. ``nodes`` needs ``id``; ``equity``,
        ``external_assets``, ``external_liabilities`` and ``weight`` are read when present,
        and each model names those it needs. ``exposures`` needs ``creditor, debtor,
        amount``; ``recovery`` (a fraction) and ``collateral``/``collateral_quantity`` (a
        loan secured by that many units of an asset) are read when present; repeated pairs
        are summed. ``holdings``: ``holder, asset, value``; ``prices``: ``asset, price,
        depth`` and optionally ``issuer`` (a node id).

        A blank cell (empty in CSV, null in Parquet) means "not given": a blank node value
        is kept as NaN for the model to judge, except ``external_liabilities``, where it is 0
        (as is a missing column); a blank ``recovery`` is 0; elsewhere a blank is refused.
        ``equity`` may be negative (insolvent before the shock); no other amount may.

        Rows are numbered as in the file: in CSV the header is row 1, in Parquet the first
        record is row 1.

        Raises
        ------
        ContagionInputError
            Naming the file, row and field: a missing column, an unknown or repeated id,
            a negative amount, text that is not a number, NaN or inf, a required value not
            given.
        """
        import pyarrow.compute as pc

        nodes_name, exp_name = Path(nodes).name, Path(exposures).name
        nf = read_table(nodes, ["id"])
        index = text_column(nf, "id", nodes_name)
        if pc.count_distinct(index).as_py() != len(index):
            dup = np.flatnonzero(index.to_pandas().duplicated().to_numpy())
            k = int(dup[0])
            raise ContagionInputError(
                f"{nodes_name} row {row_of(k, nodes_name)}, field 'id': "
                f"repeated id '{index[k].as_py()}'"
            )
        ids = tuple(index.to_pylist())
        n = len(ids)
        node_values = {
            c: numeric_column(
                nf,
                c,
                nodes_name,
                nonnegative=c != "equity",
                blank=0.0 if c == "external_liabilities" else math.nan,
            )
            for c in NODE_COLUMNS
            if c in nf.column_names
        }
        equity = node_values.get("equity", np.full(n, np.nan))

        ef = read_table(exposures, ["creditor", "debtor", "collateral"])
        require_column(ef, "amount", exp_name)
        cred = positions(ef, "creditor", index, exp_name)
        debt = positions(ef, "debtor", index, exp_name)
        amount = numeric_column(ef, "amount", exp_name)
        same = np.flatnonzero(cred == debt)
        if same.size:
            k = int(same[0])
            raise ContagionInputError(
                f"{exp_name} row {row_of(k, exp_name)}, field 'debtor': "
                f"'{ids[debt[k]]}' cannot owe itself"
            )
        matrix = sp.csr_array((amount, (cred, debt)), shape=(n, n))
        matrix.sum_duplicates()
        recovery = None
        if "recovery" in ef.column_names:
            rec = numeric_column(ef, "recovery", exp_name, fraction=True, blank=0.0)
            recovered = sp.csr_array((amount * rec, (cred, debt)), shape=(n, n))
            recovered.sum_duplicates()
            recovery = recovered.copy()
            recovery.data = np.divide(
                recovered.data,
                matrix.data,
                out=np.zeros_like(matrix.data),
                where=matrix.data > 0,
            )
        loans: tuple[CollateralLoan, ...] = ()

        assets_index, asset_ids, price, depth, issuers = _read_prices(prices, ids)
        hold = _read_holdings(holdings, prices, index, assets_index, n)
        if "collateral" in ef.column_names:
            loans = _loans(ef, ids, cred, debt, amount, asset_ids, exp_name)

        return cls(
            ids=ids,
            equity=equity,
            exposures=matrix,
            external_assets=node_values.get("external_assets"),
            external_liabilities=node_values.get("external_liabilities"),
            weight=node_values.get("weight"),
            asset_ids=asset_ids,
            holdings=hold,
            prices=price,
            depth=depth,
            loans=loans,
            issuers=issuers,
            recovery=recovery,
            source=NodeSource(nodes_name, frozenset(map(str, nf.column_names))),
        )

    @classmethod
    def from_parquet(
        cls,
        nodes: str | Path,
        exposures: str | Path,
        holdings: str | Path | None = None,
        prices: str | Path | None = None,
    ) -> ExposureNetwork:
        """Read the same files as :meth:`from_csv`, in Parquet; CSV and Parquet may be mixed.

        The format of each file is decided by its suffix (``.parquet``, ``.pq``), so this is
        :meth:`from_csv` under the name a reader looks for.
        """
        return cls.from_csv(nodes, exposures, holdings=holdings, prices=prices)


def _read_prices(
    prices: str | Path | None, ids: tuple[str, ...]
) -> tuple[Any, tuple[str, ...], np.ndarray | None, np.ndarray | None, dict[str, str]]:
    """Read the prices file: asset ids, prices, depths and issuers (all empty without one)."""
    import pyarrow as pa

    issuers: dict[str, str] = {}
    if prices is None:
        return pa.array([], pa.string()), (), None, None, issuers
    pr_name = Path(prices).name
    pf = read_table(prices, ["asset", "issuer"])
    assets_index = text_column(pf, "asset", pr_name)
    asset_ids = tuple(assets_index.to_pylist())
    price = numeric_column(pf, "price", pr_name)
    depth = numeric_column(pf, "depth", pr_name)
    if "issuer" in pf.column_names:
        known = set(ids)
        for k, (a, iss) in enumerate(zip(asset_ids, pf["issuer"].to_pylist(), strict=True)):
            if isinstance(iss, str) and iss.strip():
                if iss not in known:
                    raise ContagionInputError(
                        f"{pr_name} row {row_of(k, pr_name)}, field 'issuer': unknown id '{iss}'"
                    )
                issuers[a] = iss
    return assets_index, asset_ids, price, depth, issuers


def _read_holdings(
    holdings: str | Path | None,
    prices: str | Path | None,
    index: Any,
    assets_index: Any,
    n: int,
) -> sp.csr_array | None:
    """Read the holdings file into a holder x asset matrix of values (``None`` without one)."""
    if holdings is None:
        return None
    h_name = Path(holdings).name
    if prices is None:
        raise ContagionInputError(f"{h_name} needs a prices file for its assets")
    hf = read_table(holdings, ["holder", "asset"])
    require_column(hf, "value", h_name)
    holder = positions(hf, "holder", index, h_name)
    asset = positions(hf, "asset", assets_index, h_name, kind="asset")
    value = numeric_column(hf, "value", h_name)
    hold = sp.csr_array((value, (holder, asset)), shape=(n, len(assets_index)))
    hold.sum_duplicates()
    return hold


def _loans(
    table: pa.Table,
    ids: tuple[str, ...],
    cred: np.ndarray,
    debt: np.ndarray,
    amount: np.ndarray,
    asset_ids: tuple[str, ...],
    file: str,
) -> tuple[CollateralLoan, ...]:
    """Rows of ``exposures.csv`` with a ``collateral`` asset become collateralised loans."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = pc.utf8_trim_whitespace(table["collateral"].cast(pa.string())).to_pandas()
    rows = np.flatnonzero((col.notna() & (col != "")).to_numpy(dtype=bool))
    if rows.size == 0:
        return ()
    quantity = numeric_column(table, "collateral_quantity", file, blank=math.nan)
    qty = quantity[rows]
    blank = np.flatnonzero(np.isnan(qty))
    if blank.size:
        k = int(rows[blank[0]])
        raise ContagionInputError(
            f"{file} row {row_of(k, file)}, field 'collateral_quantity': not given"
        )
    assets = col.iloc[rows].to_numpy(dtype=object)
    known = set(asset_ids)
    for j, a in enumerate(assets.tolist()):
        if a not in known:
            raise ContagionInputError(
                f"{file} row {row_of(int(rows[j]), file)}, field 'collateral': "
                f"unknown asset id '{a}'"
            )
    return tuple(
        CollateralLoan(
            lender=ids[cred[k]],
            borrower=ids[debt[k]],
            amount=float(amount[k]),
            asset=str(a),
            quantity=float(q),
        )
        for k, a, q in zip(rows.tolist(), assets.tolist(), qty.tolist(), strict=True)
    )
