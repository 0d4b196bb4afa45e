"""``fallout train``: train the small statistical NER from the annotated train split."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.errors import GoldFormatError
from extract.model import EntityType

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


def training_examples(nlp: Language, corpus: Path) -> list[Example]:
    """Build one example per non-empty line of every gold document of ``corpus``.

    Raises
    ------
    GoldFormatError
        If the corpus holds no annotated documents.
    """
    from spacy.training import Example

    examples = []
    pairs = sorted(p for p in corpus.glob("*.json") if p.with_suffix(".txt").exists())
    if not pairs:
        raise GoldFormatError(f"{corpus}: no NAME.txt + NAME.json pairs to train on")
    for gold_path in pairs:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        text = gold_path.with_suffix(".txt").read_text(encoding="utf-8")
        offset = 0
        for line in text.split("\n"):
            if line.strip():
                doc = nlp.make_doc(line)
                ents = []
                for start, end, label in gold_spans(line, gold["entities"]):
                    span = doc.char_span(start, end, label=label, alignment_mode="contract")
                    if span is not None and len(span):
                        ents.append((span.start_char, span.end_char, label))
                examples.append(Example.from_dict(doc, {"entities": ents}))
            offset += len(line) + 1
    return examples


def train(
    *, corpus: Path | None = None, output: Path | None = None, seed: int = 42, epochs: int = 30
) -> dict[str, Any]:
    """Train the NER of ``extract/config.cfg`` and write the pipeline to ``output``.

    Returns a summary (examples, epochs, final loss, seconds, output path).
    """
    from spacy import util

    import extract.components  # noqa: F401
    from extract.pipeline import CONFIG_PATH, MODEL_PATH

    util.fix_random_seed(seed)  # type: ignore[attr-defined]
    cfg = util.load_config(CONFIG_PATH, interpolate=False)
    nlp = util.load_model_from_config(cfg, auto_fill=True, validate=True)
    examples = training_examples(nlp, corpus or TRAIN_DIR)
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
    target = Path(output) if output else MODEL_PATH
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return {
        "examples": len(examples),
        "epochs": epochs,
        "seed": seed,
        "loss": round(float(losses.get("ner", 0.0)), 3),
        "seconds": round(time.perf_counter() - started, 1),
        "output": str(target),
    }
