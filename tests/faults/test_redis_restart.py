"""Redis killed (SIGKILL, no persistence: every queued message is gone) in the middle of a run and
started again: the worker reconnects, approvals made while it was down are queued by the sweep,
and every removal arrives."""

from __future__ import annotations

import time

import pytest

from registry import services
from registry.models import DeliveryState, WebhookDelivery
from tests.helpers import wait_until

from .conftest import RedisServer, approve, assert_all_received, sweep_until_done, use_broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis for this test alone: it is killed, and no other test should feel it."""
    server = RedisServer(tmp_path)
    server.start()
    previous = use_broker(server.url)
    yield server
    use_broker(previous)
    server.kill()


def test_redis_restarted_mid_run(maintainer, fault_receiver, own_redis, start_worker):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=fault_receiver.url, event_types=["removal.approved"]
    )

    def slowly(hit, n):
        time.sleep(0.3)
        return 204

    fault_receiver.answer = slowly
    worker = start_worker(broker_url=own_redis.url, name="redis", concurrency=2)
    removals = [r for n in range(8) for r in approve(dataset, 50, f"RR-{n}")]
    wait_until(lambda: len(fault_receiver.hits) >= 1, what="the first deliveries")
    own_redis.kill()
    # Approvals while the broker is down: the outbox rows are written, the messages are not.
    started = time.monotonic()
    removals += [r for n in range(8, 10) for r in approve(dataset, 50, f"RR-{n}")]
    assert time.monotonic() - started < 30
    assert WebhookDelivery.objects.count() == 10
    time.sleep(1)
    own_redis.start()
    sweep_until_done(timeout=90)
    assert_all_received(fault_receiver, removals)
    assert WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 10
    log = worker.log()
    assert log.count("Connected to redis://") >= 2, log[-3000:]  # it lost Redis and came back
