"""The reader says why a file cannot be read: link loops, broken links, PDF repairs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from extract.errors import ReaderError
from extract.readers import read_file
from tests.fixtures.documents import BROKEN_PDF, pdf_bytes


def test_a_symbolic_link_loop_is_named_a_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop.name)
    with pytest.raises(ReaderError) as caught:
        read_file(loop)
    assert str(caught.value) == f"{loop}: a symbolic link loop (the link leads back to itself)"


def test_a_broken_link_names_its_target_and_a_missing_file_is_missing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.symlink_to("nowhere.txt")
    with pytest.raises(ReaderError, match=r"broken\.txt: a broken symbolic link \(to nowhere"):
        read_file(broken)
    with pytest.raises(ReaderError, match=r"absent\.txt: no such file$"):
        read_file(tmp_path / "absent.txt")


def test_what_the_pdf_library_says_becomes_named_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "repaired.pdf"
    path.write_bytes(pdf_bytes("Harbor Bank lent money to Quarry Capital.", wrong_xref=True))
    with caplog.at_level(logging.WARNING):
        read = read_file(path)
    assert "Harbor Bank lent money" in read.text
    assert f"{path}: PDF: incorrect startxref pointer(3)" in read.warnings
    assert all(w.startswith(f"{path}: PDF: ") for w in read.warnings)


def test_a_broken_pdf_keeps_what_the_library_said_in_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(BROKEN_PDF)
    with pytest.raises(ReaderError, match=r"broken\.pdf: not a readable PDF \(PdfReadError"):
        read_file(path)
