"""The facts model: the typed JSON contract between extraction and the graph.

This module imports neither spaCy nor anything from ``graph``; it is what
``fallout extract --json`` prints and what ``fallout load`` reads.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ORGANISATION_TYPES",
    "DropReason",
    "Document",
    "Entity",
    "EntityType",
    "Evidence",
    "ExtractionStats",
    "Facts",
    "Mention",
    "Relation",
    "RelationType",
    "facts_from_json",
    "facts_to_json",
]


class EntityType(StrEnum):
    """The kind of an entity (``type`` in the facts JSON)."""

    EXCHANGE = "Exchange"
    LENDER = "Lender"
    TRADING_FIRM = "TradingFirm"
    INVESTMENT_FIRM = "InvestmentFirm"
    BANK = "Bank"
    COMPANY = "Company"
    MEDIA_OUTLET = "MediaOutlet"
    REGULATOR = "Regulator"
    PROTOCOL = "Protocol"
    PERSON = "Person"
    TOKEN = "Token"
    STABLECOIN = "Stablecoin"
    PLACE = "Place"


ORGANISATION_TYPES: frozenset[EntityType] = frozenset(list(EntityType)[:9])
"""The first nine kinds are organisations."""


class RelationType(StrEnum):
    """The directed relation types (head -> tail) of DESIGN.md."""

    LENT_TO = "LENT_TO"
    PLEDGED_COLLATERAL = "PLEDGED_COLLATERAL"
    ISSUED = "ISSUED"
    HOLDS = "HOLDS"
    DEPOSITED_WITH = "DEPOSITED_WITH"
    ACQUIRED = "ACQUIRED"
    OWNS = "OWNS"
    AFFILIATED_WITH = "AFFILIATED_WITH"
    INVESTED_IN = "INVESTED_IN"
    LEADS = "LEADS"
    WORKS_FOR = "WORKS_FOR"
    LIQUIDATED = "LIQUIDATED"
    EXPOSED_TO = "EXPOSED_TO"


class DropReason(StrEnum):
    """Why a candidate entity or relation was not kept."""

    OFF_SCHEMA_PATTERN = "off_schema_pattern"
    LOW_CONFIDENCE = "low_confidence"
    NEGATED = "negated"
    SELF_LOOP = "self_loop"
    UNRESOLVED_ENDPOINT = "unresolved_endpoint"
    DUPLICATE = "duplicate"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Document(_Strict):
    """A document as read: stable content-hash id, source and title."""

    id: str
    source: str
    title: str = ""


class Mention(_Strict):
    """One occurrence of an entity, as character offsets into the text as read."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Entity(_Strict):
    """An entity of one document, with a stable cross-document ``id``."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: EntityType
    aliases: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    equity: float | None = None
    total_assets: float | None = None
    deposits: float | None = None


class Evidence(_Strict):
    """The sentence that states a relation, with offsets into the document text."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Relation(_Strict):
    """A directed, optionally quantified relation between two entities."""

    head: str
    type: RelationType
    tail: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: tuple[Evidence, ...] = ()
    amount: float | None = None
    currency: str | None = None
    asset: str | None = None
    quantity: float | None = None
    date: str | None = None
    status: str | None = None
    to: str | None = None
    negated: bool = False
    hedged: bool = False
    speaker: str | None = None
    speaker_time: float | None = Field(default=None, ge=0.0)
    """Seconds from the start of the recording at which the speaker says it, if stamped."""

    @field_validator("amount", "quantity")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and (value != value or value in (float("inf"), float("-inf"))):
            raise ValueError("must be a finite number")
        return value


class Facts(_Strict):
    """Everything extracted from one document (one object of ``fallout extract --json``)."""

    document: Document
    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict of the facts format (``None`` fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to the facts JSON of DESIGN.md."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any) -> Facts:
        """Validate one facts object (raises ``pydantic.ValidationError``)."""
        return cls.model_validate(data)


class ExtractionStats(BaseModel):
    """Counts of what an extraction kept and dropped, with reasons."""

    model_config = ConfigDict(extra="forbid")

    documents: int = 0
    entities: int = 0
    relations: int = 0
    dropped: Counter[str] = Field(default_factory=Counter)

    def drop(self, reason: DropReason, n: int = 1) -> None:
        """Count ``n`` candidates dropped for ``reason``."""
        self.dropped[reason.value] += n

    def merge(self, other: ExtractionStats) -> None:
        """Add another stats object into this one."""
        self.documents += other.documents
        self.entities += other.entities
        self.relations += other.relations
        self.dropped.update(other.dropped)


def facts_to_json(facts: list[Facts], *, indent: int | None = 2) -> str:
    """Serialise one document as an object, several as a list (the CLI shape)."""
    if len(facts) == 1:
        return facts[0].to_json(indent=indent)
    return json.dumps([f.to_dict() for f in facts], indent=indent, ensure_ascii=False)


def facts_from_json(text: str) -> list[Facts]:
    """Parse facts JSON: one object or a list of objects.

    Examples
    --------
    >>> doc = '{"document": {"id": "d1", "source": "x.txt"}, "entities": []}'
    >>> [f.document.id for f in facts_from_json(doc)]
    ['d1']
    """
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    return [Facts.from_dict(item) for item in items]
