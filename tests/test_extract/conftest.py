"""Fixtures of the extraction tests: one rule-only pipeline and one with the shipped model."""

from __future__ import annotations

import pytest

from extract.pipeline import MODEL_PATH, build_nlp


@pytest.fixture(scope="session")
def nlp_rules():
    """The pipeline without the statistical NER (no model needed)."""
    return build_nlp(None)


@pytest.fixture(scope="session")
def nlp_model():
    """The pipeline with the trained NER shipped in extract/models/ner."""
    if not (MODEL_PATH / "config.cfg").exists():
        pytest.fail("the trained model is missing; run `fallout train`")
    return build_nlp(MODEL_PATH)
