"""Identity proofs: automatic checks, uploaded documents and their review, expiry,
rechecks and purging.

The checks themselves (DNS, fetches) live in requests_app/proofs.py and run outside any
transaction: a slow DNS server must not hold a row lock. Only their result
is applied here, under the proof's lock.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import notify
from ..models import (
    AUTOMATIC_METHODS,
    ArtistProfile,
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
)
from ..workflow import OPEN
from ._ticket import ActionRefused, _en, _event
from .artists import profile_recompute_level

log = logging.getLogger(__name__)


def proof_start(*, artist: ArtistProfile, method: str, target: str) -> IdentityProof:
    """Begin a DNS TXT, well-known file, meta tag or profile link-back proof: a target and a token.

    Asking again for the same target returns the proof already under way, so
    a token the artist has put in place stays valid.
    """
    from .. import proofs

    if method not in AUTOMATIC_METHODS:
        raise ActionRefused(_("Choose a DNS record, a file, a meta tag or a profile link."))
    try:
        target = proofs.normalize_target(method, target)
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None
    now = timezone.now()
    with transaction.atomic():
        ArtistProfile.objects.select_for_update().get(pk=artist.pk)  # one start at a time per artist
        same = IdentityProof.objects.filter(artist=artist, method=method, target=target)
        if same.filter(status=ProofStatus.VERIFIED).exists():
            raise ActionRefused(_("This is proven already."))
        open_proof = same.filter(
            status__in=[ProofStatus.PENDING, ProofStatus.FAILED], expires_at__gt=now
        ).first()
        if open_proof is not None:
            return open_proof
        return IdentityProof.objects.create(
            artist=artist,
            method=method,
            target=target,
            token=proofs.new_token(),
            status=ProofStatus.PENDING,
            expires_at=now + timedelta(days=settings.PROOF_PENDING_DAYS),
        )


DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def proof_document_upload(*, artist: ArtistProfile, upload: UploadedFile, description: str) -> IdentityProof:
    """Store an identity document or contract, encrypted, for a moderator to review."""
    from core import crypto

    if upload.size is not None and upload.size > settings.PROOF_DOCUMENT_MAX_BYTES:
        raise ActionRefused(
            _("The document is larger than %(limit)d MB; scan it at a lower resolution.")
            % {"limit": settings.PROOF_DOCUMENT_MAX_BYTES // 1024 // 1024}
        )
    data = upload.read(settings.PROOF_DOCUMENT_MAX_BYTES + 1)
    if len(data) > settings.PROOF_DOCUMENT_MAX_BYTES:
        raise ActionRefused(_("The document is too large; scan it at a lower resolution."))
    content_type = next((kind for magic, kind in DOCUMENT_SIGNATURES if data.startswith(magic)), None)
    if content_type is None:
        raise ActionRefused(_("Upload a PDF, PNG or JPEG file."))
    description = description.strip()[:400] or (upload.name or "document")[:255]
    with transaction.atomic():
        proof = IdentityProof(
            artist=artist,
            method=ProofMethod.DOCUMENT,
            target=description,
            status=ProofStatus.PENDING,
            document_name=(upload.name or "document")[:255],
            document_content_type=content_type,
            expires_at=None,  # waits for a moderator, however long that takes
        )
        # Encrypted before it touches the disk; the name says nothing about the person.
        proof.document.save(
            f"{secrets.token_hex(16)}.bin", ContentFile(crypto.encrypt_bytes(data)), save=False
        )
        proof.save()
        _proof_note_on_open_requests(
            proof, actor=artist.user, params={"text": "proof_document_uploaded", "description": description}
        )
    return proof


def proof_document_read(*, proof: IdentityProof) -> bytes:
    from core import crypto

    if proof.method != ProofMethod.DOCUMENT or not proof.document:
        raise ActionRefused(_("This proof has no document (it was deleted after the retention period)."))
    with proof.document.open("rb") as handle:
        return crypto.decrypt_bytes(handle.read())


def proof_check(*, proof: IdentityProof, actor: User | None = None) -> IdentityProof:
    """Run an automatic proof's check now and record the result ("check now", and beat's re-check)."""
    from .. import proofs

    if not proof.is_automatic:
        raise ActionRefused(_("Only DNS, file, meta tag and profile proofs are checked automatically."))
    now = timezone.now()
    if proof.status == ProofStatus.EXPIRED or (
        proof.status != ProofStatus.VERIFIED and proof.expires_at and proof.expires_at <= now
    ):
        raise ActionRefused(_("This proof has expired; start a new one to get a new token."))
    if (
        actor is not None
        and proof.checked_at
        and (now - proof.checked_at).total_seconds() < settings.PROOF_CHECK_MIN_SECONDS
    ):
        raise ActionRefused(_("Checked a moment ago; wait a few seconds and check again."))
    # What the check finds is written for the artist: in their language, also when beat re-checks.
    with translation.override(notify.language_of(proof.artist)):
        result = proofs.check(proof)
    with transaction.atomic():
        proof = IdentityProof.objects.select_for_update().select_related("artist__user").get(pk=proof.pk)
        was_verified = proof.status == ProofStatus.VERIFIED
        now = timezone.now()
        proof.checked_at = now
        if result.inconclusive:
            # The resolver could not be asked: nothing was learnt about the proof, so it neither
            # fails nor counts towards a lapse, and its evidence stays; the artist is told to retry.
            proof.last_error = result.detail
        elif result.ok:
            proof.evidence = {**result.evidence, "checked_at": now.isoformat()}
            proof.status, proof.last_error, proof.failures = ProofStatus.VERIFIED, "", 0
            proof.verified_at = proof.verified_at if was_verified else now
            proof.expires_at = now + timedelta(days=settings.PROOF_VALID_DAYS)
        else:
            proof.evidence = {**result.evidence, "checked_at": now.isoformat()}
            proof.last_error = result.detail
            proof.failures += 1
            if not was_verified:
                proof.status = ProofStatus.FAILED
            elif proof.failures >= settings.PROOF_RECHECK_FAILURES_TO_LAPSE:
                proof.status = ProofStatus.EXPIRED
        proof.save()
        profile_recompute_level(profile=proof.artist)
        if result.ok and not was_verified:
            _proof_note_on_open_requests(
                proof,
                actor=actor,
                params={"text": "proof_verified", "method": proof.method, "target": proof.target},
            )
        elif was_verified and proof.status == ProofStatus.EXPIRED:
            _proof_lapsed(proof, reason=result.detail)
    return proof


def proof_delete(*, proof: IdentityProof, actor: User) -> None:
    """The artist deletes one of their proofs that failed or expired (a verified one still counts).

    A document's encrypted file goes with it; open requests' timelines note the deletion.
    """
    with transaction.atomic():
        proof = IdentityProof.objects.select_for_update().select_related("artist__user").get(pk=proof.pk)
        if proof.artist.user_id != actor.pk:
            raise ActionRefused(_("This proof belongs to another account."))
        if proof.status not in (ProofStatus.FAILED, ProofStatus.EXPIRED):
            raise ActionRefused(
                _("Only a failed or expired proof can be deleted; this one is %(status)s.")
                % {"status": str(proof.get_status_display()).lower()}
            )
        _proof_note_on_open_requests(
            proof,
            actor=actor,
            params={
                "text": "proof_deleted",
                "method": proof.method,
                "target": proof.target,
                "status": proof.status,
            },
        )
        document = proof.document.name if proof.document else ""
        proof.delete()
        if document:
            storage = proof.document.storage
            transaction.on_commit(lambda: storage.delete(document))


def _proof_note_on_open_requests(
    proof: IdentityProof, *, actor: User | None, params: dict[str, object] | None = None, message: str = ""
) -> int:
    """A row on each of the artist's open requests: `params` (timeline.py) for what Removal Desk
    says, `message` for a note a moderator wrote."""
    count = 0
    for request in proof.artist.requests.filter(status__in=OPEN):
        _event(
            request,
            kind=EventKind.VERIFICATION,
            actor=actor,
            old=proof.method,
            new=proof.status,
            message=message,
            params=params,
        )
        count += 1
    return count


def _proof_lapsed(proof: IdentityProof, *, reason: notify.Text) -> None:
    """A verified proof no longer holds: flag it on every open request, and tell the artist."""
    _proof_note_on_open_requests(
        proof,
        actor=None,
        params={
            "text": "proof_lapsed",
            "method": proof.method,
            "target": proof.target,
            # English for a fixed reason (translated when shown), else the check's own words.
            "reason": _en(reason),
        },
    )
    notify.proof_lapsed(proof=proof, reason=reason)


def proofs_expire(*, now: datetime | None = None) -> int:
    """Expire proofs past their date: pending ones never finished, verified ones not renewed."""
    now = now or timezone.now()
    count = 0
    due = IdentityProof.objects.filter(
        status__in=[ProofStatus.PENDING, ProofStatus.FAILED, ProofStatus.VERIFIED], expires_at__lte=now
    )
    for proof_id in list(due.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            proof = IdentityProof.objects.select_for_update().select_related("artist__user").get(pk=proof_id)
            if proof.expires_at is None or proof.expires_at > now or proof.status == ProofStatus.EXPIRED:
                continue
            was_verified = proof.status == ProofStatus.VERIFIED
            proof.status = ProofStatus.EXPIRED
            proof.save(update_fields=["status"])
            profile_recompute_level(profile=proof.artist)
            if was_verified:
                _proof_lapsed(proof, reason=gettext_lazy("It was not renewed before its expiry date."))
            count += 1
    return count


def proofs_recheck_due(*, now: datetime | None = None) -> list[int]:
    """Verified automatic proofs not checked for PROOF_RECHECK_HOURS: their token may be gone."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.PROOF_RECHECK_HOURS)
    return list(
        IdentityProof.objects.filter(
            status=ProofStatus.VERIFIED, method__in=AUTOMATIC_METHODS, checked_at__lt=cutoff
        )
        .order_by("checked_at")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def proof_document_review(
    *, proof: IdentityProof, moderator: User, accept: bool, note: str = ""
) -> IdentityProof:
    """A moderator's verdict on a document; the file is deleted PROOF_DOCUMENT_RETENTION_DAYS later."""
    proof = IdentityProof.objects.select_for_update().select_related("artist__user").get(pk=proof.pk)
    if proof.method != ProofMethod.DOCUMENT:
        raise ActionRefused(_("Only documents are reviewed by a moderator."))
    if proof.decided_at is not None:
        raise ActionRefused(
            _("This document was reviewed already (%(status)s) by %(moderator)s.")
            % {
                "status": str(proof.get_status_display()).lower(),
                "moderator": proof.decided_by or _("a moderator"),
            }
        )
    note = note.strip()
    if not accept and not note:
        raise ActionRefused(_("Say why the document is not accepted; the artist sees it."))
    now = timezone.now()
    proof.decided_at, proof.decided_by, proof.decision_note = now, moderator, note
    proof.checked_at = now
    if accept:
        proof.status, proof.verified_at = ProofStatus.VERIFIED, now
        proof.expires_at = now + timedelta(days=settings.PROOF_DOCUMENT_VALID_DAYS)
    else:
        proof.status, proof.last_error = ProofStatus.FAILED, note
    proof.save()
    profile_recompute_level(profile=proof.artist)
    _proof_note_on_open_requests(
        proof,
        actor=moderator,
        params={
            "text": "proof_document_reviewed",
            "accepted": accept,
            "description": proof.target,
            "note": note,
        },
    )
    notify.proof_reviewed(proof=proof, accepted=accept, note=note)
    return proof


def proof_documents_purge(*, now: datetime | None = None) -> int:
    """Delete reviewed documents' files once the retention period is over. Safe to run twice."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PROOF_DOCUMENT_RETENTION_DAYS)
    due = IdentityProof.objects.filter(
        method=ProofMethod.DOCUMENT, decided_at__lte=cutoff, document_deleted_at__isnull=True
    ).exclude(document="")
    count = 0
    for proof_id in list(due.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            proof = IdentityProof.objects.select_for_update().get(pk=proof_id)
            if not proof.document or proof.document_deleted_at is not None:
                continue
            name = str(proof.document.name)
            proof.document = ""
            proof.document_deleted_at = now
            proof.save(update_fields=["document", "document_deleted_at"])

            def remove(name: str = name) -> None:
                try:
                    IdentityProof._meta.get_field("document").storage.delete(name)
                except OSError:
                    log.warning("could not delete identity document %s", name)

            transaction.on_commit(remove)
            count += 1
    return count


@transaction.atomic
def proof_record_demo(*, artist: ArtistProfile, method: str, target: str) -> IdentityProof:
    """Demo data only: a verified proof whose check never ran, marked as such in its evidence."""
    now = timezone.now()
    proof, _created = IdentityProof.objects.update_or_create(
        artist=artist,
        method=method,
        target=target,
        defaults={
            "status": ProofStatus.VERIFIED,
            "token": "demo",
            "evidence": {"demo": True, "note": "Recorded by seed_demo; never checked."},
            "verified_at": now,
            "checked_at": now,
            "expires_at": now + timedelta(days=settings.PROOF_VALID_DAYS),
        },
    )
    profile_recompute_level(profile=artist)
    return proof
