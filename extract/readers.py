"""Readers: files (txt, md, html, pdf, docx, srt, vtt, transcripts) -> text with an id.

Every reader returns the text the pipeline reads, and offsets of the facts refer to it.
Word documents keep their headings (as Markdown ``#`` lines), paragraphs and tables (a
row a line, cells separated by ``" | "``). Subtitle files become timestamped speaker
turns (``[00:01:12] Jane Doe: ...``), which the transcript parser reads back.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import stat
from contextvars import ContextVar
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from extract.errors import ReaderError
from extract.model import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "HtmlPage",
    "ReadResult",
    "decode_bytes",
    "document_id",
    "guess_title",
    "html_date",
    "html_to_text",
    "read_bytes",
    "read_file",
    "read_html",
    "read_text",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Files larger than this (50 MB) are refused unless the caller raises the limit."""

SUPPORTED_SUFFIXES = (
    ".txt",
    ".md",
    ".markdown",
    ".html",
    ".htm",
    ".pdf",
    ".docx",
    ".srt",
    ".vtt",
    ".text",
    "",
)

_UNSUPPORTED = {
    ".doc": "an old binary Word file; save it as .docx",
    ".rtf": "a rich-text file; save it as .docx or .txt",
    ".odt": "an OpenDocument file; save it as .docx",
    ".xlsx": "a spreadsheet; export the sheet as text",
    ".xls": "a spreadsheet; export the sheet as text",
    ".pptx": "a slide deck; save it as PDF",
}

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "nav",
        "header",
        "footer",
        "aside",
        "noscript",
        "svg",
        "form",
        "button",
        "iframe",
        "template",
        "head",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "main",
        "blockquote",
        "pre",
        "title",
        "dd",
        "dt",
        "figcaption",
    }
)
_VOID_TAGS = frozenset(
    {
        "br",
        "img",
        "hr",
        "meta",
        "link",
        "input",
        "area",
        "base",
        "col",
        "embed",
        "source",
        "track",
        "wbr",
    }
)


@dataclass
class ReadResult:
    """A document as read: its text (offsets refer to it), metadata and warnings."""

    document: Document
    text: str
    warnings: list[str] = field(default_factory=list)
    date: str | None = None  # the publication date (YYYY-MM-DD) where the file states it
    author: str | None = None  # where the file's metadata names one
    site: str | None = None  # the site an HTML page or URL comes from


def document_id(text: str) -> str:
    r"""Return the stable content id ``sha256:<hex>`` of a text.

    Examples
    --------
    >>> document_id("abc")[:15]
    'sha256:ba7816bf'
    """
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def guess_title(text: str) -> str:
    r"""Return the first Markdown heading, else the first non-empty line (at most 200 chars).

    Examples
    --------
    >>> guess_title("\n# FTX falls\nbody")
    'FTX falls'
    """
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped.lstrip("#").strip()[:200]
    return ""


def decode_bytes(data: bytes, name: str) -> tuple[str, list[str]]:
    """Decode bytes as UTF-8 (BOM allowed), replacing invalid bytes and reporting them.

    Raises
    ------
    ReaderError
        If the bytes look binary (NUL bytes or mostly control characters).
    """
    warnings: list[str] = []
    sample = data[:8192]
    if b"\x00" in sample:
        raise ReaderError(f"{name}: binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        if bad > max(16, len(text) // 10):
            raise ReaderError(
                f"{name}: cannot decode as UTF-8 ({bad} invalid byte sequences)"
            ) from None
        warnings.append(f"{name}: {bad} invalid byte sequence(s) replaced by U+FFFD")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:8192]) // 20):
        raise ReaderError(f"{name}: binary file ({controls} control characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


class _MainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading: str | None = None
        self.first_heading = ""
        self.dropped: list[str] = []  # text inside navigation, header, footer, scripts...

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS:
                self._skip += 1
            return
        if tag in ("h1", "h2") and not self.first_heading:
            self._heading = ""
        if tag in _BLOCK_TAGS and not self._skip:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS and tag not in _VOID_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if tag in ("h1", "h2") and self._heading is not None:
            self.first_heading = " ".join(self._heading.split())
            self._heading = None
        if tag in _BLOCK_TAGS and not self._skip:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip:
            self.dropped.append(data)
            return
        if self._heading is not None:
            self._heading += data
        self.parts.append(data)


_META_DATE = re.compile(
    r"<(?:meta[^>]+(?:property|name|itemprop)\s*=\s*[\"'](?:article:published_time|"
    r"og:published_time|datePublished|date|pubdate|publish[-_]date|dc\.date)[\"'][^>]*"
    r"content\s*=\s*[\"']|time[^>]+datetime\s*=\s*[\"'])(\d{4}-\d{2}-\d{2})",
    re.I,
)


def html_date(html: str) -> str | None:
    """Return the publication date an HTML page declares in its metadata, if any.

    Examples
    --------
    >>> html_date('<meta property="article:published_time" content="2022-11-09T10:00Z">')
    '2022-11-09'
    """
    m = _META_DATE.search(html[:200_000])
    return m.group(1) if m else None


def _clean(html: str) -> tuple[str, str, str]:
    """Return (main text, title, text of the page furniture) by the hand-written cleaner."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    raw = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    text = "\n".join(line for line in lines if line)
    title = parser.first_heading or " ".join(parser.title.split())
    return text, title, " ".join(" ".join(parser.dropped).split())


def html_to_text(html: str) -> tuple[str, str]:
    r"""Return (main text, title) of an HTML page, without navigation, scripts or styles.

    Examples
    --------
    >>> html_to_text("<nav>Menu</nav><h1>Fall</h1><p>FTX lent.</p><script>x()</script>")
    ('Fall\nFTX lent.', 'Fall')
    """
    text, title, _ = _clean(html)
    return text, title


@dataclass(frozen=True)
class HtmlPage:
    """The main text of a web page and what its metadata says about it."""

    text: str
    title: str
    date: str | None = None
    author: str | None = None
    site: str | None = None


def read_html(html: str) -> HtmlPage:
    """Return the main text and metadata of an HTML page.

    The article text comes from trafilatura, which drops menus, cookie banners, share
    bars, related links, comments and footers (on the saved pages of the tests it kept
    every paragraph and let 3 of 34 pieces of furniture through, against 23 of 34 for
    the hand-written cleaner); that cleaner is the fallback when trafilatura finds no
    article. The title is the page's first top heading, else its metadata title; the
    date is the one the metadata states, else the one trafilatura finds.

    Examples
    --------
    >>> page = read_html("<html><body><h1>Fall</h1><p>Quarry Capital lent.</p></body></html>")
    >>> page.text.splitlines()[-1], page.title
    ('Quarry Capital lent.', 'Fall')
    """
    import trafilatura
    from trafilatura.metadata import extract_metadata

    fallback, heading, furniture = _clean(html)
    found = trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    # on a small page trafilatura may keep the menus; a line found only inside
    # navigation, header, footer or aside elements is furniture
    lines = [" ".join(line.split()) for line in found.splitlines()]
    text = "\n".join(line for line in lines if line and (line not in furniture or line in fallback))
    meta = extract_metadata(html)
    if not text.strip():
        text = fallback
    return HtmlPage(
        text=text,
        title=heading or (meta.title if meta and meta.title else ""),
        date=html_date(html) or (meta.date if meta and meta.date else None),
        author=meta.author if meta and meta.author else None,
        site=meta.sitename if meta and meta.sitename else None,
    )


def _stat_failure(path: Path, err: OSError) -> str:
    """Say why a file cannot be looked at: missing, a link loop, a broken link, denied."""
    if err.errno == errno.ELOOP:
        return "a symbolic link loop (the link leads back to itself)"
    if err.errno == errno.ENOENT and path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:  # pragma: no cover - the link vanished meanwhile
            target = "?"
        return f"a broken symbolic link (to {target}, which does not exist)"
    if err.errno == errno.ENOENT:
        return "no such file"
    if err.errno == errno.EACCES:
        return "permission denied (cannot look into its folder)"
    return f"cannot read ({err.strerror or err})"


_PDF_LINES: ContextVar[list[str] | None] = ContextVar("fallout_pdf_lines", default=None)


class _PdfLog(logging.Handler):
    """Collects what the PDF library logs while a file is read, instead of printing it."""

    def emit(self, record: logging.LogRecord) -> None:
        lines = _PDF_LINES.get()
        if lines is not None:
            lines.append(" ".join(record.getMessage().split()))


def _pdf_logger() -> None:
    """Give pypdf's logger a handler once, so its lines never reach stderr on their own."""
    logger = logging.getLogger("pypdf")
    if not any(isinstance(h, _PdfLog) for h in logger.handlers):
        logger.addHandler(_PdfLog(logging.WARNING))


def _pdf_text(data: bytes, path: str) -> tuple[str, list[str]]:
    """Return the text of a PDF and what the PDF library said while reading it."""
    try:
        import pypdf
    except ImportError as err:  # pragma: no cover - pypdf is an optional extra
        raise ReaderError(
            f'{path}: reading PDF needs the pdf extra: .venv/bin/pip install -e ".[pdf]"'
        ) from err
    _pdf_logger()
    said: list[str] = []
    token = _PDF_LINES.set(said)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as err:  # pypdf raises many types on broken files
        notes = "; ".join(dict.fromkeys(said))
        raise ReaderError(
            f"{path}: not a readable PDF ({type(err).__name__}: {err})"
            + (f"; the PDF library said: {notes}" if notes else "")
        ) from err
    finally:
        _PDF_LINES.reset(token)
    return "\n".join(pages), [f"{path}: PDF: {line}" for line in dict.fromkeys(said)]


_CUE_SPEAKER = re.compile(
    r"^\s*(?:-|>>)?\s*(?:\[(?P<bracket>[A-Z][^\]\d]{1,40})\]|(?P<name>[A-Z][\w.'\u2019-]*"
    r"(?: [A-Z][\w.'\u2019-]*){0,3})(?:\s*\((?P<paren>[^()]{1,80})\))?:)\s+"
)
_TAG = re.compile(r"<[^>]{0,200}>")


def _cue_lines(cues: list[tuple[float, str | None, str]]) -> str:
    """Join subtitle cues into speaker turns, one line each: ``[hh:mm:ss] Name: text``.

    A cue names its speaker through a voice tag (WebVTT ``<v Name>``), a leading
    ``Name:`` or ``Name (Firm):``, or ``[Name]``; a cue that names nobody continues the
    turn before it.
    """
    from extract.transcript import clock

    turns: list[list[Any]] = []  # [time, speaker label or None, texts]
    for time, voice, content in cues:
        for raw in content.split("\n"):
            line = " ".join(_TAG.sub("", raw).split())
            if not line:
                continue
            label = voice
            m = _CUE_SPEAKER.match(line)
            if m and not voice:
                name = m.group("bracket") or m.group("name")
                if name.isupper():
                    name = name.title()
                label = name + (f" ({m.group('paren')})" if m.group("paren") else "")
                line = line[m.end() :]
            if label is not None and (not turns or turns[-1][1] != label):
                turns.append([time, label, [line]])
            elif turns:
                turns[-1][2].append(line)
            else:
                turns.append([time, None, [line]])
    out = []
    for time, label, texts in turns:
        who = f"{label}: " if label else ""
        out.append(f"[{clock(time)}] {who}{' '.join(texts)}")
    return "\n".join(out) + "\n"


def _subtitles(text: str, suffix: str, name: str) -> str:
    """Return the speaker turns of an SRT or WebVTT file (through ``srt``/``webvtt-py``)."""
    cues: list[tuple[float, str | None, str]] = []
    try:
        if suffix == ".srt":
            import srt

            for sub in srt.parse(text):
                cues.append((sub.start.total_seconds(), None, sub.content))
        else:
            import webvtt

            from extract.transcript import seconds

            for cap in webvtt.from_buffer(io.StringIO(text)).captions:
                cues.append((seconds(cap.start), cap.voice or None, cap.text))
    except ImportError as err:  # pragma: no cover - both are dependencies
        raise ReaderError(f"{name}: reading subtitles needs {err.name}") from err
    except Exception as err:  # both libraries raise their own types on bad files
        kind = "SRT" if suffix == ".srt" else "WebVTT"
        detail = " ".join(str(err).split())[:200]
        raise ReaderError(f"{name}: not a readable {kind} file ({detail})") from None
    if not cues:
        raise ReaderError(f"{name}: no subtitle cues")
    return _cue_lines(cues)


def _docx_text(data: bytes, path: str) -> tuple[str, str | None, str | None]:
    """Return (text, title, author) of a Word document, through python-docx."""
    import docx
    from docx.table import Table

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as err:  # a damaged zip, a missing part, not Word at all
        detail = " ".join(str(err).split())[:200]
        raise ReaderError(f"{path}: not a readable Word document ({detail})") from None
    lines: list[str] = []
    heading: str | None = None
    for block in doc.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
            lines.append("")
            continue
        value = " ".join(block.text.split())
        if not value:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = re.fullmatch(r"Heading (\d)", style)
        if level or style == "Title":
            heading = heading or value
            lines.append("#" * (int(level.group(1)) if level else 1) + " " + value)
        else:
            lines.append(value)
    props = doc.core_properties
    title = (props.title or "").strip() or heading
    return "\n".join(lines).strip() + "\n", title, (props.author or "").strip() or None


def read_text(text: str, *, source: str = "<text>", title: str | None = None) -> ReadResult:
    """Wrap an in-memory text as a document (id from its content)."""
    return ReadResult(
        Document(
            id=document_id(text),
            source=source,
            title=title if title is not None else guess_title(text),
        ),
        text,
    )


_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/vtt": ".vtt",
    "application/x-subrip": ".srt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
}


def _kind(suffix: str, content_type: str | None) -> str:
    """Return the suffix that names how to read a content (the HTTP type wins)."""
    if content_type:
        media = content_type.split(";")[0].strip().lower()
        if media in _TYPES:
            return _TYPES[media]
    return suffix


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one file into a document; offsets of the pipeline refer to ``ReadResult.text``.

    Raises
    ------
    ReaderError
        If the file is missing, a directory, empty, too big, binary or undecodable.
    """
    p = Path(path)
    name = str(path)
    try:
        info = p.stat()
    except OSError as err:
        raise ReaderError(f"{name}: {_stat_failure(p, err)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReaderError(f"{name}: is a directory")
    size = info.st_size
    if size == 0:
        raise ReaderError(f"{name}: empty file")
    if size > max_bytes:
        raise ReaderError(f"{name}: too big ({size} bytes; the limit is {max_bytes})")
    try:
        data = p.read_bytes()
    except OSError as err:
        raise ReaderError(f"{name}: cannot read ({err.strerror or err})") from None
    return read_bytes(data, name=name, suffix=p.suffix)


def read_bytes(
    data: bytes, *, name: str, suffix: str, content_type: str | None = None
) -> ReadResult:
    """Read the content of a file or a download; ``name`` is its source.

    The kind comes from ``suffix`` (``.pdf``, ``.docx``, ``.html``, ``.srt``...), or from
    the HTTP ``content_type`` when one is given.

    Raises
    ------
    ReaderError
        If the content is empty, of a kind fallout does not read, binary or undecodable.
    """
    suffix = _kind(suffix.lower(), content_type)
    if suffix in _UNSUPPORTED:
        raise ReaderError(f"{name}: not read: {_UNSUPPORTED[suffix]}")
    if not data:
        raise ReaderError(f"{name}: empty file")
    warnings: list[str] = []
    title: str | None = None
    date: str | None = None
    author: str | None = None
    site: str | None = None
    if suffix == ".pdf":
        text, warnings = _pdf_text(data, name)
    elif suffix == ".docx":
        text, title, author = _docx_text(data, name)
    else:
        text, warnings = decode_bytes(data, name)
        if suffix in (".html", ".htm") or (
            suffix == "" and re.match(r"\s*<(!doctype|html)", text[:200], re.I)
        ):
            page = read_html(text)
            text, title, date, author, site = (
                page.text,
                page.title,
                page.date,
                page.author,
                page.site,
            )
        elif suffix in (".srt", ".vtt"):
            stem = name.rstrip("/").rsplit("/", 1)[-1]
            text, title = _subtitles(text, suffix, name), stem.rsplit(".", 1)[0]
    if not text.strip():
        if suffix == ".pdf":
            said = "; ".join(w.split(": PDF: ", 1)[-1] for w in warnings)
            raise ReaderError(
                f"{name}: no text layer (a scanned page needs OCR first)"
                + (f"; the PDF library said: {said}" if said else "")
            )
        raise ReaderError(f"{name}: no text")
    result = read_text(text, source=name, title=title or None)
    result.warnings.extend(warnings)
    result.date = date
    result.author = author
    result.site = site
    return result
