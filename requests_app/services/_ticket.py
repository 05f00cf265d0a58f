"""Every state change on the upstream side: artists, works, matches, tickets.

Each function is keyword-only, runs in one transaction, and writes the
TicketEvent row that records it. Views, admin actions and tasks call
these; they never change state themselves.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from core.queueing import enqueue
from registry import matching
from registry import services as registry_services
from registry.hashing import ImageRejected, SanitizedImage, compute_hashes, sanitize
from registry.models import Dataset, RemovalState
from registry.selectors import removals_for_source

from .. import notify, selectors, timeline
from ..models import (
    AUTOMATIC_METHODS,
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    ConflictResolution,
    EventKind,
    HashState,
    IdentityProof,
    Match,
    MatchState,
    Priority,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    RequestConflict,
    TicketEvent,
    VerificationLevel,
    Work,
)
from ..workflow import DECIDABLE, EDITABLE, REJECTABLE, Status, TransitionNotAllowed, check_transition

log = logging.getLogger(__name__)

# The statement an artist signs; shown in the page's language and stored, as signed, with that language.
STATEMENT_TEXT = gettext_noop(
    "I state in good faith that I am the author of the works listed in this request, or the "
    "holder of the rights in them, or authorised to act for that person; that the data set copies "
    "I confirmed are copies of those works; and that the information I have given is accurate."
)
REMOVAL_CONFIRMED_MESSAGE = timeline.REMOVAL_CONFIRMED_MESSAGE
EMAIL_TOKEN_SALT = "removal-desk.email-verification"  # noqa: S105  (a salt, not a secret)
EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600


class ActionRefused(Exception):
    """A request to change something that cannot be done now; the message says why, for a person.

    `field` names the form field the refusal is about ("signed_name"), so a page can show
    the message next to it; "" when it is about the request as a whole.
    """

    def __init__(self, message: object = "", *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- artists ----------------------------------------------------------------


@transaction.atomic
def artist_signup(
    *, email: str, password: str, display_name: str, language: str = settings.LANGUAGE_CODE
) -> ArtistProfile:
    """Create the account; `language` (the page's, at sign-up) is the one its emails are written in."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    if user_model.objects.filter(username=email).exists():
        raise ActionRefused(_("An account with this email address exists already; log in instead."))
    user = user_model.objects.create_user(username=email, email=email, password=password)
    profile = ArtistProfile.objects.create(user=user, display_name=display_name, language=language)
    email_verification_send(profile=profile)
    return profile


def email_verification_link(profile: ArtistProfile) -> str:
    token = signing.dumps({"u": profile.user_id, "e": profile.user.email}, salt=EMAIL_TOKEN_SALT)
    return settings.SITE_URL + reverse("verify_email", args=[token])


def email_verification_send(*, profile: ArtistProfile) -> None:
    notify.email_verification(profile=profile, link=email_verification_link(profile))


@transaction.atomic
def email_verify(*, token: str) -> ArtistProfile:
    try:
        data = signing.loads(token, salt=EMAIL_TOKEN_SALT, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ActionRefused(_("This link has expired; log in and ask for a new one.")) from None
    except signing.BadSignature:
        raise ActionRefused(_("This link is not valid; check that you copied all of it.")) from None
    profile = ArtistProfile.objects.select_related("user").filter(user_id=data.get("u")).first()
    if profile is None or profile.user.email != data.get("e"):
        raise ActionRefused(_("This link is for an account or address that no longer exists."))
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


@transaction.atomic
def profile_rename(*, profile: ArtistProfile, display_name: str) -> ArtistProfile:
    """The artist's name: the one their signatures must match (see signature_check)."""
    name = " ".join(display_name.split())[:150]
    if not name:
        raise ActionRefused(_("Type your name."), field="display_name")
    profile.display_name = name
    profile.save(update_fields=["display_name"])
    return profile


def email_is_verified(profile: ArtistProfile) -> bool:
    return profile.proofs.filter(method=ProofMethod.EMAIL, status=ProofStatus.VERIFIED).exists()


# --- the ticket -------------------------------------------------------------


def _en(value: object) -> str:
    """In English whatever the active language: for what is stored on the timeline.

    `value` is a lazy string, an object whose str() uses choice labels, or a getter such as
    `proof.get_method_display` (which translates when called, so it is called in here).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return str(value() if callable(value) else value)


def _event(
    request: RemovalRequest,
    *,
    kind: str,
    actor: User | None,
    old: str = "",
    new: str = "",
    message: str = "",
    params: dict[str, object] | None = None,
) -> TicketEvent:
    """One timeline row. With `params` (see timeline.py), `message` defaults to their English rendering."""
    params = params or {}
    if params and not message:
        message = timeline.render_english(params)
    return TicketEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor,
        old_value=old,
        new_value=new,
        message=message,
        params=params,
    )


def _locked(request: RemovalRequest) -> RemovalRequest:
    # Two moderators (or a moderator and the artist) acting on one request at
    # once: the second waits for the first and then sees its result.
    return RemovalRequest.objects.select_for_update().select_related("artist__user").get(pk=request.pk)


def _transition(
    request: RemovalRequest,
    new: str,
    *,
    actor: User | None,
    message: str = "",
    params: dict[str, object] | None = None,
) -> None:
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
    fields = ["status", "updated_at", "sla_due_at"]
    if new in stamps:
        setattr(request, stamps[new], now)
        fields.append(stamps[new])
    # Each status has its own clock (settings.SLA_HOURS); the artist's turn and decided ones have none.
    hours = settings.SLA_HOURS.get(new)
    request.sla_due_at = now + timedelta(hours=hours) if hours else None
    request.save(update_fields=fields)
    _event(request, kind=EventKind.STATUS, actor=actor, old=old, new=new, message=message, params=params)


def _not_decidable(request: RemovalRequest) -> str:
    return _("%(reference)s is %(status)s; only submitted or in-review requests can be decided.") % {
        "reference": request.reference,
        "status": str(request.get_status_display()).lower(),
    }


def _owned(request: RemovalRequest, actor: User) -> None:
    if request.artist.user_id != actor.pk:
        raise ActionRefused(_("This request belongs to another account."))


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


def works_add(
    *, request: RemovalRequest, actor: User, files: Sequence[UploadedFile], batch: str = ""
) -> WorksAdded:
    """Check, clean and store each file; a bad file is reported and skipped, never the batch.

    Each work is stored in its own transaction, so a failure later in the
    batch leaves the earlier works saved and queued for hashing. Calls with the
    same `batch` (one upload action sent file by file) share one timeline row.
    """
    _owned(request, actor)
    if request.status not in EDITABLE:
        raise ActionRefused(_("Works can be added only while the request is a draft or needs information."))
    existing = request.works.count()
    if existing + len(files) > settings.UPLOAD_MAX_FILES:
        raise ActionRefused(
            _(
                "A request holds at most %(limit)d works; it has %(count)d. "
                "Split the rest into another request."
            )
            % {"limit": settings.UPLOAD_MAX_FILES, "count": existing}
        )
    result = WorksAdded(works=[], errors=[])
    for upload in files:
        name = _name_shortened(upload.name or "upload")
        if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
            result.errors.append(FileError(name, _too_large_message(upload.size)))
            continue
        data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
        if len(data) > settings.UPLOAD_MAX_BYTES:
            result.errors.append(FileError(name, _too_large_message(len(data))))
            continue
        if not data:
            result.errors.append(FileError(name, _("The file is empty.")))
            continue
        try:
            clean = sanitize(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
        except ImageRejected as exc:
            result.errors.append(FileError(name, str(exc)))
            continue
        result.works.append(_work_store(request=request, name=name, clean_content=clean))
    if result.works:
        _works_added_event(request, actor=actor, names=[w.original_name for w in result.works], batch=batch)
    return result


@transaction.atomic
def _works_added_event(request: RemovalRequest, *, actor: User, names: list[str], batch: str) -> None:
    """One "N works added" row per upload action: a later file of the same batch updates the row."""
    _locked(request)  # the uploader sends files in parallel: one row, not two
    batch = batch[:64]
    event = (
        TicketEvent.objects.select_for_update()
        .filter(request=request, kind=EventKind.WORKS, params__batch=batch)
        .first()
        if batch
        else None
    )
    previous = event.params if event is not None else {}
    shown = list(previous.get("names", []))
    shown += names[: max(0, timeline.NAMES_SHOWN - len(shown))]
    params: dict[str, object] = {
        "text": "works_added",
        "count": int(previous.get("count", 0)) + len(names),
        "names": shown,
    }
    if batch:
        params["batch"] = batch
    if event is None:
        _event(request, kind=EventKind.WORKS, actor=actor, params=params)
        return
    event.params = params
    event.message = timeline.render_english(params)
    event.save(update_fields=["params", "message"])


def _too_large_message(size: int) -> str:
    return _("The file is %(size)s MB, more than the %(limit)s MB allowed; upload a smaller version.") % {
        "size": formats.number_format(size / 1024 / 1024, 1),
        "limit": formats.number_format(settings.UPLOAD_MAX_BYTES / 1024 / 1024, 0),
    }


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
    enqueue("requests_app.tasks.work_hash", work_id, fallback="the hashing sweep re-queues it")


def work_hash(*, work_id: int) -> str:
    """Hash a stored work (hashing queue). Matching follows on the matching queue,
    whose workers hold the data set indexes. Safe to run twice."""
    work = Work.objects.filter(pk=work_id).first()
    if work is None:
        return "missing"
    if work.hash_state != HashState.PENDING:
        return "already-done"
    if work.phash is None:
        try:
            with work.file.open("rb") as handle:
                data = handle.read()
            hashes = compute_hashes(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
        except (ImageRejected, OSError) as exc:
            Work.objects.filter(pk=work_id).update(hash_state=HashState.FAILED, hash_error=str(exc)[:1000])
            return "failed"
        # Still pending: a pending work with hashes is one waiting for matching.
        Work.objects.filter(pk=work_id).update(
            phash=hashes.phash,
            dhash=hashes.dhash,
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            phash_variants=list(hashes.phash_variants),
        )
    transaction.on_commit(lambda: _enqueue_match(work_id))
    return "hashed"


def _enqueue_match(work_id: int) -> None:
    enqueue("requests_app.tasks.work_match", work_id, fallback="the hashing sweep re-queues it")


def work_match(*, work_id: int) -> str:
    """Search a hashed work in every data set's index and record its matches. Safe to run twice."""
    work = Work.objects.filter(pk=work_id).first()
    if work is None:
        return "missing"
    if work.hash_state != HashState.PENDING or work.phash is None:
        return "not-ready" if work.phash is None else "already-done"
    hits = matching.search_work(phash=work.phash, dhash=work.dhash, phash_variants=work.phash_variants or ())
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work_id)
        if work.hash_state == HashState.DONE:
            return "already-done"
        Match.objects.bulk_create(
            [Match(work=work, item_id=h.item_id, algorithm=h.algorithm, distance=h.distance) for h in hits],
            ignore_conflicts=True,
        )
        work.hash_state, work.hash_error = HashState.DONE, ""
        work.save(update_fields=["hash_state", "hash_error"])
    return "done"


def work_hash_and_match(*, work_id: int) -> str:
    """Both steps in this process (demo data, tests, a maintenance shell)."""
    with transaction.atomic():
        outcome = work_hash(work_id=work_id)
    if outcome in ("failed", "missing", "already-done"):
        return outcome
    return work_match(work_id=work_id)


@transaction.atomic
def matches_decide(
    *,
    request: RemovalRequest,
    actor: User,
    confirm: Iterable[int] = (),
    exclude: Iterable[int] = (),
    undecide: Iterable[int] = (),
) -> int:
    """The artist confirms matches as copies of their works, excludes them, or takes a choice back."""
    request = _locked(request)
    _owned(request, actor)
    if request.status not in EDITABLE:
        raise ActionRefused(
            _("Matches can be changed only while the request is a draft or needs information.")
        )
    confirm, exclude, undecide = set(confirm), set(exclude), set(undecide)
    if confirm & exclude or (confirm | exclude) & undecide:
        raise ActionRefused(_("Choose one answer for each copy: mine, not mine or undecided."))
    mine = Match.objects.filter(work__request=request)
    changed = (
        mine.filter(pk__in=confirm).exclude(state=MatchState.CONFIRMED).update(state=MatchState.CONFIRMED)
    )
    changed += (
        mine.filter(pk__in=exclude).exclude(state=MatchState.EXCLUDED).update(state=MatchState.EXCLUDED)
    )
    changed += (
        mine.filter(pk__in=undecide).exclude(state=MatchState.SUGGESTED).update(state=MatchState.SUGGESTED)
    )
    if changed:
        _event(
            request,
            kind=EventKind.MATCHES,
            actor=actor,
            params={
                "text": "matches_decided",
                "confirmed": len(confirm),
                "excluded": len(exclude),
                "undecided": len(undecide),
            },
        )
    return changed


def signature_key(name: str) -> str:
    """A name as signatures are compared: NFKC, case-folded, runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def account_names(profile: ArtistProfile) -> list[str]:
    """The names a signature may match: the profile's display name and the account's full name."""
    names = [profile.display_name, profile.user.get_full_name()]
    return [name.strip() for name in names if signature_key(name)]


def signature_check(*, profile: ArtistProfile, signed_name: str) -> None:
    """Refuse a signature that is empty or is not the account's name (see signature_key)."""
    if not signature_key(signed_name):
        raise ActionRefused(_("Type your full name to sign the statement."), field="signed_name")
    names = account_names(profile)
    if not names:
        raise ActionRefused(
            _("Your account has no name yet: add your name on your account page, then sign with it."),
            field="signed_name",
        )
    if signature_key(signed_name) not in {signature_key(name) for name in names}:
        raise ActionRefused(
            _("Sign with the name of your account, %(name)s: the signature must be yours.")
            % {"name": names[0]},
            field="signed_name",
        )


def statement_text(language: str) -> str:
    """The statement an artist signs, in `language` (English when it is not one of the site's)."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return _(STATEMENT_TEXT)


@transaction.atomic
def request_submit(
    *, request: RemovalRequest, actor: User, signed_name: str, language: str = settings.LANGUAGE_CODE
) -> RemovalRequest:
    """Sign and submit. `language` is the one the statement was shown in: it is stored as signed."""
    request = _locked(request)
    _owned(request, actor)
    if not email_is_verified(request.artist):
        raise ActionRefused(_("Confirm your email address first: follow the link we sent you."))
    signature_check(profile=request.artist, signed_name=signed_name)
    works = request.works.all()
    if not works.exists():
        raise ActionRefused(_("Add at least one work before submitting."))
    if works.filter(hash_state=HashState.PENDING).exists():
        raise ActionRefused(_("Some works are still being checked; wait a moment and submit again."))
    # A work with no copy found today is still worth submitting: its hash is removed from every
    # data set, and copies that arrive later are found (see _work_hash_entries).
    if not works.exclude(hash_state=HashState.FAILED).exists():
        raise ActionRefused(_("None of these works could be read; add a work we can check."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    request.statement = statement_text(language)
    request.statement_language = language
    request.signed_name = " ".join(signed_name.split())[:150]
    request.signed_at = timezone.now()
    request.save(update_fields=["statement", "statement_language", "signed_name", "signed_at"])
    _transition(request, Status.SUBMITTED, actor=actor)
    conflicts_detect(request=request)
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
        _assignment_event(request, moderator=moderator, old="", new=moderator.get_username())
    notify.request_changed(
        request=request, headline=gettext_lazy("A moderator is reviewing your removal request")
    )
    return request


@transaction.atomic
def request_approve(*, request: RemovalRequest, moderator: User, reason: str = "") -> RemovalRequest:
    """Approve: record a registry Removal for every confirmed match, with its outbox rows, atomically."""
    request = _locked(request)
    if request.status not in DECIDABLE:
        raise ActionRefused(_not_decidable(request))
    matches = list(
        Match.objects.filter(work__request=request, state=MatchState.CONFIRMED).select_related(
            "item__dataset"
        )
    )
    works = list(request.works.filter(phash__isnull=False).exclude(hash_state=HashState.FAILED))
    if not matches and not works:
        raise ActionRefused(
            _("%(reference)s has no checked works and no confirmed matches to remove.")
            % {"reference": request.reference}
        )
    _approval_hold(request)
    _transition(request, Status.APPROVED, actor=moderator, message=reason)
    request.decision_reason = reason
    request.save(update_fields=["decision_reason"])
    entries = [registry_services.RemovalEntry(dataset=m.item.dataset, item=m.item) for m in matches]
    entries += _work_hash_entries(works, matches)
    removals = registry_services.removals_record(
        source_ref=request.reference or "",
        reason=request.basis,
        entries=entries,
        approved_at=request.decided_at,
    )
    Match.objects.filter(pk__in=[m.pk for m in matches]).update(state=MatchState.APPROVED)
    reference = request.reference or ""
    transaction.on_commit(lambda: _enqueue_rematch(reference))
    _event(
        request,
        kind=EventKind.REMOVALS,
        actor=moderator,
        params={
            "text": "removals_sent",
            "count": len(removals),
            # Every data set that got one: hash removals go to data sets without a copy too.
            "datasets": _dataset_labels({r.dataset_id for r in removals}),
        },
    )
    notify.request_changed(
        request=request,
        headline=gettext_lazy("Your removal request was approved"),
        message=reason or gettext_lazy("We have sent the removals to the data set maintainers."),
    )
    return request


def _work_hash_entries(
    works: Sequence[Work], matches: Sequence[Match]
) -> list[registry_services.RemovalEntry]:
    """A bare hash removal of each approved work in every data set where no copy of it was approved.

    A work with no copy today must still be removed tomorrow: the hash removal puts it in every
    maintainer's feed, the lookup's hash search and re-matching, so a copy that arrives later (a
    new version of a data set, a repost at another URL) becomes a removal of the same request.
    """
    covered = {(m.work_id, m.item.dataset_id) for m in matches}
    datasets = list(Dataset.objects.order_by("pk"))
    return [
        registry_services.RemovalEntry(
            dataset=dataset,
            phash=work.phash,
            dhash=work.dhash,
            pdq=bytes(work.pdq) if work.pdq is not None else None,
        )
        for work in works
        for dataset in datasets
        if (work.pk, dataset.pk) not in covered
    ]


@transaction.atomic
def request_reject(*, request: RemovalRequest, moderator: User, reason: str) -> RemovalRequest:
    if not reason.strip():
        raise ActionRefused(_("Give the artist a reason for the rejection."))
    request = _locked(request)
    if request.status not in REJECTABLE:
        raise ActionRefused(
            _(
                "%(reference)s is %(status)s; only submitted, in-review or needs-information requests "
                "can be rejected."
            )
            % {"reference": request.reference, "status": str(request.get_status_display()).lower()}
        )
    _transition(request, Status.REJECTED, actor=moderator, message=reason)
    request.decision_reason = reason
    request.save(update_fields=["decision_reason"])
    notify.request_changed(
        request=request, headline=gettext_lazy("Your removal request was rejected"), message=reason
    )
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
        params={"text": "removals_confirmed"},
    )
    _transition(request, Status.COMPLETED, actor=None)
    notify.request_changed(
        request=request,
        headline=gettext_lazy("Your works were removed"),
        message=gettext_lazy("Every data set maintainer has confirmed the removal."),
    )
    return True


def request_rematch(*, reference: str) -> int:
    """Search every data set for copies of an approved request's removed items (not the excluded ones).

    Marks the request re-matched in the same transaction as the removals it records, so
    a run that dies leaves it due for the sweep (rematch_due) and nothing half-written.
    """
    from registry.services import rematch

    excluded = Match.objects.filter(
        work__request__reference=reference, state=MatchState.EXCLUDED
    ).values_list("item_id", flat=True)
    with transaction.atomic():
        # One run at a time per request (a sweep's copy may meet a retry's): the row lock serializes them.
        RemovalRequest.objects.select_for_update().filter(reference=reference).first()
        found = rematch.source_rematch(source_ref=reference, skip_item_ids=list(excluded))
        RemovalRequest.objects.filter(reference=reference).update(rematched_at=timezone.now())
    return len(found)


@transaction.atomic
def request_copies_found(*, reference: str) -> int:
    """Tell the artist that re-matching found more copies and sent them to the maintainers."""
    request = RemovalRequest.objects.select_for_update().filter(reference=reference).first()
    if request is None:
        return 0
    last = (
        TicketEvent.objects.filter(request=request, kind=EventKind.REMOVALS).order_by("-created_at").first()
    )
    since = last.created_at if last else request.created_at
    new = removals_for_source(reference).filter(approved_at__gt=since)
    count = new.count()
    if count:
        datasets = _dataset_labels(set(new.values_list("dataset_id", flat=True)))
        _event(
            request,
            kind=EventKind.REMOVALS,
            actor=None,
            params={"text": "copies_found", "count": count, "datasets": datasets},
        )
        names = ", ".join(datasets)
        notify.request_changed(
            request=request,
            headline=gettext_lazy("More copies of your works were found"),
            message=notify.later(
                lambda: (
                    ngettext(
                        "%(count)d more copy of your works found in %(datasets)s "
                        "and sent to the maintainers.",
                        "%(count)d more copies of your works found in %(datasets)s "
                        "and sent to the maintainers.",
                        count,
                    )
                    % {"count": count, "datasets": names}
                )
            ),
        )
    return count


def _dataset_labels(dataset_ids: Iterable[int]) -> list[str]:
    """Data sets as the timeline names them: "Photos v1 (Open Images Lab)", since two
    organisations may each have a data set of the same name."""
    from registry.models import Dataset

    rows = Dataset.objects.filter(pk__in=list(dataset_ids)).select_related("maintainer")
    return sorted(f"{d.name} ({d.maintainer.name})" for d in rows)


def _enqueue_rematch(reference: str) -> None:
    enqueue(
        "requests_app.tasks.request_rematch",
        reference,
        fallback="copies are found when their items are next imported or changed",
    )


def rematch_due() -> list[str]:
    """Approved requests whose re-matching has not finished two minutes after approval."""
    cutoff = timezone.now() - timedelta(minutes=2)
    return [
        reference
        for reference in RemovalRequest.objects.filter(
            status__in=[Status.APPROVED, Status.COMPLETED],
            rematched_at__isnull=True,
            decided_at__lt=cutoff,
            reference__isnull=False,
        )
        .order_by("decided_at")
        .values_list("reference", flat=True)[:100]
        if reference
    ]


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
        raise ActionRefused(_("Write something first: the note is empty."))
    if len(message) > 10_000:
        raise ActionRefused(_("Keep a note or reply under 10,000 characters."))
    request = RemovalRequest.objects.select_related("artist__user").get(pk=request.pk)
    event = _event(
        request,
        kind=EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE,
        actor=moderator,
        message=message,
    )
    if public:
        notify.request_changed(
            request=request,
            headline=gettext_lazy("A moderator replied to your removal request"),
            message=message,
        )
    return event


# --- identity proofs ----------------------------------------------------------
#
# The checks themselves (DNS, fetches) live in proofs.py and run outside any
# transaction: a slow DNS server must not hold a row lock. Only their result
# is applied here, under the proof's lock.


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
    for request in proof.artist.requests.filter(status__in=selectors.OPEN_STATUSES):
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
            proof.document = ""  # type: ignore[assignment]
            proof.document_deleted_at = now
            proof.save(update_fields=["document", "document_deleted_at"])

            def remove(name: str = name) -> None:
                try:
                    IdentityProof._meta.get_field("document").storage.delete(name)  # type: ignore[attr-defined]
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


# --- ownership conflicts --------------------------------------------------------


def conflicts_detect(*, request: RemovalRequest) -> list[RequestConflict]:
    """Record which other artists' claiming requests hold the same image as this one.

    Same sha256 (an indexed query), or pHash within CONFLICT_PHASH_MAX_DISTANCE
    bits (one numpy popcount pass over the other claiming works' codes per
    work: about 1 ms per million). Runs on submission, so the later of two
    claims finds the earlier, whichever it is.
    """
    mine = list(request.works.values_list("pk", "sha256", "phash"))
    if not mine:
        return []
    others = (
        Work.objects.filter(request__status__in=selectors.CLAIMING_STATUSES)
        .exclude(artist_id=request.artist_id)
        .exclude(request_id=request.pk)
    )
    found: dict[int, list[dict[str, object]]] = {}
    same_file: set[tuple[int, int]] = set()
    by_sha: dict[str, list[int]] = {}
    for work_id, sha, _phash in mine:
        by_sha.setdefault(sha, []).append(work_id)
    for other_id, other_request_id, other_sha in others.filter(sha256__in=list(by_sha)).values_list(
        "pk", "request_id", "sha256"
    ):
        for work_id in by_sha[other_sha]:
            same_file.add((work_id, other_id))
            found.setdefault(other_request_id, []).append(
                {"work": work_id, "other_work": other_id, "kind": "sha256", "distance": 0}
            )
    rows = list(others.filter(phash__isnull=False).values_list("pk", "request_id", "phash"))
    if rows:
        other_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        other_requests = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        codes = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows)).view(np.uint64)
        limit = settings.CONFLICT_PHASH_MAX_DISTANCE
        for work_id, _sha, phash in mine:
            if phash is None:
                continue
            distances = np.bitwise_count(codes ^ np.array([phash], dtype=np.int64).view(np.uint64)[0])
            for k in np.flatnonzero(distances <= limit):
                other_id = int(other_ids[k])
                if (work_id, other_id) in same_file:
                    continue
                found.setdefault(int(other_requests[k]), []).append(
                    {"work": work_id, "other_work": other_id, "kind": "phash", "distance": int(distances[k])}
                )
    conflicts = []
    for other_request_id, pairs in sorted(found.items()):
        conflicts.append(_conflict_record(request, other_request_id, pairs))
    return conflicts


def _conflict_record(
    request: RemovalRequest, other_id: int, pairs: list[dict[str, object]]
) -> RequestConflict:
    swap = other_id < request.pk
    first_id, second_id = (other_id, request.pk) if swap else (request.pk, other_id)
    oriented = [
        {**p, "work": p["other_work"], "other_work": p["work"]} if swap else p  # always first -> second
        for p in pairs
    ]
    with transaction.atomic():
        conflict, created = RequestConflict.objects.select_for_update().get_or_create(
            first_id=first_id, second_id=second_id, defaults={"pairs": oriented}
        )
        if not created:
            known = {(p["work"], p["other_work"]) for p in conflict.pairs}
            new = [p for p in oriented if (p["work"], p["other_work"]) not in known]
            if not new:
                return conflict
            # New shared images after a resolution: the old verdict did not cover them.
            conflict.pairs = conflict.pairs + new
            conflict.resolution, conflict.resolved_by, conflict.resolved_at = (
                ConflictResolution.OPEN,
                None,
                None,
            )
            conflict.save()
        both = RemovalRequest.objects.select_related("artist").filter(pk__in=[first_id, second_id])
        by_id = {r.pk: r for r in both}
        for this, that in ((first_id, second_id), (second_id, first_id)):
            _event(
                by_id[this],
                kind=EventKind.CONFLICT,
                actor=None,
                new="open",
                params={
                    "text": "conflict_found",
                    "count": len(oriented),
                    "artist": by_id[that].artist.display_name,
                    "reference": by_id[that].reference,
                },
            )
    return conflict


def conflict_resolve(
    *, conflict: RequestConflict, moderator: User, resolution: str, note: str
) -> RequestConflict:
    """A moderator decides who owns the shared images; both requests' timelines record it."""
    if resolution not in (ConflictResolution.FIRST, ConflictResolution.SECOND, ConflictResolution.BOTH):
        raise ActionRefused(_("Choose who owns the works, or that it is not a conflict."))
    note = note.strip()
    if not note:
        raise ActionRefused(_("Write down why: the next moderator will read it."))
    with transaction.atomic():
        # Both requests, in id order, so two moderators resolving from either side cannot deadlock.
        locked = list(
            RemovalRequest.objects.select_for_update()
            .select_related("artist")
            .filter(pk__in=[conflict.first_id, conflict.second_id])
            .order_by("pk")
        )
        conflict = RequestConflict.objects.select_for_update().get(pk=conflict.pk)
        if not conflict.is_open:
            raise ActionRefused(
                _("This conflict was resolved already by %(moderator)s: %(resolution)s.")
                % {
                    "moderator": conflict.resolved_by or _("a moderator"),
                    "resolution": str(conflict.get_resolution_display()).lower(),
                }
            )
        conflict.resolution, conflict.note = resolution, note
        conflict.resolved_by, conflict.resolved_at = moderator, timezone.now()
        conflict.save()
        by_id = {r.pk: r for r in locked}
        owner_id = conflict.owner_request_id()
        for request in locked:
            other = by_id[conflict.second_id if request.pk == conflict.first_id else conflict.first_id]
            if owner_id is None:
                verdict = "none"
            elif owner_id == request.pk:
                verdict = "owner"
            else:
                verdict = "other"
            _event(
                request,
                kind=EventKind.CONFLICT,
                actor=moderator,
                old="open",
                new=resolution,
                params={
                    "text": "conflict_resolved",
                    "verdict": verdict,
                    "reference": other.reference,
                    "note": note,
                },
            )
    return conflict


def _approval_hold(request: RemovalRequest) -> None:
    for conflict in selectors.conflicts_of(request):
        other = conflict.other(request)
        if conflict.is_open:
            raise ActionRefused(
                _(
                    "%(reference)s is held: %(other)s (%(artist)s) claims the same image(s). "
                    "Resolve the conflict first."
                )
                % {
                    "reference": request.reference,
                    "other": other.reference,
                    "artist": other.artist.display_name,
                }
            )
        owner = conflict.owner_request_id()
        if owner is not None and owner != request.pk:
            raise ActionRefused(
                _(
                    "%(reference)s: the conflict with %(other)s was resolved in favour of the other artist; "
                    "reject this request instead."
                )
                % {"reference": request.reference, "other": other.reference}
            )


# --- the moderators' desk: assignment, questions, SLA ---------------------------


@transaction.atomic
def request_assign(*, request: RemovalRequest, moderator: User, assignee: User | None) -> RemovalRequest:
    """Claim (assignee is the moderator), hand over to another moderator, or unassign (None)."""
    request = _locked(request)
    if request.status in (Status.REJECTED, Status.WITHDRAWN, Status.COMPLETED):
        raise ActionRefused(
            _("%(reference)s is %(status)s; nothing to work on.")
            % {"reference": request.reference, "status": str(request.get_status_display()).lower()}
        )
    if assignee is not None and not selectors.is_moderator(assignee):
        raise ActionRefused(_("%(user)s is not a moderator.") % {"user": assignee.get_username()})
    if request.assignee_id == (assignee.pk if assignee else None):
        return request
    old = request.assignee.get_username() if request.assignee else ""
    request.assignee = assignee
    request.save(update_fields=["assignee", "updated_at"])
    _assignment_event(request, moderator=moderator, old=old, new=assignee.get_username() if assignee else "")
    return request


def _assignment_event(request: RemovalRequest, *, moderator: User, old: str, new: str) -> None:
    _event(
        request,
        kind=EventKind.ASSIGNMENT,
        actor=moderator,
        old=old,
        new=new,
        params={"text": "assignment", "old": old, "new": new},
    )


@transaction.atomic
def request_ask_info(
    *, request: RemovalRequest, moderator: User, message: str = "", canned: str = ""
) -> RemovalRequest:
    """Send the request back to the artist with a question; their resubmission puts it back in the queue.

    `canned` names one of MODERATION_CANNED_RESPONSES: it is stored by its key, so each reader
    gets it in their language; `message` is the moderator's own words, kept as typed.
    """
    note = message.strip()
    texts = {key: text for key, _title, text in settings.MODERATION_CANNED_RESPONSES}
    if canned and canned not in texts:
        raise ActionRefused(_("Choose one of the canned questions, or none."))
    if not canned and not note:
        raise ActionRefused(_("Write what you need from the artist."))
    if len(note) > 10_000:
        raise ActionRefused(_("Keep the question under 10,000 characters."))
    params: dict[str, object] = {"text": "needs_info", "canned": canned, "note": note}
    request = _locked(request)
    if request.status == Status.SUBMITTED:
        # Asking is reviewing: the request passes through in_review, so the table holds.
        _transition(request, Status.IN_REVIEW, actor=moderator)
        if request.assignee_id is None:
            request.assignee = moderator
            request.save(update_fields=["assignee"])
            _assignment_event(request, moderator=moderator, old="", new=moderator.get_username())
    _transition(request, Status.NEEDS_INFO, actor=moderator, params=params)
    notify.request_needs_info(request=request, message=notify.later(lambda: timeline.render(params)))
    return request


def sla_state(request: RemovalRequest, now: datetime | None = None) -> str:
    """ "overdue", "due_soon", "on_track", or "" (no clock runs in this status)."""
    if request.sla_due_at is None or request.status not in settings.SLA_HOURS:
        return ""
    now = now or timezone.now()
    if request.sla_due_at <= now:
        return "overdue"
    if request.sla_due_at <= now + timedelta(hours=settings.SLA_DUE_SOON_HOURS):
        return "due_soon"
    return "on_track"


def sla_escalate(*, now: datetime | None = None) -> int:
    """Raise the priority of overdue requests, note it, and tell the assignee (or every moderator).

    Once per due time: escalated_at is compared with sla_due_at, and every
    transition sets a new due time. Safe to run twice.
    """
    from django.db.models import F, Q

    now = now or timezone.now()
    due = RemovalRequest.objects.filter(status__in=list(settings.SLA_HOURS), sla_due_at__lte=now).filter(
        Q(escalated_at__isnull=True) | Q(escalated_at__lt=F("sla_due_at"))
    )
    count = 0
    for request_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            request = (
                RemovalRequest.objects.select_for_update(of=("self",))
                .select_related("assignee")
                .get(pk=request_id)
            )
            if sla_state(request, now) != "overdue" or (
                request.escalated_at is not None
                and request.sla_due_at is not None
                and request.escalated_at >= request.sla_due_at
            ):
                continue
            old_priority = request.priority
            request.priority = Priority.HIGH
            request.escalated_at = now
            request.save(update_fields=["priority", "escalated_at"])
            late = now - request.sla_due_at if request.sla_due_at else timedelta(0)
            _event(
                request,
                kind=EventKind.ESCALATION,
                actor=None,
                old=str(old_priority),
                new=str(Priority.HIGH),
                params={
                    "text": "sla_escalated",
                    "hours": int(late.total_seconds() // 3600),
                    "status": request.status,
                },
            )
            notify.sla_overdue(request=request, recipients=_escalation_recipients(request))
            count += 1
    return count


def _escalation_recipients(request: RemovalRequest) -> list[str]:
    from django.contrib.auth.models import Group

    from ..roles import MODERATOR_GROUP

    if request.assignee is not None and request.assignee.is_active and request.assignee.email:
        return [request.assignee.email]
    group = Group.objects.filter(name=MODERATOR_GROUP).first()
    if group is None:
        return []
    return sorted(
        set(
            group.user_set.filter(is_active=True, is_staff=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


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


def _name_shortened(name: str, limit: int = 255) -> str:
    """A file name cut to `limit` characters with its extension kept (the format is judged by it)."""
    if len(name) <= limit:
        return name
    suffix = PurePosixPath(name).suffix[:16]
    return name[: limit - len(suffix)] + suffix


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
        name = _name_shortened(PurePosixPath(info.filename.replace("\\", "/")).name)
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


def works_add_zip(
    *, request: RemovalRequest, actor: User, upload: UploadedFile, batch: str = ""
) -> WorksAdded:
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
        added = works_add(request=request, actor=actor, files=members, batch=batch)
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
    TicketEvent.objects.filter(request__in=kept, actor=user).update(actor=None, message="", params={})
    # A "works added" row names the artist's files, in its message and in its params.
    TicketEvent.objects.filter(request__in=kept, kind=EventKind.WORKS).update(message="", params={})
    for req in kept:
        _event(req, kind=EventKind.INTERNAL_NOTE, actor=None, params={"text": "account_deleted"})
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
