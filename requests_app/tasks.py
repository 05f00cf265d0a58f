"""Thin Celery tasks over requests_app services. Each is safe to run twice."""

from __future__ import annotations

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from core.retrying import DatabaseRetryTask
from registry.shards import ShardUnavailable

from . import services


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.work_hash", acks_late=True, ignore_result=True)
def work_hash(work_id: int) -> str:
    """Hashing queue: hash the work, then hand it to the matching queue."""
    return services.work_hash(work_id=work_id)


@shared_task(
    base=DatabaseRetryTask,
    name="requests_app.tasks.work_match",
    acks_late=True,
    ignore_result=True,
    bind=True,
)
def work_match(self: Task, work_id: int) -> str:
    """Matching queue (workers that hold the data set indexes, or ask the shards' workers).

    A shard that did not answer (registry.shards) is retried with backoff; after
    MATCH_SHARD_TASK_RETRIES the work is marked failed with the shard named, never "no match"."""
    try:
        return services.work_match(work_id=work_id)
    except ShardUnavailable as exc:
        if self.request.retries >= settings.MATCH_SHARD_TASK_RETRIES:
            return services.work_match_failed(work_id=work_id, reason=str(exc))
        countdown = get_exponential_backoff_interval(1, self.request.retries, 60, full_jitter=True)
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.MATCH_SHARD_TASK_RETRIES) from exc


@shared_task(
    base=DatabaseRetryTask, name="requests_app.tasks.request_rematch", acks_late=True, ignore_result=True
)
def request_rematch(reference: str) -> int:
    """After approval: copies of the removed items in every data set become removals too."""
    return services.request_rematch(reference=reference)


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.hashing_sweep", ignore_result=True)
def hashing_sweep() -> int:
    """Works still pending (a lost message, a worker that died): work_hash re-queues matching too."""
    due = services.hashing_due()
    for work_id in due:
        work_hash.delay(work_id)
    return len(due)


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.transparency_refresh", ignore_result=True)
def transparency_refresh() -> str:
    """The transparency report's figures computed again and cached (beat, every
    REPORT_CACHE_SECONDS), so no visitor waits for them."""
    from . import report

    return str(report.refresh()["computed_at"])


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.rematch_sweep", ignore_result=True)
def rematch_sweep() -> int:
    """Approved requests whose re-matching never finished (a lost message, retries used up) (beat)."""
    due = services.rematch_due()
    for reference in due:
        request_rematch.delay(reference)
    return len(due)


@shared_task(
    base=DatabaseRetryTask, name="requests_app.tasks.upload_process", acks_late=True, ignore_result=True
)
def upload_process(upload_id: int) -> str:
    """Unpack a received portfolio upload into works, member by member (resumes where it stopped)."""
    return services.upload_process(upload_id=upload_id)


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.uploads_sweep", ignore_result=True)
def uploads_sweep() -> int:
    """Re-queue uploads whose unpacking stalled (a lost message, a worker that died); expire the
    bytes of uploads never finished (beat)."""
    services.uploads_expire()
    due = services.uploads_processing_due()
    for upload_id in due:
        upload_process.delay(upload_id)
    return len(due)


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.proofs_recheck", ignore_result=True)
def proofs_recheck() -> int:
    """Expire what is past its date, then re-check verified automatic proofs that are due."""
    services.proofs_expire()
    checked = 0
    for proof_id in services.proofs_recheck_due():
        proof = services.IdentityProof.objects.filter(pk=proof_id).first()
        if proof is not None:
            services.proof_check(proof=proof)
            checked += 1
    return checked


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.proof_documents_purge", ignore_result=True)
def proof_documents_purge() -> int:
    return services.proof_documents_purge()


@shared_task(base=DatabaseRetryTask, name="requests_app.tasks.sla_escalate", ignore_result=True)
def sla_escalate() -> int:
    return services.sla_escalate()
