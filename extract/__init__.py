"""Text -> documents, entities and relations, with provenance (spaCy).

Importing this package is cheap: spaCy is imported only when a pipeline is built.
"""

from __future__ import annotations

from extract.errors import ExtractError, GoldFormatError, PipelineConfigError, ReaderError
from extract.model import (
    Document,
    DropReason,
    Entity,
    EntityType,
    Evidence,
    ExtractionStats,
    Facts,
    Mention,
    Relation,
    RelationType,
)
from extract.pipeline import FileResult, build_nlp, extract_files, extract_text

__all__ = [
    "Document",
    "DropReason",
    "Entity",
    "EntityType",
    "Evidence",
    "ExtractError",
    "ExtractionStats",
    "Facts",
    "FileResult",
    "GoldFormatError",
    "Mention",
    "PipelineConfigError",
    "ReaderError",
    "Relation",
    "RelationType",
    "build_nlp",
    "extract_files",
    "extract_text",
]
