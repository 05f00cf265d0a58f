"""Is this deployment able to work? The database, the broker, a worker on every queue, and a
worker on every shard of a sharded data set's index.

A load balancer asks `GET /health/`. The answer is 503 when this web process cannot do its
job (the database or the broker does not answer: pages fail, uploads cannot be queued). A
queue whose workers are silent makes the answer "degraded" but still 200: taking every web
process out of the pool because a worker died would turn a backlog into an outage; monitoring
alerts on "degraded" instead, and the sweeps catch up once the workers are back.

Shards are the same, one level down: beat sends a heartbeat to each shard's queue every minute
(`shard_heartbeats_send`; the schedule cannot name queues that come and go with `shard_add`), a
shard worker that takes it records it. Each shard worker also beats on its own for every shard
it holds (registry.shard_holders: its host and pid, gone three beats after the process died), so
each shard lists its holders. A shard that no live process holds, or whose heartbeat is older
than HEALTH_WORKER_STALE_SECONDS, is named in `unserved` (its data set, its number, its queue
and why) and makes the answer "degraded": searches of that data set fail (503 on /search/,
matching retries) until a worker holds the shard again, but every other page and data set is
served.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import IndexShard, WorkerHeartbeat, shard_queue
from .shard_holders import holder_as_json, shard_holders

# A shard's heartbeat message expires before the next one is sent (beat sends one a minute).
SHARD_HEARTBEAT_EXPIRES_SECONDS = 55


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


def shard_heartbeats_send() -> int:
    """One heartbeat message to each shard's queue (what beat runs every minute); how many."""
    sent = 0
    for queue in IndexShard.objects.order_by("dataset_id", "number").values_list("dataset_id", "number"):
        name = shard_queue(*queue)
        current_app.send_task(
            "registry.tasks.worker_heartbeat",
            args=(name,),
            queue=name,
            expires=SHARD_HEARTBEAT_EXPIRES_SECONDS,
        )
        sent += 1
    return sent


def _beat(beat: WorkerHeartbeat | None, now: Any, stale_after: float) -> dict[str, Any]:
    age = (now - beat.seen_at).total_seconds() if beat else None
    return {
        "ok": age is not None and age <= stale_after,
        "last_seen_seconds_ago": round(age, 1) if age is not None else None,
        "hostname": beat.hostname if beat else None,
    }


def shards_served(shards: Sequence[IndexShard], now: Any, stale_after: float) -> dict[int, dict[str, Any]]:
    """Per shard (by pk): its queue's last heartbeat, the processes holding it (their own beats,
    registry.shard_holders), whether it is served (both), and if not a sentence saying why."""
    queues = [shard.queue for shard in shards]
    seen = {h.queue: h for h in WorkerHeartbeat.objects.filter(queue__in=queues)}
    try:
        holding = shard_holders([(shard.dataset_id, shard.number) for shard in shards])
        unknown = ""
    except Exception as error:  # no Redis broker, or it does not answer: nobody is known to hold them
        holding, unknown = {}, f"{type(error).__name__}: {error}"[:300]
    served: dict[int, dict[str, Any]] = {}
    for shard in shards:
        holders = holding.get((shard.dataset_id, shard.number), [])
        queue = _beat(seen.get(shard.queue), now, stale_after)
        state = {
            "queue": shard.queue,
            **queue,
            "ok": queue["ok"] and bool(holders),
            "held": bool(holders),
            "holders": [holder_as_json(h) for h in holders],
        }
        if not state["ok"]:
            age = queue["last_seen_seconds_ago"]
            if not holders:
                why = "no shard worker holds it" + (f" (holders unknown: {unknown})" if unknown else "")
            else:
                names = ", ".join(f"{h.host} pid {h.pid}" for h in holders)
                why = f"held by {names}, but " + (
                    "no worker has taken its heartbeat" if age is None else f"no worker for {age:g} s"
                )
            state["problem"] = (
                f"data set {shard.dataset.slug} (#{shard.dataset_id}) shard {shard.number} ({shard.queue}): "
                f"{why}; start one with `manage.py shard_worker {shard.dataset.slug}:{shard.number}`"
            )
        served[shard.pk] = state
    return served


def _shards(now: Any, stale_after: float) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each sharded data set's shards with their heartbeat and holders, and a sentence per unserved
    shard."""
    shards = list(IndexShard.objects.select_related("dataset").order_by("dataset_id", "number"))
    served = shards_served(shards, now, stale_after)
    report: dict[str, dict[str, Any]] = {}
    unserved: list[str] = []
    for shard in shards:
        state = dict(served[shard.pk])
        if "problem" in state:
            unserved.append(state.pop("problem"))
        # Keyed by slug, which two maintainers may share: the id keeps them apart.
        report.setdefault(f"{shard.dataset.slug} (#{shard.dataset_id})", {})[str(shard.number)] = state
    return report, unserved


def health_report() -> tuple[int, dict[str, object]]:
    """(HTTP status, body) for the load balancer and for monitoring."""
    database = _timed(_database)
    broker = _timed(_broker)
    workers: dict[str, dict[str, Any]] = {}
    shards: dict[str, dict[str, Any]] = {}
    unserved: list[str] = []
    if database["ok"]:
        stale_after = float(settings.HEALTH_WORKER_STALE_SECONDS)
        seen = {h.queue: h for h in WorkerHeartbeat.objects.filter(queue__in=settings.WORKER_QUEUES)}
        now = timezone.now()
        for queue in settings.WORKER_QUEUES:
            workers[queue] = _beat(seen.get(queue), now, stale_after)
        shards, unserved = _shards(now, stale_after)
    serving = bool(database["ok"] and broker["ok"])
    moving = serving and all(w["ok"] for w in workers.values()) and not unserved
    status = "ok" if moving else ("degraded" if serving else "down")
    return (200 if serving else 503), {
        "status": status,
        "database": database,
        "broker": broker,
        "workers": workers,
        "shards": shards,
        "unserved": unserved,
    }
