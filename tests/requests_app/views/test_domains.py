"""/requests/new/domain/: the artist's domain request form, prefilled from ?scope=, refusing a
domain the artist has not verified with the line named, and what the request page then shows."""

from __future__ import annotations

from django.urls import reverse

from requests_app.models import RemovalRequest
from tests.helpers import logged_in, verify_domain

URL = "/requests/new/domain/"


def test_the_url_name_and_the_prefill_from_get(artist):
    assert reverse("domain_request_new") == URL
    verify_domain(artist, "artist.example")
    page = logged_in(artist).get(URL, {"scope": ["artist.example", "*.artist.example/art/"]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "artist.example\n*.artist.example/art/</textarea>" in text
    assert "Your verified domains:" in text and "artist.example" in text


def test_without_a_verified_domain_the_page_says_how_to_get_one(artist):
    text = logged_in(artist).get(URL).content.decode()
    assert "You have not verified a domain yet" in text and reverse("identity") in text


def test_a_domain_not_verified_is_refused_naming_it(artist):
    verify_domain(artist, "artist.example")
    response = logged_in(artist).post(
        URL, {"basis": "copyright", "scope": "artist.example\nstranger.example\n", "description": ""}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Line 2: stranger.example is not one of your verified domains (artist.example)" in text
    assert not RemovalRequest.objects.exists()


def test_a_domain_request_is_created_and_its_page_lists_the_scope(artist):
    verify_domain(artist, "artist.example")
    client = logged_in(artist)
    response = client.post(URL, {"basis": "copyright", "scope": "*.artist.example\nartist.example/art/"})
    ticket = RemovalRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "request_detail", args=[ticket.reference]
    )
    page = client.get(response["Location"]).content.decode()
    assert "Domain scope" in page and "<code>*.artist.example</code>" in page
    assert "<code>artist.example/art/</code>" in page and "2 domain scope lines" in page


def test_another_artist_cannot_use_my_domain(artist, other_artist):
    verify_domain(artist, "artist.example")
    response = logged_in(other_artist).post(URL, {"basis": "copyright", "scope": "artist.example"})
    assert response.status_code == 400 and not RemovalRequest.objects.exists()


def test_the_refusal_is_in_french_for_a_french_artist(artist):
    from tests.helpers import french_client

    verify_domain(artist, "artist.example")
    response = french_client(artist).post(URL, {"basis": "copyright", "scope": "ailleurs.example"})
    text = response.content.decode()
    assert response.status_code == 400
    refusal = "Ligne 1 : ailleurs.example n\u2019est pas l\u2019un de vos domaines vérifiés (artist.example)"
    assert refusal in text
    assert "Retirer un domaine entier" in text
