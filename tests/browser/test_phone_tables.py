"""The demo artist's tables on a phone (375 px), on the demo data (`seed_demo`): the identity
page's proofs and a request's removals per data set are one card per row, each value with its
label, so that neither scrolls inside its box nor breaks a domain into a letter or two a line."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from requests_app.models import RemovalRequest
from tests.helpers import PHONE

pytestmark = [pytest.mark.django_db(transaction=True)]

# Each table in <main>: how far it runs past its box, and the narrowest cell holding text.
MEASURE = """() => [...document.querySelectorAll("main table")].map(table => {
  const box = table.closest(".table-wrap") || table.parentElement;
  const cells = [...table.querySelectorAll("tbody td")].filter(td => td.innerText.trim());
  return {
    past: Math.round(table.getBoundingClientRect().right - box.getBoundingClientRect().right),
    narrowest: Math.round(Math.min(...cells.map(td => td.getBoundingClientRect().width))),
  };
})"""


@pytest.fixture
def demo_artist(visitor: Any, settings: Any, tmp_path: Any) -> Any:
    settings.VAR_DIR = tmp_path  # seed_demo keeps its demo API key there
    call_command("seed_demo", stdout=io.StringIO())
    artist = visitor()
    artist.goto("/login/")
    form = artist.page.locator("form:has(#id_username)")
    form.locator("#id_username").fill("artist@demo.example")
    form.locator("#id_password").fill("demo-artist-pass")
    form.get_by_role("button").click()
    expect(artist.page.get_by_role("link", name="My requests")).to_be_visible()
    artist.page.set_viewport_size(PHONE)
    return artist


def test_the_proofs_and_the_removals_per_data_set_are_cards_on_a_phone(demo_artist: Any) -> None:
    artist = demo_artist
    page = artist.goto("/identity/")
    expect(page.locator("main table td", has_text="images.demo.example")).to_be_visible()
    [proofs] = page.evaluate(MEASURE)
    assert proofs["past"] <= 1, proofs
    assert proofs["narrowest"] > 200, proofs  # the domain keeps a line of its own
    domain = page.locator("main table td", has_text="images.demo.example")
    expect(domain).to_have_attribute("data-label", "For")

    approved = RemovalRequest.objects.get(description__startswith="Demo: my microscopy")
    page = artist.goto(f"/requests/{approved.reference}/")
    progress = page.locator("tr.removal").first
    expect(progress).to_be_visible()
    measures = page.evaluate(MEASURE)
    assert all(m["past"] <= 1 for m in measures), measures
    expect(progress.locator("td").nth(1)).to_have_attribute("data-label", "Maintainer")
    artist.check("phone-tables-request")
