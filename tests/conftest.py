"""Shared fixtures: the real Neo4j server, the real browser, paths to shipped data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.neo4j_server", "tests.fixtures.browser"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "ontologies" / "corpus"


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared, or skip (fail under CI=true) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI must run with ../shared beside the checkout")
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def seed_transcript() -> Path:
    """The real FTX panel transcript, read from ../shared at run time."""
    return shared_path("seeds", "ftx-collapse-ofrtalk-transcript.txt")


@pytest.fixture(scope="session")
def nrm_network_path() -> Path:
    """The 125-bank published test network, read from ../shared at run time."""
    return shared_path("contagion-data", "nrm-sim125-network.json")
