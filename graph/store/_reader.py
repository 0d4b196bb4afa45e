"""The read side shared by both stores: records built from the statements of ``cypher``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from extract.model import EntityType, RelationType
from graph.errors import UsageError
from graph.store import cypher
from graph.store.base import (
    DocumentRecord,
    EntityRecord,
    EvidenceRecord,
    GraphDump,
    RelationRecord,
    Subgraph,
)

__all__ = ["CypherReader", "entity_record", "relation_record"]

_REL_TYPES = {t.value for t in RelationType}
_ENTITY_TYPES = {t.value for t in EntityType}


def entity_record(row: Mapping[str, Any]) -> EntityRecord:
    """Build an ``EntityRecord`` from a row of ``cypher.ENTITY_FIELDS``."""
    return EntityRecord(
        id=row["id"],
        name=row["name"] or "",
        type=row["type"] or "",
        aliases=tuple(row["aliases"] or ()),
        equity=row["equity"],
        total_assets=row["total_assets"],
        deposits=row["deposits"],
        attr_source=row["attr_source"],
    )


def relation_record(row: Mapping[str, Any]) -> RelationRecord:
    """Build a ``RelationRecord`` from a row of ``cypher.relation_return``."""
    return RelationRecord(
        id=row["id"],
        head=row["head"],
        type=row["type"],
        tail=row["tail"],
        document_id=row["document_id"] or "",
        confidence=float(row["confidence"] if row["confidence"] is not None else 0.0),
        evidence=row["evidence"] or "",
        start=row["start"],
        end=row["end"],
        amount=row["amount"],
        currency=row["currency"],
        asset=row["asset"],
        quantity=row["quantity"],
        date=row["date"],
        status=row["status"],
        to=row["to"],
        negated=bool(row["negated"]),
        hedged=bool(row["hedged"]),
        speaker=row["speaker"],
    )


def hop_limit(cap: int, found: int, outgoing: bool) -> int:
    """Relations one hop may still follow: half of ``cap`` leaving, the rest entering.

    Examples
    --------
    >>> hop_limit(2000, 0, True), hop_limit(2000, 1000, False), hop_limit(2000, 3, False)
    (1000, 1000, 1997)
    """
    return max(cap // 2, 1) if outgoing else max(cap - found, 1)


def _types(values: Sequence[str] | None, allowed: set[str], what: str) -> tuple[str, ...] | None:
    if not values:
        return None
    for value in values:
        if value not in allowed:
            raise UsageError(f"unknown {what} {value!r}; expected one of {sorted(allowed)}")
    return tuple(values)


class CypherReader:
    """Implements the read methods of ``GraphStore`` over one ``_read`` primitive."""

    type_fn = "type"

    def _read(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _read_many(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Like ``_read``, for a query expected to return many rows (a backend may batch)."""
        return self._read(query, params)

    def counts(self) -> dict[str, int]:
        """Return ``{"entities": n, "relations": n, "documents": n}``."""
        return {
            key: int(self._read(query)[0]["n"]) for key, query in cypher.count_queries().items()
        }

    def entity(self, id: str) -> EntityRecord | None:
        """Return one entity by id, or ``None``."""
        rows = self._read(cypher.entity_query(), {"id": id})
        return entity_record(rows[0]) if rows else None

    def search(
        self, text: str, *, types: Sequence[str] | None = None, limit: int = 20
    ) -> list[EntityRecord]:
        """Find entities whose name or an alias contains ``text`` (case-insensitive)."""
        kinds = _types(types, _ENTITY_TYPES, "entity type")
        q = text.strip().lower()
        params: dict[str, Any] = {"limit": int(limit)}
        if q:
            params["q"] = q
        if kinds:
            params["types"] = list(kinds)
        query = cypher.search_query(kinds, text=bool(q))
        return [entity_record(r) for r in self._read(query, params)]

    def neighbourhood(
        self,
        id: str,
        depth: int = 1,
        *,
        relation_types: Sequence[str] | None = None,
        limit: int = 2000,
    ) -> Subgraph:
        """Entities and relations on walks of at most ``depth`` hops from ``id``.

        Either direction counts as a hop. The walk goes hop by hop (breadth first),
        and each hop follows at most ``limit`` relations not followed before (up to
        half of them leaving, the rest entering), so a hub with tens of thousands of
        relations costs no more than ``limit`` of them.
        Relations are kept nearest first (then by head, type and tail) until
        ``limit`` entities are reached. The walk stops early once it has reached
        ``limit`` entities (a further hop could add none) or a hop was cut at
        ``limit`` relations (the next ring would hang off an arbitrary part of it).
        """
        if depth not in (1, 2, 3):
            raise UsageError(f"depth is {depth}; expected 1, 2 or 3")
        kinds = _types(relation_types, _REL_TYPES, "relation type")
        centre = self.entity(id)
        if centre is None:
            return Subgraph()
        cap = max(int(limit), 1)
        hops: list[list[RelationRecord]] = []
        walked: set[str] = set()
        reached = {id}
        frontier = [id]
        for _ in range(depth):
            if not frontier or len(reached) >= cap:
                break
            step: set[str] = set()
            found = []
            followed = self._hop(frontier, kinds, cap, walked)
            for rel in followed:
                if rel.id not in walked:
                    walked.add(rel.id)
                    found.append(rel)
                step |= {rel.head, rel.tail}
            hops.append(sorted(found, key=lambda r: (r.head, r.type, r.tail, r.id)))
            # a hop cut at ``cap`` relations ends the walk: the next ring would hang
            # off an arbitrary part of this one
            frontier = sorted(step - reached)[:cap] if len(followed) < cap else []
            reached |= step
        seen = {id}
        relations = []
        for rel in (r for hop in hops for r in hop):
            new = {rel.head, rel.tail} - seen
            if len(seen) + len(new) > limit:
                continue
            seen |= new
            relations.append(rel)
        relations.sort(key=lambda r: (r.head, r.type, r.tail, r.id))
        rows = self._read_many(cypher.entities_by_id_query(), {"ids": sorted(seen)})
        entities = sorted((entity_record(r) for r in rows), key=lambda e: e.id)
        return Subgraph(entities=tuple(entities), relations=tuple(relations))

    def _hop(
        self, ids: list[str], kinds: tuple[str, ...] | None, cap: int, walked: set[str]
    ) -> list[RelationRecord]:
        """Relations leaving or entering ``ids``, not yet ``walked``: at most ``cap``.

        Up to half of ``cap`` may leave, the rest enter: a hub's neighbourhood shows
        both its lenders and its borrowers.
        """
        out: list[RelationRecord] = []
        frontier = self._frontier(ids)
        for outgoing in (True, False):
            limit = hop_limit(cap, len(out), outgoing)
            rows = self._hop_rows(frontier, kinds, outgoing, limit, sorted(walked))
            out += [relation_record(r) for r in rows]
        return out

    def _frontier(self, ids: list[str]) -> dict[str, Any]:
        """Return the parameters that name a hop's start entities (both directions)."""
        return {"ids": ids}

    def _hop_rows(
        self,
        frontier: dict[str, Any],
        kinds: tuple[str, ...] | None,
        outgoing: bool,
        limit: int,
        walked: list[str],
    ) -> list[dict[str, Any]]:
        """Rows of at most ``limit`` relations one way from ``frontier``, none ``walked``."""
        query = cypher.hop_query(self.type_fn, kinds, outgoing=outgoing, skip=bool(walked))
        params: dict[str, Any] = {**frontier, "limit": limit}
        if walked:
            params["walked"] = walked
        return self._read_many(query, params)

    def relations(
        self,
        *,
        entity: str | None = None,
        head: str | None = None,
        tail: str | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[RelationRecord]:
        """Stated relations filtered by endpoint (``entity``: either end) and type."""
        kinds = _types(types, _REL_TYPES, "relation type")
        if entity is None:
            combos = [(head, tail)]
        else:
            combos = []
            if head in (None, entity):
                combos.append((entity, tail))
            if tail in (None, entity):
                combos.append((head, entity))
        found: dict[str, RelationRecord] = {}
        for h, t in combos:
            params: dict[str, Any] = {}
            if h is not None:
                params["head"] = h
            if t is not None:
                params["tail"] = t
            if limit is not None:
                params["limit"] = int(limit)
            query = cypher.relations_query(
                self.type_fn,
                head=h is not None,
                tail=t is not None,
                types=kinds,
                limit=limit is not None,
            )
            for row in self._read(query, params):
                found[row["id"]] = relation_record(row)
        result = sorted(found.values(), key=lambda r: (r.head, r.type, r.tail, r.id))
        return result[:limit] if limit is not None else result

    def evidence(self, relation_id: str) -> list[EvidenceRecord]:
        """Return the sentence and document that support one relation (empty when unknown)."""
        query = cypher.relations_query(
            self.type_fn, head=False, tail=False, types=None, limit=False, by_id=True
        )
        out: list[EvidenceRecord] = []
        for row in self._read(query, {"id": relation_id}):
            rel = relation_record(row)
            docs = self._read(cypher.document_query(), {"id": rel.document_id})
            doc = docs[0] if docs else {"title": "", "source": ""}
            out.append(
                EvidenceRecord(
                    relation_id=rel.id,
                    text=rel.evidence,
                    start=rel.start,
                    end=rel.end,
                    document_id=rel.document_id,
                    document_title=doc["title"] or "",
                    document_source=doc["source"] or "",
                    speaker=rel.speaker,
                )
            )
        return out

    def dump(self) -> GraphDump:
        """Every entity, relation and document, ordered by id."""
        entities = self._read(cypher.search_query(None, text=False), {"limit": 2**62})
        rels = self._read(
            cypher.relations_query(self.type_fn, head=False, tail=False, types=None, limit=False)
        )
        docs = self._read(cypher.documents_query())
        return GraphDump(
            entities=tuple(sorted((entity_record(r) for r in entities), key=lambda e: e.id)),
            relations=tuple(relation_record(r) for r in rels),
            documents=tuple(
                DocumentRecord(
                    id=d["id"],
                    title=d["title"] or "",
                    source=d["source"] or "",
                    ingested_at=d["ingested_at"] or "",
                )
                for d in docs
            ),
        )
