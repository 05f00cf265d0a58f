"""/requests/new/domain/: the artist's domain request form, prefilled from ?scope=, refusing a
domain the artist has not verified with the line named, and what the request page then shows."""

from __future__ import annotations

from django.urls import reverse

from requests_app import services
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
    assert "Un domaine entier : retirer ou accorder une licence" in text


def test_a_draft_domain_requests_lines_are_changed_from_its_page(artist, other_artist):
    verify_domain(artist, "artist.example")
    client = logged_in(artist)
    client.post(URL, {"basis": "copyright", "scope": "artist.example"})
    ticket = RemovalRequest.objects.get()
    edit = reverse("request_scope_edit", args=[ticket.reference])
    assert edit == f"/requests/{ticket.reference}/scope/"
    detail = client.get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert f'href="{edit}"' in detail and "Change these domains" in detail
    page = client.get(edit)
    assert page.status_code == 200 and "artist.example</textarea>" in page.content.decode()

    refused = client.post(edit, {"scope": "artist.example\nstranger.example\x00"})
    assert refused.status_code == 400  # a NUL is a field error, not a server error
    refused = client.post(edit, {"scope": "artist.example\nstranger.example"})
    assert refused.status_code == 400
    assert "Line 2: stranger.example is not one of your verified domains" in refused.content.decode()
    assert [row.host for row in ticket.scopes.all()] == ["artist.example"]

    saved = client.post(edit, {"scope": "*.artist.example\nartist.example/art/"})
    assert saved.status_code == 302 and saved["Location"].endswith("#scope")
    detail = client.get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert "<code>*.artist.example</code>" in detail and "<code>artist.example/art/</code>" in detail
    assert logged_in(other_artist).get(edit).status_code == 404

    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    detail = client.get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert "Change these domains" not in detail
    late = client.post(edit, {"scope": "artist.example"})
    assert late.status_code == 400 and "only while it is a draft" in late.content.decode()
