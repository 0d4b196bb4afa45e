"""The sample corpus shipped in ``ontologies/corpus``: list it, extract it, load it.

The texts under ``ontologies/corpus/{train,heldout}/*.txt`` are short articles and
transcripts about the 2022 crypto collapses, written for this project. The JSON files
beside them are gold annotations for measuring extraction, not facts, and are never
loaded. ``extract`` (spaCy) is imported only when the corpus is actually extracted.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from graph.store.base import GraphStore, LoadSummary

if TYPE_CHECKING:
    from extract.model import Facts

__all__ = [
    "EXAMPLE_QUERIES",
    "SAMPLE_SPLITS", "ensure_sample_loaded", "load_sample_corpus", "sample_corpus_files"]

SAMPLE_SPLITS = ("train", "heldout")
"""The folders of ``ontologies/corpus`` that hold sample texts."""


def sample_corpus_files() -> list[Traversable]:
    """Return the sample texts, sorted by split then name.

    Returns
    -------
    list of Traversable
        One entry per ``.txt`` file; read them with ``read_text(encoding="utf-8")``.

    Examples
    --------
    >>> names = [f.name for f in sample_corpus_files()]
    >>> "ftx-wire-01.txt" in names
    True
    """
    root = files("ontologies").joinpath("corpus")
    out: list[Traversable] = []
    for split in SAMPLE_SPLITS:
        folder = root.joinpath(split)
        if not folder.is_dir():
            continue
        out.extend(sorted((f for f in folder.iterdir() if f.name.endswith(".txt")),
                          key=lambda f: f.name))
    return out


def _default_extractor() -> Callable[[str, str, str], Facts]:
    from extract.pipeline import extract_text  # heavy: imports spaCy

    def run(text: str, source: str, title: str) -> Facts:
        facts: Facts = extract_text(text, source=source, title=title)
        return facts

    return run


def load_sample_corpus(
    store: GraphStore,
    *,
    extractor: Callable[[str, str, str], Facts] | None = None,
) -> LoadSummary:
    """Extract every sample text and load the facts into ``store``.

    Parameters
    ----------
    store : GraphStore
        Where the facts go; loading is idempotent, so a second call changes no count.
    extractor : callable, optional
        ``extractor(text, source, title) -> Facts``; defaults to ``extract.extract_text``.

    Returns
    -------
    LoadSummary
        What the load wrote.
    """
    run = extractor or _default_extractor()
    facts = []
    for item in sample_corpus_files():
        text = item.read_text(encoding="utf-8")
        stem = item.name.removesuffix(".txt")
        facts.append(run(text, f"sample/{stem}.txt", stem))
    return store.load(facts)


def ensure_sample_loaded(store: GraphStore) -> LoadSummary | None:
    """Load the sample corpus when ``store`` holds no entity yet.

    Returns
    -------
    LoadSummary or None
        The summary of the load, or ``None`` when the store already held data.
    """
    if store.counts().get("entities", 0) > 0:
        return None
    return load_sample_corpus(store)


EXAMPLE_QUERIES: dict[str, str] = {
    "Exposures of a lender (who FTX lent to)": (
        "MATCH (lender:Entity)-[r:LENT_TO]->(borrower:Entity)\n"
        "WHERE lender.name = 'FTX'\n"
        "RETURN lender.name AS lender, borrower.name AS borrower, r.amount AS amount,\n"
        "       r.currency AS currency, r.confidence AS confidence\n"
        "ORDER BY amount DESC"
    ),
    "Collateral chains (who pledged what, issued by whom)": (
        "MATCH (pledger:Entity)-[c:PLEDGED_COLLATERAL]->(asset:Entity)\n"
        "OPTIONAL MATCH (issuer:Entity)-[:ISSUED]->(asset)\n"
        "RETURN pledger.name AS pledger, asset.name AS collateral, c.to AS pledged_to,\n"
        "       issuer.name AS issuer, c.amount AS amount"
    ),
    "Holders of a token whose issuer failed": (
        "MATCH (issuer:Entity)-[:ISSUED]->(token:Entity)<-[h:HOLDS]-(holder:Entity)\n"
        "WHERE issuer.name IN ['FTX', 'Terraform Labs', 'Celsius']\n"
        "RETURN issuer.name AS issuer, token.name AS token, holder.name AS holder,\n"
        "       h.amount AS amount"
    ),
    "Everything one hop from FTX (as a graph)": (
        "MATCH (a:Entity)-[r]->(b:Entity)\n"
        "WHERE a.name = 'FTX' OR b.name = 'FTX'\n"
        "RETURN a, r, b\n"
        "LIMIT 100"
    ),
    "Who had funds on FTX (deposits)": (
        "MATCH (depositor:Entity)-[d:DEPOSITED_WITH]->(platform:Entity)\n"
        "WHERE platform.name = 'FTX'\n"
        "RETURN depositor.name AS depositor, depositor.type AS kind, d.amount AS amount"
    ),
}
"""Read-only Cypher for this schema, shown on the app's Cypher page."""
