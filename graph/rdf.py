"""The graph as RDF: the ``FALLOUT`` namespace, export and import, SHACL validation.

Each entity becomes a resource typed with its kind (``fallout:Exchange`` ...). Each stated
relation becomes a ``fallout:Statement`` (``rdf:subject``, ``rdf:predicate``, ``rdf:object``)
carrying its confidence, evidence, amounts and document (``prov:wasDerivedFrom``), and,
unless the text denies it, a direct edge ``head fallout:lentTo tail`` for easy querying.
The ontology is ``ontologies/fallout.ttl``; the shapes are ``ontologies/shapes.ttl``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote

from rdflib import RDF, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.namespace import DCTERMS, PROV, XSD, DefinedNamespace, Namespace

from extract.model import EntityType, RelationType
from graph.errors import SchemaViolation, UsageError
from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DATA",
    "EXPORT_FORMATS",
    "FALLOUT",
    "KIND_CLASSES",
    "RDF_SUFFIXES",
    "RELATION_PROPERTIES",
    "ExportFormat",
    "dump_to_facts",
    "export",
    "from_rdf",
    "load_ontology",
    "load_shapes",
    "read_rdf",
    "serialize",
    "to_graphml",
    "to_jsonld",
    "to_networkx",
    "to_rdf",
    "to_turtle",
    "validate",
    "write_csv",
]


class FALLOUT(DefinedNamespace):
    """The fallout ontology (``ontologies/fallout.ttl``); unknown terms raise."""

    _fail = True
    _NS = Namespace("https://w3id.org/fallout/ontology#")

    # Upper classes
    Entity: URIRef  # anything the graph names
    Agent: URIRef  # an organisation or a person
    Organisation: URIRef  # subclass of org:Organization
    Asset: URIRef  # something held and priced
    Holdable: URIRef  # an asset or a stake in an organisation
    Exposable: URIRef  # an agent or an asset
    Document: URIRef  # an article or transcript
    Statement: URIRef  # one relation as stated by one sentence of one document

    # Entity kinds
    Exchange: URIRef
    Lender: URIRef
    TradingFirm: URIRef
    InvestmentFirm: URIRef
    Bank: URIRef
    Company: URIRef
    MediaOutlet: URIRef
    Regulator: URIRef
    Protocol: URIRef
    Person: URIRef
    Token: URIRef
    Stablecoin: URIRef
    Place: URIRef

    # Relation properties
    lentTo: URIRef
    pledgedCollateral: URIRef
    issued: URIRef
    holds: URIRef
    depositedWith: URIRef
    acquired: URIRef
    owns: URIRef
    affiliatedWith: URIRef
    investedIn: URIRef
    leads: URIRef
    worksFor: URIRef
    liquidated: URIRef
    exposedTo: URIRef

    # Annotation properties
    contagionChannel: URIRef  # the contagion channel a relation type feeds

    # Datatype properties
    entityId: URIRef
    name: URIRef
    alias: URIRef
    equity: URIRef
    totalAssets: URIRef
    deposits: URIRef
    attributeSource: URIRef
    statementId: URIRef
    confidence: URIRef
    evidenceText: URIRef
    evidenceStart: URIRef
    evidenceEnd: URIRef
    amount: URIRef
    currency: URIRef
    asset: URIRef
    quantity: URIRef
    date: URIRef
    status: URIRef
    pledgedTo: URIRef
    negated: URIRef
    hedged: URIRef
    speaker: URIRef
    documentId: URIRef
    ingestedAt: URIRef


DATA = "https://w3id.org/fallout/id/"
"""Base IRI of exported resources: ``entity/<id>``, ``statement/<id>``, ``document/<id>``."""

KIND_CLASSES: Mapping[str, URIRef] = {kind.value: FALLOUT[kind.value] for kind in EntityType}
"""Entity type -> its class in the ontology."""


def _camel(name: str) -> str:
    first, *rest = name.lower().split("_")
    return first + "".join(part.title() for part in rest)


RELATION_PROPERTIES: Mapping[str, URIRef] = {
    relation.value: FALLOUT[_camel(relation.value)] for relation in RelationType
}
"""Relation type -> its object property in the ontology (``LENT_TO`` -> ``fallout:lentTo``)."""

_KIND_OF: dict[Any, str] = {iri: kind for kind, iri in KIND_CLASSES.items()}
_RELATION_OF: dict[Any, str] = {iri: name for name, iri in RELATION_PROPERTIES.items()}

ExportFormat = Literal["turtle", "jsonld", "graphml", "csv"]
EXPORT_FORMATS: tuple[str, ...] = ("turtle", "jsonld", "graphml", "csv")

_PREFIXES = {
    "fallout": str(FALLOUT._NS),
    "entity": DATA + "entity/",
    "statement": DATA + "statement/",
    "document": DATA + "document/",
    "rdf": str(RDF),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "xsd": str(XSD),
}

Value = URIRef | str | float | int | bool
Triple = tuple[URIRef, URIRef, Value]


def _iri(kind: str, id: str) -> URIRef:
    return URIRef(f"{DATA}{kind}/{quote(id, safe='-._~:@')}")


def load_ontology() -> Graph:
    """Return the ontology ``ontologies/fallout.ttl`` as an rdflib graph."""
    text = files("ontologies").joinpath("fallout.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


def load_shapes() -> Graph:
    """Return the SHACL shapes ``ontologies/shapes.ttl`` as an rdflib graph."""
    text = files("ontologies").joinpath("shapes.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


def _term(terms: Mapping[str, URIRef], what: str, id: str, kind: str) -> URIRef:
    """Return the ontology term of a kind or relation type; an unknown one names the item."""
    term = terms.get(kind)
    if term is None:
        raise SchemaViolation(
            f"{what} {id!r} has type {kind!r}; expected one of " + ", ".join(terms)
        )
    return term


def _triples(dump: GraphDump) -> Iterator[Triple]:
    """Yield the triples of ``dump``; objects are IRIs or plain Python values."""
    for doc in dump.documents:
        s = _iri("document", doc.id)
        yield s, RDF.type, FALLOUT.Document
        yield s, FALLOUT.documentId, doc.id
        yield s, DCTERMS.title, doc.title
        yield s, DCTERMS.source, doc.source
        if doc.ingested_at:
            yield s, FALLOUT.ingestedAt, doc.ingested_at
    for ent in dump.entities:
        kind = _term(KIND_CLASSES, "entity", ent.id, ent.type)
        s = _iri("entity", ent.id)
        yield s, RDF.type, kind
        yield s, FALLOUT.entityId, ent.id
        yield s, FALLOUT.name, ent.name
        for alias in ent.aliases:
            yield s, FALLOUT.alias, alias
        for prop, value in (
            (FALLOUT.equity, ent.equity),
            (FALLOUT.totalAssets, ent.total_assets),
            (FALLOUT.deposits, ent.deposits),
        ):
            if value is not None:
                yield s, prop, float(value)
        if ent.attr_source is not None:
            yield s, FALLOUT.attributeSource, ent.attr_source
    for rel in dump.relations:
        predicate = _term(RELATION_PROPERTIES, "relation", rel.id, rel.type)
        head, tail = _iri("entity", rel.head), _iri("entity", rel.tail)
        if not rel.negated:
            yield head, predicate, tail
        s = _iri("statement", rel.id)
        yield s, RDF.type, FALLOUT.Statement
        yield s, FALLOUT.statementId, rel.id
        yield s, RDF.subject, head
        yield s, RDF.predicate, predicate
        yield s, RDF.object, tail
        yield s, PROV.wasDerivedFrom, _iri("document", rel.document_id)
        yield s, FALLOUT.confidence, float(rel.confidence)
        if rel.evidence:
            yield s, FALLOUT.evidenceText, rel.evidence
        optional: tuple[tuple[URIRef, Value | None], ...] = (
            (FALLOUT.evidenceStart, rel.start),
            (FALLOUT.evidenceEnd, rel.end),
            (FALLOUT.amount, None if rel.amount is None else float(rel.amount)),
            (FALLOUT.currency, rel.currency),
            (FALLOUT.asset, rel.asset),
            (FALLOUT.quantity, None if rel.quantity is None else float(rel.quantity)),
            (FALLOUT.date, rel.date),
            (FALLOUT.status, rel.status),
            (FALLOUT.pledgedTo, rel.to),
            (FALLOUT.speaker, rel.speaker),
        )
        for p, given in optional:
            if given is not None:
                yield s, p, given
        if rel.negated:
            yield s, FALLOUT.negated, True
        if rel.hedged:
            yield s, FALLOUT.hedged, True


def to_rdf(dump: GraphDump) -> Graph:
    """Return ``dump`` as an rdflib graph that follows the fallout ontology.

    Raises ``SchemaViolation`` naming the id when an entity or relation type is unknown.

    Examples
    --------
    >>> from graph.store.base import EntityRecord, GraphDump
    >>> g = to_rdf(GraphDump(entities=(EntityRecord("ftt", "FTT", "Token"),)))
    >>> len(g), str(g.value(predicate=FALLOUT.entityId, object=RDFLiteral("ftt")))
    (3, 'https://w3id.org/fallout/id/entity/ftt')
    """
    graph = Graph()
    for prefix, ns in _PREFIXES.items():
        graph.bind(prefix, ns)
    graph.addN(
        (s, p, o if isinstance(o, URIRef) else RDFLiteral(o), graph) for s, p, o in _triples(dump)
    )
    return graph


def _text(graph: Graph, s: Any, p: URIRef) -> str | None:
    value = graph.value(s, p)
    return None if value is None else str(value)


def _number(graph: Graph, s: Any, p: URIRef) -> float | None:
    value = graph.value(s, p)
    return None if value is None else float(value.toPython())


def _integer(graph: Graph, s: Any, p: URIRef) -> int | None:
    value = graph.value(s, p)
    return None if value is None else int(value.toPython())


def _flag(graph: Graph, s: Any, p: URIRef) -> bool:
    value = graph.value(s, p)
    return bool(value is not None and value.toPython() is True)


def from_rdf(graph: Graph) -> GraphDump:
    """Read a graph written by ``to_rdf`` back into a ``GraphDump``.

    Entities, relations and documents come back sorted by id, and aliases sorted, since
    RDF keeps no order. Raises ``SchemaViolation`` when an entity has no known kind or a
    statement no known relation property.
    """
    documents = []
    doc_ids: dict[Any, str] = {}
    for s, id_ in graph.subject_objects(FALLOUT.documentId):
        doc_ids[s] = str(id_)
        documents.append(
            DocumentRecord(
                id=str(id_),
                title=_text(graph, s, DCTERMS.title) or "",
                source=_text(graph, s, DCTERMS.source) or "",
                ingested_at=_text(graph, s, FALLOUT.ingestedAt) or "",
            )
        )
    entities = []
    entity_ids: dict[Any, str] = {}
    for s, id_ in graph.subject_objects(FALLOUT.entityId):
        kinds = [_KIND_OF[t] for t in graph.objects(s, RDF.type) if t in _KIND_OF]
        if len(kinds) != 1:
            raise SchemaViolation(f"entity {str(id_)!r} has {len(kinds)} kinds; expected one")
        entity_ids[s] = str(id_)
        entities.append(
            EntityRecord(
                id=str(id_),
                name=_text(graph, s, FALLOUT.name) or "",
                type=kinds[0],
                aliases=tuple(sorted(str(a) for a in graph.objects(s, FALLOUT.alias))),
                equity=_number(graph, s, FALLOUT.equity),
                total_assets=_number(graph, s, FALLOUT.totalAssets),
                deposits=_number(graph, s, FALLOUT.deposits),
                attr_source=_text(graph, s, FALLOUT.attributeSource),
            )
        )

    def ref(table: dict[Any, str], node: Any, kind: str) -> str:
        if node in table:
            return table[node]
        return unquote(str(node).removeprefix(f"{DATA}{kind}/"))

    relations = []
    for s in graph.subjects(RDF.type, FALLOUT.Statement):
        rel_id = _text(graph, s, FALLOUT.statementId) or ref(entity_ids, s, "statement")
        predicate = graph.value(s, RDF.predicate)
        if predicate not in _RELATION_OF:
            raise SchemaViolation(
                f"statement {rel_id!r} has predicate {predicate}; not a relation property"
            )
        relations.append(
            RelationRecord(
                id=rel_id,
                head=ref(entity_ids, graph.value(s, RDF.subject), "entity"),
                type=_RELATION_OF[predicate],
                tail=ref(entity_ids, graph.value(s, RDF.object), "entity"),
                document_id=ref(doc_ids, graph.value(s, PROV.wasDerivedFrom), "document"),
                confidence=_number(graph, s, FALLOUT.confidence) or 0.0,
                evidence=_text(graph, s, FALLOUT.evidenceText) or "",
                start=_integer(graph, s, FALLOUT.evidenceStart),
                end=_integer(graph, s, FALLOUT.evidenceEnd),
                amount=_number(graph, s, FALLOUT.amount),
                currency=_text(graph, s, FALLOUT.currency),
                asset=_text(graph, s, FALLOUT.asset),
                quantity=_number(graph, s, FALLOUT.quantity),
                date=_text(graph, s, FALLOUT.date),
                status=_text(graph, s, FALLOUT.status),
                to=_text(graph, s, FALLOUT.pledgedTo),
                negated=_flag(graph, s, FALLOUT.negated),
                hedged=_flag(graph, s, FALLOUT.hedged),
                speaker=_text(graph, s, FALLOUT.speaker),
            )
        )
    return GraphDump(
        entities=tuple(sorted(entities, key=lambda e: e.id)),
        relations=tuple(sorted(relations, key=lambda r: r.id)),
        documents=tuple(sorted(documents, key=lambda d: d.id)),
    )


def validate(graph: Graph) -> tuple[bool, str]:
    """Check ``graph`` against ``ontologies/shapes.ttl``; return (conforms, report text)."""
    import pyshacl

    conforms, _, text = pyshacl.validate(
        graph, shacl_graph=load_shapes(), inference="none", abort_on_first=False
    )
    return bool(conforms), str(text)


def to_turtle(dump: GraphDump) -> bytes:
    """Serialise ``dump`` as Turtle (pyoxigraph: about ten times faster than rdflib)."""
    return _oxigraph_serialize(dump, "turtle")


def to_jsonld(dump: GraphDump) -> bytes:
    """Serialise ``dump`` as JSON-LD (expanded form, one object per resource)."""
    return _oxigraph_serialize(dump, "jsonld")


def _oxigraph_serialize(dump: GraphDump, fmt: Literal["turtle", "jsonld"]) -> bytes:
    import pyoxigraph as ox

    xsd_double = ox.NamedNode(str(XSD.double))
    xsd_integer = ox.NamedNode(str(XSD.integer))
    xsd_boolean = ox.NamedNode(str(XSD.boolean))
    nodes: dict[str, ox.NamedNode] = {}

    def node(iri: str) -> ox.NamedNode:
        found = nodes.get(iri)
        if found is None:
            found = nodes[iri] = ox.NamedNode(iri)
        return found

    def term(value: Value) -> ox.NamedNode | ox.Literal:
        if isinstance(value, URIRef):
            return node(value)
        if isinstance(value, bool):
            return ox.Literal("true" if value else "false", datatype=xsd_boolean)
        if isinstance(value, int):
            return ox.Literal(str(value), datatype=xsd_integer)
        if isinstance(value, float):
            return ox.Literal(repr(value), datatype=xsd_double)
        return ox.Literal(value)

    triples = (ox.Triple(node(s), node(p), term(o)) for s, p, o in _triples(dump))
    if fmt == "turtle":
        out = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_PREFIXES)
    else:
        out = ox.serialize(triples, format=ox.RdfFormat.JSON_LD)
    assert out is not None
    return out


def to_networkx(dump: GraphDump) -> nx.MultiDiGraph[str]:
    """Return ``dump`` as a networkx multigraph keyed by entity and relation ids."""
    import networkx as nx

    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for ent in dump.entities:
        attrs = {"name": ent.name, "type": ent.type, "aliases": "|".join(ent.aliases)}
        for key in ("equity", "total_assets", "deposits", "attr_source"):
            value = getattr(ent, key)
            if value is not None:
                attrs[key] = value
        graph.add_node(ent.id, **attrs)
    for rel in dump.relations:
        attrs = {
            key: value
            for key, value in rel.__dict__.items()
            if key not in ("id", "head", "tail") and value is not None
        }
        graph.add_edge(rel.head, rel.tail, key=rel.id, **attrs)
    return graph


def to_graphml(dump: GraphDump) -> bytes:
    """Serialise ``dump`` as GraphML (nodes are entities, edges stated relations)."""
    import networkx as nx

    return "\n".join(nx.generate_graphml(to_networkx(dump))).encode()


_ENTITY_COLUMNS = ("id", "name", "type", "aliases", "equity", "total_assets", "deposits",
                   "attr_source")
_RELATION_COLUMNS = tuple(RelationRecord.__dataclass_fields__)
_DOCUMENT_COLUMNS = tuple(DocumentRecord.__dataclass_fields__)


def _csv_tables(dump: GraphDump) -> dict[str, str]:
    def table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
             for k, v in row.items()}
            for row in rows
        )
        return buffer.getvalue()

    entity_rows = [
        {**{c: getattr(e, c) for c in _ENTITY_COLUMNS}, "aliases": "|".join(e.aliases)}
        for e in dump.entities
    ]
    return {
        "entities.csv": table(_ENTITY_COLUMNS, entity_rows),
        "relations.csv": table(_RELATION_COLUMNS, [r.__dict__ for r in dump.relations]),
        "documents.csv": table(_DOCUMENT_COLUMNS, [d.__dict__ for d in dump.documents]),
    }


def write_csv(dump: GraphDump, out: Path) -> list[Path]:
    """Write ``entities.csv``, ``relations.csv`` and ``documents.csv`` into ``out``.

    ``out`` is a directory (created if needed), or a ``.zip`` file holding the three
    tables. Returns the paths written.
    """
    tables = _csv_tables(dump)
    if out.suffix.lower() == ".zip":
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in tables.items():
                archive.writestr(name, text)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in tables.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def serialize(dump: GraphDump, fmt: str) -> bytes:
    """Return ``dump`` as ``turtle``, ``jsonld`` or ``graphml`` bytes."""
    if fmt == "turtle":
        return to_turtle(dump)
    if fmt == "jsonld":
        return to_jsonld(dump)
    if fmt == "graphml":
        return to_graphml(dump)
    raise UsageError(
        f"unknown export format {fmt!r} for a single stream; available: turtle, jsonld, graphml"
    )


def export(dump: GraphDump, fmt: str, out: Path | None) -> list[Path]:
    """Write ``dump`` in ``fmt`` to ``out`` (a file, or for csv a directory or .zip).

    With ``out=None`` nothing is written and an empty list comes back; callers print
    ``serialize(dump, fmt)`` themselves. Returns the paths written.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(
            f"unknown export format {fmt!r}; available: {', '.join(EXPORT_FORMATS)}"
        )
    if fmt == "csv":
        if out is None:
            raise UsageError("csv export needs --out: a directory or a .zip file")
        return write_csv(dump, out)
    if out is None:
        return []
    out.write_bytes(serialize(dump, fmt))
    return [out]


RDF_SUFFIXES = {".ttl": "turtle", ".turtle": "turtle", ".jsonld": "json-ld", ".json-ld": "json-ld"}
"""The suffixes ``fallout load`` reads as RDF in the project's ontology, and their format."""


def read_rdf(path: Path) -> GraphDump:
    """Read a Turtle or JSON-LD file written by ``fallout export`` into a ``GraphDump``.

    Raises
    ------
    SchemaViolation
        If the file is not valid RDF of its format, or states an entity or a relation
        outside the ontology; the message names the file.
    """
    import warnings

    fmt = RDF_SUFFIXES.get(path.suffix.lower(), "turtle")
    graph = Graph()
    try:
        with warnings.catch_warnings():
            # rdflib's JSON-LD parser builds a ConjunctiveGraph, which rdflib deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            graph.parse(path, format=fmt)
    except OSError:
        raise
    except Exception as err:  # rdflib raises many parser types
        detail = " ".join(str(err).split())[:300] or type(err).__name__
        raise SchemaViolation(f"{path}: not readable as {fmt} ({detail})") from None
    try:
        return from_rdf(graph)
    except SchemaViolation as err:
        raise SchemaViolation(f"{path}: {err}") from None


def dump_to_facts(dump: GraphDump) -> list[tuple[str, list[Any]]]:
    """Turn a graph back into facts, one ``Facts`` per document, grouped by ingest time.

    Each statement becomes a relation with its one evidence sentence, so loading the
    facts gives the same statement ids. A document lists the entities its statements
    name; an entity no statement names joins the document its attributes came from,
    else the first document. Returns ``[(ingested_at, facts), ...]``.
    """
    from extract.model import Document, Entity, Evidence, Facts, Relation

    by_doc: dict[str, list[RelationRecord]] = {d.id: [] for d in dump.documents}
    for rel in dump.relations:
        by_doc.setdefault(rel.document_id, []).append(rel)
    used: dict[str, set[str]] = {doc: set() for doc in by_doc}
    for doc, rels in by_doc.items():
        for rel in rels:
            used[doc].update((rel.head, rel.tail))
    named = set().union(*used.values()) if used else set()
    first = next(iter(by_doc), None)
    for entity in dump.entities:
        if entity.id not in named and first is not None:
            home = entity.attr_source if entity.attr_source in used else first
            used[home].add(entity.id)
    entities = {e.id: e for e in dump.entities}
    docs = {d.id: d for d in dump.documents}
    groups: dict[str, list[Any]] = {}
    for doc_id, rels in by_doc.items():
        record = docs.get(doc_id, DocumentRecord(id=doc_id, title="", source=""))
        facts = Facts(
            document=Document(id=doc_id, source=record.source, title=record.title),
            entities=tuple(
                Entity(
                    id=e.id,
                    name=e.name,
                    type=EntityType(e.type),
                    aliases=e.aliases,
                    equity=e.equity if e.attr_source in (None, doc_id) else None,
                    total_assets=e.total_assets if e.attr_source in (None, doc_id) else None,
                    deposits=e.deposits if e.attr_source in (None, doc_id) else None,
                )
                for e in (entities[i] for i in sorted(used[doc_id]) if i in entities)
            ),
            relations=tuple(
                Relation(
                    head=r.head,
                    type=RelationType(r.type),
                    tail=r.tail,
                    confidence=r.confidence,
                    evidence=(Evidence(text=r.evidence, start=r.start or 0, end=r.end or 0),),
                    amount=r.amount,
                    currency=r.currency,
                    asset=r.asset,
                    quantity=r.quantity,
                    date=r.date,
                    status=r.status,
                    to=r.to,
                    negated=r.negated,
                    hedged=r.hedged,
                    speaker=r.speaker,
                )
                for r in rels
            ),
        )
        groups.setdefault(record.ingested_at, []).append(facts)
    return sorted(groups.items())
