"""Shard holders (registry/shard_holders.py): each shard worker process says which shards it
holds; /health/ and the admin's shard list name every holder (host, pid, last beat) and the
shard no live process holds. Real `manage.py shard_worker` processes, real Redis."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest
from django.urls import reverse

from registry import health
from registry.models import WorkerHeartbeat
from registry.shard_holders import holder_beat, holder_leave, shard_holders
from tests.helpers import logged_in, wait_until
from tests.registry.test_shards import ordinary_queues_served, shard_workers, web_in_two_shards


def holder_pids(body: dict[str, Any], key: str) -> dict[str, set[int]]:
    return {number: {h["pid"] for h in state["holders"]} for number, state in body["shards"][key].items()}


@pytest.mark.django_db(transaction=True)
def test_it_names_every_holder_and_the_shard_whose_only_holder_was_killed(
    client, maintainer, superuser, settings
):
    ordinary_queues_served()  # only shards are asked
    dataset, queues, key = web_in_two_shards(maintainer, seed=5)
    admin = logged_in(superuser)
    shard_list = reverse("admin:registry_indexshard_changelist")

    # One worker holds shard 0; the other holds shard 0 and shard 1.
    with shard_workers(("web:0",), ("web:0", "web:1")) as (first, second):
        one, both = first.process.pid, second.process.pid
        health.shard_heartbeats_send()
        wait_until(
            lambda: WorkerHeartbeat.objects.filter(queue__in=queues).count() == 2,
            what="each shard's queue heartbeat to be taken",
        )
        body = wait_until(
            lambda: (
                (b := client.get("/health/").json())["status"] == "ok"
                and holder_pids(b, key) == {"0": {one, both}, "1": {both}}
                and b
            ),
            what="both workers to say which shards they hold",
        )
        [holder] = body["shards"][key]["1"]["holders"]
        assert holder["host"] == socket.gethostname()
        assert holder["worker"] == f"shard-test-{os.getpid()}-1@{socket.gethostname()}"
        assert 0 <= holder["last_beat_seconds_ago"] <= 3
        assert body["shards"][key]["1"]["held"] is True and body["unserved"] == []
        page = admin.get(shard_list).content.decode()
        assert f"pid {one}" in page and f"pid {both}" in page and "no shard worker holds it" not in page

        # The only holder of shard 1 is killed: no clean shutdown, its beats just stop.
        second.kill()
        killed_at = time.monotonic()
        body = wait_until(
            lambda: (b := client.get("/health/").json())["shards"][key]["1"]["held"] is False and b,
            timeout=15,
            what="shard 1 to have no holder",
        )
        assert time.monotonic() - killed_at < 6  # three beats of 1 s, not the queue's stale time
        response = client.get("/health/")
        page = admin.get(shard_list).content.decode()

    assert response.status_code == 200  # degraded, still serving
    body = response.json()
    assert body["status"] == "degraded"
    assert holder_pids(body, key) == {"0": {one}, "1": set()}
    shard = body["shards"][key]["1"]
    assert shard["ok"] is False and shard["last_seen_seconds_ago"] < settings.HEALTH_WORKER_STALE_SECONDS
    problem = (
        f"data set web (#{dataset.pk}) shard 1 ({queues[1]}): no shard worker holds it; "
        "start one with `manage.py shard_worker web:1`"
    )
    assert body["unserved"] == [problem]
    assert body["shards"][key]["0"]["ok"] is True
    assert problem in page and f"pid {one}" in page and f"pid {both}" not in page


def test_it_forgets_a_holder_three_beats_after_its_last(db):
    shard = (990_001, 4)
    holder_beat(shards=[shard], worker="w@here", host="here", pid=77, every=0.2)
    holder_beat(shards=[shard], worker="v@there", host="there", pid=78, every=5)
    assert [(h.host, h.pid, h.worker) for h in shard_holders([shard])[shard]] == [
        ("here", 77, "w@here"),
        ("there", 78, "v@there"),
    ]
    time.sleep(0.8)  # past 3 beats of 0.2 s
    assert [h.pid for h in shard_holders([shard])[shard]] == [78]
    holder_leave(shards=[shard], host="there", pid=78)
    assert shard_holders([shard]) == {shard: []}


def test_it_says_holders_are_unknown_without_a_redis_broker(client, maintainer, settings):
    web_in_two_shards(maintainer, seed=6, items=4, build=False)
    settings.CELERY_BROKER_URL = "filesystem://"
    body = client.get("/health/").json()
    assert body["status"] == "degraded"
    [problem] = [p for p in body["unserved"] if "shard 1" in p]
    assert (
        "no shard worker holds it (holders unknown: ShardUnavailable: sharded data sets are searched"
        in problem
    )


def test_the_shard_list_takes_a_bad_filter_without_a_server_error(superuser, maintainer):
    web_in_two_shards(maintainer, seed=7, items=4, build=False)
    admin = logged_in(superuser)
    shard_list = reverse("admin:registry_indexshard_changelist")
    for query in ("?dataset__id__exact=abc", "?number=x", "?o=99"):
        response = admin.get(shard_list + query, follow=True)
        assert response.status_code == 200, query
    page = admin.get(shard_list).content.decode()
    assert "no shard worker holds it" in page and "[0, " in page
