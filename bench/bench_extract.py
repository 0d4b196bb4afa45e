"""Extraction speed and memory: words per second in one process, scaling with --workers.

Builds a corpus from the project's own annotated train texts (repeated, with a counter in
each copy so every document id differs), writes it to a temporary folder and runs
``extract_files`` over it. Prints one line per measurement. Then checks that cost is
linear in document size: one document of ``--long-mb`` megabytes against the same text
as ``--pieces`` files.

    python bench/bench_extract.py [--mb 10] [--workers 1 2] [--long-mb 1.5] [--pieces 15]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_corpus(folder: Path, megabytes: float) -> tuple[list[Path], int]:
    texts = [
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "ontologies" / "corpus" / "train").glob("*.txt"))
    ]
    paths, words, size, i = [], 0, 0, 0
    while size < megabytes * 1024 * 1024:
        text = f"Copy {i}.\n" + texts[i % len(texts)]
        path = folder / f"doc{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        words += len(text.split())
        size += len(text.encode("utf-8"))
        i += 1
    return paths, words


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--long-mb", type=float, default=1.5)
    parser.add_argument("--pieces", type=int, default=15)
    args = parser.parse_args()
    from extract.pipeline import default_nlp, extract_files

    default_nlp()  # load once, outside the timing
    with tempfile.TemporaryDirectory() as tmp:
        paths, words = build_corpus(Path(tmp), args.mb)
        print(f"corpus: {len(paths)} files, {words} words, {args.mb} MB")
        for workers in args.workers:
            started = time.perf_counter()
            results = extract_files(paths, workers=workers)
            seconds = time.perf_counter() - started
            failed = sum(r.error is not None for r in results)
            rels = sum(len(r.facts.relations) for r in results if r.facts)
            print(
                f"workers={workers}: {seconds:.1f} s, {words / seconds:,.0f} words/s, "
                f"{rels} relations, {failed} failed"
            )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak RSS: {rss:.0f} MB (this process), {child:.0f} MB (largest worker)")
        if args.long_mb > 0:
            long_vs_pieces(Path(tmp), paths, args.long_mb, args.pieces)


def long_vs_pieces(folder: Path, paths: list[Path], megabytes: float, pieces: int) -> None:
    """Time one long document against the same text cut into ``pieces`` files."""
    from extract.pipeline import extract_files

    text, k = "", 0
    while len(text.encode("utf-8")) < megabytes * 1024 * 1024:
        text += paths[k % len(paths)].read_text(encoding="utf-8") + "\n\n"
        k += 1
    long_file = folder / "long.txt"
    long_file.write_text(text, encoding="utf-8")
    size = len(text) // pieces + 1
    parts = []
    for i in range(pieces):
        part = folder / f"piece{i:03d}.txt"
        part.write_text(text[i * size : (i + 1) * size], encoding="utf-8")
        parts.append(part)
    timings = {}
    for name, files in (("one document", [long_file]), (f"{pieces} files", parts)):
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            extract_files(files)
            best = min(best, time.perf_counter() - started)
        timings[name] = best
        print(f"{name} ({len(text) / 1e6:.2f} MB): {best:.1f} s (best of 2)")
    ratio = timings["one document"] / timings[f"{pieces} files"]
    print(f"long/pieces ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
