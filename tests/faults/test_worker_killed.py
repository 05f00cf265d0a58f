"""A worker killed with SIGKILL in the middle of sending: the rows it held stay claimed until their
lease runs out, then the sweep hands them to a new worker. Nothing is lost; the copies the receiver
got twice carry the same webhook-id."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core import clock
from registry import services, tasks
from registry.models import DeliveryState, WebhookDelivery
from tests.helpers import wait_until

from .conftest import approve, assert_all_received, sweep_until_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

# The workers' WEBHOOK_TIMEOUT_SECONDS here: the receiver holds requests longer than a kill takes.
TIMEOUT = 10


def test_a_worker_killed_mid_send_loses_nothing(maintainer, fault_receiver, broker, start_worker, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = TIMEOUT
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=fault_receiver.url, event_types=["removal.approved"]
    )
    release = threading.Event()

    def held(hit, n):
        release.wait(15)  # the first worker's requests hang here until it is dead
        return 204

    fault_receiver.answer = held
    first = start_worker(broker_url=broker.url, name="doomed", concurrency=2, timeout_seconds=TIMEOUT)
    removals = [r for n in range(5) for r in approve(dataset, 100, f"RR-{n}")]
    assert WebhookDelivery.objects.count() == 5
    wait_until(lambda: len(fault_receiver.hits) >= 2, what="two sends in flight")
    first.kill()
    release.set()
    in_flight = set(fault_receiver.ids())
    assert len(in_flight) == 2

    claimed = WebhookDelivery.objects.filter(event__public_id__in=in_flight)
    assert all(
        row.state == DeliveryState.PENDING and row.attempts == 0 and row.locked_until > clock.now()
        for row in claimed
    )
    fault_receiver.answer = lambda hit, n: 204
    start_worker(broker_url=broker.url, name="second", concurrency=2, timeout_seconds=TIMEOUT)
    # The second worker takes the messages still queued; the sweep finds nothing else it may take.
    wait_until(
        lambda: WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 3,
        what="the three deliveries that were still queued",
    )
    assert tasks.deliveries_sweep() == 0
    assert {row.state for row in claimed.all()} == {DeliveryState.PENDING}  # still held by the dead worker
    # When the lease of the dead worker's claims has run out, the sweep re-sends them.
    clock.travel(timedelta(seconds=TIMEOUT * 2 + 31))
    sweep_until_done()
    ids = fault_receiver.ids()
    assert sorted(i for i in set(ids) if ids.count(i) == 2) == sorted(in_flight)
    assert all(ids.count(i) == 1 for i in set(ids) - in_flight)
    assert_all_received(fault_receiver, removals)
