"""Speed and memory of `fallout contagion run` on a large network read from CSV.

Generates nodes.csv / exposures.csv (cached under the temp dir), then times, each in a
fresh process (wall clock, peak RSS of the child via getrusage):

- a plain baseline: pandas read_csv (pyarrow engine, ids as categories) + scipy
  fictitious-default solve;
- `fallout contagion run --model eisenberg-noe --json` (output written to a file);
- the same command with `--model debtrank` and `--model cascade`.

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
    x = nodes["external_liabilities"].to_numpy(np.float64)
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
    script = Path(sys.executable).parent / "fallout"
    fallout = [str(script)] if script.exists() else [sys.executable, "-m", "graph.cli"]
    common = ["contagion", "run", "--nodes", str(folder / "nodes.csv"),
              "--exposures", str(folder / "exposures.csv"), "--json"]
    common += [x for d in defaults for x in ("--default", d)]
    runs = {
        "baseline (pandas + scipy)": [sys.executable, str(folder / "baseline.py"),
                                      str(folder / "nodes.csv"), str(folder / "exposures.csv"),
                                      str(folder / "defaults.txt")],
        "eisenberg-noe": [*fallout, *common, "--model", "eisenberg-noe"],
        "debtrank": [*fallout, *common, "--model", "debtrank"],
        "cascade": [*fallout, *common, "--model", "cascade"],
    }
    results: dict[str, tuple[float, float]] = {}
    for name, cmd in runs.items():
        best, peak = float("inf"), 0.0
        for _ in range(args.repeat):
            dt, rss, rc = measure(cmd, folder / f"out-{name.split()[0]}.json")
            if rc != 0:
                raise SystemExit(f"{name} failed with exit code {rc}")
            best, peak = min(best, dt), max(peak, rss)
        results[name] = (best, peak)
        print(f"{name:28s} {best:7.2f} s  peak RSS {peak:7.0f} MB", flush=True)
    base = results["baseline (pandas + scipy)"][0]
    for name in ("eisenberg-noe", "debtrank", "cascade"):
        print(f"{name:28s} {results[name][0] / base:5.2f}x baseline")
    en = json.loads((folder / "out-eisenberg-noe.json").read_text())["totals"]
    print("eisenberg-noe totals:", en)


if __name__ == "__main__":
    main()
