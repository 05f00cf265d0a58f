"""File filings: a partner's NDJSON, CSV or Parquet file of opt-outs, of any size.

The partner announces the file (name, size, attestation), sends it in chunks at an offset (the
protocol of the artists' resumable uploads, docs/uploads.md: an interrupted upload asks the
offset and goes on), and a worker reads it with registry's index-import readers, streamed, in
batches: each batch's rows are validated by `clean_filing_row`, stored with their line numbers
and committed with the filing's cursor (`rows_read`), so a worker killed mid-file resumes after
the last committed batch, nothing lost or doubled. Once every row is stored the filing is queued
for the matching and policy of every filing (partners.services.approval), untouched.

A bad row rejects that row (its line and why); a file that cannot be read at all (not its
format, damaged, without the needed columns, no rows) fails the filing: its accepted rows are
deleted before any was matched, so nothing of it is approved and the same rows can be sent again.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import clock
from core.chunks import ChunkProblem, chunk_place_problem, chunk_size_problem, chunk_write_at
from core.queueing import enqueue
from core.text import printable, text_problem
from registry import imports as readers
from registry.imports import ImportFileError

from ..choices import in_english
from ..models import Filing, FilingRow, FilingSource, FilingState, PartnerActionKind, PartnerKey, RowState
from .audit import partner_action_record
from .filings import (
    Cleaned,
    FilingRefused,
    RowError,
    Served,
    attestation_check,
    clean_filing_row,
    filing_enqueue,
    partner_lock_active,
    rows_store,
)

FORMATS = readers.FORMATS
# The flat columns of a CSV or Parquet file; NDJSON lines take the JSON row of the batch API.
COLUMNS = (
    "creator_id",
    "creator_profile_url",
    "creator_email",
    "work_url",
    "image_url",
    "phash",
    "dhash",
    "pdq",
    "pdq_quality",
    "basis",
    "choice",
    "licence",
    "licence_url",
    "attribution",
)
REQUIRED = ("creator_id", "creator_profile_url", "work_url", "basis", "choice")
STALE_AFTER = timedelta(minutes=5)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSIONS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".parquet": "parquet"}
_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ": "xz"}


class ReadTakenOver(Exception):
    """Another worker took this file's reading over (this one was thought dead): it stops."""


class FileRefused(FilingRefused):
    """A refused upload call; `offset` is the bytes the server holds, to resume from there."""

    def __init__(self, code: str, message: str, *, status: int = 400, offset: int | None = None) -> None:
        super().__init__(code, message, status=status)
        self.offset = offset


def _path(filing: Filing) -> Path:
    # Private (the partner's data, creators' emails), never under a URL, as index files are.
    return Path(settings.PRIVATE_MEDIA_ROOT) / filing.file_path


def file_filing_create(
    *, key: PartnerKey, attestation: Any, name: Any, size: Any, file_format: Any = None, sha256: Any = ""
) -> Filing:
    """Announce a file: checked by its name, size and format before any byte is sent.

    Raises FilingRefused (nothing stored), with the batch API's codes for the attestation and a
    suspended partner.
    """
    partner = key.partner
    attestation_check(partner=partner, attestation=attestation)
    if not isinstance(name, str) or not name.strip():
        raise FilingRefused("bad_name", "Give the file's name in `name` (for example rows.csv).")
    if problem := text_problem(name):
        raise FilingRefused("bad_name", f"The file name {problem}.")
    name = name.strip()[-255:]
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise FilingRefused("bad_size", "Give the file's size in bytes in `size`, a whole number above 0.")
    if size > settings.PARTNER_FILE_MAX_BYTES:
        raise FilingRefused(
            "file_too_large",
            f"The file is {size:,} bytes, more than the {settings.PARTNER_FILE_MAX_BYTES:,} accepted; "
            "split it into several filings.",
            status=413,
        )
    if file_format is None or file_format == "":
        file_format = _EXTENSIONS.get(Path(name.lower()).suffix, "")
        if not file_format:
            raise FilingRefused(
                "bad_format",
                f"Say the file's `format` ({', '.join(FORMATS)}), or name it .csv, .ndjson, .jsonl or "
                ".parquet.",
            )
    elif not isinstance(file_format, str) or file_format not in FORMATS:
        shown = printable(file_format, 20) if isinstance(file_format, str) else type(file_format).__name__
        accepted = ", ".join(FORMATS)
        raise FilingRefused("bad_format", f"format {shown!r} is not accepted; use one of {accepted}.")
    if not isinstance(sha256, str) or (sha256 and not _SHA256.fullmatch(sha256.lower())):
        raise FilingRefused("bad_sha256", "The sha256 must be 64 hexadecimal digits.")
    with transaction.atomic():
        partner = partner_lock_active(partner)
        filing = Filing(
            partner=partner,
            key=key,
            attestation=partner.attestation_text,
            source=FilingSource.FILE,
            state=FilingState.RECEIVING,
            file_format=file_format,
            file_name=name,
            file_size=size,
            file_sha256=sha256.lower(),
        )
        filing.file_path = f"partner-files/{filing.public_id}.part"
        filing.heartbeat_at = clock.now()
        filing.save()
    return filing


def file_uploads_expire() -> int:
    """Expire the file filings whose upload was not finished within PARTNER_FILE_UPLOAD_TTL of its
    last chunk (or of its announcement): `expired`, the reason in `message`, the partial file
    deleted, one PartnerAction each. As the artists' unfinished uploads (uploads_expire)."""
    ttl = settings.PARTNER_FILE_UPLOAD_TTL
    cutoff = clock.now() - timedelta(seconds=ttl)
    due = Filing.objects.filter(state=FilingState.RECEIVING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    expired = 0
    for pk in due.order_by("pk").values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            # A chunk being written holds this lock: it finishes first, and the filing is then fresh.
            row = Filing.objects.select_for_update().get(pk=pk)
            last = row.heartbeat_at or row.created_at
            if row.state != FilingState.RECEIVING or last >= cutoff:
                continue
            row.state, row.finished_at = FilingState.EXPIRED, clock.now()
            row.message = (
                f"The file was not sent whole within {_duration(ttl)} of its last chunk "
                f"({row.received:,} of {row.file_size or 0:,} bytes came); its bytes were deleted. "
                "Announce the file again."
            )
            row.save(update_fields=["state", "finished_at", "message"])
            partner_action_record(
                actor=None,
                kind=PartnerActionKind.FILE_EXPIRED,
                obj=row,
                detail={"received": row.received, "size": row.file_size, "ttl_seconds": ttl},
            )
            path = _path(row)
            transaction.on_commit(partial(path.unlink, missing_ok=True))
        expired += 1
    return expired


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds:,} seconds"


_CHUNK_MESSAGES = {
    "empty_chunk": "The chunk is empty.",
    "chunk_too_large": "A chunk may hold at most {limit:,} bytes.",
    "offset_mismatch": "This chunk starts at byte {offset:,} but {received:,} bytes are in; "
    "send from byte {received:,}.",
    "past_size": "This chunk ends at byte {end:,}, past the {size:,} bytes announced.",
}


def _chunk_refused(problem: ChunkProblem, *, offset: int | None) -> FileRefused:
    message = _CHUNK_MESSAGES[problem.code].format(**asdict(problem))
    return FileRefused(problem.code, message, status=problem.status, offset=offset)


def file_chunk_write(*, filing: Filing, offset: int, data: bytes) -> Filing:
    """Append one chunk at `offset`, which must be the bytes already received; nothing changes otherwise.

    The chunk that completes the file checks it (its size, the sha256 when one was given, that it
    is the format announced and not compressed) and queues it for reading; a file that fails is
    failed (its bytes deleted), with the reason in `message`.
    """
    if filing.source != FilingSource.FILE:
        raise FileRefused(
            "not_a_file_filing", "This filing was sent as JSON rows; it has no file.", status=409
        )
    if bad := chunk_size_problem(length=len(data), limit=settings.PARTNER_FILE_CHUNK_BYTES):
        # A chunk too large is told the offset to send smaller ones from; an empty one is not.
        raise _chunk_refused(bad, offset=filing.received if bad.code == "chunk_too_large" else None)
    with transaction.atomic():
        row = Filing.objects.select_for_update().get(pk=filing.pk)
        if row.state != FilingState.RECEIVING:
            # The API answers in English (docs/api.md): the state's label too.
            raise FileRefused(
                "not_receiving",
                f"This filing has its whole file already ({in_english(row.get_state_display)}).",
                status=409,
                offset=row.received,
            )
        size = row.file_size or 0
        if bad := chunk_place_problem(offset=offset, length=len(data), received=row.received, size=size):
            raise _chunk_refused(bad, offset=row.received)
        path = _path(row)
        chunk_write_at(path, offset, data)
        row.received = offset + len(data)
        row.heartbeat_at = clock.now()  # the upload's last activity: it expires that long after
        fields = ["received", "heartbeat_at"]
        if row.received == size:
            now = clock.now()
            row.received_at = now
            problem = _complete_problem(row, path)
            if problem:
                row.state, row.message, row.finished_at = FilingState.FAILED, problem, now
            else:
                row.state = FilingState.READING
                row.heartbeat_at = None  # from here it is the reader's heartbeat (file_claim)
                filing_id = row.pk
                transaction.on_commit(lambda: file_enqueue(filing_id))
            fields += ["received_at", "state", "message", "finished_at"]
        row.save(update_fields=fields)
    if row.state == FilingState.FAILED:
        path.unlink(missing_ok=True)  # refused whole: its bytes are not kept
    return row


def _complete_problem(filing: Filing, path: Path) -> str:
    """Why a file whose bytes are all in cannot be read, or ""."""
    if filing.file_sha256:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != filing.file_sha256:
            return (
                f"The file's SHA-256 is {digest.hexdigest()}, not the {filing.file_sha256} announced: "
                "it changed on the way; send it again."
            )
    with open(path, "rb") as handle:
        head = handle.read(4096)
    for magic, kind in _COMPRESSED.items():
        if head.startswith(magic):
            return f"The file is compressed ({kind}); send the {filing.file_format} file uncompressed."
    found = _sniff(head) if head.strip() else filing.file_format  # blank: the reader says "no rows"
    if found != filing.file_format:
        return f"The file was announced as {filing.file_format} but its content is {found}."
    return ""


def _sniff(head: bytes) -> str:
    """The format the first bytes show: Parquet's magic, a JSON object, or else CSV text."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "ndjson"
    return "csv"


def file_enqueue(filing_id: int) -> None:
    enqueue(
        "partners.tasks.filing_file_read",
        filing_id,
        fallback="the file is read by the next sweep (partners.tasks.filings_resume)",
    )


# --- reading, in the worker -------------------------------------------------


def file_claim(filing_id: int) -> Filing | None:
    """Take a file filing waiting to be read, or one whose reader stopped beating. None otherwise."""
    now = clock.now()
    claimed = (
        Filing.objects.filter(pk=filing_id, source=FilingSource.FILE, state=FilingState.READING)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - STALE_AFTER))
        .update(heartbeat_at=now)
    )
    return Filing.objects.select_related("partner").get(pk=filing_id) if claimed else None


def file_filings_stale() -> list[int]:
    """File filings whose read message was lost, or whose reader died (no heartbeat for a while)."""
    cutoff = clock.now() - STALE_AFTER
    return list(
        Filing.objects.filter(source=FilingSource.FILE, state=FilingState.READING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, received_at__lt=cutoff))
        .values_list("pk", flat=True)[:100]
    )


def _flat(raw: dict[str, Any]) -> dict[str, Any]:
    """A CSV or Parquet record as the JSON row that clean_filing_row checks."""
    row: dict[str, Any] = {
        name: raw.get(name)
        for name in (
            "work_url", "image_url", "phash", "dhash", "pdq", "pdq_quality", "basis", "choice",
            "licence", "licence_url", "attribution",
        )
    }  # fmt: skip
    row["creator"] = {
        "id": raw.get("creator_id"),
        "profile_url": raw.get("creator_profile_url"),
        "email": raw.get("creator_email"),
    }
    quality = row["pdq_quality"]
    if isinstance(quality, str):  # CSV text: a whole number, or left for the check to refuse
        quality = quality.strip()
        row["pdq_quality"] = int(quality) if quality.isascii() and quality.isdigit() else quality or None
    return row


class _LineBound(io.RawIOBase):
    """A file's bytes, refused at the first physical line longer than `limit` (line break
    included): the CSV reader holds a whole record in memory, so a file with no line breaks
    would otherwise be read whole. Raises ImportFileError naming the line: the file fails (its
    accepted rows are deleted, file_fail), nothing of it half-written."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        super().__init__()
        self._handle, self._limit = handle, limit
        self._line, self._run = 1, 0  # the line being read, its bytes so far

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(min(len(buffer), 1 << 16))
        start = 0
        while (end := data.find(b"\n", start)) != -1:
            self._check(self._run + end + 1 - start)
            self._line, self._run, start = self._line + 1, 0, end + 1
        self._check(self._run + len(data) - start)
        self._run += len(data) - start
        buffer[: len(data)] = data
        return len(data)

    def _check(self, length: int) -> None:
        if length > self._limit:
            raise ImportFileError(
                f"Line {self._line:,} is longer than {self._limit:,} bytes "
                "(PARTNER_FILE_MAX_CSV_LINE_BYTES): is a line break missing? Fix that line and send the "
                "file again."
            )


def _records(handle: IO[bytes], file_format: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    if file_format == "csv":
        bounded = io.BufferedReader(_LineBound(handle, settings.PARTNER_FILE_MAX_CSV_LINE_BYTES))
        for line, raw, problem in readers.read_csv(
            bounded, columns=COLUMNS, required=REQUIRED, errors="surrogateescape"
        ):
            yield line, None if raw is None else _flat(raw), problem
    elif file_format == "ndjson":
        yield from readers.read_ndjson(handle, max_line=settings.PARTNER_FILE_MAX_LINE_BYTES)
    else:
        for line, raw, problem in readers.read_parquet(
            handle,
            columns=COLUMNS,
            required=REQUIRED,
            as_text=("creator_id",),
            max_row_group_bytes=settings.PARTNER_FILE_MAX_ROW_GROUP_BYTES,
        ):
            yield line, None if raw is None else _flat(raw), problem


def file_read(filing: Filing) -> Filing:
    """Read a claimed file filing from its cursor, a batch per transaction; then queue its matching.

    A file that cannot be read fails the filing (file_fail).
    """
    path = _path(filing)
    try:
        with open(path, "rb") as handle:
            if filing.rows_total is None:
                filing.rows_total = readers.count_rows(handle, filing.file_format)
                Filing.objects.filter(pk=filing.pk).update(rows_total=filing.rows_total)
                handle.seek(0)
            _read_batches(filing, handle)
    except ReadTakenOver:
        return Filing.objects.get(pk=filing.pk)
    except FileNotFoundError:
        return file_fail(filing, "The file's bytes are gone from the server; send the file again.")
    except ImportFileError as exc:
        return file_fail(filing, str(exc))
    if not filing.rows_read:
        return file_fail(filing, "The file holds no rows.")
    with transaction.atomic():
        # QUEUED hands it to the filings' own worker (filing_claim, filing_run); the sweep
        # (filings_stale) re-queues it should this message be lost.
        Filing.objects.filter(pk=filing.pk, state=FilingState.READING).update(
            state=FilingState.QUEUED, heartbeat_at=clock.now()
        )
        filing_id = filing.pk
        transaction.on_commit(lambda: filing_enqueue(filing_id))
    path.unlink(missing_ok=True)  # every row is stored: the bytes are not needed any more
    return Filing.objects.get(pk=filing.pk)


def _read_batches(filing: Filing, handle: IO[bytes]) -> None:
    served = Served.of(filing.partner)
    size = settings.PARTNER_FILE_BATCH_ROWS
    skip = filing.rows_read
    batch: list[Cleaned] = []
    for ordinal, (line, raw, problem) in enumerate(_records(handle, filing.file_format)):
        if ordinal < skip:
            continue
        if problem is not None:
            where = "row" if filing.file_format == "parquet" else "line"
            batch.append((ordinal, line, RowError("row", f"the {where} {problem}")))
        else:
            try:
                batch.append((ordinal, line, clean_filing_row(raw, served=served)))
            except RowError as exc:
                batch.append((ordinal, line, exc))
        if len(batch) >= size:
            _commit(filing, batch)
            batch = []
    if batch:
        _commit(filing, batch)


def _commit(filing: Filing, batch: list[Cleaned]) -> None:
    """One batch and the filing's cursor and counters, in one transaction."""
    with transaction.atomic():
        try:
            partner = partner_lock_active(filing.partner)
        except FilingRefused:
            partner = filing.partner  # suspended meanwhile: stored all the same; the policy approves nothing
        locked = Filing.objects.select_for_update().get(pk=filing.pk)
        if locked.rows_read != batch[0][0] or locked.state != FilingState.READING:
            # Another reader took over (this one was thought dead): it owns the cursor now.
            raise ReadTakenOver(filing.public_id)
        result = rows_store(filing=locked, partner=partner, cleaned=batch)
        filing.rows_read = batch[-1][0] + 1
        filing.total = locked.total + len(batch)
        filing.rejected = locked.rejected + len(result.rejected)
        filing.duplicates = locked.duplicates + len(result.duplicates)
        filing.heartbeat_at = clock.now()
        filing.save(update_fields=["rows_read", "total", "rejected", "duplicates", "heartbeat_at"])


def file_fail(filing: Filing, message: str) -> Filing:
    """Fail a file filing that cannot be read: its accepted and duplicate rows are deleted (none
    was matched yet, so nothing of it is approved, and its rows can be filed again); its rejected
    rows stay, with their lines."""
    with transaction.atomic():
        locked = Filing.objects.select_for_update().get(pk=filing.pk)
        if locked.state != FilingState.READING:
            return locked
        FilingRow.objects.filter(filing=locked).exclude(state=RowState.REJECTED).delete()
        rejected = FilingRow.objects.filter(filing=locked).count()
        now = clock.now()
        Filing.objects.filter(pk=locked.pk).update(
            state=FilingState.FAILED,
            message=printable(message, limit=1000),
            total=rejected,
            rejected=rejected,
            duplicates=0,
            finished_at=now,
            heartbeat_at=now,
        )
    _path(locked).unlink(missing_ok=True)
    return Filing.objects.get(pk=filing.pk)
