"""requests_app.services.proofs: a proof's token and checks (rate-limited, not once expired), the
beat's rechecks and lapses, and identity documents (encrypted at rest, reviewed by a moderator,
deleted after retention or with their proof)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import (
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    TicketEvent,
    VerificationLevel,
)
from requests_app.tasks import proof_documents_purge, proofs_recheck
from requests_app.workflow import Status
from tests.helpers import (
    PDF,
    logged_in,
)

pytestmark = pytest.mark.usefixtures("proof_settings")


def test_a_document_is_encrypted_at_rest(document):
    with document.document.open("rb") as handle:
        stored = handle.read()
    assert PDF not in stored and b"passport" not in stored and stored.startswith(b"gAAAA")
    assert services.proof_document_read(proof=document) == PDF
    assert document.document_content_type == "application/pdf" and document.status == ProofStatus.PENDING


def test_a_document_must_be_a_pdf_or_an_image(artist):
    with pytest.raises(services.ActionRefused, match="PDF, PNG or JPEG"):
        services.proof_document_upload(
            artist=artist, upload=SimpleUploadedFile("x.html", b"<html>"), description="x"
        )


def test_a_moderator_accepts_a_document_and_the_file_goes_after_retention(
    document, artist, moderator, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PROOF_DOCUMENT_RETENTION_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        services.proof_document_review(proof=document, moderator=moderator, accept=True)
    document.refresh_from_db()
    assert document.status == ProofStatus.VERIFIED and document.decided_by == moderator
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.DOCUMENT
    assert mailoutbox[-1].subject == "Your document was reviewed"
    with pytest.raises(services.ActionRefused, match="reviewed already"):
        services.proof_document_review(proof=document, moderator=moderator, accept=False, note="no")

    name = document.document.name
    storage = document.document.storage
    assert proof_documents_purge() == 0  # within the retention period
    assert storage.exists(name)
    IdentityProof.objects.filter(pk=document.pk).update(decided_at=timezone.now() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert proof_documents_purge() == 1
    assert not storage.exists(name)
    document.refresh_from_db()
    assert not document.document and document.document_deleted_at is not None
    assert document.status == ProofStatus.VERIFIED  # the decision stays
    assert proof_documents_purge() == 0
    assert logged_in(moderator).get(reverse("identity_document", args=[document.pk])).status_code == 404


def test_refusing_a_document_needs_a_note(document, moderator):
    with pytest.raises(services.ActionRefused, match="Say why"):
        services.proof_document_review(proof=document, moderator=moderator, accept=False)
    services.proof_document_review(proof=document, moderator=moderator, accept=False, note="Blurry scan.")
    document.refresh_from_db()
    assert document.status == ProofStatus.FAILED and document.last_error == "Blurry scan."


def test_an_expired_document_goes_with_its_file(document, django_capture_on_commit_callbacks):
    IdentityProof.objects.filter(pk=document.pk).update(status=ProofStatus.EXPIRED)
    path = Path(document.document.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.proof_delete(proof=document, actor=document.artist.user)
    assert not IdentityProof.objects.filter(pk=document.pk).exists()
    assert not path.exists()


def test_starting_twice_keeps_the_token(artist):
    first = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    again = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="ART.example.")
    assert again.pk == first.pk and again.token == first.token


def test_check_now_is_rate_limited(artist, site, proof_settings):
    proof_settings.PROOF_CHECK_MIN_SECONDS = 60
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    services.proof_check(proof=proof, actor=artist.user)
    proof.refresh_from_db()
    with pytest.raises(services.ActionRefused, match="a moment ago"):
        services.proof_check(proof=proof, actor=artist.user)


def test_an_expired_pending_proof_cannot_be_checked(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    IdentityProof.objects.filter(pk=proof.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.proofs_expire() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.EXPIRED
    with pytest.raises(services.ActionRefused, match="expired"):
        services.proof_check(proof=proof, actor=artist.user)


# --- re-checks by beat, and lapses -------------------------------------------------


def test_beat_rechecks_and_a_lapse_is_flagged_on_open_requests(
    artist, site, proof_settings, mailoutbox, django_capture_on_commit_callbacks
):
    proof_settings.PROOF_RECHECK_FAILURES_TO_LAPSE = 2
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    site.page("/.well-known/removal-desk.txt", proof.token)
    services.proof_check(proof=proof, actor=artist.user)
    ticket = services.request_create(artist=artist, basis="copyright")
    ticket.status = Status.IN_REVIEW  # an open request; how it got there is not this test's subject
    ticket.save(update_fields=["status"])

    site.pages.clear()  # the artist took the file down
    stale = timezone.now() - timedelta(hours=proof_settings.PROOF_RECHECK_HOURS + 1)
    IdentityProof.objects.filter(pk=proof.pk).update(checked_at=stale)
    assert proofs_recheck() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.VERIFIED and proof.failures == 1  # one miss is not a lapse

    IdentityProof.objects.filter(pk=proof.pk).update(checked_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        assert proofs_recheck() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.EXPIRED and "HTTP 404" in proof.last_error
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.EMAIL
    flag = TicketEvent.objects.get(
        request=ticket, kind=EventKind.VERIFICATION, message__startswith="Proof lapsed"
    )
    assert site.domain in flag.message and not flag.is_public
    assert [m.subject for m in mailoutbox] == ["One of your identity proofs no longer holds"]


def test_a_verified_proof_past_its_expiry_lapses(artist, zone):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    zone.txt["art.example."] = [f"removal-desk-verification={proof.token}"]
    services.proof_check(proof=proof, actor=artist.user)
    IdentityProof.objects.filter(pk=proof.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.proofs_expire() == 1
    assert IdentityProof.objects.get(pk=proof.pk).status == ProofStatus.EXPIRED
    assert services.proofs_expire() == 0
