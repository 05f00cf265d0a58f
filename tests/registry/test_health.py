"""GET /health/: the database, the broker and a worker on every queue, for the load balancer."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from registry.models import WorkerHeartbeat
from registry.tasks import worker_heartbeat
from tests.helpers import wait_until
from tests.registry.test_shards import ordinary_queues_served


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

    ordinary_queues_served()
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


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_names_the_shard_of_a_data_set_whose_worker_stopped(client, maintainer, settings):
    from datetime import timedelta

    from django.utils import timezone

    from registry import health
    from tests.registry.test_shards import shard_workers, web_in_two_shards

    ordinary_queues_served()  # only shards are asked
    dataset, queues, key = web_in_two_shards(maintainer, seed=3)

    # No worker has taken a shard's heartbeat yet: both shards are unserved.
    body = client.get("/health/").json()
    assert body["status"] == "degraded" and len(body["unserved"]) == 2
    assert body["shards"][key]["0"] == {
        "queue": queues[0],
        "ok": False,
        "last_seen_seconds_ago": None,
        "hostname": None,
        "held": False,
        "holders": [],
    }

    with shard_workers(("web:0",), ("web:1",)) as (_, second):
        assert health.shard_heartbeats_send() == 2
        wait_until(
            lambda: WorkerHeartbeat.objects.filter(queue__in=queues).count() == 2,
            what="each shard's worker to take its heartbeat",
        )
        response = client.get("/health/")
        assert response.status_code == 200 and response.json()["status"] == "ok"
        served = response.json()["shards"][key]
        for number in ("0", "1"):  # each shard's heartbeat taken by the worker holding it
            assert served[number]["ok"] and served[number]["hostname"].startswith(
                f"shard-test-{os.getpid()}-{number}@"
            )
        assert response.json()["unserved"] == []

        # Shard 1's only worker stops; the next heartbeats are taken by shard 0's alone.
        second.process.terminate()
        second.process.wait(timeout=30)
        WorkerHeartbeat.objects.filter(queue__in=queues).update(seen_at=timezone.now() - timedelta(minutes=5))
        health.shard_heartbeats_send()
        wait_until(
            lambda: (
                WorkerHeartbeat.objects.get(queue=queues[0]).seen_at > timezone.now() - timedelta(minutes=1)
            ),
            what="shard 0's worker to take its heartbeat again",
        )
        response = client.get("/health/")

    assert response.status_code == 200  # degraded, still serving, as for a silent queue
    body = response.json()
    assert body["status"] == "degraded"
    assert body["shards"][key]["0"]["ok"] is True and body["shards"][key]["1"]["ok"] is False
    assert body["shards"][key]["1"]["last_seen_seconds_ago"] >= 300
    assert body["unserved"] == [
        f"data set web (#{dataset.pk}) shard 1 ({queues[1]}): no shard worker holds it; start one with "
        "`manage.py shard_worker web:1`"
    ]
    assert all(w["ok"] for w in body["workers"].values())
