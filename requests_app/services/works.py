"""Works on a ticket: uploads one by one or in a zip archive, hashing, matching them
against the registry's items.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import overload

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _
from PIL import Image

from core.queueing import enqueue
from core.text import printable
from registry import matching, probes
from registry.hashing import ImageRejected, SanitizedImage, hashes_of_image, open_image, sanitize

from .. import selectors, timeline
from ..models import (
    ArtistProfile,
    EventKind,
    HashState,
    Match,
    RemovalRequest,
    TicketEvent,
    Work,
)
from ..workflow import EDITABLE
from ._ticket import ActionRefused, _event, _locked, _owned
from .quotas import quota_problem


@dataclass(frozen=True)
class FileError:
    name: str
    message: str


@dataclass
class WorksAdded:
    works: list[Work]
    errors: list[FileError]


def works_add(
    *, ticket: RemovalRequest, actor: User, files: Sequence[UploadedFile], batch: str = ""
) -> WorksAdded:
    """Check, clean and store each file; a bad file is reported and skipped, never the batch.

    Each work is stored in its own transaction, so a failure later in the
    batch leaves the earlier works saved and queued for hashing. Calls with the
    same `batch` (one upload action sent file by file) share one timeline row.
    """
    _owned(ticket, actor)
    if ticket.status not in EDITABLE:
        raise ActionRefused(_("Works can be added only while the request is a draft or needs information."))
    result = WorksAdded(works=[], errors=[])
    for upload in files:
        name = clean_name(upload.name or "upload")
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
        stored = work_store(artist=ticket.artist, ticket=ticket, name=name, clean_content=clean)
        if stored.work is not None:
            result.works.append(stored.work)
        else:
            result.errors.append(FileError(name, stored.message))
    if result.works:
        _works_added_event(ticket, actor=actor, names=[w.original_name for w in result.works], batch=batch)
    return result


@transaction.atomic
def _works_added_event(
    ticket: RemovalRequest, *, actor: User, names: list[str], batch: str, count: int | None = None
) -> None:
    """One "N works added" row per upload action: a later file of the same batch updates the row."""
    _locked(ticket)  # the uploader sends files in parallel: one row, not two
    batch = batch[:64]
    event = (
        TicketEvent.objects.select_for_update()
        .filter(request=ticket, kind=EventKind.WORKS, params__batch=batch)
        .first()
        if batch
        else None
    )
    previous = event.params if event is not None else {}
    shown = list(previous.get("names", []))
    shown += names[: max(0, timeline.NAMES_SHOWN - len(shown))]
    params: dict[str, object] = {
        "text": "works_added",
        "count": int(previous.get("count", 0)) + (len(names) if count is None else count),
        "names": shown,
    }
    if batch:
        params["batch"] = batch
    if event is None:
        _event(ticket, kind=EventKind.WORKS, actor=actor, params=params)
        return
    event.params = params
    event.message = timeline.render_english(params)
    event.save(update_fields=["params", "message"])


def _too_large_message(size: int) -> str:
    return _("The file is %(size)s MB, more than the %(limit)s MB allowed; upload a smaller version.") % {
        "size": formats.number_format(size / 1024 / 1024, 1),
        "limit": formats.number_format(settings.UPLOAD_MAX_BYTES / 1024 / 1024, 0),
    }


@dataclass(frozen=True)
class Stored:
    """What became of one clean image: `work` is set when it is new in the portfolio (or joined
    the ticket); otherwise `duplicate` is the work already holding these bytes and `message` says so."""

    work: Work | None
    duplicate: Work | None = None
    message: str = ""
    over_quota: bool = False  # refused: the portfolio is full (`message` says how full)


def work_store(
    *,
    artist: ArtistProfile,
    ticket: RemovalRequest | None,
    name: str,
    clean_content: SanitizedImage,
    before_save: Callable[[], bool] | None = None,
) -> Stored:
    """Store a clean image in the artist's portfolio (and `ticket`), once per content.

    Called inside or outside a transaction; it opens its own (a savepoint inside one). The
    artist's row is locked, so two uploads of the same bytes store one work. A duplicate joins
    `ticket` when it is in no request yet; otherwise it is reported ("already in your portfolio
    as NAME"). `before_save`, run under the lock, may veto the store (an upload's cursor moved on).
    """
    digest = hashlib.sha256(clean_content.content).hexdigest()
    name = clean_name(name)
    with transaction.atomic():
        ArtistProfile.objects.select_for_update().filter(pk=artist.pk).first()
        if before_save is not None and not before_save():
            return Stored(work=None, message="skipped")
        existing = (
            Work.objects.filter(artist=artist, sha256=digest).select_related("request").order_by("id").first()
        )
        if existing is not None:
            if ticket is not None and existing.request_id is None:
                existing.request = ticket
                existing.save(update_fields=["request"])
                return Stored(work=existing)
            return Stored(work=None, duplicate=existing, message=_duplicate_message(existing, ticket))
        # Under the artist's lock: two uploads at once cannot both take the last room.
        usage = selectors.portfolio_usage(artist.pk, with_pending=False)
        problem = quota_problem(usage, name=name, size=len(clean_content.content))
        if problem:
            return Stored(work=None, message=problem, over_quota=True)
        work = Work(
            artist=artist,
            request=ticket,
            original_name=name,
            sha256=digest,
            size_bytes=len(clean_content.content),
            embedded_signals=clean_content.embedded,
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
    return Stored(work=work)


def _duplicate_message(existing: Work, ticket: RemovalRequest | None) -> str:
    values = {"name": printable(existing.original_name, 255)}
    if ticket is not None and existing.request_id == ticket.pk:
        return _("Already in this request as %(name)s.") % values
    if ticket is not None and existing.request is not None:
        return _("Already in your portfolio as %(name)s, in request %(reference)s.") % {
            **values,
            "reference": existing.request.reference or _("a draft"),
        }
    return _("Already in your portfolio as %(name)s.") % values


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(name: str, limit: int = 255) -> str:
    """A file name as stored and shown: control characters and lone surrogates replaced, cut to
    `limit` characters with its extension kept; "upload" when nothing is left."""
    name = _CONTROL.sub("\ufffd", name).encode("utf-8", "replace").decode("utf-8").strip()
    return _name_shortened(name or "upload", limit)


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
            image = open_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS, draft=True)
            hashes = hashes_of_image(image)
            # Crops, pads and small rotations of the work, searched by work_match (registry.probes):
            # hashed here, from the picture already decoded, so matching needs no decode unless a
            # derived view finds a candidate (whose PDQ it then computes).
            derived = [[view, phash, dhash] for view, phash, dhash in probes.derived_hashes(image)]
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
            derived_hashes=derived,
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
    hashed = work
    hits = matching.search_work(
        phash=work.phash,
        dhash=work.dhash,
        phash_variants=work.phash_variants or (),
        pdq=work.pdq,
        pdq_quality=work.pdq_quality,
        image=lambda: _work_image(hashed),
        derived_hashes=work.derived_hashes or (),
    )
    with transaction.atomic():
        work = Work.objects.select_for_update().get(pk=work_id)
        if work.hash_state == HashState.DONE:
            return "already-done"
        Match.objects.bulk_create(
            [
                Match(
                    work=work,
                    item_id=h.item_id,
                    algorithm=h.algorithm,
                    distance=h.distance,
                    signals=[s.as_dict() for s in h.signals],
                    view=h.view,
                    confidence=h.confidence,
                )
                for h in hits
            ],
            ignore_conflicts=True,
        )
        work.hash_state, work.hash_error = HashState.DONE, ""
        work.save(update_fields=["hash_state", "hash_error"])
    return "done"


def work_match_failed(*, work_id: int, reason: str) -> str:
    """Matching could not complete (a data set's shard never answered, after the task's retries):
    the work says so instead of showing no copies, which would read as "none found"."""
    updated = Work.objects.filter(pk=work_id, hash_state=HashState.PENDING).update(
        hash_state=HashState.FAILED, hash_error=f"Matching failed: {reason}"[:1000]
    )
    return "failed" if updated else "already-done"


def _work_image(work: Work) -> Image.Image | None:
    """The work's picture decoded as hashing decodes it, for verifying a mirrored, turned or derived view."""
    try:
        with work.file.open("rb") as handle:
            return open_image(handle.read(), max_pixels=settings.UPLOAD_MAX_PIXELS, draft=True)
    except (ImageRejected, OSError):
        return None


def work_hash_and_match(*, work_id: int) -> str:
    """Both steps in this process (demo data, tests, a maintenance shell)."""
    with transaction.atomic():
        outcome = work_hash(work_id=work_id)
    if outcome in ("failed", "missing", "already-done"):
        return outcome
    return work_match(work_id=work_id)


ZIP_IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})


# Against zip bombs: members and declared uncompressed bytes are counted from the
# central directory before anything is decompressed (settings.UPLOAD_ZIP_MAX_MEMBERS and
# UPLOAD_ZIP_MAX_UNCOMPRESSED); a member that claims to compress better than images do is
# skipped; a member is then read no further than its declared size (zipfile stops there and
# checks the CRC).
ZIP_MAX_MEMBER_RATIO = 100


@dataclass
class _ZipMembers(Sequence[UploadedFile]):
    """Accepted members of an archive, decompressed one at a time as works_add reads them."""

    archive: zipfile.ZipFile
    members: list[tuple[str, zipfile.ZipInfo]]
    errors: list[FileError]

    def __len__(self) -> int:
        return len(self.members)

    @overload
    def __getitem__(self, index: int) -> UploadedFile: ...
    @overload
    def __getitem__(self, index: slice) -> list[UploadedFile]: ...
    def __getitem__(self, index: int | slice) -> UploadedFile | list[UploadedFile]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
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
    limit = settings.UPLOAD_ZIP_MAX_MEMBERS
    if len(files) > limit:
        raise ActionRefused(
            _("The zip holds %(count)d files; a zip may hold at most %(limit)d. Split it into several zips.")
            % {"count": len(files), "limit": limit}
        )
    total = sum(info.file_size for info in files)
    most = settings.UPLOAD_ZIP_MAX_UNCOMPRESSED
    if total > most:
        raise ActionRefused(
            _("The zip would unpack to %(size)d MB, more than the %(limit)d MB allowed; split it.")
            % {"size": total // 1024**2, "limit": most // 1024**2}
        )
    for info in files:
        raw = PurePosixPath(info.filename.replace("\\", "/")).name
        if not raw or raw.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue
        name = clean_name(raw)
        if PurePosixPath(name).suffix.lower() not in ZIP_IMAGE_EXTENSIONS:
            errors.append(FileError(name, _("Not a JPEG, PNG or WebP image; skipped.")))
        elif info.file_size > settings.UPLOAD_MAX_BYTES:
            errors.append(FileError(name, _too_large_message(info.file_size)))
        elif info.flag_bits & 0x1:
            errors.append(FileError(name, _("This file is encrypted; zip it again without a password.")))
        elif info.file_size > 1024**2 and info.file_size > ZIP_MAX_MEMBER_RATIO * max(1, info.compress_size):
            errors.append(
                FileError(name, _("This file compresses far better than any image (a zip bomb?); skipped."))
            )
        else:
            accepted.append((name, info))
    return accepted, errors


def works_add_zip(
    *, ticket: RemovalRequest, actor: User, upload: UploadedFile, batch: str = ""
) -> WorksAdded:
    """Add every image of a zip archive, each checked like an upload; errors are reported per member."""
    _owned(ticket, actor)
    if upload.size is not None and upload.size > settings.PORTFOLIO_ZIP_MAX_BYTES:
        raise ActionRefused(_("The zip is too large; split it into several smaller ones."))
    try:
        archive = zipfile.ZipFile(upload.file or upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ActionRefused(_("%(name)s is not a zip file we can open.") % {"name": upload.name}) from None
    with archive:
        accepted, errors = zip_members_check(archive)
        if not accepted:
            return WorksAdded(works=[], errors=errors)
        members = _ZipMembers(archive, accepted, errors)
        added = works_add(ticket=ticket, actor=actor, files=members, batch=batch)
    return WorksAdded(works=added.works, errors=errors + added.errors)
