"""Reader quality: HTML main text and metadata, and speaker attribution in transcripts.

1. HTML: on the saved pages of ``tests/data/html`` (written for the project, with their
   main paragraphs, page furniture and metadata in ``gold.json``), compares the
   hand-written cleaner (``html_to_text`` with ``html_date``) with ``read_html``
   (trafilatura): paragraphs kept, furniture let through, metadata fields right.
2. Transcripts: on ``tests/data/transcripts`` (annotated statements in ``gold.json``),
   the share of statements whose speaker and time offset the transcript gives right, and
   of extracted relations covering a statement that name its speaker and time.

Usage: ``python bench/bench_readers.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HTML = ROOT / "tests" / "data" / "html"
TRANSCRIPTS = ROOT / "tests" / "data" / "transcripts"


def _flat(text: str) -> str:
    return " ".join(text.split())


def html_scores(reader: str) -> dict[str, Any]:
    from extract.readers import html_date, html_to_text, read_html

    gold = json.loads((HTML / "gold.json").read_text(encoding="utf-8"))["pages"]
    kept = main = leaked = junk = meta_ok = meta = 0
    for page, want in gold.items():
        html = (HTML / page).read_text(encoding="utf-8")
        if reader == "hand-written":
            text, title = html_to_text(html)
            got = {"title": title, "date": html_date(html), "author": None, "site": None}
        else:
            p = read_html(html)
            text = p.text
            got = {"title": p.title, "date": p.date, "author": p.author, "site": p.site}
        flat = _flat(text)
        main += len(want["main"])
        kept += sum(_flat(par) in flat for par in want["main"])
        junk += len(want["junk"])
        leaked += sum(piece in flat for piece in want["junk"])
        for key in ("title", "date", "author", "site"):
            meta += 1
            meta_ok += got[key] == want[key]
    return {
        "reader": reader,
        "pages": len(gold),
        "paragraphs kept": f"{kept}/{main}",
        "furniture let through": f"{leaked}/{junk}",
        "metadata right": f"{meta_ok}/{meta}",
    }


def transcript_scores() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "test_extract"))
    from test_transcript_formats import attribution_scores

    return attribution_scores()


def main() -> None:
    for reader in ("hand-written", "trafilatura"):
        print(html_scores(reader))
    print(transcript_scores())


if __name__ == "__main__":
    main()
