"""Result column names as the query wrote them, the way Neo4j names its columns.

LadybugDB names an unaliased column after its own rewriting of the expression:
``RETURN type(r)`` (run as ``label(r)``) comes back as
``LABEL(r._ID,[,,LENT_TO,...])`` and ``count(n)`` as ``COUNT(n._ID)``. Neo4j names it
with the text of the expression as written. :func:`written_columns` gives LadybugDB's
results Neo4j's names, so one query has the same columns on both stores.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.store._guard import code_tokens

__all__ = ["written_columns"]

_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")
_ENDS = frozenset({"ORDER", "SKIP", "LIMIT", "UNION", "OFFSET"})


def _return_items(query: str) -> list[tuple[str, bool]] | None:
    """Return each item of the first top-level ``RETURN``: (text as written, has alias).

    ``None`` when there is no such clause, or it returns ``*``.
    """
    tokens = code_tokens(query, "ladybug")
    depth = 0
    start = None
    for i, (kind, text, _offset) in enumerate(tokens):
        if text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth -= 1
        elif depth == 0 and kind == "word" and text.upper() == "RETURN":
            start = i + 1
            break
    if start is None:
        return None
    if start < len(tokens) and tokens[start][1].upper() == "DISTINCT":
        start += 1
    items: list[tuple[str, bool]] = []
    first: int | None = None
    last: int | None = None
    alias = False
    depth = 0

    def close() -> None:
        if first is not None and last is not None:
            items.append((query[tokens[first][2] : tokens[last][2] + len(tokens[last][1])], alias))

    for i in range(start, len(tokens)):
        kind, text, _offset = tokens[i]
        if depth == 0 and (text == ";" or (kind == "word" and text.upper() in _ENDS)):
            break
        if depth == 0 and text == ",":
            close()
            first, last, alias = None, None, False
            continue
        if text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth -= 1
        if depth == 0 and kind == "word" and text.upper() == "AS":
            alias = True
        if first is None:
            first = i
        last = i
    close()
    if not items or any(text == "*" for text, _ in items):
        return None
    return items


def written_columns(query: str, columns: Sequence[str]) -> tuple[str, ...]:
    """Rename the unaliased columns of ``query``'s result to their text as written.

    ``columns`` are the names the database gave, in order. They are kept whenever the
    ``RETURN`` items cannot be matched one to one (``RETURN *``, a count that differs,
    names that would repeat).

    Examples
    --------
    >>> written_columns("MATCH ()-[r]->() RETURN type(r), count(*) AS n ORDER BY n",
    ...                 ["LABEL(r._ID,[,,LENT_TO])", "n"])
    ('type(r)', 'n')
    >>> written_columns("MATCH (n) RETURN DISTINCT n.name, count(n)", ["n.name", "COUNT(n._ID)"])
    ('n.name', 'count(n)')
    >>> written_columns("MATCH (n) RETURN *", ["n"])
    ('n',)
    """
    names = tuple(columns)
    items = _return_items(query)
    if items is None or len(items) != len(names):
        return names
    renamed = tuple(
        name if aliased else written for (written, aliased), name in zip(items, names, strict=True)
    )
    return renamed if len(set(renamed)) == len(renamed) else names
