from __future__ import annotations

import pytest

from extract.errors import ReaderError
from extract.readers import document_id, html_to_text, read_file, read_text


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"\x00\x01\x02binary\x00", "binary"), (b"\xff\xfe\xfa" * 100, "decode")],
)
def test_readers_bad_input_named_with_reason(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ReaderError, match=reason) as info:
        read_file(path)
    assert "bad.txt" in str(info.value)


@pytest.mark.parametrize("name", ["missing.txt"])
def test_readers_missing_file(tmp_path, name):
    with pytest.raises(ReaderError, match="no such file"):
        read_file(tmp_path / name)


@pytest.mark.parametrize("limit", [10])
def test_readers_huge_file_refused(tmp_path, limit):
    path = tmp_path / "big.txt"
    path.write_text("FTX lent money. " * 10)
    with pytest.raises(ReaderError, match="too big"):
        read_file(path, max_bytes=limit)


@pytest.mark.parametrize("bad", [b"Alameda \xff borrowed from FTX."])
def test_readers_invalid_bytes_replaced_and_reported(tmp_path, bad):
    path = tmp_path / "mixed.txt"
    path.write_bytes(bad)
    result = read_file(path)
    assert "\ufffd" in result.text
    assert result.warnings and "mixed.txt" in result.warnings[0]


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>T</title><style>p{}</style></head><body><nav>Home | About</nav>"
        "<header>Site</header><h1>Lender fails</h1><p>Quarry Capital lent to Bellwether.</p>"
        "<script>var x = 1;</script><footer>(c) site</footer></body></html>"
    ],
)
def test_readers_html_keeps_main_text_only(tmp_path, html):
    path = tmp_path / "page.html"
    path.write_text(html)
    result = read_file(path)
    assert "Quarry Capital lent to Bellwether." in result.text
    for junk in ("Home", "var x", "(c) site", "p{}", "Site"):
        assert junk not in result.text
    assert result.document.title == "Lender fails"


@pytest.mark.parametrize("text", ["# Title here\n\nBody text."])
def test_readers_id_is_content_hash_and_title_first_heading(text):
    result = read_text(text, source="x.md")
    assert result.document.id == document_id(text)
    assert result.document.id.startswith("sha256:") and len(result.document.id) == 71
    assert result.document.title == "Title here"


@pytest.mark.parametrize("html", ["<p>a &amp; b</p><p>c</p>"])
def test_readers_html_entities_and_blocks(html):
    text, _ = html_to_text(html)
    assert text == "a & b\nc"


def minimal_pdf(lines: list[str], *, bad_xref: bool = False) -> bytes:
    """Write a one-page PDF whose text layer holds ``lines``, one a line (Helvetica).

    ``bad_xref`` points ``startxref`` past the table, which the PDF library repairs
    while complaining.
    """
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n".encode()
    out += f"{xref + (57 if bad_xref else 0)}\n%%EOF\n".encode()
    return bytes(out)


def test_readers_pdf_text_layer(tmp_path, capfd):
    path = tmp_path / "note.pdf"
    path.write_bytes(
        minimal_pdf(["Quarry Capital lent $4 million to Bellwether Exchange.", "Filed (late)."])
    )
    read = read_file(path)
    assert read.text.splitlines() == [
        "Quarry Capital lent $4 million to Bellwether Exchange.",
        "Filed (late).",
    ]
    assert read.warnings == []
    assert capfd.readouterr().err == ""


def test_readers_pdf_library_noise_becomes_warnings_and_reasons(tmp_path, capfd):
    repaired = tmp_path / "repaired.pdf"
    repaired.write_bytes(minimal_pdf(["Tamsin Bank lent to Pellam Research."], bad_xref=True))
    read = read_file(repaired)
    assert read.text.strip() == "Tamsin Bank lent to Pellam Research."
    assert any("incorrect startxref pointer" in w for w in read.warnings)
    assert all(w.startswith(f"{repaired}: PDF: ") for w in read.warnings)
    blank = tmp_path / "scan.pdf"
    blank.write_bytes(minimal_pdf([], bad_xref=True))
    with pytest.raises(ReaderError, match="no text layer") as info:
        read_file(blank)
    assert "the PDF library said: incorrect startxref pointer" in str(info.value)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really a pdf")
    with pytest.raises(ReaderError, match="broken.pdf: not a readable PDF"):
        read_file(broken)
    assert capfd.readouterr().err == ""  # nothing the library said reached the terminal
