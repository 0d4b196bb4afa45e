"""The allowed head and tail kinds of each relation type, generated from the ontology.

``ontologies/relation_schema.json`` is the table the extractor enforces at run time. It
is derived from the ``rdfs:domain`` and ``rdfs:range`` of the relation properties of
``ontologies/fallout.ttl`` (classes expanded through ``rdfs:subClassOf`` and
``owl:unionOf``) and regenerated with ``python -m extract._schema``; a test checks that
the two agree.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from extract._data import ontology_path
from extract.errors import PipelineConfigError

__all__ = [
    "SCHEMA_FILE",
    "RelationSchema",
    "channels_from_ontology",
    "load_relation_channels",
    "load_relation_schema",
    "schema_from_ontology",
]

SCHEMA_FILE = "relation_schema.json"
"""The name of the generated table in ``ontologies/``."""

RelationSchema = dict[str, tuple[frozenset[str], frozenset[str]]]
"""Relation type -> (allowed head kinds, allowed tail kinds)."""


@lru_cache(maxsize=4)
def load_relation_schema(path: str | None = None) -> RelationSchema:
    """Read the generated head/tail table (``{"TYPE": {"head": [...], "tail": [...]}}``).

    Raises
    ------
    PipelineConfigError
        If the file is missing or malformed.
    """
    p = Path(path) if path else ontology_path(SCHEMA_FILE)
    try:
        raw: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        return {
            rtype: (frozenset(spec["head"]), frozenset(spec["tail"]))
            for rtype, spec in raw["relations"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PipelineConfigError(f"{p}: cannot read the relation schema ({err})") from err


@lru_cache(maxsize=4)
def load_relation_channels(path: str | None = None) -> dict[str, str]:
    """Read the relation type -> contagion channel table (``channels`` of the schema file).

    Raises
    ------
    PipelineConfigError
        If the file is missing or malformed.
    """
    p = Path(path) if path else ontology_path(SCHEMA_FILE)
    try:
        raw: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in raw["channels"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PipelineConfigError(f"{p}: cannot read the relation channels ({err})") from err


def channels_from_ontology(ttl: str | Path | None = None) -> dict[str, str]:
    """Return the contagion channel of each relation type (``fallout:contagionChannel``)."""
    from rdflib import RDF, SKOS, Graph, Namespace
    from rdflib.namespace import OWL

    g = Graph()
    g.parse(str(ttl or ontology_path("fallout.ttl")), format="turtle")
    fallout = Namespace("https://w3id.org/fallout/ontology#")
    out: dict[str, str] = {}
    for prop in g.subjects(RDF.type, OWL.ObjectProperty):
        notation, channel = g.value(prop, SKOS.notation), g.value(prop, fallout.contagionChannel)
        if notation is not None and channel is not None:
            out[str(notation)] = str(channel)
    return dict(sorted(out.items()))


def schema_from_ontology(ttl: str | Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Derive the head/tail kinds of every relation type from the ontology's domain and range.

    A kind is a class with a ``skos:notation``; a domain or range class allows every
    kind below it (``rdfs:subClassOf``, and the members of an ``owl:unionOf`` that the
    class is equivalent to).
    """
    from rdflib import OWL, RDF, RDFS, SKOS, Graph
    from rdflib.collection import Collection
    from rdflib.term import Node

    g = Graph()
    g.parse(str(ttl or ontology_path("fallout.ttl")), format="turtle")

    def members(cls: Node) -> set[Node]:
        out = {cls}
        for eq in g.objects(cls, OWL.equivalentClass):
            for union in g.objects(eq, OWL.unionOf):
                for part in Collection(g, union):
                    out |= members(part)
        for sub in g.subjects(RDFS.subClassOf, cls):
            out |= members(sub)
        return out

    def kinds(cls: Node) -> list[str]:
        return sorted(str(n) for c in members(cls) for n in g.objects(c, SKOS.notation))

    table: dict[str, dict[str, list[str]]] = {}
    for prop in g.subjects(RDF.type, OWL.ObjectProperty):
        notation = g.value(prop, SKOS.notation)
        domain, rng = g.value(prop, RDFS.domain), g.value(prop, RDFS.range)
        if notation is None or domain is None or rng is None:
            continue
        table[str(notation)] = {"head": kinds(domain), "tail": kinds(rng)}
    return dict(sorted(table.items()))


def _write(path: Path) -> None:
    doc = {
        "_comment": (
            "Generated from the rdfs:domain/rdfs:range and fallout:contagionChannel of "
            "ontologies/fallout.ttl by "
            "`python -m extract._schema`; do not edit by hand."
        ),
        "relations": schema_from_ontology(),
        "channels": channels_from_ontology(),
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    _write(ontology_path(SCHEMA_FILE))
