"""Precision of the duplicate suggestions on the corpus's known aliases.

Usage::

    python bench/bench_duplicates.py [--facts FACTS.json] [--out FACTS.json]

Extracts the splits that carry gold annotations for training (``ontologies/corpus/train``,
``heldout`` and ``reporting/train``; never ``reporting/test``) with the shipped model,
loads the facts into an in-memory store, ranks duplicate pairs, and judges each pair by
the gold: right when one gold entity has both names (its name or an alias), wrong when
one gold document lists the two names as two entities, not judged otherwise. Prints
precision over judged pairs and recall of the known duplicate pairs, at the default
threshold and at fixed depths of the ranking.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPLITS = ("train", "heldout", "reporting/train")


def main() -> None:
    from extract.model import Facts
    from graph.duplicates import alias_clusters, score_suggestions, suggest_duplicates
    from graph.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, help="facts JSON already extracted")
    parser.add_argument("--out", type=Path, help="where to keep the extracted facts")
    args = parser.parse_args()
    folders = [ROOT / "ontologies" / "corpus" / s for s in SPLITS]
    facts_path = args.facts
    if facts_path is None:
        facts_path = args.out or Path(tempfile.mkdtemp()) / "facts.json"
        texts = [str(p) for f in folders for p in sorted(f.glob("*.txt"))]
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from graph.cli import main; main()",
                "extract",
                *texts,
                "--out",
                str(facts_path),
            ],
            check=True,
            cwd=ROOT,
        )
    facts = [Facts.from_dict(d) for d in json.loads(facts_path.read_text(encoding="utf-8"))]
    with open_store(":memory:") as store:
        store.load(facts)
        dump = store.dump()
    started = time.perf_counter()
    ranked = suggest_duplicates(dump, limit=100_000, min_score=0.0)
    took = time.perf_counter() - started
    gold = alias_clusters(folders)
    print(
        f"{len(facts)} documents, {len(dump.entities)} entities; "
        f"{len(gold.clusters)} gold identities; ranking took {took * 1000:.0f} ms"
    )
    print("cut             suggested  right  wrong  unjudged  precision  recall")
    rows = [(f"score >= {t}", [s for s in ranked if s.score >= t]) for t in (0.9, 0.7, 0.5)]
    rows += [(f"top {k}", ranked[:k]) for k in (10, 25, 50)]
    for label, chosen in rows:
        sc = score_suggestions(chosen, dump.entities, gold)
        print(
            f"{label:<15} {sc.suggested:>9}  {sc.right:>5}  {sc.wrong:>5}  "
            f"{sc.suggested - sc.judged:>8}  {sc.precision:>9.3f}  {sc.recall:>6.3f}"
        )


if __name__ == "__main__":
    main()
