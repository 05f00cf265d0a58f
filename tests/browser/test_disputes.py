"""Disputes in chromium: the public page (a refused value beside its field, then a dispute sent,
confirmed through the emailed link's button), in English and French, and the artist's answer on
the dispute's page. Every page passes axe-core and fits a phone."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from registry import services as registry_services
from registry.models import Dispute, DisputeState, Removal
from requests_app import services
from tests.helpers import ARTIST_PASSWORD, dataset_with_copy, log_in, mail_link, make_request

pytestmark = [pytest.mark.django_db(transaction=True)]

COPY = "https://cdn.lab.example/chelsea.jpg"
STATEMENT = "This photograph is my own: I published it on my site in 2019, long before this data set."


@pytest.fixture
def published(maintainer, artist, moderator):
    dataset_with_copy(maintainer, slug="photos", name="Photos", url=COPY)
    ticket = make_request(artist, "chelsea.png")
    services.request_approve(ticket=ticket, moderator=moderator)
    removal = Removal.objects.get(source_ref=ticket.reference)
    registry_services.removals_mark_delivered(removals=[removal])
    return ticket, removal


ENGLISH = {
    "title": "Dispute a removal",
    "item": "The removed item",
    "reason": "It is my own work",
    "evidence": "Your evidence",
    "email": "Your email address",
    "send": "Send the dispute",
    "plain": "plain text",
    "sent": "Check your email",
    "confirm": "Confirm the dispute",
    "open": "Your dispute is open",
}
FRENCH = {
    "title": "Contester un retrait",
    "item": "L\u2019élément retiré",
    "reason": "C\u2019est mon œuvre",
    "evidence": "Vos preuves",
    "email": "Votre adresse e-mail",
    "send": "Envoyer la contestation",
    "plain": "texte simple",
    "sent": "Consultez vos e-mails",
    "confirm": "Confirmer la contestation",
    "open": "Votre contestation est ouverte",
}


@pytest.mark.parametrize(("locale", "words"), [("en-GB", ENGLISH), ("fr-FR", FRENCH)])
def test_anyone_files_a_dispute_and_confirms_it(live_server, visitor, published, locale, words):
    _ticket, removal = published
    reader = visitor(locale=locale)
    if locale == "fr-FR":
        reader.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page = reader.goto("/disputes/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["title"])
    reader.check(f"dispute-new-{locale}")
    page.get_by_label(words["item"]).fill(COPY)
    page.get_by_label(words["reason"]).check()
    page.get_by_label(words["evidence"]).fill("<b>Mine</b>, see the original on my web site please")
    page.get_by_label(words["email"]).fill("disputant@example.org")
    page.get_by_role("button", name=words["send"]).click()
    expect(page.locator(".field--error")).to_contain_text(words["plain"])
    reader.check(f"dispute-new-error-{locale}")
    assert not Dispute.objects.exists()
    page.get_by_label(words["evidence"]).fill(STATEMENT)
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])
    reader.check(f"dispute-sent-{locale}")
    reader.goto(mail_link(mail.outbox, "/disputes/confirm/"))
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["open"])
    expect(page.get_by_role("status")).to_contain_text(removal.public_id)
    reader.check(f"dispute-open-{locale}")
    assert Dispute.objects.get().state == DisputeState.OPEN


def test_the_artist_answers_a_dispute_on_its_page(live_server, visitor, published, artist, maintainer):
    ticket, removal = published
    dispute = registry_services.dispute_file(
        removal=removal, maintainer=maintainer.maintainer, reason="not_a_copy", statement=STATEMENT, links=[]
    )
    pages = visitor()
    log_in(pages, artist.user.email, ARTIST_PASSWORD)
    page = pages.goto(f"/requests/{ticket.reference}/")
    disputes = page.locator("#disputes")
    expect(disputes.get_by_role("heading", level=2)).to_have_text("Disputes about your removals")
    disputes.get_by_role(
        "link", name=f"Dispute {dispute.public_id} about removal {removal.public_id}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dispute {dispute.public_id}")
    pages.check("dispute-artist")
    page.get_by_label("Your answer").fill("<i>mine</i> and nobody else's, the RAW proves it")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator(".field--error")).to_contain_text("must be plain text")
    page.get_by_label("Your answer").fill(
        "The data set's copy is my photograph, cropped; the RAW is dated 2019."
    )
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("Your answer is sent; a moderator will decide.")).to_be_visible()
    pages.check("dispute-artist-answered")
    assert Dispute.objects.get().state == DisputeState.ANSWERED
