"""Import jobs: an uploaded index file stored, queued, claimed and run batch by batch.

Each batch commits with the job's counters, so a job that dies resumes where
it stopped (a stale claim is taken over); reading the file and writing a
batch are registry.imports.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from datetime import timedelta
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q

from core import clock
from core.queueing import enqueue

from .. import imports as import_files
from ..imports import BatchResult, ImportFileError
from ..models import Dataset, ImportJob, ImportStatus
from .datasets import clean_item_row
from .domains import optouts_match_written

MAX_ERRORS_KEPT = 1000


@transaction.atomic
def import_create(*, dataset: Dataset, upload: IO[bytes], name: str, enqueue: bool = True) -> ImportJob:
    """Store an uploaded index file privately and queue it.

    Raises ImportFileError for a file that is empty or of no format we read.
    """
    head = upload.read(4096)
    upload.seek(0)
    if not head:
        raise ImportFileError("The file is empty.")
    fmt = import_files.detect_format(name, head)
    job = ImportJob(dataset=dataset, format=fmt, original_name=name[:255])
    job.file.save(f"{job.public_id}.{fmt}", File(upload), save=False)
    job.save()
    if enqueue:
        job_id = job.pk
        transaction.on_commit(lambda: _enqueue(job_id))
    return job


def _enqueue(job_id: int) -> None:
    enqueue("registry.tasks.import_process", job_id, fallback="imports_resume re-queues it")


STALE_AFTER = timedelta(minutes=10)


def import_claim(job_id: int) -> ImportJob | None:
    """Take a queued job, or a running one whose worker stopped beating. None if someone else has it."""
    now = clock.now()
    claimed = ImportJob.objects.filter(
        Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER),
        pk=job_id,
    ).update(status=ImportStatus.RUNNING, heartbeat_at=now, message="")
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    if job.started_at is None:
        job.started_at = now
        job.save(update_fields=["started_at"])
    return job


class ImportBusy(Exception):
    """The job is running and its worker is alive: it is not ours to take over."""


def import_requeue(*, job: ImportJob) -> ImportJob:
    """Queue an interrupted (or finished) job again, to be claimed and run after its committed rows.

    A job that is running with a fresh heartbeat (its worker is alive) is left alone: raises
    ImportBusy. A running job whose worker stopped beating is taken over, as import_claim does.
    """
    live = Q(status=ImportStatus.RUNNING, heartbeat_at__gte=clock.now() - STALE_AFTER)
    if not ImportJob.objects.filter(pk=job.pk).exclude(live).update(status=ImportStatus.QUEUED):
        raise ImportBusy(f"{job.public_id} is being processed by a worker already.")
    job.status = ImportStatus.QUEUED
    return job


def imports_stale() -> list[int]:
    now = clock.now()
    return list(
        ImportJob.objects.filter(
            Q(status=ImportStatus.QUEUED, created_at__lt=now - STALE_AFTER)
            | Q(status=ImportStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        ).values_list("pk", flat=True)[:50]
    )


Batch = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _batches(handle: IO[bytes], fmt: str, *, skip: int) -> Iterator[Batch]:
    """(clean rows, bad rows with their line numbers), BATCH rows at a time, after the first `skip`."""
    seen = 0
    batch: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for line, raw, problem in import_files.READERS[fmt](handle):
        seen += 1
        if seen <= skip:
            continue
        if problem is None:
            try:
                batch.append(clean_item_row(raw))
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            errors.append({"line": line, "error": problem})
        if len(batch) + len(errors) >= import_files.BATCH:
            yield batch, errors
            batch, errors = [], []
    yield batch, errors  # the last, possibly empty: the job's counters commit once more


READ_AHEAD = 2  # batches read before their turn: memory stays a few batches, whatever the file


def _read_ahead(batches: Iterator[Batch]) -> Generator[Batch, None, None]:
    """`batches`, each read, validated and keyed by a thread of its own while the caller writes
    the one before, so that this Python work and PostgreSQL's on the previous batch overlap (the
    database calls release the GIL while they wait). Order and the per-batch commits are the
    caller's, as without it; an error of the reader (a file that cannot be read) is raised here,
    after the batches read before it."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch, errors in batches:
                if not put(("batch", (import_files.key_rows(batch), errors))):
                    return
        except BaseException as exc:  # raised again in the caller's thread
            put(("error", exc))
            return
        put(("done", None))

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:  # the caller stopped (done, or its write failed): the reader stops before the file closes
        stop.set()
        reader.join()


def import_run(job: ImportJob, *, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Process a claimed `job` from where it stopped. Each batch commits with the job's counters."""
    try:
        with job.file.open("rb") as django_file:
            handle = getattr(django_file, "file", django_file)
            if job.total is None:
                job.total = import_files.count_rows(handle, job.format)
                ImportJob.objects.filter(pk=job.pk).update(total=job.total)
                handle.seek(0)
            with closing(_read_ahead(_batches(handle, job.format, skip=job.processed))) as batches:
                for batch, errors in batches:
                    _commit(job, batch, errors)
                    if progress:
                        progress(job)
    except ImportFileError as exc:
        _finish(job, ImportStatus.FAILED, str(exc))
        return job
    _finish(
        job,
        ImportStatus.SUCCEEDED,
        f"{job.created_count:,} created, {job.updated_count:,} updated, {job.error_count:,} rejected.",
    )
    _enqueue_rematch(job)
    if progress:
        progress(job)
    return job


def _enqueue_rematch(job: ImportJob) -> None:
    """Copies of removed pictures may have arrived with this import: search them."""
    if job.created_count or job.updated_count:
        since = (job.started_at or job.created_at).isoformat()
        enqueue(
            "registry.tasks.dataset_rematch",
            job.dataset_id,
            since,
            fallback="these items are re-matched when they are next imported or changed",
        )


def _commit(job: ImportJob, batch: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        result = import_files.write_batch(job.dataset_id, batch) if batch else BatchResult(0, 0)
        if batch:  # items under a domain opt-out become its removals now, with their batch
            optouts_match_written(dataset_id=job.dataset_id, rows=batch)
        job.processed += len(batch) + len(errors)
        job.created_count += result.created
        job.updated_count += result.updated
        job.error_count += len(errors)
        job.heartbeat_at = clock.now()
        room = MAX_ERRORS_KEPT - len(job.errors)
        if room > 0 and errors:
            job.errors = [*job.errors, *errors[:room]]
        job.save(
            update_fields=[
                "processed",
                "created_count",
                "updated_count",
                "error_count",
                "errors",
                "heartbeat_at",
            ]
        )


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = clock.now()
    job.save(update_fields=["status", "message", "finished_at"])
