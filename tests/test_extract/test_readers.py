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


def test_readers_pdf_text_layer(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 not really a pdf")
    with pytest.raises(ReaderError, match="broken.pdf"):
        read_file(path)
    assert pypdf is not None
