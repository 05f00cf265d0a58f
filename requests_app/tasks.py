"""Thin Celery tasks over requests_app services. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="requests_app.tasks.work_hash", acks_late=True, ignore_result=True)
def work_hash(work_id: int) -> str:
    return services.work_hash_and_match(work_id=work_id)


@shared_task(name="requests_app.tasks.hashing_sweep", ignore_result=True)
def hashing_sweep() -> int:
    due = services.hashing_due()
    for work_id in due:
        work_hash.delay(work_id)
    return len(due)
