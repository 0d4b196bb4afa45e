"""The test Neo4j server is the real Neo4j 5.26 Community engine, reachable over Bolt."""

from __future__ import annotations

import neo4j
import pytest

pytestmark = pytest.mark.neo4j


def test_server_is_neo4j_5_26(neo4j_url: str) -> None:
    with neo4j.GraphDatabase.driver(neo4j_url, auth=None) as driver:
        records, _, _ = driver.execute_query("CALL dbms.components()")
    (component,) = records
    assert component["name"] == "Neo4j Kernel"
    assert component["versions"][0].startswith("5.26.")
    assert component["edition"] == "community"


def test_server_runs_write_and_read_queries(neo4j_url: str) -> None:
    with neo4j.GraphDatabase.driver(neo4j_url, auth=None) as driver:
        driver.execute_query(
            "CREATE (:ServerProbe {id: $id})-[:LENT_TO]->(:ServerProbe {id: $other})",
            id="probe-a",
            other="probe-b",
        )
        records, _, _ = driver.execute_query(
            "MATCH (a:ServerProbe)-[:LENT_TO]->(b:ServerProbe) RETURN a.id AS a, b.id AS b",
            routing_=neo4j.RoutingControl.READ,
        )
        driver.execute_query("MATCH (n:ServerProbe) DETACH DELETE n")
    assert [(r["a"], r["b"]) for r in records] == [("probe-a", "probe-b")]
