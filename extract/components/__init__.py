"""spaCy components of the fallout pipeline; importing this package registers the factories."""

from __future__ import annotations

from extract import resolve
from extract.components import attributes, gazetteer, relations, rules, scorer
from extract.components.extensions import register_extensions

__all__ = [
    "attributes",
    "gazetteer",
    "register_extensions",
    "relations",
    "resolve",
    "rules",
    "scorer",
]

register_extensions()
