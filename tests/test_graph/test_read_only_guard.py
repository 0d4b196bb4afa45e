"""The read-only guard against attack strings, on the real LadybugDB and the real Neo4j.

Every attack runs through ``GraphStore.cypher`` without ``write`` on both stores and
must be refused with one line, leaving the graph as it was, reading no file (a marker
file's contents never come back), fetching no URL (a local HTTP server counts the
requests) and writing nothing to disk. The plan checks are also run alone on the real
``EXPLAIN`` of each database, since on Neo4j the plan, not the text, is the authority.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extract.model import Facts
from graph.errors import QueryRefused
from graph.store import GraphStore, open_store
from graph.store._guard import check_ladybug_plan, check_neo4j_plan

ROOT = Path(__file__).resolve().parents[2]
MARKER = "SECRET-MARKER-7f3a"
REPRODUCTION = "WITH 1 AS x // c\rLOAD CSV FROM 'file:///etc/passwd' AS l RETURN l LIMIT 2"
"""The bypass of issue 11, exactly: Neo4j ends a ``//`` comment at a lone ``\\r``."""

DOC = Facts.from_dict(
    {
        "document": {"id": "d1", "source": "d1.txt", "title": "Title d1"},
        "entities": [
            {"id": "ftx", "name": "FTX", "type": "Exchange"},
            {"id": "alameda", "name": "Alameda Research", "type": "TradingFirm"},
        ],
        "relations": [
            {
                "head": "ftx",
                "type": "LENT_TO",
                "tail": "alameda",
                "confidence": 0.9,
                "amount": 1e10,
                "evidence": [{"text": "FTX lent Alameda $10bn.", "start": 0, "end": 23}],
            }
        ],
    }
)

# {file}: file:/// URL of the marker CSV; {path}: its path; {url}: http:// URL of the
# counting server; {out}: a file and {dir}: a directory that must never be created.
ATTACKS: list[tuple[str, str]] = [
    # comments ended by each line ending, and comments the lexers disagree on
    ("reproduction-cr", REPRODUCTION),
    ("comment-cr-file", "WITH 1 AS x // c\rLOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-lf", "WITH 1 AS x // c\nLOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-crlf", "WITH 1 AS x // c\r\nLOAD CSV FROM '{url}' AS l RETURN l"),
    ("comment-u2028", "RETURN 1 AS x // c\u2028LOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-u2029", "RETURN 1 AS x // c\u2029LOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-u0085", "RETURN 1 AS x // c\u0085LOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-vt", "RETURN 1 AS x // c\x0bLOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-ff", "RETURN 1 AS x // c\x0cLOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-cr-ladybug", "RETURN 1 AS x // c\rLOAD FROM '{path}' (header=false) RETURN *"),
    ("block-comment", "WITH 1 AS x /* c */LOAD CSV FROM '{url}' AS l RETURN l"),
    ("block-star-star", "RETURN 1 AS x /* a **/ LOAD CSV FROM '{file}' AS l RETURN l /* */"),
    ("block-unterminated", "MATCH (n) RETURN n /* LOAD CSV FROM '{file}' AS l"),
    # unicode escapes: Neo4j decodes \uXXXX everywhere in the text
    ("escape-quote", "WITH 'a\\u0027 AS x LOAD CSV FROM '{file}' AS l RETURN l //' AS y RETURN y"),
    ("escape-newline-comment", "WITH 1 AS x // c\\u000aLOAD CSV FROM '{file}' AS l RETURN l"),
    ("escape-cr-comment", "WITH 1 AS x // c\\u000dLOAD CSV FROM '{url}' AS l RETURN l"),
    ("escape-keyword", "WITH 1 AS x \\u004cOAD CSV FROM '{file}' AS l RETURN l"),
    ("escape-block-close", "WITH 1 AS x /* \\u002a/ LOAD CSV FROM '{file}' AS l RETURN l /* */"),
    ("escape-backtick", "WITH 1 AS `a\\u0060 LOAD CSV FROM '{file}' AS l RETURN l //`"),
    ("escape-backslash", "WITH '\\u005c' AS x LOAD CSV FROM '{file}' AS l RETURN l //'"),
    # case variants and spacing
    ("lower-case", "load csv from '{file}' as l return l"),
    ("mixed-case", "LoAd CsV FrOm '{url}' As l ReTuRn l"),
    ("comment-between-words", "WITH 1 AS x LOAD/**/CSV FROM '{file}' AS l RETURN l"),
    ("with-headers", "LOAD CSV WITH HEADERS FROM '{url}' AS row RETURN row"),
    # LOAD CSV from http:// and file:// URLs
    ("load-csv-http", "LOAD CSV FROM '{url}' AS l RETURN l"),
    ("load-csv-passwd", "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l"),
    ("periodic-commit", "USING PERIODIC COMMIT 10 LOAD CSV FROM '{url}' AS l RETURN l"),
    # CALL subqueries, nested, with writes or file reads
    ("subquery-load-csv", "CALL {{ LOAD CSV FROM '{file}' AS l RETURN l }} RETURN l"),
    ("subquery-set", "MATCH (e:Entity) CALL {{ WITH e SET e.name = 'pwned' }} RETURN e"),
    ("scoped-subquery-create", "CALL () {{ CREATE (:Entity {{id: 'x'}}) }} RETURN 1 AS one"),
    ("nested-call-create", "CALL {{ CALL {{ CREATE (:Entity {{id: 'n'}}) }} }} RETURN 1 AS one"),
    ("in-transactions", "MATCH (e:Entity) CALL {{ WITH e DETACH DELETE e }} IN TRANSACTIONS"),
    ("subquery-merge", "UNWIND [1] AS x CALL {{ MERGE (:Entity {{id: 'm'}}) }} RETURN x"),
    # FOREACH
    ("foreach-set", "MATCH (e:Entity) FOREACH (x IN [1] | SET e.name = 'pwned')"),
    ("foreach-create", "FOREACH (x IN [1] | CREATE (:Entity {{id: 'f'}}))"),
    # SHOW and other administration commands
    ("show-settings", "SHOW SETTINGS"),
    ("show-transactions", "SHOW TRANSACTIONS"),
    ("show-settings-yield", "show settings yield name, value return name, value"),
    ("show-procedures", "SHOW PROCEDURES"),
    ("terminate", "TERMINATE TRANSACTIONS 'neo4j-transaction-1'"),
    # procedures outside the allow-list
    ("call-list-config", "CALL dbms.listConfig()"),
    ("call-components", "CALL dbms.components()"),
    ("call-after-allowed", "CALL db.labels() YIELD label CALL dbms.listConfig() YIELD name"),
    ("call-quoted-name", "CALL `dbms`.`listConfig`()"),
    # more than one statement
    ("two-statements", "MATCH (n) RETURN n; CREATE (:Entity {{id: 's'}})"),
    ("semicolon-load", "RETURN 1 AS x;\nLOAD CSV FROM '{file}' AS l RETURN l"),
    ("comment-then-semicolon", "MATCH (n) RETURN n // c\n;CREATE (m:Entity {{id: 'y'}})"),
    # LadybugDB: files, other databases, extensions, settings
    ("load-from", "LOAD FROM '{path}' (file_format='csv', header=false) RETURN *"),
    ("load-with-headers", "LOAD WITH HEADERS (a STRING) FROM '{path}' RETURN *"),
    ("copy-to", "COPY (MATCH (e:Entity) RETURN e.id) TO '{out}'"),
    ("copy-from", "COPY Entity FROM '{path}'"),
    ("export-database", "EXPORT DATABASE '{dir}'"),
    ("import-database", "IMPORT DATABASE '{dir}'"),
    ("attach", "ATTACH '{dir}/other.lbug' AS other (dbtype lbug)"),
    ("detach", "DETACH other"),
    ("install-extension", "INSTALL httpfs"),
    ("load-extension", "LOAD EXTENSION httpfs"),
    ("load-extension-short", "LOAD httpfs"),
    ("call-setting", "CALL threads=1"),
    ("call-read-csv", "CALL read_csv_serial('{path}') RETURN *"),
    ("call-current-setting", "CALL current_setting('home_directory') RETURN *"),
    ("use-database", "USE other"),
    ("checkpoint", "CHECKPOINT"),
    ("begin", "BEGIN TRANSACTION"),
    # plain writes
    ("create", "CREATE (n:Entity {{id: 'x'}})"),
    ("merge", "MERGE (n:Entity {{id: 'x'}})"),
    ("set", "MATCH (n:Entity) SET n.name = 'pwned'"),
    ("detach-delete", "MATCH (n) DETACH DELETE n"),
    ("remove", "MATCH (n:Entity) REMOVE n.name"),
    ("insert", "INSERT (:Entity {{id: 'gql'}})"),
    ("drop", "DROP TABLE Document"),
    ("alter", "ALTER TABLE Entity ADD pwned INT64"),
    ("create-table", "CREATE NODE TABLE Pwned(id STRING PRIMARY KEY)"),
    # strings and quoted names hiding comment markers
    ("string-with-slashes", "WITH '//' AS x LOAD CSV FROM '{file}' AS l RETURN l"),
    ("backslashes-in-string", "WITH '\\\\' AS x LOAD CSV FROM '{file}' AS l RETURN l"),
    ("quoted-name-slashes", "WITH 1 AS `a``b // ` LOAD CSV FROM '{file}' AS l RETURN l"),
    ("empty", "  // nothing\n"),
]


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        type(self).hits.append(self.path)
        body = f"{MARKER},1\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """A local HTTP server serving the marker as CSV and recording every request."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data.csv"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def places(tmp_path: Path, http_url: str) -> dict[str, str]:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{MARKER},1\n", encoding="utf-8")
    return {
        "file": secret.as_uri(),
        "path": str(secret),
        "url": http_url,
        "out": str(tmp_path / "out.csv"),
        "dir": str(tmp_path / "exported"),
    }


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    url = ":memory:" if request.param == "embedded" else request.getfixturevalue("neo4j_url")
    with open_store(url) as opened:
        if request.param == "neo4j":
            opened.cypher("MATCH (n) DETACH DELETE n", write=True)
        opened.load([DOC])
        yield opened


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    entities = store.cypher("MATCH (e:Entity) RETURN e.id AS id, e.name AS name ORDER BY id")
    return (dict(store.counts()), entities.rows)


def test_there_are_at_least_forty_attacks() -> None:
    assert len(ATTACKS) >= 40
    assert len({name for name, _ in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize(("name", "template"), ATTACKS, ids=[n for n, _ in ATTACKS])
def test_attack_is_refused_and_reads_writes_and_fetches_nothing(
    store: GraphStore, places: dict[str, str], name: str, template: str
) -> None:
    query = template.format(**places)
    before = _snapshot(store)
    hits = len(_Counter.hits)
    with pytest.raises(QueryRefused) as refused:
        store.cypher(query)
    message = str(refused.value)
    assert message.startswith("query refused:"), message
    assert "\n" not in message and MARKER not in message and "root:" not in message
    assert _snapshot(store) == before
    assert len(_Counter.hits) == hits, f"{name} fetched {_Counter.hits[hits:]}"
    assert not Path(places["out"]).exists() and not Path(places["dir"]).exists()


READS: list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "match-return",
        "MATCH (e:Entity) RETURN e.name AS name ORDER BY name",
        {},
        [{"name": "Alameda Research"}, {"name": "FTX"}],
    ),
    (
        "optional-match",
        "MATCH (e:Entity) OPTIONAL MATCH (e)-[r:LENT_TO]->(t:Entity) "
        "RETURN e.id AS id, t.id AS borrower ORDER BY id",
        {},
        [{"id": "alameda", "borrower": None}, {"id": "ftx", "borrower": "alameda"}],
    ),
    (
        "with-where",
        "MATCH (e:Entity) WITH e WHERE e.id = $id RETURN e.name AS name",
        {"id": "ftx"},
        [{"name": "FTX"}],
    ),
    (
        "unwind",
        "UNWIND [3, 1, 2] AS x RETURN x ORDER BY x DESC",
        {},
        [{"x": 3}, {"x": 2}, {"x": 1}],
    ),
    ("count", "MATCH (e:Entity) RETURN count(e) AS n", {}, [{"n": 2}]),
    (
        "order-by-limit",
        "MATCH (h:Entity)-[r]->(t:Entity) RETURN type(r) AS rel, r.amount AS amount "
        "ORDER BY amount DESC LIMIT 1",
        {},
        [{"rel": "LENT_TO", "amount": 1e10}],
    ),
    (
        "keywords-in-strings",
        "MATCH (e:Entity) WHERE e.name <> 'LOAD CSV // CREATE' "
        'AND e.id <> "SET" RETURN count(*) AS n',
        {},
        [{"n": 2}],
    ),
    ("comment-lf", "MATCH (e:Entity) // LOAD CSV, CREATE\nRETURN count(e) AS n", {}, [{"n": 2}]),
    ("comment-crlf", "MATCH (e:Entity) // a note\r\nRETURN count(e) AS n", {}, [{"n": 2}]),
    ("block-comment", "MATCH (e:Entity) /* SET e.x = 1 */ RETURN count(e) AS n", {}, [{"n": 2}]),
    (
        "properties-named-like-keywords",
        "MATCH (d:Document) RETURN d.`source` AS source, {load: 1, set: 2} AS m",
        {},
        [{"source": "d1.txt", "m": {"load": 1, "set": 2}}],
    ),
    ("unicode-escape-letter", "RETURN 'caf\\u00e9' AS s", {}, [{"s": "café"}]),
    ("trailing-semicolon", "MATCH (e:Entity) RETURN count(e) AS n;", {}, [{"n": 2}]),
]


@pytest.mark.parametrize(("name", "query", "params", "rows"), READS, ids=[r[0] for r in READS])
def test_ordinary_reads_still_pass(
    store: GraphStore, name: str, query: str, params: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    assert list(store.cypher(query, params).rows) == rows


def test_schema_procedures_of_the_allow_list_pass(store: GraphStore) -> None:
    if store.url.startswith("bolt"):
        labels = {r["label"] for r in store.cypher("CALL db.labels()").rows}
        assert {"Entity", "Document"} <= labels
        types = store.cypher("CALL db.relationshipTypes() YIELD relationshipType RETURN *").rows
        assert {"relationshipType": "LENT_TO"} in types
        sub = store.cypher("MATCH (e:Entity) CALL (e) { RETURN e.id AS i } RETURN i ORDER BY i")
        assert [r["i"] for r in sub.rows] == ["alameda", "ftx"]
    else:
        tables = {r["name"] for r in store.cypher("CALL show_tables() RETURN name").rows}
        assert {"Entity", "Document", "LENT_TO"} <= tables


# --- the plan checks alone, on the databases' real EXPLAIN ----------------------------------

NEO4J_PLANNED_ATTACKS = [
    REPRODUCTION,
    "WITH 'a\\u0027 AS x LOAD CSV FROM '{url}' AS l RETURN l //' AS y RETURN y",
    "WITH 1 AS x // c\\u000aLOAD CSV FROM '{file}' AS l RETURN l",
    "CALL {{ LOAD CSV FROM '{url}' AS l RETURN l }} RETURN l",
    "SHOW SETTINGS",
    "SHOW TRANSACTIONS",
    "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
    "CALL dbms.listConfig()",
    "CALL db.labels() YIELD label CALL dbms.components() YIELD name RETURN name",
    "CREATE (:Entity {{id: 'x'}})",
    "MATCH (e:Entity) FOREACH (x IN [1] | SET e.name = 'pwned')",
]


@pytest.mark.neo4j
@pytest.mark.parametrize("template", NEO4J_PLANNED_ATTACKS)
def test_neo4j_plan_check_alone_refuses(
    neo4j_url: str, places: dict[str, str], template: str
) -> None:
    """What the text check might miss, the plan check refuses (nothing is executed)."""
    import neo4j

    query = template.format(**places)
    with (
        neo4j.GraphDatabase.driver(neo4j_url, auth=None) as driver,
        driver.session(default_access_mode=neo4j.READ_ACCESS) as session,
    ):
        summary = session.execute_read(lambda tx: tx.run("EXPLAIN " + query).consume())
    with pytest.raises(QueryRefused, match="^query refused:"):
        check_neo4j_plan(summary.query_type, summary.plan)
    for read in ("MATCH (e:Entity) RETURN e", "CALL db.labels()", "UNWIND [1] AS x RETURN x"):
        with (
            neo4j.GraphDatabase.driver(neo4j_url, auth=None) as driver,
            driver.session(default_access_mode=neo4j.READ_ACCESS) as session,
        ):
            summary = session.run("EXPLAIN " + read).consume()
        check_neo4j_plan(summary.query_type, summary.plan)


def _ladybug_plan(conn: Any, query: str) -> str:
    conn.execute("BEGIN TRANSACTION READ ONLY")
    try:
        result = conn.execute("EXPLAIN " + query)
        return "\n".join(str(row[0]) for row in result.get_all())
    finally:
        conn.execute("ROLLBACK")


def test_ladybug_plan_check_alone_refuses(tmp_path: Path, places: dict[str, str]) -> None:
    """Statements LadybugDB plans even in a read-only transaction: the plan check refuses.

    Only statements whose planning is harmless are planned here: binding ``EXPORT
    DATABASE`` creates its directory, which is why the text check runs first.
    """
    import ladybug

    db = ladybug.Database(str(tmp_path / "plan.lbug"))
    conn = ladybug.Connection(db)
    conn.execute("CREATE NODE TABLE Entity(id STRING PRIMARY KEY, name STRING)")
    try:
        for query in (
            f"LOAD FROM '{places['path']}' (file_format='csv', header=false) RETURN *",
            f"COPY (MATCH (e:Entity) RETURN e.id) TO '{places['out']}'",
            "CALL threads=1",
            "CALL current_setting('threads') RETURN *",
            "CHECKPOINT",
        ):
            with pytest.raises(QueryRefused, match="^query refused:"):
                check_ladybug_plan(_ladybug_plan(conn, query))
        for read in (
            "MATCH (e:Entity) RETURN e.name",
            "UNWIND [1, 2] AS x RETURN x",
            "CALL show_tables() RETURN *",
            "MATCH (e:Entity) RETURN count(e)",
        ):
            check_ladybug_plan(_ladybug_plan(conn, read))
        assert not Path(places["out"]).exists()
    finally:
        conn.close()
        db.close()


# --- the server setting and the command line ------------------------------------------------


@pytest.mark.neo4j
def test_neo4j_test_server_refuses_file_urls_even_for_write_queries(
    neo4j_url: str, places: dict[str, str]
) -> None:
    """``--write`` turns the guard off; the server's own setting still keeps files out."""
    with open_store(neo4j_url) as opened:
        value = opened.cypher(
            "SHOW SETTINGS 'dbms.security.allow_csv_import_from_file_urls' YIELD value "
            "RETURN value",
            write=True,
        ).rows
        assert value == ({"value": "false"},)
        with pytest.raises(QueryRefused, match="allow_csv_import_from_file_urls") as failed:
            opened.cypher(f"LOAD CSV FROM '{places['file']}' AS l RETURN l", write=True)
        assert MARKER not in str(failed.value)


def fallout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from graph.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.mark.parametrize("backend", ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_reproduction_through_fallout_query_is_refused(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    if backend == "embedded":
        url = str(tmp_path / "store")
        with open_store(url) as opened:
            opened.load([DOC])
    else:
        url = request.getfixturevalue("neo4j_url")
    done = fallout("query", REPRODUCTION, "--store", url)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0], done.stderr
    assert "root:" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    ok = fallout("query", "MATCH (e:Entity) RETURN count(e) AS n", "--json", "--store", url)
    assert ok.returncode == 0, ok.stderr
