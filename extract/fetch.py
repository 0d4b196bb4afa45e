"""Read documents from the web: ``fallout ingest https://...``.

One GET per URL through httpx, with a polite ``User-Agent`` naming fallout, a timeout,
and a size limit checked on the declared length and again while the body streams in.
The URL as given stays the document's source. Nothing here runs unless a user asks for
a URL.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from posixpath import splitext
from urllib.parse import urlsplit

from extract.errors import ReaderError
from extract.readers import DEFAULT_MAX_BYTES, ReadResult, read_bytes

__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "fetch_url", "is_url"]

DEFAULT_TIMEOUT = 20.0
"""Seconds to wait for the server to connect, answer or send more of the body."""


def _agent() -> str:
    try:
        release = version("fallout")
    except PackageNotFoundError:  # pragma: no cover - a bare checkout
        release = "0"
    return f"fallout/{release} (reads one page per request for a knowledge graph)"


USER_AGENT = _agent()
"""The ``User-Agent`` fallout sends: its name and version, and what it does."""

_URL = re.compile(r"^https?://", re.I)


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL rather than a path.

    Examples
    --------
    >>> is_url("https://example.org/a.html"), is_url("notes/a.html")
    (True, False)
    """
    return bool(_URL.match(text))


def fetch_url(
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> ReadResult:
    """Download one URL and read it like a file of its type; the URL is its source.

    Raises
    ------
    ReaderError
        On a bad URL, a failed connection, a timeout, an HTTP error status, a body over
        ``max_bytes``, or content the readers refuse; the message starts with the URL.
    """
    import httpx

    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ReaderError(f"{url}: not an http(s) URL")
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, text/plain, application/pdf, */*"}
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                reason = response.reason_phrase or "error"
                raise ReaderError(f"{url}: HTTP {response.status_code} {reason}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ReaderError(f"{url}: too big ({declared} bytes; the limit is {max_bytes})")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ReaderError(f"{url}: too big (more than {max_bytes} bytes)")
            content_type = response.headers.get("content-type")
    except httpx.TimeoutException:
        raise ReaderError(f"{url}: no answer within {timeout:g} s (timed out)") from None
    except httpx.HTTPError as err:
        detail = " ".join(str(err).split()) or type(err).__name__
        raise ReaderError(f"{url}: cannot fetch ({detail})") from None
    suffix = splitext(parts.path)[1]
    read = read_bytes(bytes(body), name=url, suffix=suffix, content_type=content_type)
    if read.site is None:
        read.site = parts.hostname
    return read
