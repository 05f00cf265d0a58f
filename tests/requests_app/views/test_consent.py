"""The artist's choice pages (views/consent.py): a request's default on its page, a work's own on
its page with the history of its changes; bad input answered beside its field, in the reader's
language, nothing saved."""

from __future__ import annotations

from django.urls import reverse

from registry.models import LicenceGrant, Removal, RemovalState
from requests_app import services
from tests.helpers import dataset_with_copy, detail, french_client, logged_in, make_request

COPY = "https://img.example/cat.jpg"


def _approved(artist, moderator, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png")
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    return ticket


def test_the_request_page_offers_the_three_choices_and_a_change_per_work(artist, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png", submit=False)
    work = ticket.works.get()
    page = logged_in(artist).get(detail(ticket)).content.decode()
    assert 'id="choice"' in page
    for label in ("Remove from AI training", "Allow under a licence", "Allow for search, not for training"):
        assert label in page
    assert reverse("work_choice", args=[ticket.reference, work.pk]) in page
    assert "AI use:" in page and "as the request" in page


def test_the_request_default_is_saved_from_its_page(artist, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png", submit=False)
    response = logged_in(artist).post(
        reverse("request_choice", args=[ticket.reference]),
        {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"},
        follow=True,
    )
    assert response.status_code == 200 and "Your choice is saved." in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.choice, ticket.licence, ticket.attribution) == ("licence", "cc-by", "Photo: A. Artist")


def test_a_licence_url_that_is_not_http_is_refused_beside_its_field(artist, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png", submit=False)
    response = logged_in(artist).post(
        reverse("request_choice", args=[ticket.reference]),
        {"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    form = response.context["consent_form"]
    assert form.errors["licence_url"] == ["The licence address must start with http:// or https://."]
    ticket.refresh_from_db()
    assert ticket.choice == "remove" and ticket.licence_url == ""


def test_markup_in_the_attribution_is_refused_in_french(artist, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png", submit=False)
    work = ticket.works.get()
    client = french_client(artist)
    response = client.post(
        reverse("work_choice", args=[ticket.reference, work.pk]),
        {"choice": "licence", "licence": "cc0", "attribution": "<b>moi</b>"},
    )
    assert response.status_code == 200
    assert "doit être du texte simple" in response.context["form"].errors["attribution"][0]
    work.refresh_from_db()
    assert work.choice == ""


def test_changing_an_approved_work_to_a_licence_shows_the_history(artist, moderator, maintainer):
    ticket = _approved(artist, moderator, maintainer)
    work = ticket.works.get()
    client = logged_in(artist)
    url = reverse("work_choice", args=[ticket.reference, work.pk])
    assert "No change yet." in client.get(url).content.decode()
    response = client.post(url, {"choice": "licence", "licence": "cc0"}, follow=True)
    assert "the data set maintainers are told" in response.content.decode()
    assert (
        not Removal.objects.filter(source_ref=ticket.reference).exclude(state=RemovalState.REVOKED).exists()
    )
    assert LicenceGrant.objects.filter(source_ref=ticket.reference, state="active").exists()
    history = client.get(url).content.decode()
    assert "changed from “Remove from AI training” to “Allow under a licence (CC0 1.0)”" in history
    assert "CC0 1.0" in history and 'rel="license noopener"' in history
    # The request's receipt says it too.
    assert "Choice changed" in client.get(detail(ticket)).content.decode()


def test_another_artist_gets_no_choice_page(artist, other_artist, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = make_request(artist, "chelsea.png", submit=False)
    work = ticket.works.get()
    client = logged_in(other_artist)
    assert client.get(reverse("work_choice", args=[ticket.reference, work.pk])).status_code == 404
    response = client.post(reverse("request_choice", args=[ticket.reference]), {"choice": "search_only"})
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.choice == "remove"
