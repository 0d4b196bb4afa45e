"""Entities named with Markdown links, HTML and script payloads, on every page, in Chromium.

The store holds a small lending network whose names, ids, aliases, kinds, evidence,
document titles and sources are attacks. Each page is opened and driven (a search, a
click on the graph that opens its side panel, a query, a cascade, a report preview, an
upload), and then every frame of the page must hold no live link to the payloads' URLs,
no element the payloads would create, and no dialog may have opened.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from extract.model import Facts

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LINK = "[Verify your account](http://127.0.0.1:1/x)"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
BARE = "http://127.0.0.1:1/auto www.example.invalid mail@example.invalid"
MARKS = "**starmark** <b>boldmark</b> :red[redmark] [j](javascript:alert(3))"
EVIL_ID = "evil-[id](http://127.0.0.1:1/id)"
KIND = "Exchange](http://127.0.0.1:1/kind) <b>boldmark</b>"

_INERT = r"""
() => {
  const bad = [];
  const where = el => {
    const box = el.closest('[data-testid]');
    return box ? ' in ' + box.getAttribute('data-testid') : '';
  };
  const url = /127\.0\.0\.1:1|example\.invalid|javascript:/i;
  for (const a of document.querySelectorAll('a[href]')) {
    if (url.test(a.getAttribute('href'))) bad.push('link ' + a.outerHTML.slice(0, 120) + where(a));
  }
  for (const el of document.querySelectorAll('img[src="x"], [onerror]')) {
    bad.push('tag ' + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('script')) {
    if (/alert\(/.test(el.textContent)) bad.push('script ' + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll('b, strong, em, span')) {
    const text = el.textContent.trim();
    if (['starmark', 'boldmark', 'redmark'].includes(text)) {
      bad.push('markup ' + el.outerHTML.slice(0, 120));
    }
  }
  return bad;
}
"""


def _facts() -> Facts:
    def ev(text: str) -> list[dict[str, Any]]:
        return [{"text": text, "start": 0, "end": len(text)}]

    return Facts.from_dict({
        "document": {"id": "sha256:payloads", "title": f"{LINK} {IMG}",
                     "source": f"{IMG}{SCRIPT}.txt"},
        "entities": [
            {"id": "ftx", "name": f"{LINK} {MARKS}", "type": "Exchange",
             "aliases": [IMG, BARE]},
            {"id": EVIL_ID, "name": f"{IMG} {MARKS}", "type": "Lender",
             "aliases": [f"evil {SCRIPT}"]},
            {"id": "script-firm", "name": f"{SCRIPT} {BARE}", "type": "TradingFirm"},
            {"id": "ftt", "name": f"{MARKS} $x^2$", "type": "Token"},
        ],
        "relations": [
            {"head": "ftx", "type": "LENT_TO", "tail": EVIL_ID, "confidence": 0.9,
             "amount": 1e9, "currency": "USD", "speaker": LINK,
             "evidence": ev(f"{LINK} lent to {IMG} {MARKS} {BARE}")},
            {"head": EVIL_ID, "type": "LENT_TO", "tail": "script-firm", "confidence": 0.9,
             "amount": 5e8, "currency": "USD", "evidence": ev(f"{SCRIPT} borrowed {LINK}")},
            {"head": EVIL_ID, "type": "DEPOSITED_WITH", "tail": "ftx", "confidence": 0.9,
             "amount": 2e9, "currency": "USD", "evidence": ev(f"{IMG} deposited {BARE}")},
            {"head": "ftx", "type": "ISSUED", "tail": "ftt", "confidence": 0.9,
             "evidence": ev(f"{MARKS} issued")},
            {"head": "script-firm", "type": "HOLDS", "tail": "ftt", "confidence": 0.9,
             "amount": 3e8, "currency": "USD", "evidence": ev(f"{SCRIPT} holds {MARKS}")},
        ],
    })


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


@pytest.fixture(scope="module")
def payload_app(browser_page: Any) -> Iterator[tuple[str, Any, list[str]]]:
    """``streamlit run app.py`` on a store of payloads; the page and the dialogs it opened."""
    from graph.store import open_store
    from tests.fixtures.browser import free_port

    workdir = Path(tempfile.mkdtemp(prefix="fallout-payloads-"))
    store_dir = workdir / "store"
    with open_store(store_dir) as store:
        store.load([_facts()])
        store.load([Facts.from_dict({
            "document": {"id": "sha256:kind", "title": "kind", "source": "kind.txt"},
            "entities": [{"id": "odd-kind", "name": "Odd kind firm", "type": "Company"}],
        })])
        store.cypher("MATCH (e:Entity {id: 'odd-kind'}) SET e.type = $kind", {"kind": KIND},
                     write=True)
    port = free_port()
    log = (workdir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [_python(), "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "FALLOUT_STORE": str(store_dir)},
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    browser_page.on("dialog", on_dialog)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (workdir / "streamlit.log").read_text()[-800:]
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "streamlit did not answer within 60 s"
            time.sleep(0.25)
        yield url, browser_page, dialogs
    finally:
        browser_page.remove_listener("dialog", on_dialog)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _assert_inert(page: Any, dialogs: list[str], where: str) -> None:
    page.wait_for_timeout(1500)  # components and iframes finish drawing
    found = []
    for frame in page.frames:
        try:
            found += [f"{where} ({frame.url[:60]}): {b}" for b in frame.evaluate(_INERT)]
        except Exception as err:  # noqa: BLE001 - a frame gone between listing and reading
            if "detached" not in str(err).lower():
                raise
    assert not found, "\n".join(found)
    assert not dialogs, f"{where}: dialogs opened: {dialogs}"
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stException")).to_have_count(0)


def _shown(text: str) -> re.Pattern[str]:
    """``text`` as the app shows it: invisible word joiners may break up URLs and addresses."""
    pieces = (r"\/" if ch == "/" else re.escape(ch) for ch in text)  # "/" ends a selector's regex
    return re.compile(r"\u2060?".join(pieces))


def _open(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_test_id("stSidebar").get_by_text("Entities")).to_be_visible(
        timeout=60_000)


def _click_node(page: Any, node_id: str) -> None:
    """Click the node ``node_id`` (escaped as the graph holds it) with the real mouse."""
    import html

    iframe = page.locator("iframe[title*='st_link_analysis']").first
    iframe.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    frame = iframe.element_handle().content_frame()
    where = frame.evaluate(
        "id => { const el = document.getElementById('cy'); const cy = el._cyreg.cy;"
        " const p = cy.getElementById(id).renderedPosition(); const r = el.getBoundingClientRect();"
        " return {x: r.x + p.x, y: r.y + p.y}; }",
        html.escape(node_id, quote=True),
    )
    box = iframe.bounding_box()
    page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])
    page.wait_for_timeout(1000)


def test_explore_shows_payloads_as_text(payload_app: tuple[str, Any, list[str]]) -> None:
    from playwright.sync_api import expect

    url, page, dialogs = payload_app
    _open(page, url)
    search = page.get_by_label("Search by name or alias")
    search.fill("Verify")
    search.press("Enter")
    heading = page.get_by_role("heading", name=_shown(f"{LINK} {MARKS}"))
    expect(heading).to_be_visible(timeout=60_000)
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text=_shown(LINK))
    expect(caption.first).to_be_visible()
    for expander in page.get_by_test_id("stExpander").all():
        expander.click()
    _assert_inert(page, dialogs, "Explore, FTX")
    # the graph's side panel shows the clicked node's fields
    _click_node(page, EVIL_ID)
    expect(page.get_by_role("heading", name=_shown(f"{IMG} {MARKS}"))).to_be_visible(timeout=60_000)
    _assert_inert(page, dialogs, "Explore, a node clicked")
    search.fill("Odd kind")
    search.press("Enter")
    expect(page.get_by_text(_shown(KIND)).first).to_be_visible(timeout=60_000)
    _assert_inert(page, dialogs, "Explore, a payload kind")


def test_cypher_shows_payloads_as_text(payload_app: tuple[str, Any, list[str]]) -> None:
    from playwright.sync_api import expect

    url, page, dialogs = payload_app
    _open(page, f"{url}/cypher")
    editor = page.get_by_label("Query")
    editor.fill("MATCH (a:Entity)-[r]->(b:Entity) RETURN a, r, b")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", name="As a graph")).to_be_visible(timeout=60_000)
    _click_node(page, "ftx")
    _assert_inert(page, dialogs, "Cypher, a result graph")
    editor.fill(f"MATCH (n:Entity RETURN '{LINK} {IMG}'")  # the error quotes the query
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("stAlert").first).to_be_visible(timeout=60_000)
    _assert_inert(page, dialogs, "Cypher, an error quoting the query")


def test_simulate_and_report_show_payloads_as_text(payload_app: tuple[str, Any, list[str]]) -> None:
    from playwright.sync_api import expect

    url, page, dialogs = payload_app
    _open(page, f"{url}/simulate?default={quote(EVIL_ID)}")
    expect(page.get_by_role("heading", name="Ranked losses")).to_be_visible(timeout=120_000)
    _assert_inert(page, dialogs, "Simulate, a cascade from the URL")
    page.get_by_role("button", name=_shown(f"{LINK} {MARKS} defaults")).click()  # the quick button
    expect(page.get_by_role("heading", name="Ranked losses")).to_be_visible(timeout=120_000)
    _assert_inert(page, dialogs, "Simulate, the quick button")
    _open(page, f"{url}/report?default={quote(EVIL_ID)}")
    expect(page.get_by_role("button", name="Download HTML")).to_be_visible(timeout=120_000)
    _assert_inert(page, dialogs, "Reports, the preview")


def test_ingest_shows_payloads_as_text(
    payload_app: tuple[str, Any, list[str]], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url, page, dialogs = payload_app
    _open(page, f"{url}/ingest")
    upload = tmp_path / "[upload](http:127.0.0.1:1:x) <b>boldmark<b>.txt"
    upload.write_text(f"FTX lent $4 billion to Alameda Research. {LINK} {IMG} {SCRIPT}",
                      encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_label("…or paste a text").fill(f"{MARKS} {BARE} said FTX lent to BlockFi.")
    page.get_by_role("button", name="Extract").click()
    expect(page.get_by_text("Relations (", exact=False).first).to_be_visible(timeout=240_000)
    _assert_inert(page, dialogs, "Ingest, the review")
