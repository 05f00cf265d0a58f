"""Recording removals (with their webhook outbox rows) and the maintainer's acknowledgements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from core import clock
from core.queueing import enqueue

from .. import signals
from ..models import (
    Dataset,
    DatasetItem,
    Removal,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    url_key,
)
from ..serialize import iso, removal_to_dict

MAX_REMOVALS_PER_EVENT = 500


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
