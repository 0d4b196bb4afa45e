"""A read-only gate for user Cypher: tokens outside literals and comments, checked by keyword.

The gate is the first of two checks. Neo4j then plans the query with ``EXPLAIN`` and
accepts only ``query_type == "r"``; LadybugDB runs it inside a read-only transaction.
"""

from __future__ import annotations

import re

from graph.errors import QueryRefused

__all__ = ["READ_PROCEDURES", "WRITE_KEYWORDS", "check_read_only", "code_tokens", "rewrite_type"]

WRITE_KEYWORDS = frozenset(
    {
        "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "ALTER", "COPY",
        "LOAD", "INSTALL", "UNINSTALL", "ATTACH", "IMPORT", "EXPORT", "FOREACH", "USE",
        "BEGIN", "COMMIT", "ROLLBACK", "CHECKPOINT", "GRANT", "DENY", "REVOKE",
        "TERMINATE", "START", "STOP", "ENABLE", "RENAME",
    }
)  # fmt: skip
"""Clause keywords that write, reach outside the database, or manage it."""

READ_PROCEDURES = frozenset(
    {
        # Neo4j
        "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
        "db.schema.nodetypeproperties", "db.schema.reltypeproperties",
        # LadybugDB
        "show_tables", "table_info", "show_connection", "db_version", "show_functions",
        "current_setting", "show_indexes",
    }
)  # fmt: skip
"""Procedures a read-only query may ``CALL`` (lower case)."""

_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<quoted>`(?:``|[^`])*`)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def code_tokens(query: str) -> list[tuple[str, str, int]]:
    r"""Split ``query`` into ``(kind, text, offset)`` tokens, dropping spaces and comments.

    Examples
    --------
    >>> [t[1] for t in code_tokens("MATCH (n) // CREATE\nRETURN 'SET'")]
    ['MATCH', '(', 'n', ')', 'RETURN', "'SET'"]
    """
    tokens: list[tuple[str, str, int]] = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup or "other"
        if kind in ("space", "comment"):
            continue
        tokens.append((kind, match.group(), match.start()))
    return tokens


def _procedure_name(tokens: list[tuple[str, str, int]], start: int) -> str:
    parts: list[str] = []
    i = start
    while i < len(tokens) and tokens[i][0] in ("word", "quoted"):
        parts.append(tokens[i][1].strip("`"))
        if i + 1 < len(tokens) and tokens[i + 1][1] == ".":
            i += 2
        else:
            break
    return ".".join(parts).lower()


def check_read_only(query: str) -> None:
    r"""Raise ``QueryRefused`` unless ``query`` only reads the graph.

    Property keys (``n.set``), labels (``:Create``) and map keys (``{merge: 1}``) are
    not clauses and pass; ``CALL`` passes for subqueries and the procedures of
    ``READ_PROCEDURES``.

    Examples
    --------
    >>> check_read_only("MATCH (n:Entity) WHERE n.name = 'CREATE' RETURN n.set")
    >>> check_read_only("MATCH (n) DETACH DELETE n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.errors.QueryRefused: query refused: DETACH is not allowed in a read-only query ...
    """
    tokens = code_tokens(query)
    if not tokens:
        raise QueryRefused("query refused: the query is empty")
    for i, (kind, text, _) in enumerate(tokens):
        if kind != "word":
            continue
        before = tokens[i - 1][1] if i > 0 else ""
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if before in (".", ":", "$") or after == ":":
            continue
        word = text.upper()
        if word in WRITE_KEYWORDS:
            raise QueryRefused(
                f"query refused: {word} is not allowed in a read-only query "
                "(pass write=True, or --write, to run it)"
            )
        if word == "CALL" and after != "{":
            name = _procedure_name(tokens, i + 1)
            if name not in READ_PROCEDURES:
                raise QueryRefused(
                    f"query refused: CALL {name or after} is not allowed in a read-only query "
                    "(pass write=True, or --write, to run it)"
                )


def rewrite_type(query: str) -> str:
    """Turn Neo4j's ``type(r)`` into LadybugDB's ``label(r)`` outside literals and comments.

    This keeps one Cypher text valid on both backends.

    Examples
    --------
    >>> rewrite_type("MATCH ()-[r]->() WHERE r.type = 'type(x)' RETURN type(r)")
    "MATCH ()-[r]->() WHERE r.type = 'type(x)' RETURN label(r)"
    """
    tokens = code_tokens(query)
    pieces: list[str] = []
    last = 0
    for i, (kind, text, offset) in enumerate(tokens):
        if kind != "word" or text.lower() != "type":
            continue
        before = tokens[i - 1][1] if i > 0 else ""
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if after == "(" and before not in (".", ":"):
            pieces.append(query[last:offset])
            pieces.append("label")
            last = offset + len(text)
    pieces.append(query[last:])
    return "".join(pieces)
