"""Every state change on the upstream side: artists, works, matches, tickets.

Each function is keyword-only, runs in one transaction, and writes the
TicketEvent row that records it. Views, admin actions and tasks call
these; they never change state themselves.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import matching
from registry import services as registry_services
from registry.hashing import ImageRejected, SanitizedImage, compute_hashes, sanitize
from registry.models import RemovalState
from registry.selectors import removals_for_source

from . import notify
from .models import (
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    EventKind,
    HashState,
    IdentityProof,
    Match,
    MatchState,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    TicketEvent,
    VerificationLevel,
    Work,
)
from .workflow import DECIDABLE, EDITABLE, Status, TransitionNotAllowed, check_transition

log = logging.getLogger(__name__)

STATEMENT_TEXT = (
    "I state in good faith that I am the author of the works listed in this request, or the "
    "holder of the rights in them, or authorised to act for that person; that the data set copies "
    "I confirmed are copies of those works; and that the information I have given is accurate."
)
EMAIL_TOKEN_SALT = "removal-desk.email-verification"  # noqa: S105  (a salt, not a secret)
EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600


class ActionRefused(Exception):
    """A request to change something that cannot be done now; the message says why, for a person."""


# --- artists ----------------------------------------------------------------


@transaction.atomic
def artist_signup(*, email: str, password: str, display_name: str) -> ArtistProfile:
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    if user_model.objects.filter(username=email).exists():
        raise ActionRefused("An account with this email address exists already; log in instead.")
    user = user_model.objects.create_user(username=email, email=email, password=password)
    profile = ArtistProfile.objects.create(user=user, display_name=display_name)
    email_verification_send(profile=profile)
    return profile


def email_verification_link(profile: ArtistProfile) -> str:
    token = signing.dumps({"u": profile.user_id, "e": profile.user.email}, salt=EMAIL_TOKEN_SALT)
    return settings.SITE_URL + reverse("verify_email", args=[token])


def email_verification_send(*, profile: ArtistProfile) -> None:
    notify.email_verification(
        to=profile.user.email, name=profile.display_name, link=email_verification_link(profile)
    )


@transaction.atomic
def email_verify(*, token: str) -> ArtistProfile:
    try:
        data = signing.loads(token, salt=EMAIL_TOKEN_SALT, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ActionRefused("This link has expired; log in and ask for a new one.") from None
    except signing.BadSignature:
        raise ActionRefused("This link is not valid; check that you copied all of it.") from None
    profile = ArtistProfile.objects.select_related("user").filter(user_id=data.get("u")).first()
    if profile is None or profile.user.email != data.get("e"):
        raise ActionRefused("This link is for an account or address that no longer exists.")
    now = timezone.now()
    IdentityProof.objects.update_or_create(
        artist=profile,
        method=ProofMethod.EMAIL,
        target=profile.user.email,
        defaults={"status": ProofStatus.VERIFIED, "verified_at": now, "checked_at": now},
    )
    profile_recompute_level(profile=profile)
    return profile


_LEVEL_OF_METHOD: dict[str, int] = {
    ProofMethod.EMAIL: VerificationLevel.EMAIL,
    ProofMethod.DNS_TXT: VerificationLevel.DOMAIN,
    ProofMethod.WELL_KNOWN: VerificationLevel.DOMAIN,
    ProofMethod.META_TAG: VerificationLevel.DOMAIN,
    ProofMethod.PROFILE_LINK: VerificationLevel.DOMAIN,
    ProofMethod.DOCUMENT: VerificationLevel.DOCUMENT,
}


def profile_recompute_level(*, profile: ArtistProfile) -> int:
    methods = profile.proofs.filter(status=ProofStatus.VERIFIED).values_list("method", flat=True)
    level = max((_LEVEL_OF_METHOD[m] for m in methods), default=VerificationLevel.NONE)
    if profile.verification_level != level:
        profile.verification_level = level
        profile.save(update_fields=["verification_level"])
    return level


def email_is_verified(profile: ArtistProfile) -> bool:
    return profile.proofs.filter(method=ProofMethod.EMAIL, status=ProofStatus.VERIFIED).exists()


# --- the ticket -------------------------------------------------------------


def _event(
    request: RemovalRequest,
    *,
    kind: str,
    actor: User | None,
    old: str = "",
    new: str = "",
    message: str = "",
) -> TicketEvent:
    return TicketEvent.objects.create(
        request=request, kind=kind, actor=actor, old_value=old, new_value=new, message=message
    )


def _locked(request: RemovalRequest) -> RemovalRequest:
    # Two moderators (or a moderator and the artist) acting on one request at
    # once: the second waits for the first and then sees its result.
    return RemovalRequest.objects.select_for_update().select_related("artist__user").get(pk=request.pk)


def _transition(request: RemovalRequest, new: str, *, actor: User | None, message: str = "") -> None:
    old = request.status
    try:
        check_transition(old, new)
    except TransitionNotAllowed as exc:
        raise ActionRefused(f"{request.reference}: {exc}") from None
    request.status = new
    now = timezone.now()
    stamps: dict[str, str] = {
        Status.SUBMITTED: "submitted_at",
        Status.APPROVED: "decided_at",
        Status.REJECTED: "decided_at",
        Status.COMPLETED: "completed_at",
    }
    fields = ["status", "updated_at"]
    if new in stamps:
        setattr(request, stamps[new], now)
        fields.append(stamps[new])
    request.save(update_fields=fields)
    _event(request, kind=EventKind.STATUS, actor=actor, old=old, new=new, message=message)


def _owned(request: RemovalRequest, actor: User) -> None:
    if request.artist.user_id != actor.pk:
        raise ActionRefused("This request belongs to another account.")


@transaction.atomic
def request_create(*, artist: ArtistProfile, basis: str, description: str = "") -> RemovalRequest:
    request = RemovalRequest.objects.create(artist=artist, basis=basis, description=description)
    request.reference = f"RR-{request.created_at.year}-{request.pk:06d}"
    request.save(update_fields=["reference"])
    _event(request, kind=EventKind.CREATED, actor=artist.user, new=Status.DRAFT)
    return request


@dataclass(frozen=True)
class FileError:
    name: str
    message: str


@dataclass
class WorksAdded:
    works: list[Work]
    errors: list[FileError]


def works_add(*, request: RemovalRequest, actor: User, files: Sequence[UploadedFile]) -> WorksAdded:
    """Check, clean and store each file; a bad file is reported and skipped, never the batch.

    Each work is stored in its own transaction, so a failure later in the
    batch leaves the earlier works saved and queued for hashing.
    """
    _owned(request, actor)
    if request.status not in EDITABLE:
        raise ActionRefused("Works can be added only while the request is a draft or needs information.")
    existing = request.works.count()
    if existing + len(files) > settings.UPLOAD_MAX_FILES:
        raise ActionRefused(
            f"A request holds at most {settings.UPLOAD_MAX_FILES} works; it has {existing}. "
            "Split the rest into another request."
        )
    result = WorksAdded(works=[], errors=[])
    for upload in files:
        name = (upload.name or "upload")[:255]
        if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
            result.errors.append(FileError(name, _too_large_message(upload.size)))
            continue
        data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
        if len(data) > settings.UPLOAD_MAX_BYTES:
            result.errors.append(FileError(name, _too_large_message(len(data))))
            continue
        if not data:
            result.errors.append(FileError(name, "The file is empty."))
            continue
        try:
            clean = sanitize(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
        except ImageRejected as exc:
            result.errors.append(FileError(name, str(exc)))
            continue
        result.works.append(_work_store(request=request, name=name, clean_content=clean))
    if result.works:
        with transaction.atomic():
            _event(
                request,
                kind=EventKind.WORKS,
                actor=actor,
                message=f"{len(result.works)} work(s) added: "
                + ", ".join(w.original_name for w in result.works[:10])
                + ("…" if len(result.works) > 10 else ""),
            )
    return result


def _too_large_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB, more than the "
        f"{settings.UPLOAD_MAX_BYTES / 1024 / 1024:.0f} MB allowed; upload a smaller version."
    )


def _work_store(*, request: RemovalRequest, name: str, clean_content: SanitizedImage) -> Work:
    digest = hashlib.sha256(clean_content.content).hexdigest()
    with transaction.atomic():
        work = Work(
            artist=request.artist,
            request=request,
            original_name=name,
            sha256=digest,
            size_bytes=len(clean_content.content),
            format=clean_content.format,
            width=clean_content.width,
            height=clean_content.height,
        )
        work.file.save(
            f"{digest[:32]}.{clean_content.extension}", ContentFile(clean_content.content), save=False
        )
        work.save()
        work_id = work.pk
        transaction.on_commit(lambda: _enqueue_hash(work_id))
    return work


def _enqueue_hash(work_id: int) -> None:
    from .tasks import work_hash

    try:
        work_hash.delay(work_id)
    except Exception:
        log.warning("could not enqueue hashing of work %s; the sweep will", work_id)


def work_hash_and_match(*, work_id: int) -> str:
    """Hash a stored work and record its matches. Safe to run twice."""
    work = Work.objects.filter(pk=work_id).first()
    if work is None:
        return "missing"
    if work.hash_state == HashState.DONE:
        return "already-done"
    try:
        with work.file.open("rb") as handle:
            data = handle.read()
        hashes = compute_hashes(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except (ImageRejected, OSError) as exc:
        Work.objects.filter(pk=work_id).update(hash_state=HashState.FAILED, hash_error=str(exc)[:1000])
        return "failed"
    hits = matching.search_work(phash=hashes.phash, dhash=hashes.dhash)
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work_id)
        if work.hash_state == HashState.DONE:
            return "already-done"
        work.phash, work.dhash = hashes.phash, hashes.dhash
        work.pdq, work.pdq_quality = hashes.pdq, hashes.pdq_quality
        work.hash_state, work.hash_error = HashState.DONE, ""
        work.save(update_fields=["phash", "dhash", "pdq", "pdq_quality", "hash_state", "hash_error"])
        Match.objects.bulk_create(
            [Match(work=work, item_id=h.item_id, algorithm=h.algorithm, distance=h.distance) for h in hits],
            ignore_conflicts=True,
        )
    return "done"


@transaction.atomic
def matches_decide(
    *,
    request: RemovalRequest,
    actor: User,
    confirm: Iterable[int] = (),
    exclude: Iterable[int] = (),
) -> int:
    """The artist confirms matches as copies of their works, or excludes them."""
    request = _locked(request)
    _owned(request, actor)
    if request.status not in EDITABLE:
        raise ActionRefused("Matches can be changed only while the request is a draft or needs information.")
    confirm, exclude = set(confirm), set(exclude)
    if confirm & exclude:
        raise ActionRefused("A match cannot be both confirmed and excluded.")
    mine = Match.objects.filter(work__request=request)
    changed = (
        mine.filter(pk__in=confirm).exclude(state=MatchState.CONFIRMED).update(state=MatchState.CONFIRMED)
    )
    changed += (
        mine.filter(pk__in=exclude).exclude(state=MatchState.EXCLUDED).update(state=MatchState.EXCLUDED)
    )
    if changed:
        _event(
            request,
            kind=EventKind.MATCHES,
            actor=actor,
            message=f"{len(confirm)} confirmed, {len(exclude)} excluded",
        )
    return changed


@transaction.atomic
def request_submit(*, request: RemovalRequest, actor: User, signed_name: str) -> RemovalRequest:
    request = _locked(request)
    _owned(request, actor)
    if not email_is_verified(request.artist):
        raise ActionRefused("Confirm your email address first: follow the link we sent you.")
    if not signed_name.strip():
        raise ActionRefused("Type your full name to sign the statement.")
    works = request.works.all()
    if not works.exists():
        raise ActionRefused("Add at least one work before submitting.")
    if works.filter(hash_state=HashState.PENDING).exists():
        raise ActionRefused("Some works are still being checked; wait a moment and submit again.")
    if not Match.objects.filter(work__request=request, state=MatchState.CONFIRMED).exists():
        raise ActionRefused(
            "Confirm at least one data set copy of your works; without one there is nothing to remove."
        )
    request.statement = STATEMENT_TEXT
    request.signed_name = signed_name.strip()[:150]
    request.signed_at = timezone.now()
    request.save(update_fields=["statement", "signed_name", "signed_at"])
    _transition(request, Status.SUBMITTED, actor=actor)
    return request


@transaction.atomic
def request_withdraw(*, request: RemovalRequest, actor: User) -> RemovalRequest:
    request = _locked(request)
    _owned(request, actor)
    _transition(request, Status.WITHDRAWN, actor=actor)
    return request


@transaction.atomic
def request_start_review(*, request: RemovalRequest, moderator: User) -> RemovalRequest:
    request = _locked(request)
    _transition(request, Status.IN_REVIEW, actor=moderator)
    if request.assignee_id is None:
        request.assignee = moderator
        request.save(update_fields=["assignee"])
        _event(request, kind=EventKind.ASSIGNMENT, actor=moderator, new=moderator.get_username())
    return request


@transaction.atomic
def request_approve(*, request: RemovalRequest, moderator: User, reason: str = "") -> RemovalRequest:
    """Approve: record a registry Removal for every confirmed match, with its outbox rows, atomically."""
    request = _locked(request)
    if request.status not in DECIDABLE:
        raise ActionRefused(
            f"{request.reference} is {request.get_status_display().lower()}; only submitted or "
            "in-review requests can be decided."
        )
    matches = list(
        Match.objects.filter(work__request=request, state=MatchState.CONFIRMED).select_related(
            "item__dataset"
        )
    )
    if not matches:
        raise ActionRefused(f"{request.reference} has no confirmed matches to remove.")
    _transition(request, Status.APPROVED, actor=moderator, message=reason)
    request.decision_reason = reason
    request.save(update_fields=["decision_reason"])
    removals = registry_services.removals_record(
        source_ref=request.reference or "",
        reason=request.basis,
        entries=[registry_services.RemovalEntry(dataset=m.item.dataset, item=m.item) for m in matches],
        approved_at=request.decided_at,
    )
    Match.objects.filter(pk__in=[m.pk for m in matches]).update(state=MatchState.APPROVED)
    datasets = sorted({m.item.dataset.name for m in matches})
    _event(
        request,
        kind=EventKind.REMOVALS,
        actor=moderator,
        message=f"{len(removals)} removal(s) sent to the maintainers of {', '.join(datasets)}.",
    )
    notify.request_changed(
        request=request,
        headline="Your removal request was approved",
        message=reason or "We have sent the removals to the data set maintainers.",
    )
    return request


@transaction.atomic
def request_reject(*, request: RemovalRequest, moderator: User, reason: str) -> RemovalRequest:
    if not reason.strip():
        raise ActionRefused("Give the artist a reason for the rejection.")
    request = _locked(request)
    if request.status not in DECIDABLE:
        raise ActionRefused(
            f"{request.reference} is {request.get_status_display().lower()}; only submitted or "
            "in-review requests can be decided."
        )
    _transition(request, Status.REJECTED, actor=moderator, message=reason)
    request.decision_reason = reason
    request.save(update_fields=["decision_reason"])
    notify.request_changed(request=request, headline="Your removal request was rejected", message=reason)
    return request


@transaction.atomic
def request_complete_if_acknowledged(*, reference: str) -> bool:
    """Complete an approved request once every one of its removals is acknowledged."""
    request = RemovalRequest.objects.select_for_update().filter(reference=reference).first()
    if request is None or request.status != Status.APPROVED:
        return False
    states = set(removals_for_source(reference).values_list("state", flat=True))
    if not states or not states <= {RemovalState.ACKNOWLEDGED, RemovalState.REVOKED}:
        return False
    _event(
        request,
        kind=EventKind.REMOVALS,
        actor=None,
        message="Every data set maintainer confirmed the removal.",
    )
    _transition(request, Status.COMPLETED, actor=None)
    notify.request_changed(
        request=request,
        headline="Your works were removed",
        message="Every data set maintainer has confirmed the removal.",
    )
    return True


def hashing_due() -> list[int]:
    """Works still waiting to be hashed (a lost task message, a worker that died)."""
    cutoff = timezone.now() - timedelta(minutes=2)
    return list(
        Work.objects.filter(hash_state=HashState.PENDING, created_at__lt=cutoff).values_list("pk", flat=True)[
            :500
        ]
    )


# --- moderator notes and replies ---------------------------------------------


@transaction.atomic
def request_note_add(*, request: RemovalRequest, moderator: User, message: str, public: bool) -> TicketEvent:
    """A moderator writes on the timeline: an internal note (moderators only) or a public reply.

    A public reply is also emailed to the artist. Neither changes the
    request's status, so no lock is needed: two notes at once are two rows.
    """
    message = message.strip()
    if not message:
        raise ActionRefused("Write something first: the note is empty.")
    if len(message) > 10_000:
        raise ActionRefused("Keep a note or reply under 10,000 characters.")
    request = RemovalRequest.objects.select_related("artist__user").get(pk=request.pk)
    event = _event(
        request,
        kind=EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE,
        actor=moderator,
        message=message,
    )
    if public:
        notify.request_changed(
            request=request, headline="A moderator replied to your removal request", message=message
        )
    return event


# --- zip archives of works, artist replies (artist-facing pages) -------------

ZIP_IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
# Against zip bombs: members and declared uncompressed bytes are counted from the
# central directory before anything is decompressed; a member is then read no
# further than its declared size (zipfile stops there and checks the CRC).
ZIP_MAX_TOTAL_UNCOMPRESSED = 2 * 1024**3


@dataclass
class _ZipMembers(Sequence[UploadedFile]):
    """Accepted members of an archive, decompressed one at a time as works_add reads them."""

    archive: zipfile.ZipFile
    members: list[tuple[str, zipfile.ZipInfo]]
    errors: list[FileError]

    def __len__(self) -> int:
        return len(self.members)

    def __getitem__(self, index: int) -> UploadedFile:  # type: ignore[override]
        name, info = self.members[index]
        try:
            with self.archive.open(info) as handle:
                data = handle.read(settings.UPLOAD_MAX_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
            self.errors.append(
                FileError(name, _("This file in the zip is damaged (%(error)s).") % {"error": exc})
            )
            data = b""
        return SimpleUploadedFile(name, data)

    def __iter__(self) -> Iterator[UploadedFile]:
        for index in range(len(self)):
            errors_before = len(self.errors)
            upload = self[index]
            if len(self.errors) == errors_before:  # a damaged member is reported once, by __getitem__
                yield upload


def zip_members_check(archive: zipfile.ZipFile) -> tuple[list[tuple[str, zipfile.ZipInfo]], list[FileError]]:
    """Which members of an archive to read as works, and an error for each one skipped.

    Folders inside the archive are ignored (a member is named by its file name
    alone); hidden files and macOS resource forks are skipped silently.
    """
    accepted: list[tuple[str, zipfile.ZipInfo]] = []
    errors: list[FileError] = []
    files = [info for info in archive.infolist() if not info.is_dir()]
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise ActionRefused(
            _("The zip holds %(count)d files; a request holds at most %(limit)d works. Split it.")
            % {"count": len(files), "limit": settings.UPLOAD_MAX_FILES}
        )
    total = sum(info.file_size for info in files)
    if total > ZIP_MAX_TOTAL_UNCOMPRESSED:
        raise ActionRefused(
            _("The zip would unpack to %(size)d MB, more than the %(limit)d MB allowed; split it.")
            % {"size": total // 1024**2, "limit": ZIP_MAX_TOTAL_UNCOMPRESSED // 1024**2}
        )
    for info in files:
        name = PurePosixPath(info.filename.replace("\\", "/")).name[:255]
        if not name or name.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue
        if PurePosixPath(name).suffix.lower() not in ZIP_IMAGE_EXTENSIONS:
            errors.append(FileError(name, _("Not a JPEG, PNG or WebP image; skipped.")))
        elif info.file_size > settings.UPLOAD_MAX_BYTES:
            errors.append(FileError(name, _too_large_message(info.file_size)))
        elif info.flag_bits & 0x1:
            errors.append(FileError(name, _("This file is encrypted; zip it again without a password.")))
        else:
            accepted.append((name, info))
    return accepted, errors


def works_add_zip(*, request: RemovalRequest, actor: User, upload: UploadedFile) -> WorksAdded:
    """Add every image of a zip archive, each checked like an upload; errors are reported per member."""
    _owned(request, actor)
    if upload.size is not None and upload.size > ZIP_MAX_TOTAL_UNCOMPRESSED:
        raise ActionRefused(_("The zip is too large; split it into several smaller ones."))
    try:
        archive = zipfile.ZipFile(upload.file or upload)  # type: ignore[arg-type]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ActionRefused(_("%(name)s is not a zip file we can open.") % {"name": upload.name}) from None
    with archive:
        accepted, errors = zip_members_check(archive)
        if not accepted:
            return WorksAdded(works=[], errors=errors)
        members = _ZipMembers(archive, accepted, errors)
        added = works_add(request=request, actor=actor, files=members)
    return WorksAdded(works=added.works, errors=errors + added.errors)


ARTIST_REPLY_MAX = 10_000


@transaction.atomic
def request_artist_reply(*, request: RemovalRequest, artist_user: User, message: str) -> TicketEvent:
    """The artist writes to the moderators on the request's timeline (a public reply by the artist)."""
    request = RemovalRequest.objects.select_related("artist__user").get(pk=request.pk)
    _owned(request, artist_user)
    message = message.strip()
    if not message:
        raise ActionRefused(_("Write something first: the message is empty."))
    if len(message) > ARTIST_REPLY_MAX:
        raise ActionRefused(_("Keep a message under 10,000 characters."))
    if request.status == Status.WITHDRAWN:
        raise ActionRefused(_("This request is withdrawn; start a new one to write to the moderators."))
    return _event(request, kind=EventKind.PUBLIC_REPLY, actor=artist_user, message=message)


# --- account export and deletion ----------------------------------------------


def _hex(code: int | None) -> str | None:
    return None if code is None else f"{code & (2**64 - 1):016x}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def account_export(*, user: User) -> dict[str, object]:
    """Everything Removal Desk holds about an artist, as JSON-ready data (the artist's own copy)."""
    profile = ArtistProfile.objects.select_related("user").get(user=user)
    requests_out = []
    for req in RemovalRequest.objects.filter(artist=profile).order_by("created_at"):
        works = req.works.prefetch_related("matches__item__dataset")
        requests_out.append(
            {
                "reference": req.reference,
                "status": req.status,
                "basis": req.basis,
                "description": req.description,
                "signed_name": req.signed_name,
                "signed_at": _when(req.signed_at),
                "statement": req.statement,
                "created_at": _when(req.created_at),
                "submitted_at": _when(req.submitted_at),
                "decided_at": _when(req.decided_at),
                "completed_at": _when(req.completed_at),
                "decision_reason": req.decision_reason,
                "works": [_work_export(w) for w in works],
                "timeline": [
                    {
                        "at": _when(e.created_at),
                        "kind": e.kind,
                        "old": e.old_value,
                        "new": e.new_value,
                        "message": e.message,
                        "by_you": e.actor_id == user.pk,
                    }
                    for e in req.events.filter(kind__in=PUBLIC_EVENT_KINDS)
                ],
                "removals": [
                    {
                        "id": r.public_id,
                        "dataset": r.dataset.name,
                        "url": r.url,
                        "state": r.state,
                        "approved_at": _when(r.approved_at),
                        "delivered_at": _when(r.delivered_at),
                        "acknowledged_at": _when(r.acknowledged_at),
                    }
                    for r in (removals_for_source(req.reference) if req.reference else [])
                ],
            }
        )
    return {
        "format": "removal-desk-export/1",
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": profile.user.email,
            "display_name": profile.display_name,
            "verification_level": profile.verification_level,
            "created_at": _when(profile.created_at),
            "proofs": [
                {
                    "method": p.method,
                    "target": p.target,
                    "status": p.status,
                    "verified_at": _when(p.verified_at),
                }
                for p in profile.proofs.all()
            ],
        },
        "requests": requests_out,
        "works_without_request": [_work_export(w) for w in profile.works.filter(request__isnull=True)],
    }


def _work_export(work: Work) -> dict[str, object]:
    return {
        "id": work.pk,
        "original_name": work.original_name,
        "sha256": work.sha256,
        "size_bytes": work.size_bytes,
        "format": work.format,
        "width": work.width,
        "height": work.height,
        "phash": _hex(work.phash),
        "dhash": _hex(work.dhash),
        "hash_state": work.hash_state,
        "created_at": _when(work.created_at),
        "matches": [
            {
                "dataset": m.item.dataset.name,
                "item_url": m.item.url,
                "algorithm": m.algorithm,
                "distance": m.distance,
                "state": m.state,
            }
            for m in work.matches.all()
        ],
    }


ANONYMISED_NAME = "(deleted account)"


@dataclass
class AccountDeleted:
    requests_deleted: int
    requests_anonymised: int
    works_deleted: int


@transaction.atomic
def account_delete(*, user: User) -> AccountDeleted:
    """Delete an artist's account: works (files and rows), proofs, and requests.

    A request whose removals reach the registry (approved or completed) is
    the maintainers' record and stays, anonymised: no description, signature,
    works, file names or messages by the artist. Its registry Removals are
    untouched. Everything else is deleted, and the user with it; if an
    anonymised request remains, the user row stays as a locked, nameless
    placeholder that owns it.
    """
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    profile = ArtistProfile.objects.get(user=user)
    works = list(Work.objects.filter(artist=profile))
    files = [(w.file.storage, w.file.name) for w in works if w.file.name]
    Work.objects.filter(pk__in=[w.pk for w in works]).delete()

    keep_refs = {
        r.reference
        for r in RemovalRequest.objects.filter(artist=profile, reference__isnull=False)
        if removals_for_source(r.reference or "").exists()
    }
    kept = RemovalRequest.objects.filter(artist=profile, reference__in=keep_refs)
    deleted_requests = RemovalRequest.objects.filter(artist=profile).exclude(reference__in=keep_refs).count()
    RemovalRequest.objects.filter(artist=profile).exclude(reference__in=keep_refs).delete()
    kept.update(description="", signed_name="", assignee=None)
    TicketEvent.objects.filter(request__in=kept, actor=user).update(actor=None, message="")
    TicketEvent.objects.filter(request__in=kept, kind=EventKind.WORKS).update(message="")
    for req in kept:
        _event(req, kind=EventKind.INTERNAL_NOTE, actor=None, message="The artist deleted their account.")
    anonymised = len(keep_refs)

    if anonymised:
        IdentityProof.objects.filter(artist=profile).delete()
        profile.display_name = ANONYMISED_NAME
        profile.verification_level = VerificationLevel.NONE
        profile.save(update_fields=["display_name", "verification_level"])
        user.username = f"deleted-{user.pk}-{secrets.token_hex(6)}"
        user.email = ""
        user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    else:
        user.delete()

    def remove_files() -> None:
        for storage, name in files:
            try:
                storage.delete(name or "")
            except OSError:
                log.warning("could not delete the file of a deleted work: %s", name)

    transaction.on_commit(remove_files)
    return AccountDeleted(
        requests_deleted=deleted_requests, requests_anonymised=anonymised, works_deleted=len(works)
    )
