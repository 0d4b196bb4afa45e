"""Time the test Neo4j server: start to the ready line, first query, stop.

    .venv/bin/python bench/neo4j_server.py [--runs 3]

Each run also reads back the server's settings of ``SERVER_SETTINGS``
(``dbms.security.allow_csv_import_from_file_urls=false``: LOAD CSV may not read the
server's files) and stops if one differs. Figures go into docs/benchmarks.md, section
"Neo4j test server".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.neo4j_server import SERVER_SETTINGS, start_neo4j  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import neo4j

    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        url, stop = start_neo4j()
        t1 = time.perf_counter()
        with neo4j.GraphDatabase.driver(url, auth=None) as driver:
            driver.verify_connectivity()
            driver.execute_query("RETURN 1")
            t2 = time.perf_counter()
            records, _, _ = driver.execute_query(
                "SHOW SETTINGS $names YIELD name, value", names=sorted(SERVER_SETTINGS)
            )
        settings = {r["name"]: r["value"] for r in records}
        t3 = time.perf_counter()
        stop()
        t4 = time.perf_counter()
        if settings != SERVER_SETTINGS:
            sys.exit(f"run {run}: the server's settings are {settings}, not {SERVER_SETTINGS}")
        print(f"run {run}: ready {t1 - t0:.2f} s, first query {t2 - t1:.2f} s, "
              f"stop {t4 - t3:.2f} s; {settings}", flush=True)


if __name__ == "__main__":
    main()
