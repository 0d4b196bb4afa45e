"""``fallout ingest https://...``: pages served by a local HTTP server the test starts."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extract.errors import ReaderError
from extract.fetch import USER_AGENT, fetch_url
from graph.store import open_store
from tests.test_extract.test_readers import minimal_pdf

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "tests" / "data" / "html" / "p1.html").read_bytes()
PDF = minimal_pdf(["Marlow Bank lent $60 million to Quarry Capital."])
SEEN: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base name
        pass

    def _send(self, body: bytes, kind: str, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        SEEN.append(self.headers.get("User-Agent", ""))
        if self.path == "/story":
            self._send(PAGE, "text/html; charset=utf-8")
        elif self.path == "/files/filing":
            self._send(PDF, "application/pdf")
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/story")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/huge":
            self._send(b"x" * 10, "text/plain", length=10_000_000)
        elif self.path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()  # no length: the limit is checked as the body arrives
            for _ in range(64):
                self.wfile.write(b"Quarry Capital lent money. " * 100)
        elif self.path == "/slow":
            time.sleep(3)
            self._send(b"late", "text/plain")
        else:
            body = b"no such page"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_page_keeps_url_as_source_and_sends_user_agent(server):
    SEEN.clear()
    read = fetch_url(f"{server}/story")
    assert read.document.source == f"{server}/story"
    assert read.document.title == "Quarry Capital halts withdrawals after lender calls in loan"
    assert (read.date, read.author, read.site) == ("2022-11-10", "Ines Garro", "Harbour Ledger")
    assert "Bellwether Exchange, which borrowed $40 million" in read.text
    assert "Accept all" not in read.text
    assert SEEN == [USER_AGENT] and USER_AGENT.startswith("fallout/")


def test_fetch_pdf_by_content_type_and_redirect(server):
    pdf = fetch_url(f"{server}/files/filing")  # no suffix: the content type decides
    assert pdf.text.strip() == "Marlow Bank lent $60 million to Quarry Capital."
    moved = fetch_url(f"{server}/moved")
    assert moved.document.source == f"{server}/moved"
    assert "Quarry Capital stopped client withdrawals" in moved.text


@pytest.mark.parametrize(
    ("path", "kwargs", "reason"),
    [
        ("/missing", {}, "HTTP 404 Not Found"),
        ("/huge", {"max_bytes": 1000}, r"too big \(10000000 bytes; the limit is 1000\)"),
        ("/endless", {"max_bytes": 50_000}, r"too big \(more than 50000 bytes\)"),
        ("/slow", {"timeout": 0.5}, r"no answer within 0.5 s \(timed out\)"),
    ],
)
def test_fetch_refusals_name_the_url(server, path, kwargs, reason):
    with pytest.raises(ReaderError, match=reason) as info:
        fetch_url(server + path, **kwargs)
    assert str(info.value).startswith(f"{server}{path}: ")


@pytest.mark.parametrize("url", ["ftp://example.org/a.txt", "http:///nohost"])
def test_fetch_refuses_other_schemes(url):
    with pytest.raises(ReaderError, match="not an http"):
        fetch_url(url)


@pytest.mark.slow
def test_fetch_cli_ingest_url(server, tmp_path):
    store = tmp_path / "store"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from graph.cli import main; main()",
            "ingest",
            f"{server}/story",
            f"{server}/missing",
            "--store",
            str(store),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # one URL skipped
    assert f"fallout: skipped {server}/missing: HTTP 404 Not Found" in done.stderr
    with open_store(store) as opened:
        dump = opened.dump()
        assert [d.source for d in dump.documents] == [f"{server}/story"]
        pairs = {(r.head, r.type, r.tail) for r in dump.relations}
    assert ("quarry-capital", "LENT_TO", "bellwether-exchange") in pairs
