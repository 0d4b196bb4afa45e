"""A small hand-built FTX graph shared by the projection, combined, Monte Carlo and report tests."""

from __future__ import annotations

from graph.store.base import DocumentRecord, EntityRecord, GraphDump, RelationRecord

__all__ = ["ftx_dump"]


def _rel(id_: str, head: str, type_: str, tail: str, **kw: object) -> RelationRecord:
    kw.setdefault("evidence", f"Sentence stating {head} {type_} {tail}.")
    return RelationRecord(id_, head, type_, tail, kw.pop("document_id", "doc1"),  # type: ignore[arg-type]
                          kw.pop("confidence", 0.9), **kw)  # type: ignore[arg-type]


def ftx_dump(*, evidence: str | None = None) -> GraphDump:
    """FTX issues FTT; Alameda holds and pledges FTT to Genesis; BlockFi deposits with FTX."""
    entities = (
        EntityRecord("ftx", "FTX", "Exchange", ("FTX.com",)),
        EntityRecord("alameda", "Alameda Research", "TradingFirm", ("Alameda",),
                     equity=1.0e9),
        EntityRecord("genesis", "Genesis", "Lender", equity=0.5e9),
        EntityRecord("blockfi", "BlockFi", "Lender", equity=0.3e9),
        EntityRecord("ftt", "FTT", "Token"),
        EntityRecord("bahamas", "Bahamas", "Place"),
    )
    relations = (
        _rel("r-issued", "ftx", "ISSUED", "ftt"),
        _rel("r-holds", "alameda", "HOLDS", "ftt", amount=3.0e9),
        _rel("r-lent", "genesis", "LENT_TO", "alameda", amount=1.5e9,
             evidence=evidence or "Genesis had lent Alameda 1.5 billion dollars."),
        _rel("r-pledge", "alameda", "PLEDGED_COLLATERAL", "ftt", amount=2.5e9, to="genesis"),
        _rel("r-dep", "blockfi", "DEPOSITED_WITH", "ftx", amount=0.4e9, date="2022-11-10"),
        _rel("r-dep-old", "blockfi", "DEPOSITED_WITH", "ftx", amount=0.2e9, date="2022-01-01",
             document_id="doc2"),
        _rel("r-neg", "genesis", "LENT_TO", "ftx", negated=True),
        _rel("r-own", "ftx", "OWNS", "alameda", hedged=True),
        _rel("r-place", "ftx", "LENT_TO", "bahamas"),
    )
    documents = (
        DocumentRecord("doc1", "A feature on the collapse", "feature.txt"),
        DocumentRecord("doc2", "An older wire story", "wire.txt"),
    )
    return GraphDump(entities, relations, documents)


def gold_dump(stem_prefix: str = "") -> GraphDump:
    """The corpus's gold annotations as a graph (ids from names, aliases merged)."""
    import json
    import re
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[2] / "ontologies" / "corpus"
    ids: dict[str, str] = {}
    entities: dict[str, EntityRecord] = {}
    relations: list[RelationRecord] = []
    documents: list[DocumentRecord] = []
    for path in sorted(corpus.glob(f"*/{stem_prefix}*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(gold.get("entities"), list):
            continue  # a record of scores beside a corpus, not an annotation
        documents.append(DocumentRecord(path.stem, path.stem, path.name))
        for ent in gold["entities"]:
            labels = [ent["name"], *ent.get("aliases", [])]
            known = next((ids[x.casefold()] for x in labels if x.casefold() in ids), None)
            id_ = known or re.sub(r"[^a-z0-9]+", "-", ent["name"].casefold()).strip("-")
            for x in labels:
                ids.setdefault(x.casefold(), id_)
            entities.setdefault(id_, EntityRecord(id_, ent["name"], ent["type"],
                                                  tuple(ent.get("aliases", []))))
        for k, rel in enumerate(gold["relations"]):
            head, tail = ids.get(rel["head"].casefold()), ids.get(rel["tail"].casefold())
            if head and tail:
                relations.append(RelationRecord(f"{path.stem}#{k}", head, rel["type"], tail,
                                                path.stem, 1.0, evidence=rel["evidence"]))
    return GraphDump(tuple(entities.values()), tuple(relations), tuple(documents))


def ftx_facts(*, evidence: str | None = None) -> list:
    """The hand-built FTX graph as facts (one document), for loading into a real store."""
    from extract.model import Document, Entity, Evidence, Facts, Relation

    dump = ftx_dump(evidence=evidence)
    out = []
    for doc in dump.documents:
        ents = tuple(
            Entity(id=e.id, name=e.name, type=e.type, aliases=e.aliases, equity=e.equity)
            for e in dump.entities
        )
        rels = tuple(
            Relation(head=r.head, type=r.type, tail=r.tail, confidence=r.confidence,
                     evidence=(Evidence(text=r.evidence, start=0, end=len(r.evidence)),),
                     amount=r.amount, date=r.date, to=r.to, negated=r.negated,
                     hedged=r.hedged)
            for r in dump.relations if r.document_id == doc.id
        )
        out.append(Facts(document=Document(id=doc.id, source=doc.source, title=doc.title),
                         entities=ents, relations=rels))
    return out
