"""A moderator switches the desk to French in chromium at 1280 px, on the demo data: the
timeline rows Removal Desk wrote read in French, months are lower-case, and the page still
fits its width. Photographed as tests/browser/screenshots/desk-request-fr-*."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from requests_app.models import RemovalRequest
from tests.helpers import fits

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_moderator_reads_the_desk_in_french(demo_desk: Any):
    desk = demo_desk
    page = desk.page

    # The rival's request: a conflict found, a canned question, works added, status changes.
    rival = RemovalRequest.objects.filter(artist__user__email="rival@demo.example").get()
    desk.goto(f"/admin/requests_app/removalrequest/{rival.pk}/change/")
    page.locator("#language-form").get_by_role("button", name="Français").click()
    expect(page.locator("#language-form [aria-current]")).to_have_text("Français")
    assert page.url.endswith(f"/admin/requests_app/removalrequest/{rival.pk}/change/")

    timeline = page.locator("#timeline").inner_text()
    assert "Un autre compte a demandé le retrait des mêmes images." in timeline  # the canned question
    assert re.search(r"\d+ œuvres? ajoutées? : ", timeline), timeline
    assert "également revendiquée" in timeline, timeline
    assert "Another account has asked" not in timeline and "work added" not in timeline
    assert "works added" not in timeline and "also claimed" not in timeline
    months = re.findall(r"\b\d{1,2} ([^\W\d]+) 20\d\d\b", timeline)
    assert months and all(m == m.lower() for m in months), months
    assert "Brouillon → Envoyée" in timeline  # a status change by its labels, not its codes
    assert fits(page) == []
    # The proofs' dates (short months in French) end inside the artist's card, not under its edge.
    card = page.locator("#proofs").bounding_box()
    assert card
    for date in page.locator("#proofs td .nowrap").all():
        box = date.bounding_box()
        assert box and box["x"] + box["width"] <= card["x"] + card["width"] - 8, date.inner_text()
    desk.check("desk-request-fr")
