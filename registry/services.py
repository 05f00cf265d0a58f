"""Every state change on the registry side. Views, admin, commands and tasks call these."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from core import clock, crypto, outbound
from core.queueing import enqueue
from core.text import text_problem

from . import signals
from .hashing import code_to_hex, hex_to_code, hex_to_pdq
from .models import (
    ApiKey,
    Dataset,
    DatasetItem,
    DeliveryState,
    Maintainer,
    Removal,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSecret,
    url_key,
)
from .serialize import iso, removal_to_dict

API_KEY_PREFIX = "rdk_"
MAX_ITEMS_PER_BATCH = 10_000
MAX_REMOVALS_PER_EVENT = 500
SECRET_ROTATION_OVERLAP = timedelta(hours=24)
# A scheme, a host and no white space: enough for an index row, and 20x faster than
# Django's URLValidator, which matters at millions of rows per import.
_ITEM_URL = re.compile(r"^https?://[^\s/?#@:]+(?::\d{1,5})?(?:[/?#]\S*)?$", re.IGNORECASE)
MAX_URL_LENGTH = 4096


# --- maintainers and keys ---------------------------------------------------


def _hash_key(raw: str) -> str:
    # Keys are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, maintainer: Maintainer, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(maintainer=maintainer, name=name, prefix=raw[:12], key_hash=_hash_key(raw))
    return key, raw


def api_key_authenticate(raw: str) -> ApiKey | None:
    key = (
        ApiKey.objects.select_related("maintainer")
        .filter(key_hash=_hash_key(raw), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    now = clock.now()
    # Write last-used at most once a minute: a busy key must not write on every call.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])


@transaction.atomic
def maintainer_create(*, name: str, email: str) -> tuple[Maintainer, str]:
    maintainer = Maintainer.objects.create(name=name, email=email)
    _, raw = api_key_create(maintainer=maintainer)
    return maintainer, raw


# --- data sets and items ----------------------------------------------------


def dataset_create(
    *, maintainer: Maintainer, slug: str, name: str, homepage: str = "", description: str = ""
) -> Dataset:
    return Dataset.objects.create(
        maintainer=maintainer, slug=slug, name=name, homepage=homepage, description=description
    )


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def clean_item_row(row: Any) -> dict[str, Any]:
    """Validate one index row; raise ValueError with a message naming the field."""
    if not isinstance(row, dict):
        raise ValueError("each item must be an object")
    external_id = row.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise ValueError("external_id is required and must be a non-empty string")
    if len(external_id) > 200:
        raise ValueError("external_id is longer than 200 characters")
    if problem := text_problem(external_id):
        raise ValueError(f"external_id {problem}")
    url = row.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError("url is required and must be a string")
    if problem := text_problem(url):
        raise ValueError(f"url {problem}")
    if len(url) > MAX_URL_LENGTH or not _ITEM_URL.match(url):
        raise ValueError(f"url {url[:100]!r} is not a valid http(s) URL")
    cleaned: dict[str, Any] = {"external_id": external_id, "url": url}
    for name in ("phash", "dhash"):
        value = row.get(name)
        if value is None or value == "":
            cleaned[name] = None
            continue
        try:
            cleaned[name] = hex_to_code(value)
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") from None
    pdq = row.get("pdq")
    if pdq is None or pdq == "":
        cleaned["pdq"] = None
    else:
        try:
            cleaned["pdq"] = hex_to_pdq(pdq)
        except ValueError as exc:
            raise ValueError(f"pdq {exc}") from None
    return cleaned


@transaction.atomic
def items_upsert(*, dataset: Dataset, rows: Sequence[Any]) -> UpsertResult:
    """Insert or update items by external_id. A bad row is rejected alone, never the batch."""
    if len(rows) > MAX_ITEMS_PER_BATCH:
        raise ValueError(f"at most {MAX_ITEMS_PER_BATCH:,} items per call; use the imports endpoint")
    result = UpsertResult()
    valid: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        try:
            cleaned = clean_item_row(row)
        except ValueError as exc:
            result.rejected.append({"index": index, "error": str(exc)})
            continue
        if cleaned["external_id"] in valid:
            result.rejected.append({"index": index, "error": "external_id appears earlier in this batch"})
            continue
        valid[cleaned["external_id"]] = cleaned
    existing = {
        item.external_id: item
        for item in DatasetItem.objects.select_for_update().filter(
            dataset=dataset, external_id__in=list(valid)
        )
    }
    to_create, to_update = [], []
    for external_id, cleaned in valid.items():
        item = existing.get(external_id)
        if item is None:
            to_create.append(DatasetItem(dataset=dataset, url_key=url_key(cleaned["url"]), **cleaned))
        else:
            for name in ("url", "phash", "dhash", "pdq"):
                setattr(item, name, cleaned[name])
            item.url_key = url_key(cleaned["url"])
            to_update.append(item)
    DatasetItem.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        now = clock.now()
        for item in to_update:
            item.updated_at = now
        DatasetItem.objects.bulk_update(
            to_update, ["url", "url_key", "phash", "dhash", "pdq", "updated_at"], batch_size=1000
        )
    result.created, result.updated = len(to_create), len(to_update)
    changed = [item.pk for item in (*to_create, *to_update) if item.phash is not None]
    if changed:
        transaction.on_commit(lambda: _enqueue_rematch(changed))
    return result


def _enqueue_rematch(item_ids: list[int]) -> None:
    enqueue(
        "registry.tasks.items_rematch",
        item_ids,
        fallback="these items are re-matched when they are next imported or changed",
    )


# --- removals ---------------------------------------------------------------


@dataclass(frozen=True)
class RemovalEntry:
    """What to remove: an item of a data set, or a bare URL/hash in one."""

    dataset: Dataset
    item: DatasetItem | None = None
    url: str | None = None
    phash: int | None = None
    dhash: int | None = None
    pdq: bytes | None = None


@transaction.atomic
def removals_record(
    *, source_ref: str, reason: str, entries: Iterable[RemovalEntry], approved_at: datetime | None = None
) -> list[Removal]:
    """Record approved removals and their webhook outbox rows in the caller's transaction.

    Idempotent per (source_ref, item): recording the same item again for the
    same source returns nothing new. Deliveries are sent after commit; the
    sweeper sends anything the after-commit hook did not.
    """
    approved_at = approved_at or clock.now()
    already = set(
        Removal.objects.filter(source_ref=source_ref, item__isnull=False).values_list("item_id", flat=True)
    )
    created: list[Removal] = []
    for entry in entries:
        if entry.item is not None:
            if entry.item.pk in already:
                continue
            already.add(entry.item.pk)
        item = entry.item
        url = entry.url or (item.url if item else None)
        removal = Removal(
            dataset=entry.dataset,
            item=item,
            external_id=item.external_id if item else None,
            url=url,
            url_key=url_key(url) if url else None,
            phash=entry.phash if entry.phash is not None else (item.phash if item else None),
            dhash=entry.dhash if entry.dhash is not None else (item.dhash if item else None),
            pdq=entry.pdq if entry.pdq is not None else (bytes(item.pdq) if item and item.pdq else None),
            reason=reason,
            source_ref=source_ref,
            approved_at=approved_at,
        )
        created.append(removal)
    Removal.objects.bulk_create(created)
    _events_create(event_type=WebhookEventType.REMOVAL_APPROVED, removals=created)
    return created


def _events_create(*, event_type: str, removals: Sequence[Removal]) -> list[WebhookDelivery]:
    """Write the events (at most 500 removals each) and one outbox row per subscribed endpoint."""
    by_dataset: dict[int, list[Removal]] = defaultdict(list)
    for removal in removals:
        by_dataset[removal.dataset_id].append(removal)
    now = clock.now()
    deliveries: list[WebhookDelivery] = []
    for dataset_id, dataset_removals in by_dataset.items():
        dataset = dataset_removals[0].dataset
        endpoints = [
            endpoint
            for endpoint in WebhookEndpoint.objects.filter(
                Q(datasets__isnull=True) | Q(datasets=dataset_id),
                maintainer_id=dataset.maintainer_id,
                enabled=True,
                deleted_at__isnull=True,
            ).distinct()
            if event_type in endpoint.event_types
        ]
        for start in range(0, len(dataset_removals), MAX_REMOVALS_PER_EVENT):
            chunk = dataset_removals[start : start + MAX_REMOVALS_PER_EVENT]
            event = WebhookEvent.objects.create(
                maintainer_id=dataset.maintainer_id,
                dataset=dataset,
                event_type=event_type,
                payload={
                    "type": event_type,
                    "timestamp": iso(now),
                    "data": {
                        "dataset": dataset.slug,
                        "removals": [removal_to_dict(r, dataset_slug=dataset.slug) for r in chunk],
                    },
                },
            )
            event.removals.add(*chunk)
            deliveries.extend(
                WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now) for endpoint in endpoints
            )
    WebhookDelivery.objects.bulk_create(deliveries)
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: _enqueue_deliveries(ids))
    return deliveries


def _enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue("registry.tasks.delivery_send", delivery_id, fallback="the delivery sweep sends it")


@dataclass
class AckResult:
    acknowledged: int
    unknown: list[str]


@transaction.atomic
def removals_acknowledge(*, dataset: Dataset, ids: Sequence[str]) -> AckResult:
    """Mark removals of `dataset` acknowledged. Idempotent; unknown ids are reported back."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    found = {
        r.public_id: r
        for r in Removal.objects.select_for_update().filter(dataset=dataset, public_id__in=wanted)
    }
    now = clock.now()
    changed = [r for r in found.values() if r.state in (RemovalState.PENDING, RemovalState.DELIVERED)]
    for removal in changed:
        removal.state = RemovalState.ACKNOWLEDGED
        removal.acknowledged_at = now
    Removal.objects.bulk_update(changed, ["state", "acknowledged_at"])
    if changed:
        refs = {r.source_ref for r in changed}
        transaction.on_commit(lambda: signals.removals_acknowledged.send(sender=Removal, source_refs=refs))
    return AckResult(acknowledged=len(found), unknown=[i for i in wanted if i not in found])


# --- webhook endpoints ------------------------------------------------------


def _new_signing_secret() -> str:
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def webhook_endpoint_create(
    *, maintainer: Maintainer, url: str, event_types: Sequence[str], datasets: Sequence[Dataset] = ()
) -> tuple[WebhookEndpoint, str]:
    """Raises outbound.OutboundRefused when `url` could never be delivered to (not a public address)."""
    outbound.vet_destination(url)
    endpoint = WebhookEndpoint.objects.create(
        maintainer=maintainer, url=url, event_types=sorted(set(event_types))
    )
    if datasets:
        endpoint.datasets.set(datasets)
    secret = _new_signing_secret()
    WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=crypto.encrypt(secret))
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Soft-delete: the delivery log stays for the maintainer's and our records."""
    now = clock.now()
    endpoint.deleted_at = now
    endpoint.enabled = False
    endpoint.disabled_reason = "deleted by the maintainer"
    endpoint.disabled_at = now
    endpoint.save(update_fields=["deleted_at", "enabled", "disabled_reason", "disabled_at"])
    endpoint.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error="endpoint deleted", next_attempt_at=None
    )


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret; the current ones keep signing alongside it for 24 hours."""
    now = clock.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secrets.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now + SECRET_ROTATION_OVERLAP)
    ).update(expires_at=now + SECRET_ROTATION_OVERLAP)
    secret = _new_signing_secret()
    WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=crypto.encrypt(secret))
    return secret


def webhook_live_secrets(endpoint: WebhookEndpoint) -> list[str]:
    now = clock.now()
    return [
        crypto.decrypt(s.secret_encrypted)
        for s in endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by(
            "-created_at"
        )
    ]


__all__ = [
    "AckResult",
    "RemovalEntry",
    "UpsertResult",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "code_to_hex",
    "dataset_create",
    "items_upsert",
    "maintainer_create",
    "removals_acknowledge",
    "removals_record",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_live_secrets",
    "webhook_secret_rotate",
]


# --- delivery outside the webhook engine ---------------------------------------


@transaction.atomic
def removals_mark_delivered(*, removals: Iterable[Removal]) -> int:
    """Mark pending removals delivered that reached the maintainer another way (a hand-over, demo data).

    The webhook engine marks its own deliveries; this is for everything
    else, and sends the same signal so the upstream side hears of it.
    """
    ids = [r.pk for r in removals]
    # Lock first: a delivery attempt may be marking the same rows right now.
    rows = list(
        Removal.objects.select_for_update()
        .filter(pk__in=ids, state=RemovalState.PENDING)
        .values_list("pk", "source_ref")
    )
    if not rows:
        return 0
    Removal.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        state=RemovalState.DELIVERED, delivered_at=clock.now()
    )
    refs = {ref for _, ref in rows}
    transaction.on_commit(lambda: signals.removals_delivered.send(sender=Removal, source_refs=refs))
    return len(rows)


__all__ += ["removals_mark_delivered"]


# --- enabling and disabling webhook endpoints -----------------------------------


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    """Stop calling an endpoint; its pending deliveries fail (redeliverable) and its organisation is told.

    Called by the delivery engine (410, or failing for 5 days) and by operators.
    Disabling a disabled endpoint changes nothing and sends no second email.
    """
    from django.core.mail import send_mail

    endpoint = WebhookEndpoint.objects.select_for_update().select_related("maintainer").get(pk=endpoint.pk)
    if not endpoint.enabled:
        return endpoint
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:200]
    endpoint.disabled_at = clock.now()
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    endpoint.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, next_attempt_at=None, last_error=f"endpoint disabled: {reason}"
    )
    url, public_id, email = endpoint.url, endpoint.public_id, endpoint.maintainer.email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Removal Desk: webhook endpoint {url} disabled",
            message=(
                f"Your webhook endpoint {url} ({public_id}) was disabled: {reason}.\n\n"
                "Removals are still listed in the pull feed (GET /api/v1/datasets/{slug}/removals/). "
                "Fix the endpoint, enable it again, and redeliver failed deliveries from the API "
                "or ask us to."
            ),
            from_email=None,
            recipient_list=[email],
            fail_silently=True,
        )
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Call an endpoint again, with a clean slate: the 5-day failure count starts over.

    Deliveries that failed while it was disabled stay failed until redelivered.
    A deleted endpoint cannot be enabled.
    """
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.deleted_at is not None:
        raise ValueError("A deleted endpoint cannot be enabled.")
    endpoint.enabled = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.failing_since = None
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "failing_since"])
    return endpoint


__all__ += ["webhook_endpoint_disable", "webhook_endpoint_enable"]
