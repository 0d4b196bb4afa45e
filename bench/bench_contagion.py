"""Speed and memory of `fallout contagion run` on a large network read from CSV.

Generates nodes.csv / exposures.csv (cached under the temp dir), then times, each in a
fresh process (wall clock, peak RSS of the child via getrusage):

- a plain baseline: pandas read_csv (pyarrow engine, ids as categories) + scipy
  fictitious-default solve;
- the floor: reading both files, mapping ids and building the matrix
  (``ExposureNetwork.from_csv`` alone);
- `fallout contagion run --model eisenberg-noe --json` (output written to a file), and
  with ``--out result.parquet``;
- the same command with `--model debtrank` and `--model cascade`.

The nodes file of the Eisenberg-Noe runs and the baseline leaves optional cells blank, as
DESIGN.md allows: ``equity`` and ``weight`` (which Eisenberg-Noe does not read) on one row
in ten, and ``external_liabilities`` (blank is 0) on the rows that owe nothing outside.

Usage: python bench/bench_contagion.py [--nodes 1000000] [--edges 5000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

BASELINE = textwrap.dedent(
    '''
    import sys
    import numpy as np, pandas as pd, scipy.sparse as sp
    from scipy.sparse.linalg import splu

    nodes_csv, exposures_csv, defaults_txt = sys.argv[1:4]
    nodes = pd.read_csv(nodes_csv, engine="pyarrow")
    ex = pd.read_csv(
        exposures_csv, engine="pyarrow", dtype={"creditor": "category", "debtor": "category"}
    )
    ids = pd.Index(nodes["id"].to_numpy(dtype=object))
    n = len(ids)

    def codes(col):
        # each distinct id is looked up once, then broadcast through the category codes
        cat = ex[col].cat
        return ids.get_indexer(cat.categories)[cat.codes.to_numpy()]

    cred = codes("creditor")
    debt = codes("debtor")
    a = sp.csr_array((ex["amount"].to_numpy(np.float64), (cred, debt)), shape=(n, n))
    e = nodes["external_assets"].to_numpy(np.float64).copy()
    x = nodes["external_liabilities"].fillna(0.0).to_numpy(np.float64)
    hit = ids.get_indexer(pd.Index(open(defaults_txt).read().split()))
    e[hit] = 0.0
    pbar = np.asarray(a.sum(axis=0)).ravel() + x
    inv = np.divide(1.0, pbar, out=np.zeros_like(pbar), where=pbar > 0)
    pi = sp.csr_array(a @ sp.diags_array(inv))
    p = pbar.copy()
    dead = np.zeros(n, dtype=bool)
    while True:
        now = e + pi @ p < pbar - 1e-12 * pbar.max()
        if not (now & ~dead).any():
            break
        dead |= now
        d = np.flatnonzero(dead)
        rhs = e[d] + (pi @ np.where(dead, 0.0, p))[d]
        sub = sp.csc_array(pi[d][:, d])
        p[d] = splu(sp.csc_array(sp.eye_array(d.size, format="csc") - sub)).solve(rhs)
    print(int(dead.sum()), float(p.sum()))
    '''
)


def generate(folder: Path, n: int, m: int, n_defaults: int, seed: int = 42) -> list[str]:
    """Write nodes.csv and exposures.csv (once) and return the ids to default."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    defaults = [f"n{i}" for i in rng.choice(n, n_defaults, replace=False)]
    if (folder / "exposures.csv").exists() and (folder / "nodes.csv").exists():
        return defaults
    creditor = rng.integers(0, n, m)
    debtor = rng.integers(0, n, m)
    debtor = np.where(debtor == creditor, (debtor + 1) % n, debtor)
    amount = np.round(rng.lognormal(0.0, 1.0, m), 6)
    assets = np.bincount(creditor, weights=amount, minlength=n)
    liabilities = np.bincount(debtor, weights=amount, minlength=n)
    external = np.round(np.maximum(3.0 * assets, 1.5 * liabilities) + 1.0, 6)
    capital = rng.uniform(0.04, 0.12, n)
    equity = capital * (external + assets)
    ext_liab = np.round(external + assets - equity - liabilities, 6)
    equity = external + assets - liabilities - ext_liab
    names = np.array([f"n{i}" for i in range(n)], dtype=object)
    pacsv.write_csv(
        pa.table(
            {
                "id": pa.array(names, pa.string()),
                "equity": equity,
                "external_assets": external,
                "external_liabilities": ext_liab,
                "weight": external + assets,
            }
        ),
        folder / "nodes.csv",
    )
    pacsv.write_csv(
        pa.table(
            {
                "creditor": pa.array(names[creditor], pa.string()),
                "debtor": pa.array(names[debtor], pa.string()),
                "amount": amount,
            }
        ),
        folder / "exposures.csv",
    )
    return defaults


def blank_optional_cells(folder: Path, seed: int = 7) -> Path:
    """Write nodes_blank.csv: nodes.csv with optional cells left blank (once)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    out = folder / "nodes_blank.csv"
    if out.exists():
        return out
    table = pacsv.read_csv(folder / "nodes.csv")
    rng = np.random.default_rng(seed)
    blank = pa.array(rng.uniform(size=table.num_rows) < 0.1)
    for col in ("equity", "weight"):
        i = table.column_names.index(col)
        table = table.set_column(i, col, pc.if_else(blank, None, table.column(col)))
    i = table.column_names.index("external_liabilities")
    x = table.column("external_liabilities")
    table = table.set_column(i, "external_liabilities",
                             pc.if_else(pc.less_equal(x, 0.0), None, x))
    pacsv.write_csv(table, out)
    return out


FLOOR = (
    "import sys\n"
    "from graph.contagion.network import ExposureNetwork\n"
    "net = ExposureNetwork.from_csv(sys.argv[1], sys.argv[2])\n"
    "print(net.n, net.exposures.nnz)\n"
)


def measure(cmd: list[str], out: Path) -> tuple[float, float, int]:
    """Run ``cmd`` in a fresh wrapper process; return seconds, peak RSS (MB), exit code."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "with open(sys.argv[1], 'wb') as f:\n"
        "    rc = subprocess.run(sys.argv[2:], stdout=f).returncode\n"
        "dt = time.perf_counter() - t\n"
        "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, rc)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", wrapper, str(out), *cmd],
        capture_output=True,
        text=True,
        check=True,
    )
    dt, rss, rc = res.stdout.split()
    return float(dt), float(rss), int(rc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=5_000_000)
    parser.add_argument("--defaults", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    folder = Path(tempfile.gettempdir()) / "fallout-bench-contagion" / f"{args.nodes}-{args.edges}"
    t0 = time.perf_counter()
    defaults = generate(folder, args.nodes, args.edges, args.defaults)
    print(f"data: {folder} ({time.perf_counter() - t0:.1f} s)", flush=True)
    (folder / "defaults.txt").write_text(" ".join(defaults))
    (folder / "baseline.py").write_text(BASELINE)
    blank = blank_optional_cells(folder)
    script = Path(sys.executable).parent / "fallout"
    fallout = [str(script)] if script.exists() else [sys.executable, "-m", "graph.cli"]
    exposures = str(folder / "exposures.csv")
    picks = [x for d in defaults for x in ("--default", d)]
    full = ["contagion", "run", "--nodes", str(folder / "nodes.csv"), "--exposures", exposures,
            *picks]
    sparse = ["contagion", "run", "--nodes", str(blank), "--exposures", exposures, *picks]
    parquet = str(folder / "result.parquet")
    runs = {
        "baseline (pandas + scipy)": [sys.executable, str(folder / "baseline.py"), str(blank),
                                      exposures, str(folder / "defaults.txt")],
        "floor (read, ids, matrix)": [sys.executable, "-c", FLOOR, str(blank), exposures],
        "eisenberg-noe": [*fallout, *sparse, "--json", "--model", "eisenberg-noe"],
        "eisenberg-noe --out": [*fallout, *sparse, "--out", parquet, "--model", "eisenberg-noe"],
        "debtrank": [*fallout, *full, "--json", "--model", "debtrank"],
        "debtrank --out": [*fallout, *full, "--out", parquet, "--model", "debtrank"],
        "cascade": [*fallout, *full, "--json", "--model", "cascade"],
    }
    results: dict[str, tuple[float, float]] = {}
    for name, cmd in runs.items():
        best, peak = float("inf"), 0.0
        for _ in range(args.repeat):
            tag = "-parquet" if "--out" in name else ""
            dt, rss, rc = measure(cmd, folder / f"out-{name.split()[0]}{tag}.json")
            if rc != 0:
                raise SystemExit(f"{name} failed with exit code {rc}")
            best, peak = min(best, dt), max(peak, rss)
        results[name] = (best, peak)
        print(f"{name:28s} {best:7.2f} s  peak RSS {peak:7.0f} MB", flush=True)
    base = results["baseline (pandas + scipy)"][0]
    for name in runs:
        print(f"{name:28s} {results[name][0] / base:5.2f}x baseline")
    en = json.loads((folder / "out-eisenberg-noe.json").read_text())["totals"]
    print("eisenberg-noe totals:", en)


if __name__ == "__main__":
    main()
