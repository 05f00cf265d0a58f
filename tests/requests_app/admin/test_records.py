"""The read-only records in the admin: artists, identity proofs, works, matches and timeline rows are
listed and viewed, never added, changed or deleted there (services own these rows)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import services
from requests_app.models import ArtistProfile, IdentityProof, Match, ProofMethod, TicketEvent, Work
from tests.helpers import logged_in, make_request

RECORDS = [ArtistProfile, IdentityProof, Work, Match, TicketEvent]


def admin_url(model: type, view: str, *args: object) -> str:
    return reverse(f"admin:requests_app_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def records(artist, dataset):
    """A submitted request (with its work, match and timeline) and a document proof of the artist."""
    make_request(artist, "chelsea.png")
    services.proof_document_upload(
        artist=artist, upload=SimpleUploadedFile("passport.pdf", b"%PDF-1.4\n%%EOF\n"), description="Passport"
    )


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_each_record_is_listed_and_shown_but_never_added_changed_or_deleted(superuser, records, model):
    client = logged_in(superuser)
    row = model.objects.order_by("pk").first()
    assert row is not None

    assert client.get(admin_url(model, "changelist")).status_code == 200
    page = client.get(admin_url(model, "change", row.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # a view page: nothing to save
    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.get(admin_url(model, "delete", row.pk)).status_code == 403
    assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_the_artists_list_shows_the_email_and_the_number_of_requests(superuser, records, artist):
    content = logged_in(superuser).get(admin_url(ArtistProfile, "changelist")).content.decode()
    assert "ada@example.com" in content
    assert '<td class="field-request_count">1</td>' in content


def test_a_document_proof_links_to_its_file_and_a_proof_never_shows_its_token(superuser, records, artist):
    document = IdentityProof.objects.get(artist=artist, method=ProofMethod.DOCUMENT)
    dns = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    assert dns.token
    client = logged_in(superuser)
    listing = client.get(admin_url(IdentityProof, "changelist")).content.decode()
    assert reverse("identity_document", args=[document.pk]) in listing
    page = client.get(admin_url(IdentityProof, "change", dns.pk)).content.decode()
    assert "art.example" in page
    assert dns.token not in listing and dns.token not in page


def test_a_work_is_shown_through_the_private_image_view(superuser, records):
    work = Work.objects.get()
    page = logged_in(superuser).get(admin_url(Work, "change", work.pk)).content.decode()
    assert f'src="{reverse("work_image", args=[work.pk])}"' in page
    assert work.file.name not in page


def test_the_timeline_rows_say_whether_the_artist_sees_them(superuser, records):
    content = logged_in(superuser).get(admin_url(TicketEvent, "changelist")).content.decode()
    assert "icon-yes.svg" in content and "icon-no.svg" in content
