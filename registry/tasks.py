"""Thin Celery tasks over registry services. Each is safe to run twice."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import Task, shared_task

from core.retrying import DatabaseRetryTask

from . import health, services, shards

log = logging.getLogger(__name__)


@shared_task(base=DatabaseRetryTask, name="registry.tasks.delivery_send", acks_late=True, ignore_result=True)
def delivery_send(delivery_id: int, claimed_until: str | None = None) -> str:
    """One attempt. Safe twice: the attempt claims the row first, and a second copy finds it taken or done.

    `claimed_until` (ISO) is the lease a sweep wrote when it claimed the row
    and queued this message; the attempt takes that claim over.
    """
    lease = datetime.fromisoformat(claimed_until) if claimed_until else None
    return services.delivery_attempt(delivery_id, claimed_until=lease)


SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 20


@shared_task(base=DatabaseRetryTask, name="registry.tasks.deliveries_sweep", ignore_result=True)
def deliveries_sweep() -> int:
    """Claim what is due (or whose claim expired: a worker died mid-send) in batches and queue it (beat).

    If the broker refuses a message the rest of the batch is released, and
    the next sweep tries again; nothing is lost either way, because the row
    stays pending until an attempt succeeds.
    """
    queued = 0
    for _ in range(SWEEP_MAX_BATCHES):
        ids, lease = services.deliveries_claim_due(limit=SWEEP_BATCH)
        for position, delivery_id in enumerate(ids):
            try:
                delivery_send.delay(delivery_id, lease.isoformat())
            except Exception:
                left = len(ids) - position
                log.warning("broker refused delivery %s; releasing %d claim(s)", delivery_id, left)
                services.deliveries_release(ids[position:], claimed_until=lease)
                return queued
            queued += 1
        if len(ids) < SWEEP_BATCH:
            break
    return queued


@shared_task(base=DatabaseRetryTask, name="registry.tasks.import_process", acks_late=True, ignore_result=True)
def import_process(job_id: int) -> str:
    """Run (or resume) an index import. A second copy of the message finds the job claimed and stops."""
    job = services.import_claim(job_id)
    if job is None:
        return "not-claimed"
    return services.import_run(job).status


@shared_task(base=DatabaseRetryTask, name="registry.tasks.imports_resume", ignore_result=True)
def imports_resume() -> int:
    """Re-queue imports whose message was lost or whose worker died (beat)."""
    stale = services.imports_stale()
    for job_id in stale:
        import_process.delay(job_id)
    return len(stale)


@shared_task(base=DatabaseRetryTask, name="registry.tasks.items_rematch", acks_late=True, ignore_result=True)
def items_rematch(item_ids: list[int]) -> int:
    """New or changed items against every live removal. Idempotent: one removal per source and item."""
    return len(services.items_rematch(item_ids=item_ids))


@shared_task(
    base=DatabaseRetryTask, name="registry.tasks.dataset_rematch", acks_late=True, ignore_result=True
)
def dataset_rematch(dataset_id: int, since: str) -> int:
    return services.dataset_rematch(dataset_id=dataset_id, since=datetime.fromisoformat(since))


@shared_task(base=DatabaseRetryTask, name="registry.tasks.worker_heartbeat", ignore_result=True, bind=True)
def worker_heartbeat(self: Task, queue: str) -> None:
    """Beat sends one to each queue every minute; the worker that takes it says so (/health/)."""
    health.heartbeat_record(queue=queue, hostname=self.request.hostname or "")


@shared_task(base=DatabaseRetryTask, name="registry.tasks.shard_heartbeats", ignore_result=True)
def shard_heartbeats() -> int:
    """Beat runs it every minute: a heartbeat to each shard's queue, taken by a worker of the shard."""
    return health.shard_heartbeats_send()


@shared_task(base=DatabaseRetryTask, name="registry.tasks.shard_search", acks_late=True, ignore_result=True)
def shard_search(
    dataset_id: int, number: int, field: str, codes: list[int], radius: int, reply_to: str
) -> None:
    """One shard's part of a search, on that shard's queue (registry.shards). Acknowledged late:
    a worker killed mid-search puts the message back for another worker of the shard. A search
    that fails otherwise answers with its error, so the searcher need not wait for its timeout."""
    try:
        hits = shards.shard_answer(
            dataset_id=dataset_id, number=number, field=field, codes=codes, radius=radius
        )
    except Exception as exc:
        from core.retrying import is_transient

        if is_transient(exc):
            raise  # DatabaseRetryTask retries it
        log.exception("shard search of data set #%s shard %s failed", dataset_id, number)
        shards.reply(reply_to, number, hits=None, error=f"{type(exc).__name__}: {exc}"[:500])
        return
    shards.reply(reply_to, number, hits=hits)


@shared_task(base=DatabaseRetryTask, name="registry.tasks.disputes_sweep", ignore_result=True)
def disputes_sweep() -> dict[str, int]:
    """Beat: disputes whose answer time ran out go to the desk's queue; unconfirmed ones expire."""
    return services.disputes_sweep()
