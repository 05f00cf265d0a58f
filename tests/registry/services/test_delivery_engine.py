"""The delivery engine with a clock that moves: batch claims, the sweep, the retry schedule over days,
and the 5-day disable."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction

from core import clock
from registry import services, tasks
from registry.models import (
    DeliveryState,
    Removal,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
)
from registry.services import delivery

pytestmark = pytest.mark.usefixtures("clock_back")


def approve(dataset, n: int, ref: str) -> list[Removal]:
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": f"{ref}-{i}", "url": f"https://i.example/{ref}/{i}.jpg"} for i in range(n)],
    )
    items = list(dataset.items.filter(external_id__startswith=f"{ref}-"))
    return services.removals_record(
        source_ref=ref,
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
    )


# --- claims -----------------------------------------------------------------


def test_the_sweeper_claims_a_batch_and_the_task_takes_that_claim_over(dataset, endpoint, receiver):
    approve(dataset, 3, "RR-1")
    approve(dataset, 3, "RR-2")
    rows = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(rows) == 2
    ids, lease = services.deliveries_claim_due(limit=1)
    assert ids == rows[:1]
    assert WebhookDelivery.objects.get(pk=ids[0]).locked_until == lease
    # Claimed: neither a second sweep nor a message without the claim's token may send it.
    assert services.deliveries_claim_due(limit=10)[0] == rows[1:]
    assert services.delivery_attempt(ids[0]) == "skipped"
    assert services.delivery_attempt(ids[0], claimed_until=lease - timedelta(microseconds=1)) == "skipped"
    # The task carries the lease (as ISO text through the broker) and takes the claim over.
    assert tasks.delivery_send.apply(args=(ids[0], lease.isoformat())).get() == "succeeded"
    # A second copy of the same message finds the row done.
    assert tasks.delivery_send.apply(args=(ids[0], lease.isoformat())).get() == "skipped"
    assert len(receiver.received) == 1


def test_a_claim_that_ran_out_is_claimed_again_and_the_old_message_then_skips(dataset, endpoint, receiver):
    approve(dataset, 1, "RR-1")
    [row] = WebhookDelivery.objects.values_list("pk", flat=True)
    ids, first_lease = services.deliveries_claim_due()
    assert ids == [row]
    assert services.deliveries_claim_due()[0] == []
    # The worker that had the message died; after the lease nothing holds the row.
    with clock.travel(timedelta(minutes=5)):
        ids, second_lease = services.deliveries_claim_due()
        assert ids == [row] and second_lease > first_lease
        assert services.delivery_attempt(row, claimed_until=first_lease) == "skipped"
        assert services.delivery_attempt(row, claimed_until=second_lease) == "succeeded"
    assert len(receiver.received) == 1


def test_released_claims_are_due_again_at_once(dataset, endpoint):
    approve(dataset, 1, "RR-1")
    ids, lease = services.deliveries_claim_due()
    assert services.deliveries_due() == []
    assert services.deliveries_release(ids, claimed_until=lease) == 1
    assert services.deliveries_due() == ids


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_skip_rows_another_one_has_locked(dataset, endpoint):
    for n in range(6):
        approve(dataset, 1, f"RR-{n}")
    rows = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    locked = threading.Event()
    release = threading.Event()

    def other_sweeper() -> None:
        # Another sweeper, in its own connection, is half-way through its claim of the first three.
        try:
            with transaction.atomic():
                list(WebhookDelivery.objects.select_for_update().filter(pk__in=rows[:3]))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sweeper)
    thread.start()
    try:
        assert locked.wait(10)
        ids, _ = services.deliveries_claim_due(limit=10)  # does not wait for the lock
        assert ids == rows[3:]
    finally:
        release.set()
        thread.join()
    ids, _ = services.deliveries_claim_due(limit=10)
    assert ids == rows[:3]


# --- the schedule over days, with the clock ----------------------------------


def test_the_sweep_sends_retries_when_the_clock_says_they_are_due(dataset, endpoint, receiver):
    approve(dataset, 2, "RR-1")
    receiver.answer = 500
    assert services.deliveries_send_due() == {"retry": 1}
    receiver.answer = 200
    assert services.deliveries_send_due() == {}  # due in 5 s, not yet
    with clock.travel(timedelta(seconds=6)):
        assert services.deliveries_send_due() == {"succeeded": 1}
    row = WebhookDelivery.objects.get()
    assert row.state == DeliveryState.SUCCEEDED and row.attempts == 2
    assert [a.status_code for a in row.attempt_log.order_by("attempted_at")] == [500, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {row.event.public_id}
    assert set(Removal.objects.values_list("state", flat=True)) == {RemovalState.DELIVERED}
    assert WebhookEndpoint.objects.get().failing_since is None


def test_the_whole_retry_schedule_runs_in_moved_time_then_the_delivery_fails(dataset, endpoint, receiver):
    approve(dataset, 1, "RR-1")
    receiver.answer = 503
    start = clock.now()
    assert services.deliveries_send_due() == {"retry": 1}
    waits = []
    for expected in delivery.RETRY_DELAYS:
        row = WebhookDelivery.objects.get()
        wait = row.next_attempt_at - clock.now()
        waits.append(wait)
        assert expected * 0.95 <= wait <= expected * 1.1 + timedelta(seconds=1)
        with clock.travel(wait - timedelta(seconds=1)):
            assert services.deliveries_send_due() == {}  # a second early: nothing
        clock.travel(wait + timedelta(seconds=1))
        services.deliveries_send_due()
    row = WebhookDelivery.objects.get()
    assert row.state == DeliveryState.FAILED and row.attempts == delivery.MAX_ATTEMPTS
    assert row.attempt_log.count() == delivery.MAX_ATTEMPTS
    # About 28 hours of retries: failed, but the endpoint is not yet failing for 5 days.
    assert timedelta(hours=27) < clock.now() - start < timedelta(hours=31)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None
    assert mail.outbox == []


def test_an_endpoint_failing_for_5_days_is_disabled_and_its_organisation_emailed(
    dataset, endpoint, receiver, django_capture_on_commit_callbacks
):
    receiver.answer = 500
    approve(dataset, 1, "RR-0")
    assert services.deliveries_send_due() == {"retry": 1}
    first_failure = WebhookEndpoint.objects.get().failing_since
    # New approvals keep coming every day; the endpoint keeps failing.
    for day in range(1, 5):
        clock.travel(timedelta(days=1))
        approve(dataset, 1, f"RR-{day}")
        outcomes = services.deliveries_send_due()
        assert set(outcomes) == {"retry"}, outcomes
        assert WebhookEndpoint.objects.get().enabled
    assert mail.outbox == []
    clock.travel(timedelta(days=1, seconds=1))
    approve(dataset, 1, "RR-5")
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.deliveries_send_due(limit=1)
    assert outcomes == {"endpoint-disabled": 1}
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "failing for 5 days"
    assert endpoint.failing_since == first_failure
    assert endpoint.disabled_at - first_failure >= timedelta(days=5)
    [message] = mail.outbox
    assert message.to == ["ops@laion.example"] and endpoint.url in message.subject
    # Nothing is left pending for it, and no further attempt is made.
    assert not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists()
    sent = len(receiver.received)
    with clock.travel(timedelta(days=1)):
        assert services.deliveries_send_due() == {}
    assert len(receiver.received) == sent
    # Removals stay pending (the pull feed still lists them); nothing was marked delivered.
    assert set(Removal.objects.values_list("state", flat=True)) == {RemovalState.PENDING}


def test_a_success_resets_the_failure_count(dataset, endpoint, receiver):
    receiver.answer = 500
    approve(dataset, 1, "RR-0")
    services.deliveries_send_due()
    assert WebhookEndpoint.objects.get().failing_since is not None
    clock.travel(timedelta(days=4))
    receiver.answer = 204
    assert services.deliveries_send_due() == {"succeeded": 1}
    assert WebhookEndpoint.objects.get().failing_since is None
    receiver.answer = 500
    clock.travel(timedelta(days=2))
    approve(dataset, 1, "RR-1")
    assert services.deliveries_send_due() == {"retry": 1}
    assert WebhookEndpoint.objects.get().enabled


@pytest.mark.django_db(transaction=True)
def test_a_success_recorded_while_the_maintainer_acknowledges_never_undoes_the_acknowledgement(
    dataset, endpoint
):
    """The acknowledgement commits while the delivery's outcome waits for the row lock."""
    from registry.models import Removal, RemovalState

    approve(dataset, 1, "RR-race")
    row = WebhookDelivery.objects.get()
    removal = Removal.objects.get()
    locked, done = threading.Event(), threading.Event()

    def maintainer_acknowledges() -> None:
        try:
            with transaction.atomic():
                Removal.objects.select_for_update().filter(pk=removal.pk).update(
                    state=RemovalState.ACKNOWLEDGED, acknowledged_at=clock.now()
                )
                locked.set()
                time.sleep(0.5)  # the delivery's update is now waiting for this row
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=maintainer_acknowledges)
    thread.start()
    assert locked.wait(10)
    with transaction.atomic():
        delivery._mark_delivered(row, clock.now())
    thread.join()
    removal.refresh_from_db()
    assert removal.state == RemovalState.ACKNOWLEDGED
