"""A logged-in artist's header in chromium: one line at 1280 px, in English and in French (the
longer links), and at 375 px the brand beside the language switch with the links under them,
nothing scrolling sideways. Photographed as tests/browser/screenshots/header-artist-*."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.helpers import ARTIST_PASSWORD, PHONE, log_in, make_artist

pytestmark = [pytest.mark.django_db(transaction=True)]

# The header's height, and the top and bottom of each thing shown in it.
LAYOUT = """() => {
  const box = e => e.getBoundingClientRect();
  const parts = [...document.querySelectorAll(".brand, .nav > li, .language-switch > :not([type=hidden])")]
    .map(e => ({text: e.innerText.trim(), top: box(e).top, bottom: box(e).bottom}));
  return {height: box(document.querySelector(".site-header")).height, parts};
}"""
ONE_LINE = 64  # px: the brand's line and the header's padding
PHONE_MOST = 150  # px: the brand's line and three lines of links


def layout(page: Page) -> dict[str, Any]:
    return dict(page.evaluate(LAYOUT))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_artists_header_is_one_line_at_1280_px_and_short_on_a_phone(live_server, visitor, language):
    make_artist("ada@example.com", name="Ada Lovelace")
    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    page = artist.page
    if language == "fr":
        page.locator(".language-switch").get_by_role("button", name="Français").click()
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator(".nav > li").count() == 8  # home, search, portfolio ... log out

    desktop = layout(page)
    brand = desktop["parts"][0]
    below = [p["text"] for p in desktop["parts"] if p["top"] >= brand["bottom"]]
    assert below == [], f"on a second line at 1280 px: {below}"
    assert desktop["height"] <= ONE_LINE, desktop["height"]

    page.set_viewport_size(PHONE)
    try:
        phone = layout(page)
        brand, language_parts = phone["parts"][0], phone["parts"][-2:]
        assert all(p["top"] < brand["bottom"] for p in language_parts), phone["parts"]
        assert phone["height"] <= PHONE_MOST, phone["height"]
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    artist.check(f"header-artist-{language}")
