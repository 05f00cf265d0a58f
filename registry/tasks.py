"""Thin Celery tasks over registry services. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import delivery, imports


@shared_task(name="registry.tasks.delivery_send", acks_late=True, ignore_result=True)
def delivery_send(delivery_id: int) -> str:
    return delivery.delivery_attempt(delivery_id)


@shared_task(name="registry.tasks.deliveries_sweep", ignore_result=True)
def deliveries_sweep() -> int:
    """Re-send deliveries that are due or whose claim expired (a worker died mid-send)."""
    due = delivery.deliveries_due()
    for delivery_id in due:
        delivery_send.delay(delivery_id)
    return len(due)


@shared_task(name="registry.tasks.import_process", acks_late=True, ignore_result=True)
def import_process(job_id: int) -> str:
    """Run (or resume) an index import. A second copy of the message finds the job claimed and stops."""
    job = imports.import_claim(job_id)
    if job is None:
        return "not-claimed"
    return imports.import_run(job).status


@shared_task(name="registry.tasks.imports_resume", ignore_result=True)
def imports_resume() -> int:
    """Re-queue imports whose message was lost or whose worker died (beat)."""
    stale = imports.imports_stale()
    for job_id in stale:
        import_process.delay(job_id)
    return len(stale)
