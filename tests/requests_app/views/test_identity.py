"""The identity page, documents (encrypted at rest, moderators only, deleted after retention)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from requests_app import services
from requests_app.models import (
    IdentityProof,
    ProofMethod,
    ProofStatus,
)
from tests.helpers import (
    PDF,
    dns_server,
    logged_in,
)


def test_the_identity_page_shows_proofs_and_labelled_forms(artist):
    services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    response = logged_in(artist.user).get(reverse("identity"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "art.example" in html and "Email address" in html
    for field in ("id_method_0", "id_target", "id_description", "id_document"):
        assert f'for="{field}"' in html


def test_starting_a_proof_leads_to_its_step_by_step_page(artist):
    client = logged_in(artist.user)
    response = client.post(reverse("identity_proof_new"), {"method": "well_known", "target": "Art.Example"})
    proof = IdentityProof.objects.get(artist=artist, method=ProofMethod.WELL_KNOWN)
    assert response.status_code == 302 and response["Location"] == reverse("identity_proof", args=[proof.pk])
    page = client.get(response["Location"]).content.decode()
    assert proof.token in page and "https://art.example/.well-known/removal-desk.txt" in page
    assert reverse("identity_proof_check", args=[proof.pk]) in page


def test_a_bad_target_is_shown_on_the_form(artist):
    response = logged_in(artist.user).post(
        reverse("identity_proof_new"), {"method": "dns_txt", "target": "10.0.0.1"}
    )
    assert response.status_code == 400
    assert "not an IP address" in response.content.decode()


def test_another_artist_cannot_see_or_check_a_proof(artist, other_artist):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    client = logged_in(other_artist.user)
    assert client.get(reverse("identity_proof", args=[proof.pk])).status_code == 404
    assert client.post(reverse("identity_proof_check", args=[proof.pk])).status_code == 404
    proof.refresh_from_db()
    assert proof.checked_at is None


def test_the_document_view_permission_matrix(
    document, artist, other_artist, moderator, staff_without_group, superuser
):
    url = reverse("identity_document", args=[document.pk])
    assert Client().get(url).status_code == 404
    assert logged_in(artist.user).get(url).status_code == 404  # not even its artist
    assert logged_in(other_artist.user).get(url).status_code == 404
    assert logged_in(staff_without_group).get(url).status_code == 404
    for user in (moderator, superuser):
        response = logged_in(user).get(url)
        assert response.status_code == 200
        assert response.content == PDF and response["Content-Type"] == "application/pdf"
        assert "no-store" in response["Cache-Control"]


def test_uploading_through_the_page(artist):
    client = logged_in(artist.user)
    response = client.post(
        reverse("identity_proof_new"),
        {"kind": "document", "description": "Contract", "document": SimpleUploadedFile("c.pdf", PDF)},
    )
    assert response.status_code == 302
    assert IdentityProof.objects.get(artist=artist, method=ProofMethod.DOCUMENT).target == "Contract"


# --- failed proofs: shown once, deleted by their artist -------------------------------


def failed_proof(artist) -> IdentityProof:
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    IdentityProof.objects.filter(pk=proof.pk).update(
        status=ProofStatus.FAILED, failures=1, last_error="art.example has no TXT records yet."
    )
    return IdentityProof.objects.get(pk=proof.pk)


def test_a_failed_check_shows_what_was_found_once(artist, settings):
    settings.PROOF_CHECK_MIN_SECONDS = 0
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    with dns_server() as (zone, nameserver):
        settings.PROOF_DNS_NAMESERVER = nameserver
        zone.txt["art.example."] = ["v=spf1 -all"]
        page = logged_in(artist.user).post(reverse("identity_proof_check", args=[proof.pk]), follow=True)
    html = page.content.decode()
    proof.refresh_from_db()
    assert proof.status == ProofStatus.FAILED and "none is removal-desk-verification=" in proof.last_error
    assert html.count("none is removal-desk-verification=") == 1
    assert "What we found (" in html  # with the time of the check


def test_an_artist_deletes_a_failed_proof(artist):
    proof = failed_proof(artist)
    client = logged_in(artist.user)
    assert (
        reverse("identity_proof_delete", args=[proof.pk]) in client.get(reverse("identity")).content.decode()
    )
    assert (
        reverse("identity_proof_delete", args=[proof.pk])
        in client.get(reverse("identity_proof", args=[proof.pk])).content.decode()
    )
    assert client.get(reverse("identity_proof_delete", args=[proof.pk])).status_code == 405
    response = client.post(reverse("identity_proof_delete", args=[proof.pk]), follow=True)
    assert response.redirect_chain == [(reverse("identity"), 302)]
    assert "Proof deleted (DNS TXT record: art.example)." in response.content.decode()
    assert not IdentityProof.objects.filter(pk=proof.pk).exists()


def test_another_artists_proof_is_a_404_and_stays(artist, other_artist):
    proof = failed_proof(artist)
    response = logged_in(other_artist.user).post(reverse("identity_proof_delete", args=[proof.pk]))
    assert response.status_code == 404
    assert IdentityProof.objects.filter(pk=proof.pk).exists()
    with pytest.raises(services.ActionRefused, match="another account"):
        services.proof_delete(proof=proof, actor=other_artist.user)


@pytest.mark.parametrize("status", [ProofStatus.PENDING, ProofStatus.VERIFIED])
def test_a_pending_or_verified_proof_is_not_deleted(artist, status):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    IdentityProof.objects.filter(pk=proof.pk).update(status=status)
    client = logged_in(artist.user)
    assert (
        reverse("identity_proof_delete", args=[proof.pk])
        not in client.get(reverse("identity")).content.decode()
    )
    response = client.post(reverse("identity_proof_delete", args=[proof.pk]), follow=True)
    assert response.redirect_chain == [(reverse("identity_proof", args=[proof.pk]), 302)]
    assert "Only a failed or expired proof can be deleted" in response.content.decode()
    assert IdentityProof.objects.filter(pk=proof.pk).exists()


def test_the_identity_page_is_for_artists(moderator, staff_without_group, superuser):
    assert logged_in(moderator).get(reverse("identity")).status_code == 403  # no artist profile
    assert logged_in(superuser).get(reverse("identity")).status_code == 403
    from django.test import Client

    assert Client().get(reverse("identity")).status_code == 302
