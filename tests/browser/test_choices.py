"""The artist's choice of what AI may do with their works, in a real browser (chromium): the
request's default on its page, a work's own on its page, a bad licence address answered beside
its field, the change after approval and its history, in English and French. Every page passes
axe-core and is photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from registry.models import LicenceGrant, Removal, RemovalState
from requests_app import services
from tests.helpers import ARTIST_PASSWORD, dataset_with_copy, log_in, make_request

pytestmark = [pytest.mark.django_db(transaction=True)]

COPY = "https://cdn.lab.example/chelsea.jpg"


def test_an_artist_changes_an_approved_work_from_removal_to_a_licence(
    live_server, visitor, maintainer, artist, moderator
):
    dataset_with_copy(maintainer, slug="photos", name="Photos", url=COPY)
    ticket = make_request(artist, "chelsea.png")
    services.request_approve(ticket=ticket, moderator=moderator)
    work = ticket.works.get()

    pages = visitor()
    log_in(pages, artist.user.email, ARTIST_PASSWORD)
    page = pages.goto(f"/requests/{ticket.reference}/")
    choice = page.locator("#choice")
    expect(choice.get_by_role("heading", level=2)).to_have_text("What AI may do with these works")
    expect(choice.get_by_label("Remove from AI training")).to_be_checked()
    expect(page.locator(f"#work-{work.pk} .work-choice")).to_contain_text("AI use: Remove from AI training")
    pages.check("choice-request")

    page.get_by_role("link", name="Change the choice for chelsea.png").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What AI may do with chelsea.png")
    expect(page.locator("#current-choice")).to_contain_text("Remove from AI training")
    pages.check("choice-work")

    # A licence address that is not http(s): the error beside the field, nothing saved.
    page.get_by_label("Allow under a licence").check()
    page.get_by_label("Another licence (its URL)").check()
    page.get_by_label("Address of your licence").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save the choice for this work").click()
    field = page.locator(".field--error")
    expect(field).to_contain_text("The licence address must start with http:// or https://.")
    expect(page.get_by_label("Address of your licence")).to_be_focused()
    pages.check("choice-work-error")
    assert not Removal.objects.filter(state=RemovalState.REVOKED).exists()

    # Markup in the attribution: refused too.
    page.get_by_label("Address of your licence").fill("https://licences.example/mine")
    page.get_by_label("How to credit you").fill("<b>Ada</b>")
    page.get_by_role("button", name="Save the choice for this work").click()
    expect(page.locator(".field--error")).to_contain_text("must be plain text")

    page.get_by_label("How to credit you").fill("Photo: Ada Lovelace")
    page.get_by_role("button", name="Save the choice for this work").click()
    expect(page.locator(".messages")).to_contain_text("the data set maintainers are told")
    expect(page.locator(f"#work-{work.pk} .work-choice")).to_contain_text("Allow under a licence")
    assert (
        not Removal.objects.filter(source_ref=ticket.reference).exclude(state=RemovalState.REVOKED).exists()
    )
    grant = LicenceGrant.objects.get(item__isnull=False)
    assert (grant.licence_url, grant.attribution) == ("https://licences.example/mine", "Photo: Ada Lovelace")
    expect(page.locator("#history")).to_contain_text("Choice changed")
    pages.check("choice-request-after")

    # The work's page keeps the history, in French too.
    page = pages.goto(f"/requests/{ticket.reference}/works/{work.pk}/choice/")
    expect(page.get_by_role("region", name="Changes of choice")).to_contain_text(
        "changed from “Remove from AI training” to “Allow under a licence (Another licence (its URL))”"
    )
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce que les IA peuvent faire de chelsea.png")
    expect(page.get_by_role("region", name="Changements de choix")).to_contain_text(
        "modifié de « Retirer de l\u2019entraînement des IA » en « Autoriser sous une licence"
    )
    pages.check("choice-work-fr")
