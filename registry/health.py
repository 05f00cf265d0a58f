"""Is this deployment able to work? The database, the broker and a worker on every queue.

A load balancer asks `GET /health/`. The answer is 503 when this web process cannot do its
job (the database or the broker does not answer: pages fail, uploads cannot be queued). A
queue whose workers are silent makes the answer "degraded" but still 200: taking every web
process out of the pool because a worker died would turn a backlog into an outage; monitoring
alerts on "degraded" instead, and the sweeps catch up once the workers are back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import WorkerHeartbeat


def heartbeat_record(*, queue: str, hostname: str) -> None:
    """A worker took the heartbeat message of `queue`: it is alive and the queue is moving."""
    WorkerHeartbeat.objects.update_or_create(
        queue=queue, defaults={"hostname": hostname[:200], "seen_at": timezone.now()}
    )


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure of the service is what we report
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, timeout=settings.HEALTH_BROKER_TIMEOUT_SECONDS
        )


def health_report() -> tuple[int, dict[str, object]]:
    """(HTTP status, body) for the load balancer and for monitoring."""
    database = _timed(_database)
    broker = _timed(_broker)
    workers: dict[str, dict[str, Any]] = {}
    if database["ok"]:
        stale_after = timedelta(seconds=settings.HEALTH_WORKER_STALE_SECONDS)
        seen = {h.queue: h for h in WorkerHeartbeat.objects.filter(queue__in=settings.WORKER_QUEUES)}
        now = timezone.now()
        for queue in settings.WORKER_QUEUES:
            beat = seen.get(queue)
            age = (now - beat.seen_at).total_seconds() if beat else None
            workers[queue] = {
                "ok": age is not None and age <= stale_after.total_seconds(),
                "last_seen_seconds_ago": round(age, 1) if age is not None else None,
                "hostname": beat.hostname if beat else None,
            }
    serving = bool(database["ok"] and broker["ok"])
    moving = serving and all(w["ok"] for w in workers.values())
    status = "ok" if moving else ("degraded" if serving else "down")
    return (200 if serving else 503), {
        "status": status,
        "database": database,
        "broker": broker,
        "workers": workers,
    }
