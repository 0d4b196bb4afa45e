r"""The read-only gate for user Cypher: the statement's text first, then the database's plan.

A query without ``write`` passes three checks, in this order:

1. :func:`check_read_only`, on the text. A lexer that follows the databases' own finds
   the code outside comments, string literals and quoted names, and refuses clause
   keywords that write or reach outside the graph, ``CALL`` of anything outside a small
   allow-list, and more than one statement. Where the two databases' lexers disagree,
   or a construct is one they reject, it refuses rather than guess: a ``//`` comment
   ended by a lone ``\r`` (Neo4j ends it there, LadybugDB rejects it) or holding
   another line separator (U+2028, U+2029, U+0085, VT, FF), a ``/*`` comment that
   the two would close at different places, any backslash outside a string literal
   (Neo4j decodes ``\uXXXX`` everywhere in the text, even in comments and names),
   a ``\u`` escape in a string that decodes to a quote, backslash, ``/``, ``*``,
   line break or other non-printing character, and anything unterminated.
2. The plan. Neo4j plans the query with ``EXPLAIN`` in a read transaction and
   :func:`check_neo4j_plan` refuses ``LoadCSV``, procedures outside
   :data:`NEO4J_READ_PROCEDURES`, ``SHOW``/``TERMINATE`` commands and any
   ``query_type`` but ``"r"``; LadybugDB's ``EXPLAIN`` text goes to
   :func:`check_ladybug_plan`. On Neo4j the plan is the authority; the text check
   only saves a round trip. On LadybugDB the text check must come first: binding a
   statement already acts (``EXPLAIN EXPORT DATABASE`` creates the directory,
   ``EXPLAIN LOAD FROM`` reads the file's header).
3. The transaction: Neo4j runs the query in a ``READ`` access-mode session and
   transaction, LadybugDB in ``BEGIN TRANSACTION READ ONLY``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from graph.errors import QueryRefused

__all__ = [
    "LADYBUG_READ_FUNCTIONS",
    "NEO4J_READ_PROCEDURES",
    "WRITE_KEYWORDS",
    "Dialect",
    "check_ladybug_plan",
    "check_neo4j_plan",
    "check_read_only",
    "code_tokens",
    "rewrite_type",
]

Dialect = Literal["neo4j", "ladybug"]
"""Whose string escapes and procedures apply: Neo4j's or LadybugDB's."""

WRITE_KEYWORDS = frozenset(
    {
        # clauses that write (Neo4j's GQL spelling INSERT included)
        "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "ALTER", "INSERT",
        "FOREACH", "RENAME",
        # reaching outside the database: files, URLs, other databases, extensions
        "LOAD", "COPY", "IMPORT", "EXPORT", "ATTACH", "USE", "INSTALL", "UNINSTALL",
        "UPDATE", "FORCE",
        # transactions and administration
        "BEGIN", "COMMIT", "ROLLBACK", "CHECKPOINT", "TRANSACTIONS", "ANALYZE", "COMMENT",
        "SHOW", "TERMINATE", "GRANT", "DENY", "REVOKE", "START", "STOP", "ENABLE",
        "DEALLOCATE", "REALLOCATE",
    }
)  # fmt: skip
"""Keywords that write, reach outside the database, or manage it (upper case)."""

NEO4J_READ_PROCEDURES = frozenset(
    {
        "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
        "db.schema.nodetypeproperties", "db.schema.reltypeproperties",
    }
)  # fmt: skip
"""Neo4j procedures a read-only query may ``CALL`` (lower case)."""

LADYBUG_READ_FUNCTIONS = frozenset(
    {"show_tables", "table_info", "show_connection", "db_version", "show_functions", "show_indexes"}
)
"""LadybugDB table functions a read-only query may ``CALL`` (lower case)."""

_LADYBUG_INTERNAL_FUNCTIONS = frozenset({"read_ftable"})
"""Table functions LadybugDB's planner adds to plain reads (``UNWIND``, ``RETURN 1``)."""

_REFUSED_ESCAPES = frozenset("'\"`\\/*")
_LINE_SEPARATORS = {
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x85": "U+0085",
    "\u2028": "U+2028",
    "\u2029": "U+2029",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX = re.compile(r"[0-9A-Fa-f]+")

Token = tuple[str, str, int]
"""``(kind, text, offset)``; kind is ``word``, ``quoted``, ``string`` or ``other``."""


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and _HEX.fullmatch(text) is not None


def _plain(char: str) -> bool:
    """Whether a character decoded from an escape cannot change how the text is lexed."""
    return char.isprintable() and char not in _REFUSED_ESCAPES


def _block_comment_end(query: str, start: int) -> tuple[int, str | None]:
    r"""Return where the ``/*`` comment at ``start`` ends, and a doubt if any.

    Neo4j ends it at the first ``*/``. LadybugDB's grammar reads the body as
    ``( ~'*' | '*' ~'/' )*``: a ``*`` swallows the character after it, so ``**/``
    does not close the comment there (``/* a **/ b */`` is one comment). A comment the
    two close at different places, or that never closes, or that holds a backslash
    (Neo4j decodes ``\u002a/`` into a closing ``*/``), is a doubt.
    """
    first = query.find("*/", start + 2)
    i, n = start + 2, len(query)
    ladybug = -1
    while i < n:
        if query[i] == "*":
            if i + 1 < n and query[i + 1] == "/":
                ladybug = i
                break
            i += 2
        else:
            i += 1
    if first < 0 or ladybug < 0:
        return len(query), "an unterminated /* comment"
    if first != ladybug:
        return first + 2, "a /* comment that Cypher lexers close at different places"
    if "\\" in query[start:first]:
        return first + 2, "a backslash in a comment (Neo4j decodes \\u escapes even there)"
    return first + 2, None


def _line_comment_end(query: str, start: int) -> tuple[int, str | None]:
    r"""Return where the ``//`` comment at ``start`` ends, and a doubt if any.

    Both databases end it at ``\n`` or ``\r\n``. At a lone ``\r`` Neo4j ends it
    and LadybugDB rejects the statement; the other line separators end it for
    neither, though other lexers (JavaScript's, Unicode's line breaking) would: doubts.
    """
    end, n = start + 2, len(query)
    while end < n and query[end] not in "\r\n":
        end += 1
    body = query[start + 2 : end]
    doubt = None
    for char, name in _LINE_SEPARATORS.items():
        if char in body:
            doubt = f"a // comment holding {name}, which some Cypher lexers end it at"
    if "\\" in body:
        doubt = "a backslash in a comment (Neo4j decodes \\u escapes even there)"
    if end < n and query[end] == "\r":
        if query.startswith("\r\n", end):
            return end + 2, doubt
        if end + 1 < n:
            doubt = "a // comment ended by a lone carriage return (Neo4j ends it, LadybugDB not)"
        return end + 1, doubt
    return min(end + 1, n), doubt


def _string_end(query: str, start: int, dialect: Dialect) -> tuple[int, str | None]:
    r"""Return where the string literal at ``start`` ends, and a doubt if any.

    Escapes are ``\\ \' \" \b \f \n \r \t``, ``\xHH`` and ``\uXXXX`` (LadybugDB
    also ``\UXXXXXXXX``). LadybugDB rejects any other escape; Neo4j keeps it as it
    is, so ``'\d+'`` passes on Neo4j only.
    """
    quote = query[start]
    i, n = start + 1, len(query)
    doubt = None
    while i < n:
        char = query[i]
        if char == quote:
            return i + 1, doubt
        if char != "\\":
            i += 1
            continue
        escape = query[i + 1 : i + 2]
        if escape in ("u", "U"):
            if not _is_hex(query[i + 2 : i + 6], 4):
                doubt = "a malformed \\u escape"
                i += 2
                continue
            decoded = [chr(int(query[i + 2 : i + 6], 16))]
            width = 6
            if dialect == "ladybug" and _is_hex(query[i + 6 : i + 10], 4):
                # LadybugDB reads eight digits when there are eight
                point = int(query[i + 2 : i + 10], 16)
                decoded.append(chr(point) if point <= 0x10FFFF else "\0")
                width = 10
            if not all(_plain(c) for c in decoded):
                doubt = "a \\u escape of a quote, backslash, comment or control character"
            i += width
        elif escape in ("x", "X") and dialect == "ladybug":
            if not _is_hex(query[i + 2 : i + 4], 2):
                doubt = "a malformed \\x escape"
            i += 4
        elif escape and escape in "\\'\"bBfFnNrRtT":
            i += 2
        elif escape and dialect == "neo4j":
            i += 2  # Neo4j keeps an unknown escape as it is
        else:
            doubt = f"an escape LadybugDB does not know (\\{escape})"
            i += 2
    return n, "an unterminated string literal"


def _scan(query: str, dialect: Dialect) -> tuple[list[Token], str | None]:
    """Return the code tokens of ``query`` and the first doubt about them (or ``None``)."""
    tokens: list[Token] = []
    doubt: str | None = None
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        found: str | None = None
        if query.startswith("//", i):
            i, found = _line_comment_end(query, i)
        elif query.startswith("/*", i):
            i, found = _block_comment_end(query, i)
        elif char in "'\"":
            end, found = _string_end(query, i, dialect)
            tokens.append(("string", query[i:end], i))
            i = end
        elif char == "`":
            end = i
            while end < n and query[end] == "`":  # ( '`' ~'`'* '`' )+
                close = query.find("`", end + 1)
                if close < 0:
                    end, found = n, "an unterminated `quoted name`"
                    break
                end = close + 1
            text = query[i:end]
            if "\\" in text:
                found = "a backslash in a `quoted name` (Neo4j decodes \\u escapes there)"
            tokens.append(("quoted", text, i))
            i = end
        elif char.isspace():
            i += 1
        elif (word := _WORD.match(query, i)) is not None:
            tokens.append(("word", word.group(), i))
            i = word.end()
        else:
            if char == "\\":
                found = "a backslash outside a string literal (Neo4j decodes \\u escapes)"
            text = ".." if query.startswith("..", i) else char
            tokens.append(("other", text, i))
            i += len(text)
        if found is not None and doubt is None:
            doubt = found
    return tokens, doubt


def code_tokens(query: str, dialect: Dialect = "ladybug") -> list[Token]:
    r"""Split ``query`` into ``(kind, text, offset)`` tokens, dropping spaces and comments.

    Examples
    --------
    >>> [t[1] for t in code_tokens("MATCH (n) // CREATE\nRETURN 'SET'")]
    ['MATCH', '(', 'n', ')', 'RETURN', "'SET'"]
    """
    return _scan(query, dialect)[0]


def _procedure_name(tokens: list[Token], start: int) -> str:
    parts: list[str] = []
    i = start
    while i < len(tokens) and tokens[i][0] in ("word", "quoted"):
        parts.append(tokens[i][1].strip("`"))
        if i + 1 < len(tokens) and tokens[i + 1][1] == ".":
            i += 2
        else:
            break
    return ".".join(parts)


def _scoped_subquery(tokens: list[Token], start: int) -> bool:
    """Whether ``tokens[start:]`` is ``( names ) {``: Neo4j's ``CALL (x, y) { ... }``."""
    i = start + 1
    while i < len(tokens) and (tokens[i][0] == "word" or tokens[i][1] in (",", "*")):
        i += 1
    return i + 1 < len(tokens) and tokens[i][1] == ")" and tokens[i + 1][1] == "{"


def _refuse(reason: str) -> QueryRefused:
    return QueryRefused(
        f"query refused: {reason} in a read-only query (pass write=True, or --write, to run it)"
    )


def check_read_only(query: str, *, dialect: Dialect) -> None:
    r"""Raise ``QueryRefused`` unless the text of ``query`` only reads the graph.

    Property keys (``n.set``), labels (``:Create``), parameters (``$load``) and map keys
    (``{merge: 1}``) are not clauses and pass; ``CALL`` passes for subqueries and the
    procedures of :data:`NEO4J_READ_PROCEDURES` or :data:`LADYBUG_READ_FUNCTIONS`.

    Examples
    --------
    >>> check_read_only("MATCH (n:Entity) WHERE n.name = 'CREATE' RETURN n.set", dialect="neo4j")
    >>> check_read_only("MATCH (n) DETACH DELETE n", dialect="ladybug")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.errors.QueryRefused: query refused: DETACH is not allowed in a read-only query ...
    >>> check_read_only("WITH 1 AS x // c\rLOAD CSV FROM 'file:///etc/passwd' AS l RETURN l",
    ...                 dialect="neo4j")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.errors.QueryRefused: query refused: a // comment ended by a lone carriage return ...
    """
    tokens, doubt = _scan(query, dialect)
    if doubt is not None:
        raise _refuse(f"{doubt} is not allowed")
    if not tokens:
        raise QueryRefused("query refused: the query is empty")
    allowed = NEO4J_READ_PROCEDURES if dialect == "neo4j" else LADYBUG_READ_FUNCTIONS
    for i, (kind, text, _) in enumerate(tokens):
        if text == ";" and i != len(tokens) - 1:
            raise _refuse("more than one statement is not allowed")
        if kind != "word":
            continue
        before = tokens[i - 1][1] if i > 0 else ""
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if before in (".", ":", "$") or after == ":":
            continue
        word = text.upper()
        if word in WRITE_KEYWORDS:
            raise _refuse(f"{word} is not allowed")
        subquery = after == "{" or (after == "(" and _scoped_subquery(tokens, i + 1))
        if word == "CALL" and not subquery:
            name = _procedure_name(tokens, i + 1)
            if not (name.isascii() and name.lower() in allowed):
                raise _refuse(f"CALL {name or after} is not allowed")


def _neo4j_operators(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield plan
    for child in plan.get("children") or ():
        yield from _neo4j_operators(child)


_NEO4J_PROCEDURE = re.compile(r"\s*([A-Za-z0-9_.]+)\s*\(")
_NEO4J_ADMIN = re.compile(r"^(Show|Terminate)|Transaction")


def check_neo4j_plan(query_type: str | None, plan: Mapping[str, Any] | None) -> None:
    """Raise ``QueryRefused`` unless Neo4j's ``EXPLAIN`` describes a plain read.

    ``plan`` is the driver's ``ResultSummary.plan`` (``operatorType``, ``args``,
    ``children``) and ``query_type`` its ``query_type``. Refused: an operator whose
    name holds ``LoadCSV`` (files and URLs, which Neo4j counts as a read); a procedure
    call outside :data:`NEO4J_READ_PROCEDURES`; ``SHOW ...`` and ``TERMINATE ...``
    commands and ``CALL ... IN TRANSACTIONS``; and any query type but ``"r"``.
    """
    if not plan:
        raise _refuse("a query Neo4j gives no plan for is not allowed")
    for operator in _neo4j_operators(plan):
        name = str(operator.get("operatorType", "")).split("@", 1)[0]
        args = operator.get("args") or {}
        if "LoadCSV" in name:
            raise _refuse("LOAD CSV (Neo4j plans LoadCSV: it reads files and URLs) is not allowed")
        if _NEO4J_ADMIN.search(name):
            raise _refuse(f"an administration command (Neo4j plans {name}) is not allowed")
        if "Procedure" in name:
            found = _NEO4J_PROCEDURE.match(str(args.get("Details", "")))
            procedure = found.group(1) if found else "an unnamed procedure"
            if procedure.lower() not in NEO4J_READ_PROCEDURES:
                raise _refuse(f"CALL {procedure} is not allowed")
    if query_type != "r":
        raise _refuse(f"a query Neo4j plans as {query_type!r}, not read-only 'r', is not allowed")


_BOX = "│┌┐└┘─┬┴├┤ \t"
_LADYBUG_OPERATOR = re.compile(r"([A-Z][A-Z0-9_]*)\[\d+\]")
_LADYBUG_FUNCTION = re.compile(r"Function: ([A-Za-z0-9_]+)")
_LADYBUG_REFUSED = re.compile(
    r"^(COPY|EXPORT|IMPORT|ATTACH|DETACH|INSTALL|UNINSTALL|UPDATE|LOAD|STANDALONE|TRANSACTION"
    r"|USE|INSERT|SET|DELETE|MERGE|CREATE|DROP|ALTER|CHECKPOINT|PARTITIONER|BATCH|COMMENT"
    r"|ANALYZE)(_|$)|EXTENSION|DATABASE|COPY|INSERT"
)
"""Operators that write or act outside the graph (``ORDER_BY_MERGE`` is a read)."""


def check_ladybug_plan(plan: str) -> None:
    r"""Raise ``QueryRefused`` unless LadybugDB's ``EXPLAIN`` text describes a plain read.

    Refused: operators that write, copy, export, import, attach, load extensions,
    change settings (``STANDALONE_CALL``) or manage transactions, and a table function
    outside :data:`LADYBUG_READ_FUNCTIONS` (``LOAD FROM`` plans as ``READ_CSV_...``).

    Examples
    --------
    >>> check_ladybug_plan("│ RESULT_COLLECTOR[1] │\n│ TABLE_FUNCTION_CALL[0] │\n"
    ...                    "│ Function: SHOW_TABLES │")
    >>> check_ladybug_plan("│ COPY_TO[2] │")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.errors.QueryRefused: query refused: COPY_TO (LadybugDB's plan) is not allowed ...
    """
    lines = [line.strip(_BOX) for line in plan.splitlines()]
    operators = [m.group(1) for line in lines if (m := _LADYBUG_OPERATOR.fullmatch(line))]
    if not operators:
        raise _refuse("a query LadybugDB gives no plan for is not allowed")
    for operator in operators:
        if _LADYBUG_REFUSED.search(operator):
            raise _refuse(f"{operator} (LadybugDB's plan) is not allowed")
    allowed = LADYBUG_READ_FUNCTIONS | _LADYBUG_INTERNAL_FUNCTIONS
    for line in lines:
        found = _LADYBUG_FUNCTION.match(line)
        if found and found.group(1).lower() not in allowed:
            raise _refuse(f"the function {found.group(1)} (LadybugDB's plan) is not allowed")


def rewrite_type(query: str) -> str:
    """Turn Neo4j's ``type(r)`` into LadybugDB's ``label(r)`` outside literals and comments.

    This keeps one Cypher text valid on both backends.

    Examples
    --------
    >>> rewrite_type("MATCH ()-[r]->() WHERE r.type = 'type(x)' RETURN type(r)")
    "MATCH ()-[r]->() WHERE r.type = 'type(x)' RETURN label(r)"
    """
    tokens = code_tokens(query, "ladybug")
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
