"""The few ``Doc._.fallout_*`` extension attributes of the pipeline, registered once."""

from __future__ import annotations

from spacy.tokens import Doc

__all__ = ["register_extensions"]

_DOC_EXTENSIONS = (
    "fallout_transcript",
    "fallout_entities",
    "fallout_refs",
    "fallout_quantities",
    "fallout_relations",
    "fallout_drops",
    "fallout_date",
)


def register_extensions() -> None:
    """Register the ``Doc`` extensions (idempotent; never forced)."""
    for name in _DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
