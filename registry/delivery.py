"""The webhook delivery engine: claim an outbox row, send it signed, record the outcome.

At least once: a row stays pending until a 2xx is recorded for it, and a
periodic sweep re-sends anything due or whose claim expired (a worker that
died mid-send), so a lost Celery message never loses a delivery.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from standardwebhooks.webhooks import Webhook

from . import clock, outbound, signals
from .models import (
    DeliveryAttempt,
    DeliveryState,
    Removal,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import webhook_live_secrets

log = logging.getLogger(__name__)

# API.md: retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then failed.
RETRY_DELAYS = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)
MAX_RETRY_AFTER = timedelta(hours=10)
EXCERPT_BYTES = 2048


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the row for one attempt. A conditional UPDATE, so two workers never both send it."""
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 30)
    return bool(
        WebhookDelivery.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now),
            pk=delivery_id,
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
        ).update(locked_until=lease)
    )


def _signed_request(delivery: WebhookDelivery, now: datetime) -> tuple[bytes, dict[str, str]]:
    event = delivery.event
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
    signatures = " ".join(
        Webhook(secret).sign(event.public_id, now, body) for secret in webhook_live_secrets(delivery.endpoint)
    )
    headers = {
        "Content-Type": "application/json",
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    return body.encode("utf-8"), headers


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    try:
        seconds = int(value)
        return timedelta(seconds=max(0, seconds))
    except ValueError:
        pass
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - now)
    except (TypeError, ValueError):
        return None


def delivery_attempt(delivery_id: int) -> str:
    """Make one attempt at a due delivery. Returns what happened, for logs and tests."""
    now = clock.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED,
            locked_until=None,
            next_attempt_at=None,
            last_error=f"endpoint disabled: {endpoint.disabled_reason}",
        )
        return "endpoint-disabled"

    body, headers = _signed_request(delivery, now)
    status: int | None = None
    error = ""
    excerpt = ""
    duration_ms = 0
    retry_after: timedelta | None = None
    try:
        response = outbound.post(
            endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
        status, duration_ms = response.status, response.duration_ms
        excerpt = response.body[:EXCERPT_BYTES].decode("utf-8", "replace")
        if status in (429, 503):
            retry_after = _retry_after(response.headers.get("retry-after"), now)
        if not 200 <= status < 300:
            error = f"answered HTTP {status}"
            if 300 <= status < 400:
                error += " (redirects are not followed)"
    except outbound.OutboundRefused as exc:
        error = f"refused: {exc}"
    except urllib3.exceptions.HTTPError as exc:
        error = f"network error: {exc.__class__.__name__}: {exc}"[:1000]

    return _record_outcome(
        delivery,
        now=now,
        status=status,
        error=error,
        excerpt=excerpt,
        duration_ms=duration_ms,
        retry_after=retry_after,
    )


@transaction.atomic
def _record_outcome(
    delivery: WebhookDelivery,
    *,
    now: datetime,
    status: int | None,
    error: str,
    excerpt: str,
    duration_ms: int,
    retry_after: timedelta | None,
) -> str:
    DeliveryAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=status,
        error=error,
        response_excerpt=excerpt,
        duration_ms=duration_ms,
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery = WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery.pk)
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    delivery.locked_until = None
    fields = ["attempts", "last_status", "last_error", "locked_until", "state", "next_attempt_at"]

    if status is not None and 200 <= status < 300:
        delivery.state = DeliveryState.SUCCEEDED
        delivery.succeeded_at = now
        delivery.next_attempt_at = None
        delivery.save(update_fields=[*fields, "succeeded_at"])
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        _mark_delivered(delivery, now)
        return "succeeded"

    if status == 410:
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        delivery.save(update_fields=fields)
        _endpoint_disable(endpoint, now, "the endpoint answered 410 Gone")
        return "gone"

    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        outcome = "failed"
    else:
        delay = RETRY_DELAYS[delivery.attempts - 1]
        # Up to 10% jitter, so receivers coming back are not hit by every retry at once.
        delay += timedelta(seconds=delay.total_seconds() * random.uniform(0, 0.1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        delivery.next_attempt_at = now + delay
        outcome = "retry"
    delivery.save(update_fields=fields)
    if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        _endpoint_disable(endpoint, now, "failing for 5 days")
    return outcome


def _mark_delivered(delivery: WebhookDelivery, now: datetime) -> None:
    removals = Removal.objects.filter(webhook_events=delivery.event_id, state=RemovalState.PENDING)
    refs = set(removals.values_list("source_ref", flat=True))
    removals.update(state=RemovalState.DELIVERED, delivered_at=now)
    if refs:
        transaction.on_commit(lambda: signals.removals_delivered.send(sender=Removal, source_refs=refs))


def _endpoint_disable(endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, next_attempt_at=None, last_error=f"endpoint disabled: {reason}"
    )
    maintainer = endpoint.maintainer
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Removal Desk: webhook endpoint {endpoint.url} disabled",
            message=(
                f"Your webhook endpoint {endpoint.url} ({endpoint.public_id}) was disabled: "
                f"{reason}.\n\nRemovals are still listed in the pull feed "
                "(GET /api/v1/datasets/{slug}/removals/). Fix the endpoint, enable it again, "
                "and redeliver failed deliveries from the API or ask us to."
            ),
            from_email=None,
            recipient_list=[maintainer.email],
            fail_silently=True,
        )
    )


def deliveries_due(*, limit: int = 500) -> list[int]:
    now = clock.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now),
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again (after a failure, or to resend a success on request)."""
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = clock.now()
    delivery.locked_until = None
    delivery.save(update_fields=["state", "next_attempt_at", "locked_until"])
    pk = delivery.pk
    transaction.on_commit(lambda: _enqueue(pk))
    return delivery


def _enqueue(delivery_id: int) -> None:
    from .tasks import delivery_send

    delivery_send.delay(delivery_id)
