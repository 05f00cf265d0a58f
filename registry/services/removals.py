"""Recording removals (with their webhook outbox rows) and the maintainer's acknowledgements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
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
    sweeper sends anything the after-commit hook did not. For small callers: the
    rows are returned; approvals at size call removals_record_many, which keeps none.
    """
    created: list[Removal] = []
    _Recorder(source_ref=source_ref, reason=reason, approved_at=approved_at, keep=created).record(entries)
    return created


@dataclass
class RecordSummary:
    """What removals_record_many wrote: how many removals, in which data sets, in how many events."""

    count: int = 0
    dataset_ids: set[int] = field(default_factory=set)
    events: int = 0


@transaction.atomic
def removals_record_many(
    *, source_ref: str, reason: str, entries: Iterable[RemovalEntry], approved_at: datetime | None = None
) -> RecordSummary:
    """removals_record for tens of thousands of entries, in bounded memory.

    `entries` is read lazily (pass a generator over a streamed query) in chunks of
    RECORD_CHUNK: each chunk is one look-up of the items already removed for this
    source, one bulk INSERT of removals, and events of MAX_REMOVALS_PER_EVENT written as
    soon as a data set has that many waiting. Nothing is kept but a counter and at most
    one event's worth of removals per data set, so memory does not grow with the request.
    Same idempotency, same transaction rule as removals_record.
    """
    return _Recorder(source_ref=source_ref, reason=reason, approved_at=approved_at, keep=None).record(entries)


# Entries read, looked up and inserted at once: a few thousand rows per INSERT.
RECORD_CHUNK = 2000


class _Recorder:
    """Streams entries into removals and their events (see removals_record_many)."""

    def __init__(
        self, *, source_ref: str, reason: str, approved_at: datetime | None, keep: list[Removal] | None
    ) -> None:
        self.source_ref, self.reason = source_ref, reason
        self.approved_at = approved_at or clock.now()
        self.keep = keep
        self.summary = RecordSummary()
        self.waiting: dict[int, list[Removal]] = defaultdict(list)  # per data set, not in an event yet
        self.datasets: dict[int, Dataset] = {}
        self.endpoints: dict[int, list[WebhookEndpoint]] = {}
        self.delivery_ids: list[int] = []
        self.now = clock.now()

    def record(self, entries: Iterable[RemovalEntry]) -> RecordSummary:
        iterator = iter(entries)
        while chunk := list(islice(iterator, RECORD_CHUNK)):
            self._chunk(chunk)
        for dataset_id in list(self.waiting):
            while self.waiting[dataset_id]:
                self._event(dataset_id)
        if self.delivery_ids:
            ids = self.delivery_ids
            transaction.on_commit(lambda: _enqueue_deliveries(ids))
        return self.summary

    def _chunk(self, chunk: list[RemovalEntry]) -> None:
        item_ids = [e.item.pk for e in chunk if e.item is not None]
        already = (
            set(
                Removal.objects.filter(source_ref=self.source_ref, item_id__in=item_ids).values_list(
                    "item_id", flat=True
                )
            )
            if item_ids
            else set()
        )
        rows: list[Removal] = []
        for entry in chunk:
            item = entry.item
            if item is not None:
                if item.pk in already:
                    continue
                already.add(item.pk)
            self.datasets.setdefault(entry.dataset.pk, entry.dataset)
            url = entry.url or (item.url if item else None)
            rows.append(
                Removal(
                    dataset=entry.dataset,
                    item=item,
                    external_id=item.external_id if item else None,
                    url=url,
                    url_key=url_key(url) if url else None,
                    phash=entry.phash if entry.phash is not None else (item.phash if item else None),
                    dhash=entry.dhash if entry.dhash is not None else (item.dhash if item else None),
                    pdq=entry.pdq
                    if entry.pdq is not None
                    else (bytes(item.pdq) if item and item.pdq else None),
                    reason=self.reason,
                    source_ref=self.source_ref,
                    approved_at=self.approved_at,
                )
            )
        if not rows:
            return
        Removal.objects.bulk_create(rows)
        self.summary.count += len(rows)
        if self.keep is not None:
            self.keep.extend(rows)
        for removal in rows:
            self.summary.dataset_ids.add(removal.dataset_id)
            waiting = self.waiting[removal.dataset_id]
            waiting.append(removal)
            if len(waiting) >= MAX_REMOVALS_PER_EVENT:
                self._event(removal.dataset_id)

    def _event(self, dataset_id: int) -> None:
        waiting = self.waiting[dataset_id]
        chunk, self.waiting[dataset_id] = waiting[:MAX_REMOVALS_PER_EVENT], waiting[MAX_REMOVALS_PER_EVENT:]
        dataset = self.datasets[dataset_id]
        event_type = WebhookEventType.REMOVAL_APPROVED
        event = WebhookEvent.objects.create(
            maintainer_id=dataset.maintainer_id,
            dataset=dataset,
            event_type=event_type,
            payload={
                "type": event_type,
                "timestamp": iso(self.now),
                "data": {
                    "dataset": dataset.slug,
                    "removals": [removal_to_dict(r, dataset_slug=dataset.slug) for r in chunk],
                },
            },
        )
        through = WebhookEvent.removals.through
        through.objects.bulk_create([through(webhookevent_id=event.pk, removal_id=r.pk) for r in chunk])
        self.summary.events += 1
        if dataset_id not in self.endpoints:
            self.endpoints[dataset_id] = [
                endpoint
                for endpoint in WebhookEndpoint.objects.filter(
                    Q(datasets__isnull=True) | Q(datasets=dataset_id),
                    maintainer_id=dataset.maintainer_id,
                    enabled=True,
                    deleted_at__isnull=True,
                ).distinct()
                if event_type in endpoint.event_types
            ]
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=self.now)
            for endpoint in self.endpoints[dataset_id]
        )
        self.delivery_ids.extend(d.pk for d in deliveries)


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
