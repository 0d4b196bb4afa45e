"""``fallout train``: train the small statistical NER from the annotated train split."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from extract._data import doc_text
from extract.errors import GoldFormatError
from extract.model import EntityType

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

__all__ = ["TRAIN_DIR", "gold_spans", "train", "training_examples"]

TRAIN_DIR = Path(__file__).resolve().parents[1] / "ontologies" / "corpus" / "train"
"""The split that rules and training may see (never the held-out one)."""


def gold_spans(text: str, entities: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """Return non-overlapping (start, end, type) spans where gold names or aliases occur.

    Examples
    --------
    >>> gold_spans("Alameda Research and Alameda.",
    ...            [{"name": "Alameda Research", "type": "TradingFirm", "aliases": ["Alameda"]}])
    [(0, 16, 'TradingFirm'), (21, 28, 'TradingFirm')]
    """
    forms: list[tuple[str, str]] = []
    for ent in entities:
        for form in [ent["name"], *ent.get("aliases", [])]:
            if form and form.strip():
                forms.append((form, ent["type"]))
    forms.sort(key=lambda f: -len(f[0]))
    taken = bytearray(len(text))
    spans = []
    for form, label in forms:
        for m in re.finditer(r"(?<!\w)" + re.escape(form) + r"(?!\w)", text):
            if any(taken[m.start() : m.end()]):
                continue
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            spans.append((m.start(), m.end(), label))
    return sorted(spans)


def training_examples(nlp: Language, corpus: Path | Iterable[Path]) -> list[Example]:
    """Build one example per non-empty line of every gold document of ``corpus``.

    ``corpus`` is one folder or several.

    Raises
    ------
    GoldFormatError
        If the corpus holds no annotated documents.
    """
    from spacy.training import Example

    examples = []
    folders = [corpus] if isinstance(corpus, Path) else list(corpus)
    pairs = _gold_pairs(folders)
    if not pairs:
        names = ", ".join(str(f) for f in folders)
        raise GoldFormatError(f"{names}: no NAME.txt + NAME.json pairs to train on")
    for gold_path in pairs:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        text = gold_path.with_suffix(".txt").read_text(encoding="utf-8")
        for line in text.split("\n"):
            if line.strip():
                doc = nlp.make_doc(line)
                ents = []
                for start, end, label in gold_spans(line, gold["entities"]):
                    span = doc.char_span(start, end, label=label, alignment_mode="contract")
                    if span is not None and len(span):
                        ents.append((span.start_char, span.end_char, label))
                examples.append(Example.from_dict(doc, {"entities": ents}))
    return examples


def train(
    *,
    corpus: Path | None = None,
    output: Path | None = None,
    seed: int = 42,
    epochs: int = 30,
    dev: Path | None = None,
    relations: bool = True,
    scorer_only: bool = False,
) -> dict[str, Any]:
    """Train the NER and then the relation scorer, and write the pipeline to ``output``.

    Parameters
    ----------
    corpus
        One folder to train on; by default every training corpus
        (``RELATION_TRAIN_DIRS``: the old train and held-out splits and
        ``reporting/train``). The frozen ``reporting/test`` split is never read.
    dev
        Where the scorer's threshold is picked (default ``reporting/dev``).
    relations
        Also train the relation scorer (``False``: the NER only).
    scorer_only
        Keep the shipped recogniser and retrain the relation scorer on top of it.

    Returns a summary (examples, epochs, final loss, seconds, output path, scorer figures).
    """
    from spacy import util

    import extract.components  # noqa: F401
    from extract.pipeline import CONFIG_PATH, MODEL_PATH

    util.fix_random_seed(seed)  # type: ignore[attr-defined]
    folders = [corpus] if corpus is not None else list(RELATION_TRAIN_DIRS)
    if scorer_only:
        from extract.pipeline import build_nlp

        nlp = build_nlp(MODEL_PATH)
        if SCORER not in nlp.pipe_names:
            nlp.add_pipe(SCORER)
        summary: dict[str, Any] = {"seed": seed}
    else:
        cfg = util.load_config(CONFIG_PATH, interpolate=False)
        nlp = util.load_model_from_config(cfg, auto_fill=True, validate=True)
        summary = _train_ner(nlp, folders, seed, epochs)
        nlp.disable_pipe("ner")  # as build_nlp does: consulted on unexplained sentences only
    if relations and SCORER in nlp.pipe_names:
        summary["relations"] = train_scorer(
            nlp, train_dirs=folders, dev_dir=dev if dev is not None else RELATION_DEV_DIR
        )
    nlp.enable_pipe("ner")
    target = Path(output) if output else MODEL_PATH
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    summary["output"] = str(target)
    return summary


def _train_ner(nlp: Language, folders: list[Path], seed: int, epochs: int) -> dict[str, Any]:
    """Train the ``ner`` pipe of ``nlp`` in place; return its summary."""
    from spacy import util

    examples = training_examples(nlp, folders)
    ner = nlp.get_pipe("ner")
    for label in (kind.value for kind in EntityType):
        ner.add_label(label)  # type: ignore[attr-defined]
    others = [name for name in nlp.pipe_names if name != "ner"]
    started = time.perf_counter()
    with nlp.select_pipes(disable=others):
        optimizer = nlp.initialize(lambda: examples)
        rng = random.Random(seed)
        losses: dict[str, float] = {}
        for _ in range(epochs):
            rng.shuffle(examples)
            losses = {}
            for batch in util.minibatch(examples, size=16):  # type: ignore[no-untyped-call]
                batch_list: list[Example] = list(batch)
                nlp.update(batch_list, drop=0.2, sgd=optimizer, losses=losses)
    return {
        "examples": len(examples),
        "epochs": epochs,
        "seed": seed,
        "loss": round(float(losses.get("ner", 0.0)), 3),
        "seconds": round(time.perf_counter() - started, 1),
    }


CORPUS_DIR = TRAIN_DIR.parent
"""All annotated corpora: the old ``train`` and ``heldout`` splits and ``reporting/``."""

RELATION_TRAIN_DIRS = (
    CORPUS_DIR / "train",
    CORPUS_DIR / "heldout",
    CORPUS_DIR / "reporting" / "train",
)
"""What the relation scorer learns from (the frozen ``reporting/test`` split is never read)."""

RELATION_DEV_DIR = CORPUS_DIR / "reporting" / "dev"
"""Where the scorer's threshold is picked."""

SCORER = "fallout_relation_scorer"


def _gold_pairs(folders: Iterable[Path]) -> list[Path]:
    pairs: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            pairs += sorted(p for p in folder.glob("*.json") if p.with_suffix(".txt").exists())
    return pairs


def _labels_for(
    text: str,
    cands: list[Any],
    feats: list[list[str]],
    names: dict[str, set[str]],
    gold_rels: list[dict[str, Any]],
) -> np.ndarray:
    """One row of 0/1 labels per candidate, from the gold relations and their evidence."""
    from extract.components.scorer import LABELS

    index = {label: i for i, label in enumerate(LABELS)}
    spans: list[tuple[str, str, str, int, int]] = []
    for r in gold_rels:
        if r.get("negated"):
            continue
        ev = r.get("evidence") or ""
        at = text.find(ev) if ev else -1
        spans.append((r["head"], r["type"], r["tail"], at, at + len(ev) if at >= 0 else -1))
    y = np.zeros((len(cands), len(LABELS)), dtype=np.float32)
    for i, (cand, f) in enumerate(zip(cands, feats, strict=True)):
        ga, gb = names.get(cand.a.entity_id, set()), names.get(cand.b.entity_id, set())
        if not ga or not gb:
            continue
        for head, rtype, tail, s, e in spans:
            if head in ga and tail in gb:
                label = f"{rtype}>"
            elif head in gb and tail in ga:
                label = f"{rtype}>" if rtype == "AFFILIATED_WITH" else f"{rtype}<"
            else:
                continue
            if (s <= cand.b.start and cand.b.end <= e) or f"R={label}" in f:
                y[i, index[label]] = 1.0
    return y


def relation_examples(
    nlp: Language, folders: Iterable[Path]
) -> tuple[list[list[str]], np.ndarray, list[tuple[Path, Any]]]:
    """Candidate features and labels of every gold document of ``folders``.

    Returns the features, the label matrix, and the processed documents (for tuning).
    """
    from extract.evaluate import gold_names_of, load_gold
    from extract.pipeline import doc_to_facts
    from extract.readers import read_file

    scorer = nlp.get_pipe(SCORER)
    feats: list[list[str]] = []
    ys: list[np.ndarray] = []
    docs: list[tuple[Path, Any]] = []
    with nlp.select_pipes(disable=[SCORER]):
        for gold_path in _gold_pairs(folders):
            raw = json.loads(gold_path.read_text(encoding="utf-8"))
            gold = load_gold(gold_path)
            read = read_file(gold_path.with_suffix(".txt"))
            doc = nlp(read.text)
            facts, _ = doc_to_facts(doc, read.document)
            cands, f = scorer.describe(doc)  # type: ignore[attr-defined]
            names = gold_names_of(facts, gold)
            ys.append(_labels_for(doc_text(doc), cands, f, names, raw.get("relations", [])))
            feats += f
            docs.append((gold_path, (doc, read.document)))
    y = np.concatenate(ys) if ys else np.zeros((0, 0), dtype=np.float32)
    return feats, y, docs


def fit_scorer(
    feats: list[list[str]],
    y: np.ndarray,
    *,
    l2: float = 0.3,
    min_count: int = 2,
    positive_weight: float = 1.0,
) -> tuple[dict[int, int], np.ndarray]:
    """Fit the multi-label logistic model (L-BFGS, deterministic) on hashed features.

    Returns the feature table (hash -> row) and the weights, whose last row is the bias.
    """
    from scipy import sparse
    from scipy.optimize import minimize

    from extract.components.scorer import _hash

    counts: Counter[int] = Counter(h for f in feats for h in {_hash(x) for x in f})
    kept = sorted(h for h, c in counts.items() if c >= min_count)
    vocab = {h: i for i, h in enumerate(kept)}
    rows, cols = [], []
    for i, f in enumerate(feats):
        for col in sorted({vocab[h] for h in (_hash(x) for x in f) if h in vocab}):
            rows.append(i)
            cols.append(col)
    n, d, k = len(feats), len(vocab), y.shape[1]
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n, d))
    x = sparse.hstack([x, sparse.csr_matrix(np.ones((n, 1)))], format="csr")
    sample_w = np.where(y > 0, positive_weight, 1.0)
    reg = np.ones((d + 1, 1))
    reg[-1] = 0.0

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(d + 1, k)
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        eps = 1e-9
        ll = -(sample_w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum()
        ll += 0.5 * l2 * float((reg * w * w).sum())
        grad = x.T @ (sample_w * (p - y)) + l2 * reg * w
        return float(ll), np.asarray(grad).ravel()

    w0 = np.zeros((d + 1) * k)
    res = minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 400})
    return vocab, res.x.reshape(d + 1, k).astype(np.float32)


def tune_threshold(
    scorer: Any, docs: list[tuple[Path, Any]], *, min_precision: float = 0.65
) -> tuple[float, dict[str, float]]:
    """Pick the model's threshold of best relation F1 on ``docs``.

    Thresholds that reach ``min_precision`` win over those that do not: most relations
    kept by the extractor must be right. The rules' own threshold (``rule_threshold``:
    a cue rule's relation stays unless the model gives it less) is left as configured.
    """
    from extract.evaluate import Score, load_gold, score_doc
    from extract.pipeline import doc_to_facts

    saved = [(doc._.fallout_relations, Counter(doc._.fallout_drops or {})) for _, (doc, _) in docs]
    golds = [load_gold(gold_path) for gold_path, _ in docs]
    best: tuple[tuple[bool, float], float, dict[str, float]] | None = None
    for threshold in np.arange(0.1, 0.86, 0.05):
        scorer.threshold = round(float(threshold), 2)
        total = Score()
        for (_, (doc, document)), (rels, drops), gold in zip(docs, saved, golds, strict=True):
            doc._.fallout_relations = list(rels)
            doc._.fallout_drops = Counter(drops)
            scorer(doc)
            facts, _ = doc_to_facts(doc, document)
            total.add(score_doc(facts, gold).relations)
        key = (total.precision >= min_precision, total.f1)
        figures = {"precision": total.precision, "recall": total.recall, "f1": total.f1}
        log.debug("threshold %.2f: %s", threshold, figures)
        if best is None or key > best[0]:
            best = (key, scorer.threshold, figures)
    for (_, (doc, _)), (rels, drops) in zip(docs, saved, strict=True):
        doc._.fallout_relations, doc._.fallout_drops = rels, drops
    assert best is not None
    scorer.threshold = best[1]
    return best[1], best[2]


def train_scorer(
    nlp: Language,
    *,
    train_dirs: Iterable[Path] = RELATION_TRAIN_DIRS,
    dev_dir: Path | None = RELATION_DEV_DIR,
    l2: float = 0.3,
    positive_weight: float = 1.0,
) -> dict[str, Any]:
    """Train the relation scorer of ``nlp`` in place and pick its threshold on dev."""
    started = time.perf_counter()
    feats, y, _ = relation_examples(nlp, train_dirs)
    vocab, weights = fit_scorer(feats, y, l2=l2, positive_weight=positive_weight)
    scorer = nlp.get_pipe(SCORER)
    scorer.set_model(vocab, weights, 0.5)  # type: ignore[attr-defined]
    summary: dict[str, Any] = {
        "candidates": len(feats),
        "positives": int(y.sum()),
        "features": len(vocab),
    }
    if dev_dir is not None and _gold_pairs([dev_dir]):
        _, _, dev_docs = relation_examples(nlp, [dev_dir])
        threshold, figures = tune_threshold(scorer, dev_docs)
        summary.update(
            threshold=round(threshold, 2), dev={k: round(v, 4) for k, v in figures.items()}
        )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary
