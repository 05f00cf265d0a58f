"""/portfolio/choice/: the portfolio's default choice set from its page; bad input answered beside
its field in the reader's language with nothing saved, never a 500; only for the artist."""

from __future__ import annotations

from django.test import Client

from requests_app.models import ArtistProfile
from tests.helpers import french_client, logged_in

URL = "/portfolio/choice/"


def test_it_saves_the_default_and_the_portfolio_page_says_it(artist):
    client = logged_in(artist)
    response = client.post(URL, {"choice": "licence", "licence": "cc0", "attribution": ""})
    assert response.status_code == 302 and response["Location"].endswith("/portfolio/#default-choice")
    page = client.get("/portfolio/").content.decode()
    assert "Allow under a licence (CC0 1.0)" in page
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "licence"


def test_hostile_values_are_answered_beside_their_field_and_nothing_is_saved(artist):
    client = logged_in(artist)
    for data, words in [
        (
            {"choice": "licence", "licence": "custom", "licence_url": "data:text/html,x"},
            "http:// or https://",
        ),
        ({"choice": "licence", "licence": "cc0", "attribution": "<script>alert(1)</script>"}, "plain text"),
        ({"choice": "licence", "licence": "cc0", "attribution": "x" * 5000}, "at most 300"),
        ({"choice": "licence", "licence": "custom", "licence_url": "https://x.example/\x00"}, "NUL"),
        ({}, "Choose one of the three."),
    ]:
        response = client.post(URL, data)
        assert response.status_code in (200, 400), (data, response.status_code)
        text = response.content.decode()
        assert words in text, (data, text[:300])
        assert "<script>alert(1)</script>" not in text
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "remove"


def test_the_refusal_is_in_french_for_a_french_reader(artist):
    client = french_client(artist)
    response = client.post(
        URL, {"choice": "licence", "licence": "custom", "licence_url": "ftp://x.example/l"}
    )
    assert "http:// ou https://" in response.content.decode()


def test_a_visitor_is_sent_to_log_in_and_a_get_is_refused(artist):
    assert Client().post(URL, {"choice": "search_only"}).status_code == 302
    assert logged_in(artist).get(URL).status_code == 405
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "remove"
