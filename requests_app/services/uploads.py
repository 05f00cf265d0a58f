"""Resumable uploads into an artist's portfolio (docs/uploads.md): a file (an image or a zip)
is announced, sent in chunks that append to a private file, then unpacked by a worker into
works, one member per transaction, so a worker that dies resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.chunks import ChunkProblem, chunk_place_problem, chunk_size_problem, chunk_write_at
from core.queueing import enqueue
from core.text import printable, text_problem
from registry.hashing import ImageRejected, SanitizedImage, sanitize

from .. import selectors, timeline
from ..models import ArtistProfile, PortfolioUpload, RemovalRequest, UploadState
from ..storage import private_storage
from ..workflow import EDITABLE
from ._ticket import ActionRefused, _owned
from .quotas import quota_details, quota_problem
from .works import ZIP_IMAGE_EXTENSIONS, _works_added_event, clean_name, work_store, zip_members_check

REPORTS_KEPT = 5000  # per-file reports an upload keeps (counters count them all)
STALLED_AFTER = timedelta(minutes=5)  # processing that has not moved for this long is re-queued
_SHA256 = re.compile(r"[0-9a-f]{64}")


class UploadRefused(ActionRefused):
    """A refused upload call; `code` names the case for the page and `status` is the HTTP answer.

    `offset` is the number of bytes the server holds, so a sender can resume from there.
    """

    def __init__(
        self,
        message: object,
        *,
        code: str,
        status: int = 400,
        offset: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.status, self.offset = code, status, offset
        self.details = details or {}  # more fields of the JSON answer (a quota's limit and use)


def _mb(size: int) -> str:
    return formats.number_format(size / 1024 / 1024, 1)


def upload_create(
    *,
    artist: ArtistProfile,
    actor: User,
    name: str,
    size: int,
    sha256: str = "",
    ticket: RemovalRequest | None = None,
) -> PortfolioUpload:
    """Announce a file: checked by its name and size before any byte is sent."""
    problem = text_problem(name)
    if problem:
        raise UploadRefused(_("The file name %(problem)s.") % {"problem": problem}, code="bad_name")
    name = clean_name(name)
    suffix = PurePosixPath(name).suffix.lower()
    is_zip = suffix == ".zip"
    if not is_zip and suffix not in ZIP_IMAGE_EXTENSIONS:
        raise UploadRefused(
            _("%(name)s is not a JPEG, PNG or WebP image or a zip of them.") % {"name": name}, code="bad_type"
        )
    limit = settings.PORTFOLIO_ZIP_MAX_BYTES if is_zip else settings.UPLOAD_MAX_BYTES
    if size <= 0:
        raise UploadRefused(_("%(name)s is empty.") % {"name": name}, code="empty")
    if size > limit:
        raise UploadRefused(
            _(
                "%(name)s is %(size)s MB, more than the %(limit)s MB allowed; "
                "split it or send a smaller version."
            )
            % {"name": name, "size": _mb(size), "limit": _mb(limit)},
            code="too_large",
        )
    sha256 = sha256.lower()
    if sha256 and not _SHA256.fullmatch(sha256):
        raise UploadRefused(_("The sha256 must be 64 hexadecimal digits."), code="bad_sha256")
    if ticket is not None:
        _owned(ticket, actor)
        if ticket.status not in EDITABLE:
            raise UploadRefused(
                _("Works can be added only while the request is a draft or needs information."),
                code="not_editable",
                status=409,
            )
    if artist.user_id != actor.pk:
        raise UploadRefused(_("This portfolio belongs to another account."), code="not_yours", status=403)
    usage = selectors.portfolio_usage(artist.pk)
    problem = quota_problem(usage, name=name, size=size)
    if problem:
        raise UploadRefused(problem, code="over_quota", status=413, details=quota_details(usage))
    key = uuid.uuid4()
    return PortfolioUpload.objects.create(
        key=key,
        artist=artist,
        ticket=ticket,
        name=name,
        is_zip=is_zip,
        size=size,
        sha256=sha256,
        path=f"uploads/{key.hex}.part",
    )


def _file(upload: PortfolioUpload) -> Path:
    return Path(private_storage.path(upload.path))


_CHUNK_MESSAGES = {
    "empty_chunk": gettext_noop("The chunk is empty."),
    "chunk_too_large": gettext_noop("A chunk may hold at most %(limit)d bytes."),
    "offset_mismatch": gettext_noop(
        "This chunk starts at byte %(offset)d but %(received)d bytes are in; send from byte %(received)d."
    ),
    "past_size": gettext_noop(
        "This chunk ends at byte %(end)d, past the %(size)d bytes announced for the file."
    ),
}


def _chunk_refused(problem: ChunkProblem, *, offset: int | None) -> UploadRefused:
    message = _(_CHUNK_MESSAGES[problem.code]) % asdict(problem)
    return UploadRefused(message, code=problem.code, status=problem.status, offset=offset)


def upload_chunk_write(*, upload: PortfolioUpload, offset: int, data: bytes) -> PortfolioUpload:
    """Append one chunk at `offset`, which must be the bytes already received; nothing changes otherwise.

    The chunk that completes the file checks it (size, the sha256 when one was given, a zip's
    directory and limits) and queues it for unpacking; a file that fails the check is failed
    (its bytes deleted) and the answer says why.
    """
    if bad := chunk_size_problem(length=len(data), limit=settings.PORTFOLIO_CHUNK_BYTES):
        raise _chunk_refused(bad, offset=None)
    with transaction.atomic():
        row = PortfolioUpload.objects.select_for_update().get(pk=upload.pk)
        if row.state != UploadState.RECEIVING:
            raise UploadRefused(
                _("This upload has all its bytes already (%(state)s).") % {"state": row.get_state_display()},
                code="not_receiving",
                status=409,
                offset=row.received,
            )
        bad = chunk_place_problem(offset=offset, length=len(data), received=row.received, size=row.size)
        if bad:
            raise _chunk_refused(bad, offset=row.received)
        path = _file(row)
        chunk_write_at(path, offset, data)
        row.received = offset + len(data)
        if row.received == row.size:
            row.completed_at = timezone.now()
            problem = _complete_problem(row, path)
            if problem:
                row.state, row.error = UploadState.FAILED, problem
            else:
                row.state = UploadState.QUEUED
                upload_pk = row.pk
                transaction.on_commit(lambda: _enqueue_process(upload_pk))
        row.save()
    if row.state == UploadState.FAILED:
        path.unlink(missing_ok=True)  # refused whole: its bytes are not kept
    return row


def _complete_problem(upload: PortfolioUpload, path: Path) -> str:
    """Why a file whose bytes are all in cannot be unpacked, or ""."""
    if path.stat().st_size != upload.size:
        return _("The file on the server has %(got)d bytes, not the %(size)d announced; send it again.") % {
            "got": path.stat().st_size,
            "size": upload.size,
        }
    if upload.sha256:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
        if digest.hexdigest() != upload.sha256:
            return _(
                "The file received does not have the sha256 announced; "
                "it was damaged on the way. Send it again."
            )
    if upload.is_zip:
        try:
            with zipfile.ZipFile(path) as archive:
                accepted, _errors = zip_members_check(archive)
        except ActionRefused as exc:
            return str(exc)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return _("%(name)s is not a zip file we can open.") % {"name": upload.name}
        if not accepted:
            return _("%(name)s holds no JPEG, PNG or WebP image.") % {"name": upload.name}
    return ""


def _enqueue_process(upload_pk: int) -> None:
    enqueue("requests_app.tasks.upload_process", upload_pk, fallback="the uploads sweep re-queues it")


@dataclass(frozen=True)
class _Member:
    name: str
    info: zipfile.ZipInfo | None  # None: the file itself (an image upload), or an error already known
    error: str = ""


def upload_process(*, upload_id: int) -> str:
    """Turn a received upload into works (worker). Safe to run twice, and resumable: each member is
    stored with the upload's cursor in one transaction, and a run that finds the cursor moved by
    another run stops. Its per-file messages are written in the artist's language."""
    language = PortfolioUpload.objects.filter(pk=upload_id).values_list("artist__language", flat=True).first()
    with translation.override(language or settings.LANGUAGE_CODE):
        return _process(upload_id)


def _process(upload_id: int) -> str:
    with transaction.atomic():
        row = PortfolioUpload.objects.select_for_update().filter(pk=upload_id).first()
        if row is None:
            return "missing"
        if row.state not in (UploadState.QUEUED, UploadState.PROCESSING):
            return "not-due"
        row.state = UploadState.PROCESSING
        row.save(update_fields=["state", "updated_at"])
    ticket = row.ticket if row.ticket is not None and row.ticket.status in EDITABLE else None
    path = _file(row)

    def read_file(_member: _Member) -> bytes:
        with open(path, "rb") as handle:
            return handle.read(settings.UPLOAD_MAX_BYTES + 1)

    try:
        if row.is_zip:
            outcome = _process_zip(row, path, ticket)
        else:
            outcome = _process_members(row, [_Member(row.name, None)], ticket, read_file)
    except ActionRefused as exc:
        return _fail(upload_id, str(exc))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return _fail(upload_id, _("The file could not be read (%(error)s).") % {"error": printable(str(exc))})
    if outcome != "done":
        return outcome
    return _finish(upload_id, ticket)


def _fail(upload_id: int, message: str) -> str:
    PortfolioUpload.objects.filter(pk=upload_id, state=UploadState.PROCESSING).update(
        state=UploadState.FAILED, error=message, updated_at=timezone.now()
    )
    return "failed"


Reader = Callable[[_Member], bytes]


def _process_zip(row: PortfolioUpload, path: Path, ticket: RemovalRequest | None) -> str:
    with zipfile.ZipFile(path) as archive:
        accepted, errors = zip_members_check(archive)
        # Errors found in the directory first, then the images, in the archive's order: the same
        # list on every run, so the cursor means the same member.
        members = [_Member(e.name, None, e.message) for e in errors] + [_Member(n, i) for n, i in accepted]

        def read(member: _Member) -> bytes:
            assert member.info is not None
            with archive.open(member.info) as handle:
                return handle.read(settings.UPLOAD_MAX_BYTES + 1)

        return _process_members(row, members, ticket, read)


def _process_members(
    row: PortfolioUpload, members: list[_Member], ticket: RemovalRequest | None, read: Reader
) -> str:
    if row.members != len(members):
        PortfolioUpload.objects.filter(pk=row.pk).update(members=len(members))
    for index in range(row.next_member, len(members)):
        member = members[index]
        clean, error = None, member.error
        if not error:
            clean, error = _member_clean(member, read)
        if not _member_record(row, index, member.name, clean, error, ticket):
            return "another-run"
    return "done"


def _member_clean(member: _Member, read: Reader) -> tuple[SanitizedImage | None, str]:
    try:
        data = read(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        return None, _("This file in the zip is damaged (%(error)s).") % {"error": printable(str(exc))}
    if not data:
        return None, _("The file is empty.")
    if len(data) > settings.UPLOAD_MAX_BYTES:
        return None, _(
            "The file is %(size)s MB, more than the %(limit)s MB allowed; upload a smaller version."
        ) % {
            "size": _mb(len(data)),
            "limit": _mb(settings.UPLOAD_MAX_BYTES),
        }
    try:
        return sanitize(data, max_pixels=settings.UPLOAD_MAX_PIXELS), ""
    except ImageRejected as exc:
        return None, str(exc)


def _member_record(
    row: PortfolioUpload,
    index: int,
    name: str,
    clean: SanitizedImage | None,
    error: str,
    ticket: RemovalRequest | None,
) -> bool:
    """Store one member and move the cursor past it, in one transaction; False if another run has."""
    with transaction.atomic():
        upload = PortfolioUpload.objects.select_for_update().get(pk=row.pk)
        if upload.next_member != index or upload.state != UploadState.PROCESSING:
            return False
        # Only what changed is written: the per-file reports of a big zip are not rewritten per member.
        fields = ["next_member", "processed", "updated_at"]
        if clean is None:
            upload.failed += 1
            fields += ["failed", *_report(upload, name, error, "error")]
        else:
            stored = work_store(artist=row.artist, ticket=ticket, name=name, clean_content=clean)
            if stored.over_quota:
                upload.failed += 1
                fields += ["failed", *_report(upload, name, stored.message, "error")]
            elif stored.work is not None:
                upload.added += 1
                fields.append("added")
                if len(upload.added_names) < timeline.NAMES_SHOWN:
                    upload.added_names = [*upload.added_names, stored.work.original_name]
                    fields.append("added_names")
            else:
                upload.duplicates += 1
                fields += ["duplicates", *_report(upload, name, stored.message, "duplicate")]
        upload.processed += 1
        upload.next_member = index + 1
        upload.save(update_fields=fields)
    return True


def _report(upload: PortfolioUpload, name: str, message: str, kind: str) -> list[str]:
    """Keep a per-file report (the first REPORTS_KEPT); the fields to save."""
    if len(upload.reports) >= REPORTS_KEPT:
        return []
    upload.reports = [*upload.reports, {"name": name, "message": message, "kind": kind}]
    return ["reports"]


def _finish(upload_id: int, ticket: RemovalRequest | None) -> str:
    with transaction.atomic():
        upload = PortfolioUpload.objects.select_for_update().select_related("artist__user").get(pk=upload_id)
        if upload.state != UploadState.PROCESSING:
            return "another-run"
        upload.state, upload.processed_at = UploadState.DONE, timezone.now()
        upload.save()
        if ticket is not None and upload.added:
            _works_added_event(
                ticket,
                actor=upload.artist.user,
                names=upload.added_names,
                batch=upload.key.hex,
                count=upload.added,
            )
    _file(upload).unlink(missing_ok=True)  # every member is a work now (or reported)
    return "done"


def uploads_processing_due() -> list[int]:
    """Uploads received but not unpacked whose processing has not moved for a while (beat)."""
    cutoff = timezone.now() - STALLED_AFTER
    return list(
        PortfolioUpload.objects.filter(
            state__in=[UploadState.QUEUED, UploadState.PROCESSING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:100]
    )


def uploads_expire() -> int:
    """Delete the bytes of uploads never finished within PORTFOLIO_UPLOAD_STALE_DAYS; they say so."""
    cutoff = timezone.now() - timedelta(days=settings.PORTFOLIO_UPLOAD_STALE_DAYS)
    expired = 0
    for pk in PortfolioUpload.objects.filter(state=UploadState.RECEIVING, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:500]:
        with transaction.atomic():
            upload = PortfolioUpload.objects.select_for_update().get(pk=pk)
            if upload.state != UploadState.RECEIVING:
                continue
            upload.state = UploadState.EXPIRED
            upload.error = _(
                "Not finished within %(days)d days; its bytes were deleted. Send the file again."
            ) % {"days": settings.PORTFOLIO_UPLOAD_STALE_DAYS}
            upload.save()
        _file(upload).unlink(missing_ok=True)
        expired += 1
    return expired
