"""Errors raised by the graph layer.

::

    GraphError
    ├── StoreError
    │   ├── StoreUnavailable     the database cannot be reached or opened
    │   │   └── StoreBusy        another process holds the embedded store (names it)
    │   └── QueryRefused         a query is not read-only, or is invalid
    ├── SchemaViolation          data breaks the schema or the SHACL shapes
    ├── ReportError              a report cannot be rendered
    └── ContagionError
        ├── ContagionInputError  bad CSV or parameters (names file, row, field)
        └── ConvergenceError     an iteration did not converge in ``rounds``
"""

from __future__ import annotations

__all__ = [
    "ContagionError",
    "ContagionInputError",
    "ConvergenceError",
    "GraphError",
    "QueryRefused",
    "ReportError",
    "SchemaViolation",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "UsageError",
]


class GraphError(Exception):
    """Root of every error raised by ``graph``."""


class UsageError(GraphError, ValueError):
    """A value given by the user that a command cannot use (an option, a setting).

    It is a ``ValueError`` too, so Python callers that caught ``ValueError`` still do.
    """


class StoreError(GraphError):
    """A store operation failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached, opened or authenticated against."""


class StoreBusy(StoreUnavailable):
    """Another process holds the embedded store; the message names it (pid and command).

    ``holders`` lists them (``graph.store._lock.Holder``: ``pid``, ``mode``, ``command``,
    ``since``); it is empty when the holder left no note.
    """

    def __init__(self, message: str, holders: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.holders = holders


class QueryRefused(StoreError):
    """A query was refused (writes without ``write=True``) or rejected by the database."""


class SchemaViolation(GraphError):
    """Data does not conform to the schema or the SHACL shapes."""


class ReportError(GraphError):
    """A report could not be produced."""


class ContagionError(GraphError):
    """A contagion model failed."""


class ContagionInputError(ContagionError):
    """Contagion input is invalid; the message names the file, row and field or the id."""


class ConvergenceError(ContagionError):
    """An iterative model did not converge."""

    def __init__(self, message: str, rounds: int) -> None:
        super().__init__(message)
        self.rounds = rounds
