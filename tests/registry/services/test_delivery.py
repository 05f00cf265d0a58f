"""The delivery engine against a real HTTP receiver on loopback."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from registry import services
from registry.models import DeliveryState, Removal, RemovalState, WebhookDelivery
from registry.services import delivery


def test_it_signs_per_standard_webhooks_and_marks_removals_delivered(delivery_setup, receiver):
    row, _, secret = delivery_setup
    assert services.delivery_attempt(row.pk) == "succeeded"
    [got] = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "removal.approved"
    assert got.headers["webhook-id"] == row.event.public_id
    assert got.headers["content-type"] == "application/json"
    assert Removal.objects.get().state == RemovalState.DELIVERED
    row.refresh_from_db()
    assert row.state == DeliveryState.SUCCEEDED and row.attempts == 1
    assert row.attempt_log.get().status_code == 204


def test_it_retries_on_the_schedule_with_the_same_webhook_id(delivery_setup, receiver):
    row, _, _ = delivery_setup
    receiver.answer = 500
    before = timezone.now()
    assert services.delivery_attempt(row.pk) == "retry"
    row.refresh_from_db()
    assert row.state == DeliveryState.PENDING and row.attempts == 1 and row.last_status == 500
    wait = row.next_attempt_at - before
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=7)
    # Not due yet: a second worker (or the sweeper) must not send it early.
    assert services.delivery_attempt(row.pk) == "skipped"
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    receiver.answer = 200
    assert services.delivery_attempt(row.pk) == "succeeded"
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 2 and ids == {row.event.public_id}


def test_it_fails_a_delivery_after_the_last_retry(delivery_setup, receiver):
    row, _, _ = delivery_setup
    receiver.answer = 500
    outcomes = []
    for _ in range(delivery.MAX_ATTEMPTS):
        WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outcomes.append(services.delivery_attempt(row.pk))
    assert outcomes == ["retry"] * 7 + ["failed"]
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and row.attempts == 8
    assert Removal.objects.get().state == RemovalState.PENDING


def test_it_honours_retry_after(delivery_setup, receiver):
    row, _, _ = delivery_setup
    receiver.answer = (429, {"Retry-After": "120"}, b"slow down")
    before = timezone.now()
    assert services.delivery_attempt(row.pk) == "retry"
    row.refresh_from_db()
    assert row.next_attempt_at - before >= timedelta(seconds=120)
    assert row.attempt_log.get().response_excerpt == "slow down"


def test_it_does_not_follow_redirects(delivery_setup, receiver):
    row, _, _ = delivery_setup
    receiver.answer = (301, {"Location": "http://169.254.169.254/"}, b"")
    assert services.delivery_attempt(row.pk) == "retry"
    row.refresh_from_db()
    assert row.last_status == 301 and "redirects are not followed" in row.last_error
    assert len(receiver.received) == 1


def test_it_disables_an_endpoint_that_answers_410_and_tells_the_organisation(
    delivery_setup, receiver, django_capture_on_commit_callbacks
):
    row, endpoint, _ = delivery_setup
    receiver.answer = 410
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_attempt(row.pk) == "gone"
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [["ops@laion.example"]]


def test_it_refuses_loopback_unless_allowed(delivery_setup, receiver, settings):
    row, _, _ = delivery_setup
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    assert services.delivery_attempt(row.pk) == "retry"
    row.refresh_from_db()
    assert "not a public address" in row.last_error
    assert receiver.received == []


def test_it_records_a_connection_failure_and_retries(delivery_setup, receiver):
    row, endpoint, _ = delivery_setup
    endpoint.url = "http://127.0.0.1:9/nothing-listens-here"
    endpoint.save()
    assert services.delivery_attempt(row.pk) == "retry"
    row.refresh_from_db()
    assert row.last_status is None and "network error" in row.last_error


def test_the_sweep_finds_due_and_abandoned_deliveries(delivery_setup):
    row, _, _ = delivery_setup
    assert services.deliveries_due() == [row.pk]
    # A worker claimed it and died: the claim expires and the sweep finds it again.
    WebhookDelivery.objects.filter(pk=row.pk).update(locked_until=timezone.now() + timedelta(minutes=1))
    assert services.deliveries_due() == []
    WebhookDelivery.objects.filter(pk=row.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert services.deliveries_due() == [row.pk]
