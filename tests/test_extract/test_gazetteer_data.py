"""Validate the shipped gazetteer of known entities (``ontologies/gazetteer.jsonl``)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

GAZETTEER = Path(__file__).resolve().parents[2] / "ontologies" / "gazetteer.jsonl"

KINDS = frozenset(
    {
        "Exchange",
        "Lender",
        "TradingFirm",
        "InvestmentFirm",
        "Bank",
        "Company",
        "MediaOutlet",
        "Regulator",
        "Protocol",
        "Person",
        "Token",
        "Stablecoin",
        "Place",
    }
)
REQUIRED = ("label", "pattern", "id", "name")
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_ENTITIES = 400


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    """Every non-blank line of the gazetteer, parsed."""
    assert GAZETTEER.is_file(), f"{GAZETTEER} is missing"
    parsed = []
    for lineno, line in enumerate(GAZETTEER.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            pytest.fail(f"line {lineno} is not valid JSON: {err}")
        assert isinstance(row, dict), f"line {lineno} is not a JSON object"
        row["_line"] = lineno
        parsed.append(row)
    return parsed


def test_every_line_has_the_required_string_fields(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for key in REQUIRED:
            value = row.get(key)
            assert isinstance(value, str) and value.strip(), (
                f"line {row['_line']}: field {key!r} missing or empty"
            )
            assert value == value.strip(), f"line {row['_line']}: {key!r} has outer whitespace"
        if "desc" in row:
            assert isinstance(row["desc"], str) and row["desc"].strip(), (
                f"line {row['_line']}: empty desc"
            )


def test_labels_are_entity_kinds(rows: list[dict[str, Any]]) -> None:
    bad = {(row["_line"], row["label"]) for row in rows if row["label"] not in KINDS}
    assert not bad, f"unknown labels: {sorted(bad)[:10]}"


def test_ids_are_kebab_case(rows: list[dict[str, Any]]) -> None:
    bad = sorted({row["id"] for row in rows if not KEBAB.match(row["id"])})
    assert not bad, f"ids not in kebab-case: {bad[:10]}"


def test_enough_distinct_entities(rows: list[dict[str, Any]]) -> None:
    ids = {row["id"] for row in rows}
    assert len(ids) >= MIN_ENTITIES, f"only {len(ids)} distinct ids"


def test_every_kind_is_covered(rows: list[dict[str, Any]]) -> None:
    assert {row["label"] for row in rows} == KINDS


def test_each_id_has_one_label_and_one_name(rows: list[dict[str, Any]]) -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        labels[row["id"]].add(row["label"])
        names[row["id"]].add(row["name"])
    mixed = {i: s for i, s in labels.items() if len(s) > 1}
    renamed = {i: s for i, s in names.items() if len(s) > 1}
    assert not mixed, f"ids with several labels: {mixed}"
    assert not renamed, f"ids with several canonical names: {renamed}"


def test_no_pattern_maps_to_two_ids(rows: list[dict[str, Any]]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        owners[row["pattern"]].add(row["id"])
    shared = {p: sorted(ids) for p, ids in owners.items() if len(ids) > 1}
    assert not shared, f"patterns shared by several ids: {shared}"


def test_no_duplicate_lines(rows: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["id"], row["pattern"])
        assert key not in seen, f"line {row['_line']}: duplicate pattern {row['pattern']!r}"
        seen.add(key)


def test_canonical_name_is_a_pattern(rows: list[dict[str, Any]]) -> None:
    patterns: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in rows:
        patterns[row["id"]].add(row["pattern"])
        names[row["id"]] = row["name"]
    missing = sorted(i for i, name in names.items() if name not in patterns[i])
    assert not missing, f"canonical name not among the patterns of: {missing[:10]}"


@pytest.mark.parametrize(
    ("pattern", "ident", "label"),
    [
        ("FTX", "ftx", "Exchange"),
        ("Alameda", "alameda-research", "TradingFirm"),
        ("3AC", "three-arrows-capital", "InvestmentFirm"),
        ("SBF", "sam-bankman-fried", "Person"),
        ("CZ", "changpeng-zhao", "Person"),
        ("FTT", "ftt", "Token"),
        ("SOL", "sol", "Token"),
        ("Solana", "solana", "Protocol"),
        ("Serum", "serum", "Protocol"),
        ("SRM", "srm", "Token"),
        ("UST", "ust", "Stablecoin"),
        ("SVB", "silicon-valley-bank", "Bank"),
        ("Bahamas", "bahamas", "Place"),
    ],
)
def test_key_entities(rows: list[dict[str, Any]], pattern: str, ident: str, label: str) -> None:
    match = [row for row in rows if row["pattern"] == pattern]
    assert match, f"{pattern!r} is not a pattern"
    assert (match[0]["id"], match[0]["label"]) == (ident, label)
