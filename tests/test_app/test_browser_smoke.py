"""The app served by ``streamlit run app.py`` loads in a real Chromium and names itself."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_app_page_loads_and_shows_its_name(streamlit_url: str, browser_page: Any) -> None:
    from playwright.sync_api import expect

    response = browser_page.goto(streamlit_url)
    assert response is not None and response.ok
    expect(browser_page.get_by_test_id("stApp")).to_be_visible()
    expect(browser_page.get_by_text("fallout", exact=True).first).to_be_visible(timeout=60_000)
    expect(browser_page.get_by_test_id("stException")).to_have_count(0)
    assert "fallout" in browser_page.title()
