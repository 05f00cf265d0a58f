"""Receivers that fail in every way the contract names, against a real worker process on Redis.

One worker serves the whole module (WEBHOOK_TIMEOUT_SECONDS=1, the shared clock file). Each
test approves removals, lets the worker meet the fault, moves the clock (for the worker too)
so the retry is due, runs the sweep, and ends with everything received and every row succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core import clock
from registry import services, tasks
from registry.models import DeliveryAttempt, DeliveryState, WebhookDelivery, WebhookEndpoint
from tests.helpers import wait_until

from .conftest import (
    RedisServer,
    Worker,
    approve,
    assert_all_received,
    emails_sent,
    sweep_until_done,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture(scope="module")
def module_worker(
    faults_redis: RedisServer, shared_dir: Path, django_db_setup: Any, django_db_blocker: Any
) -> Iterator[Worker]:
    with django_db_blocker.unblock():
        worker = Worker(broker_url=faults_redis.url, shared_dir=shared_dir, name="http").start()
    yield worker
    worker.kill()


@pytest.fixture
def setup(maintainer, fault_receiver, broker, module_worker):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    endpoint, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=fault_receiver.url, event_types=["removal.approved"]
    )
    return dataset, endpoint


def attempts_of(row_pk: int) -> list[tuple[int | None, str]]:
    return list(
        DeliveryAttempt.objects.filter(delivery_id=row_pk)
        .order_by("attempted_at", "pk")
        .values_list("status_code", "error")
    )


def all_attempted(n: int) -> bool:
    rows = list(WebhookDelivery.objects.values_list("attempts", "locked_until"))
    return bool(rows) and all(a >= n and lock is None for a, lock in rows)


def test_a_receiver_that_is_down_and_comes_back(setup, fault_receiver):
    dataset, _ = setup
    fault_receiver.down()  # connection refused
    removals = approve(dataset, 700, "RR-down")  # two events
    wait_until(lambda: all_attempted(1), what="first attempts, refused")
    # Still down when the first retry is due (5 s later, in moved time).
    clock.travel(timedelta(seconds=10))
    assert tasks.deliveries_sweep() == 2
    wait_until(lambda: all_attempted(2), what="second attempts, refused")
    assert tasks.deliveries_sweep() == 0  # the next retry is 5 minutes away
    fault_receiver.up()
    clock.travel(timedelta(minutes=6))
    sweep_until_done()
    for row in WebhookDelivery.objects.all():
        log = attempts_of(row.pk)
        assert [status for status, _ in log] == [None, None, 204]
        assert all("network error" in error for _, error in log[:2])
    assert WebhookEndpoint.objects.get().failing_since is None
    assert_all_received(fault_receiver, removals)


def test_500_then_200(setup, fault_receiver):
    dataset, _ = setup
    fault_receiver.answer = lambda hit, n: 500 if n == 0 else 200
    removals = approve(dataset, 1000, "RR-500")
    wait_until(lambda: all_attempted(1), what="first attempts")
    assert tasks.deliveries_sweep() == 0  # not due for 5 s
    clock.travel(timedelta(seconds=7))
    sweep_until_done()
    for row in WebhookDelivery.objects.all():
        assert [status for status, _ in attempts_of(row.pk)] == [500, 200]
    ids = fault_receiver.ids()
    assert len(ids) == 4 and all(ids.count(i) == 2 for i in ids)
    assert_all_received(fault_receiver, removals)


def test_429_with_retry_after_is_honoured(setup, fault_receiver):
    dataset, _ = setup
    fault_receiver.answer = lambda hit, n: (429, {"Retry-After": "120"}, b"slow down") if n == 0 else 204
    removals = approve(dataset, 3, "RR-429")
    wait_until(lambda: all_attempted(1), what="the first attempt")
    [row] = WebhookDelivery.objects.all()
    assert row.next_attempt_at - clock.now() > timedelta(seconds=100)  # not the usual 5 s
    clock.travel(timedelta(seconds=60))
    assert tasks.deliveries_sweep() == 0
    clock.travel(timedelta(seconds=65))
    assert tasks.deliveries_sweep() == 1
    sweep_until_done()
    assert [status for status, _ in attempts_of(row.pk)] == [429, 204]
    assert_all_received(fault_receiver, removals)


def test_410_disables_the_endpoint_and_emails_the_organisation(setup, fault_receiver, shared_dir):
    dataset, endpoint = setup
    fault_receiver.answer = lambda hit, n: 410
    removals = approve(dataset, 600, "RR-410")  # two events: the second is never sent
    wait_until(lambda: not WebhookEndpoint.objects.get().enabled, what="the endpoint to be disabled")
    wait_until(lambda: emails_sent(shared_dir), what="the email")
    [email] = emails_sent(shared_dir)
    assert "To: ops@laion.example" in email and "410" in email
    endpoint.refresh_from_db()
    assert "410" in endpoint.disabled_reason
    wait_until(
        lambda: set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.FAILED},
        what="every delivery failed",
    )
    # No more attempts, whatever the time.
    time.sleep(0.5)
    sent = len(fault_receiver.hits)
    assert sent in (1, 2)
    clock.travel(timedelta(days=1))
    assert tasks.deliveries_sweep() == 0
    time.sleep(0.5)
    assert len(fault_receiver.hits) == sent
    # The maintainer fixes it; an operator enables the endpoint and redelivers: then all arrive.
    fault_receiver.answer = lambda hit, n: 204
    services.webhook_endpoint_enable(endpoint=endpoint)
    for row in WebhookDelivery.objects.all():
        services.delivery_redeliver(delivery=row)
    sweep_until_done()
    assert_all_received(fault_receiver, removals)


def test_301_is_not_followed_and_is_retried(setup, fault_receiver):
    dataset, _ = setup
    moved = (301, {"Location": "http://169.254.169.254/latest/"}, b"")
    fault_receiver.answer = lambda hit, n: moved if n == 0 else 200
    removals = approve(dataset, 2, "RR-301")
    wait_until(lambda: all_attempted(1), what="the first attempt")
    [row] = WebhookDelivery.objects.all()
    assert row.last_status == 301 and "redirects are not followed" in row.last_error
    assert row.state == DeliveryState.PENDING
    clock.travel(timedelta(seconds=7))
    sweep_until_done()
    assert [status for status, _ in attempts_of(row.pk)] == [301, 200]
    assert len(fault_receiver.hits) == 2  # no third request: the Location was never called
    assert_all_received(fault_receiver, removals)


def test_an_answer_slower_than_the_timeout_is_a_failure_and_is_retried(setup, fault_receiver):
    dataset, _ = setup

    def slow_first(hit, n):
        if n == 0:
            time.sleep(3)  # WEBHOOK_TIMEOUT_SECONDS is 1 for the worker
        return 204

    fault_receiver.answer = slow_first
    removals = approve(dataset, 2, "RR-slow")
    wait_until(lambda: all_attempted(1), what="the first attempt to time out")
    [row] = WebhookDelivery.objects.all()
    [(status, error)] = attempts_of(row.pk)
    assert status is None and "timed out" in error.lower()
    clock.travel(timedelta(seconds=7))
    sweep_until_done()
    assert [status for status, _ in attempts_of(row.pk)] == [None, 204]
    ids = fault_receiver.ids()
    assert len(ids) == 2 and len(set(ids)) == 1
    assert_all_received(fault_receiver, removals)
