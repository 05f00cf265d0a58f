"""GET /health/: the database, the broker and a worker on every queue, for the load balancer."""

from __future__ import annotations

import pytest
from django.conf import settings

from registry.models import WorkerHeartbeat
from registry.tasks import worker_heartbeat
from tests.helpers import wait_until


def test_it_is_degraded_but_serving_when_no_worker_has_answered(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True and body["broker"]["ok"] is True
    assert set(body["workers"]) == set(settings.WORKER_QUEUES)
    assert all(
        w == {"ok": False, "last_seen_seconds_ago": None, "hostname": None} for w in body["workers"].values()
    )
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_is_ok_once_a_real_worker_takes_the_heartbeat_of_every_queue(client, celery_worker_process):
    for queue in settings.WORKER_QUEUES:
        worker_heartbeat.apply_async(args=(queue,), queue=queue)
    wait_until(
        lambda: WorkerHeartbeat.objects.count() == len(settings.WORKER_QUEUES),
        what="the worker to take a heartbeat from each queue",
    )
    body = client.get("/health/").json()
    assert body["status"] == "ok"
    assert all(w["ok"] and w["hostname"] for w in body["workers"].values())


def test_a_stale_queue_is_named(client, db, settings):
    settings.HEALTH_WORKER_STALE_SECONDS = 10
    from datetime import timedelta

    from django.utils import timezone

    for queue in settings.WORKER_QUEUES:
        WorkerHeartbeat.objects.create(queue=queue, hostname="w1", seen_at=timezone.now())
    WorkerHeartbeat.objects.filter(queue="matching").update(seen_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/health/").json()
    assert body["status"] == "degraded"
    assert [q for q, w in body["workers"].items() if not w["ok"]] == ["matching"]
    assert body["workers"]["matching"]["last_seen_seconds_ago"] >= 300


def test_it_answers_503_when_the_broker_does_not_answer(client, db, unreachable_broker):
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["broker"]["ok"] is False and "Error" in body["broker"]["error"]
    assert body["database"]["ok"] is True


def test_it_takes_only_safe_methods(client, db):
    assert client.post("/health/").status_code == 405
