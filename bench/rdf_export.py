"""Time the graph exports (Turtle, JSON-LD, GraphML, CSV) on a synthetic graph.

    .venv/bin/python bench/rdf_export.py [--relations 100000] [--entities 10000]

Prints one line per step; figures go into docs/benchmarks.md, section "RDF export".
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from extract.model import EntityType, RelationType
from graph.rdf import to_graphml, to_jsonld, to_rdf, to_turtle, write_csv
from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord

__all__ = ["synthetic_dump"]


def synthetic_dump(n_entities: int, n_relations: int, seed: int = 7) -> GraphDump:
    rng = random.Random(seed)
    kinds = [k.value for k in EntityType]
    types = [t.value for t in RelationType]
    entities = tuple(
        EntityRecord(f"e{i}", f"Entity {i}", kinds[i % len(kinds)], (f"E{i}",),
                     equity=float(rng.randint(1, 10**9)))
        for i in range(n_entities)
    )
    documents = tuple(
        DocumentRecord(f"sha256:{i:064x}", f"Doc {i}", f"docs/{i}.txt") for i in range(100)
    )
    relations = tuple(
        RelationRecord(
            f"r{i}", f"e{rng.randrange(n_entities)}", types[i % len(types)],
            f"e{rng.randrange(n_entities)}", documents[i % 100].id, round(rng.random(), 3),
            evidence=f"Sentence number {i} says so.", start=i, end=i + 28,
            amount=float(rng.randint(1, 10**8)) if i % 3 == 0 else None,
            currency="USD" if i % 3 == 0 else None, hedged=i % 7 == 0, negated=i % 11 == 0,
        )
        for i in range(n_relations)
    )
    return GraphDump(entities=entities, relations=relations, documents=documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--skip-rdflib", action="store_true", help="only the fast writers")
    args = parser.parse_args()
    dump = synthetic_dump(args.entities, args.relations)

    def timed(label: str, fn):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        size = f", {len(result) / 1e6:.1f} MB" if isinstance(result, bytes | str) else ""
        print(f"{label:<42} {elapsed:7.2f} s{size}", flush=True)
        return result

    print(f"{args.entities} entities, {args.relations} relations")
    timed("turtle, pyoxigraph (to_turtle)", lambda: to_turtle(dump))
    timed("json-ld, pyoxigraph (to_jsonld)", lambda: to_jsonld(dump))
    if not args.skip_rdflib:
        graph = timed("rdflib graph (to_rdf)", lambda: to_rdf(dump))
        print(f"{'  triples':<42} {len(graph)}")
        timed("turtle, rdflib serialize", lambda: graph.serialize(format="turtle").encode())
        timed("json-ld, rdflib serialize", lambda: graph.serialize(format="json-ld").encode())
    timed("graphml, networkx", lambda: to_graphml(dump))
    with tempfile.TemporaryDirectory() as tmp:
        timed("csv, three tables", lambda: write_csv(dump, Path(tmp) / "csv"))


if __name__ == "__main__":
    main()
