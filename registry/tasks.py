"""Thin Celery tasks over registry services. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import delivery


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
