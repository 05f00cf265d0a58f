"""The portfolio's default choice in chromium: a hostile licence address and markup in the
attribution answered beside their fields with nothing saved, then a licence saved and a new
request starting from it, in English and French. Every page passes axe-core and is photographed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import ArtistProfile
from tests.helpers import ARTIST_PASSWORD, log_in, make_artist

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_artist_sets_the_portfolio_default_and_a_new_request_starts_from_it(visitor: Any):
    artist = make_artist("lin@artist.example", name="Lin Default")
    pages = visitor()
    page = pages.page
    log_in(pages, "lin@artist.example", ARTIST_PASSWORD)
    page = pages.goto("/portfolio/")
    section = page.get_by_role("region", name="What AI may do with your new works")
    expect(section.locator("#default-choice-now")).to_contain_text("Remove from AI training")
    section.get_by_text("Change the default").click()
    expect(section.get_by_label("Remove from AI training")).to_be_checked()
    pages.check("portfolio-default")

    # A licence address that is not http(s): the error beside the field, focused, nothing saved.
    section.get_by_label("Allow under a licence").check()
    section.get_by_label("Another licence (its URL)").check()
    section.get_by_label("Address of your licence").fill("javascript:alert(1)")
    section.get_by_role("button", name="Save the default choice").click()
    section = page.get_by_role("region", name="What AI may do with your new works")
    expect(section.locator(".field--error")).to_contain_text("must start with http:// or https://")
    expect(section.get_by_label("Address of your licence")).to_be_focused()
    pages.check("portfolio-default-error")
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "remove"

    # Markup in the attribution: refused too, the typed text kept in its field.
    section.get_by_label("Address of your licence").fill("https://lin.example/licence")
    section.get_by_label("How to credit you").fill('<a href="https://evil.example">Lin</a>')
    section.get_by_role("button", name="Save the default choice").click()
    section = page.get_by_role("region", name="What AI may do with your new works")
    expect(section.locator(".field--error")).to_contain_text("must be plain text")
    expect(section.get_by_label("How to credit you")).to_have_value('<a href="https://evil.example">Lin</a>')
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "remove"

    section.get_by_label("How to credit you").fill("Drawing: Lin D.")
    section.get_by_role("button", name="Save the default choice").click()
    expect(page.locator(".messages")).to_contain_text("Your portfolio's default choice is saved")
    expect(page.locator("#default-choice-now")).to_contain_text(
        "Allow under a licence (Another licence (its URL))"
    )
    saved = ArtistProfile.objects.get(pk=artist.pk)
    assert (saved.default_licence_url, saved.default_attribution) == (
        "https://lin.example/licence",
        "Drawing: Lin D.",
    )
    pages.check("portfolio-default-saved")

    # A new request starts from it, and its page shows it.
    ticket = services.request_create(artist=ArtistProfile.objects.get(pk=artist.pk), basis="copyright")
    page = pages.goto(f"/requests/{ticket.reference}/")
    assert (ticket.choice, ticket.licence_url, ticket.attribution) == (
        "licence",
        "https://lin.example/licence",
        "Drawing: Lin D.",
    )
    expect(page.locator("#choice").get_by_label("Allow under a licence")).to_be_checked()

    # In French.
    page = pages.goto("/portfolio/")
    page.get_by_role("button", name="Français").click()
    section = page.get_by_role("region", name="Ce que les IA peuvent faire de vos nouvelles œuvres")
    expect(section.locator("#default-choice-now")).to_contain_text("Choix par défaut de votre portfolio")
    pages.check("portfolio-default-fr")
