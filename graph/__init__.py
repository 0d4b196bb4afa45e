"""The knowledge graph: stores (embedded LadybugDB, Neo4j), loading, RDF, contagion, reports.

Importing this package is cheap: databases, spaCy and Streamlit load on first use.
"""

from __future__ import annotations

from graph.errors import (
    ContagionError,
    ContagionInputError,
    ConvergenceError,
    GraphError,
    QueryRefused,
    ReportError,
    SchemaViolation,
    StoreBusy,
    StoreError,
    StoreUnavailable,
)

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
]
