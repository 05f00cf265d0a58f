"""The artist's domain pages with a choice: the new request form offers remove / search only /
licence (starting from the portfolio's default), refuses hostile values beside their field with
nothing written, and the request page says what the lines' rules say; the publish page of the
domain starts from that choice. In English and French."""

from __future__ import annotations

import re

from django.urls import reverse

from registry import services as registry_services
from registry.models import DomainOptOut
from requests_app import services
from requests_app.models import IdentityProof, RemovalRequest
from tests.helpers import logged_in, verify_domain

URL = "/requests/new/domain/"


def _post(client, **fields):
    data = {"basis": "copyright", "scope": "*.artist.example", "description": "", **fields}
    return client.post(URL, data)


def test_the_form_offers_the_three_choices_starting_from_the_portfolio_default(artist):
    services.portfolio_choice_set(actor=artist.user, artist=artist, choice="search_only")
    verify_domain(artist, "artist.example")
    text = logged_in(artist).get(URL).content.decode()
    assert "What AI may do with the images under these domains" in text
    assert re.search(r'<input[^>]*name="choice"[^>]*value="search_only"[^>]*checked', text)
    for label in ("Remove from AI training", "Allow under a licence", "Allow for search, not for training"):
        assert label in text


def test_a_licensed_domain_request_is_made_and_its_page_says_so(artist):
    verify_domain(artist, "artist.example")
    client = logged_in(artist)
    response = _post(client, choice="licence", licence="cc-by", attribution="Photo: A. Artist")
    assert response.status_code == 302
    ticket = RemovalRequest.objects.get()
    assert (ticket.choice, ticket.licence, ticket.attribution) == ("licence", "cc-by", "Photo: A. Artist")
    page = client.get(response["Location"]).content.decode()
    assert "Every image under these addresses is allowed for AI training under CC BY 4.0" in page
    assert "Credit: Photo: A. Artist" in page


def test_hostile_values_are_refused_beside_their_field_and_nothing_is_written(artist):
    verify_domain(artist, "artist.example")
    client = logged_in(artist)
    cases = [
        (
            {"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"},
            "http:// or https://",
        ),
        ({"choice": "licence", "licence": "cc-by", "attribution": "<script>x</script>"}, "plain text"),
        ({"choice": "licence", "licence": "cc-by", "attribution": "A\x00B"}, ""),
        ({"choice": "everything"}, "not one of the available choices"),
    ]
    for fields, words in cases:
        response = _post(client, **fields)
        assert response.status_code == 400, fields
        text = response.content.decode()
        assert "Please correct the fields marked below." in text and words in text, fields
        assert "<script>x</script>" not in text
    assert not RemovalRequest.objects.exists()


def test_the_page_is_in_french_for_a_french_artist(artist):
    verify_domain(artist, "artist.example")
    client = logged_in(artist)
    client.cookies["django_language"] = "fr"
    text = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ce que les IA peuvent faire des images sous ces domaines" in text
    response = _post(client, choice="licence", licence="custom", licence_url="ftp://x.example/")
    assert "http:// ou https://" in response.content.decode()


def test_the_publish_page_starts_from_the_domain_requests_choice(artist, moderator):
    verify_domain(artist, "artist.example")
    proof = IdentityProof.objects.get(artist=artist, target="artist.example")
    client = logged_in(artist)
    page = reverse("site_signals_publish", args=[proof.pk])
    assert 'value="reserve" checked' in client.get(page).content.decode()
    ticket = services.domain_request_create(
        artist=artist, basis="copyright", lines=["*.artist.example"], choice="licence", licence="cc0"
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    assert DomainOptOut.objects.get().choice == "licence"
    assert 'value="allow" checked' in client.get(page).content.decode()
    # Asked for another, the page shows that one.
    assert 'value="reserve" checked' in client.get(page + "?preference=reserve").content.decode()
    registry_services.domain_optouts_revoke(source_ref=ticket.reference or "")
