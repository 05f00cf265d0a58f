"""Delivering removals: the webhook engine (claim an outbox row, send it signed, record the
outcome) and removals that reached the maintainer another way.

At least once: a row stays pending until a 2xx is recorded for it, and a
periodic sweep re-sends anything due or whose claim expired (a worker that
died mid-send), so a lost Celery message never loses a delivery.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from standardwebhooks.webhooks import Webhook

from core import clock, outbound
from core.queueing import enqueue

from ..models import (
    DeliveryAttempt,
    DeliveryState,
    Removal,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from .webhooks import webhook_endpoint_disable, webhook_live_secrets

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
# How soon an event held behind an earlier one for the same removals looks again (at the least).
ORDER_WAIT = timedelta(seconds=5)


def _lease(now: datetime) -> datetime:
    """How long a claim holds: longer than any attempt can take, short enough to recover a dead worker."""
    return now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 30)


def _claimable(now: datetime) -> Q:
    """Rows an attempt may take: pending, due, and not held by a live claim."""
    return Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )


def _claim(delivery_id: int, now: datetime, claimed_until: datetime | None = None) -> bool:
    """Take the row for one attempt. A conditional UPDATE, so two workers never both send it.

    `claimed_until` is the lease the sweeper wrote when it claimed the row and
    queued this attempt: it works as a token, so the task may take over that
    claim (and only that one; a later sweep that re-claimed the row after the
    lease ran out wrote another value, and then this copy of the message skips).
    """
    condition = _claimable(now)
    if claimed_until is not None:
        condition |= Q(state=DeliveryState.PENDING, next_attempt_at__lte=now, locked_until=claimed_until)
    return bool(WebhookDelivery.objects.filter(condition, pk=delivery_id).update(locked_until=_lease(now)))


def deliveries_claim_due(*, limit: int = 500) -> tuple[list[int], datetime]:
    """Claim up to `limit` due deliveries at once: `SELECT ... FOR UPDATE SKIP LOCKED`, then set the lease.

    Commits before returning, so the caller sends or queues rows that no
    other sweeper or worker will take until the lease runs out. A row whose
    sender dies stays claimed until then and is found again by a later sweep.
    Returns the ids and the lease (the token `delivery_attempt` takes over).
    """
    now = clock.now()
    lease = _lease(now)
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(locked_until=lease)
    return ids, lease


def deliveries_release(delivery_ids: list[int], *, claimed_until: datetime) -> int:
    """Give back claims that were never handed to a sender (the broker was down)."""
    return WebhookDelivery.objects.filter(pk__in=delivery_ids, locked_until=claimed_until).update(
        locked_until=None
    )


def deliveries_send_due(*, limit: int = 500) -> dict[str, int]:
    """Claim the due deliveries and make each attempt here, in this process. Returns outcome counts."""
    ids, lease = deliveries_claim_due(limit=limit)
    outcomes: dict[str, int] = {}
    for delivery_id in ids:
        outcome = delivery_attempt(delivery_id, claimed_until=lease)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


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


def _waits_for_earlier(delivery: WebhookDelivery) -> datetime | None:
    """When the latest earlier delivery to the same endpoint that this one must follow is next
    due; None when there is none pending. A removal.revoked follows the events carrying any of
    its removals (the approval it revokes, still retrying, say); a licence event follows the
    events about the same items (the removal.revoked of the work it now licenses, or the grant
    it withdraws); a removal.approved follows the licence and removal events about its items (a
    licence withdrawn for a removal; the removal.revoked of the removal it replaces, when a choice
    changed from removal to search only or back), and looks only when a licence event or a
    removal.revoked is pending there at all."""
    event_type = delivery.event.event_type
    licence_types = (WebhookEventType.LICENCE_GRANTED, WebhookEventType.LICENCE_REVOKED)
    if event_type == WebhookEventType.REMOVAL_APPROVED:
        pending_before = WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            state=DeliveryState.PENDING,
            event_id__lt=delivery.event_id,
            event__event_type__in=(*licence_types, WebhookEventType.REMOVAL_REVOKED),
        )
        if not pending_before.exists():
            return None
        earlier = _EARLIER_GRANTS + " UNION " + _EARLIER_REMOVALS
    elif event_type in licence_types:
        earlier = _EARLIER_GRANTS + " UNION " + _EARLIER_REMOVALS
    else:
        earlier = _EARLIER_SAME_REMOVALS
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH mine AS ({_SUBJECTS}), earlier AS ({earlier})
            SELECT max(d.next_attempt_at), count(*) FROM registry_webhookdelivery d
            WHERE d.endpoint_id = %(endpoint)s AND d.state = %(pending)s
              AND d.event_id IN (SELECT event_id FROM earlier)
            """,  # noqa: S608 (fixed SQL; every value is a parameter)
            {"endpoint": delivery.endpoint_id, "pending": DeliveryState.PENDING, "event": delivery.event_id},
        )
        row = cursor.fetchone()
    if row is None or not row[1]:
        return None
    latest = row[0]
    if isinstance(latest, str):  # SQLite hands timestamps back as text, in UTC
        latest = datetime.fromisoformat(latest)
    if latest is None:
        return clock.now()
    return latest if latest.tzinfo is not None else latest.replace(tzinfo=UTC)


# What an event is about: the (data set, item) of its removals and grants, or for a bare hash
# (no item) the (data set, pHash).
_SUBJECTS = """
    SELECT r.id AS removal_id, r.dataset_id, r.item_id, r.phash
    FROM registry_webhookevent_removals l JOIN registry_removal r ON r.id = l.removal_id
    WHERE l.webhookevent_id = %(event)s
    UNION ALL
    SELECT NULL, g.dataset_id, g.item_id, g.phash
    FROM registry_webhookevent_grants l JOIN registry_licencegrant g ON g.id = l.licencegrant_id
    WHERE l.webhookevent_id = %(event)s
"""
# Earlier events carrying a grant about one of the same subjects.
_EARLIER_GRANTS = """
    SELECT l.webhookevent_id AS event_id FROM mine
    JOIN registry_licencegrant g ON g.dataset_id = mine.dataset_id AND g.item_id = mine.item_id
    JOIN registry_webhookevent_grants l ON l.licencegrant_id = g.id AND l.webhookevent_id < %(event)s
    UNION
    SELECT l.webhookevent_id FROM mine
    JOIN registry_licencegrant g ON g.dataset_id = mine.dataset_id AND mine.item_id IS NULL
      AND g.item_id IS NULL AND g.phash = mine.phash
    JOIN registry_webhookevent_grants l ON l.licencegrant_id = g.id AND l.webhookevent_id < %(event)s
"""
# Earlier events carrying a removal about one of the same subjects.
_EARLIER_REMOVALS = """
    SELECT l.webhookevent_id FROM mine
    JOIN registry_removal r ON r.dataset_id = mine.dataset_id AND r.item_id = mine.item_id
    JOIN registry_webhookevent_removals l ON l.removal_id = r.id AND l.webhookevent_id < %(event)s
    UNION
    SELECT l.webhookevent_id FROM mine
    JOIN registry_removal r ON r.dataset_id = mine.dataset_id AND mine.item_id IS NULL
      AND r.item_id IS NULL AND r.phash = mine.phash
    JOIN registry_webhookevent_removals l ON l.removal_id = r.id AND l.webhookevent_id < %(event)s
"""
# Earlier events carrying one of the same removals.
_EARLIER_SAME_REMOVALS = """
    SELECT l.webhookevent_id AS event_id FROM mine
    JOIN registry_webhookevent_removals l ON l.removal_id = mine.removal_id
      AND l.webhookevent_id < %(event)s
"""


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


def delivery_attempt(delivery_id: int, *, claimed_until: datetime | None = None) -> str:
    """Make one attempt at a due delivery. Returns what happened, for logs and tests.

    `claimed_until`: the lease of a sweeper's claim this attempt takes over.
    """
    now = clock.now()
    if not _claim(delivery_id, now, claimed_until):
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
    earliest = _waits_for_earlier(delivery)
    if earliest is not None:
        # Not an attempt: the maintainer must see what happened first first (the approval
        # before its revocation, a removal's revocation before the licence that replaced it).
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            locked_until=None,
            next_attempt_at=max(now + ORDER_WAIT, earliest),
            last_error="waiting for an earlier event about the same removals or works to reach this endpoint",
        )
        return "waiting"

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
        webhook_endpoint_disable(endpoint=endpoint, reason="the endpoint answered 410 Gone")
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
        webhook_endpoint_disable(endpoint=endpoint, reason="failing for 5 days")
        return "endpoint-disabled"
    return outcome


def _mark_delivered(delivery: WebhookDelivery, now: datetime) -> None:
    ids = list(
        Removal.objects.filter(webhook_events=delivery.event_id, state=RemovalState.PENDING).values_list(
            "pk", flat=True
        )
    )
    # The ids as literals and the state on the row itself: if the maintainer's
    # acknowledgement commits while this waits for the row lock, PostgreSQL
    # re-checks `state = pending` on the new version and leaves it acknowledged.
    # (Through the join, the re-check would keep the stale match and overwrite it.)
    Removal.objects.filter(pk__in=ids, state=RemovalState.PENDING).update(
        state=RemovalState.DELIVERED, delivered_at=now
    )


def deliveries_due(*, limit: int = 500) -> list[int]:
    """The due, unclaimed deliveries (a read: nothing is claimed)."""
    now = clock.now()
    return list(
        WebhookDelivery.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again (after a failure, or to resend a success on request).

    A claim that is still live (an attempt in flight) is left alone: the
    attempt's outcome is recorded, and this one follows once the claim is
    released or expires, so a redeliver never makes two sends at once.
    """
    now = clock.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = now
    fields = ["state", "next_attempt_at"]
    if delivery.locked_until is not None and delivery.locked_until <= now:
        delivery.locked_until = None
        fields.append("locked_until")
    delivery.save(update_fields=fields)
    pk = delivery.pk
    transaction.on_commit(lambda: _enqueue(pk))
    return delivery


def _enqueue(delivery_id: int) -> None:
    enqueue("registry.tasks.delivery_send", delivery_id, fallback="the delivery sweep sends it")


# --- delivery outside the webhook engine ---------------------------------------


@transaction.atomic
def removals_mark_delivered(*, removals: Iterable[Removal]) -> int:
    """Mark pending removals delivered that reached the maintainer another way (a hand-over, demo data).

    The webhook engine marks its own deliveries; this is for everything else.
    """
    ids = [r.pk for r in removals]
    # Lock first: a delivery attempt may be marking the same rows right now.
    pending = list(
        Removal.objects.select_for_update()
        .filter(pk__in=ids, state=RemovalState.PENDING)
        .values_list("pk", flat=True)
    )
    if not pending:
        return 0
    Removal.objects.filter(pk__in=pending).update(state=RemovalState.DELIVERED, delivered_at=clock.now())
    return len(pending)
