"""Recording removals (with their webhook outbox rows) and the maintainer's acknowledgements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.db import connections, router, transaction
from django.db.models import Q

from core import clock
from core.queueing import enqueue

from .. import ids, signals
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
from ..serialize import RemovalLike, iso, removal_to_dict

MAX_REMOVALS_PER_EVENT = 500


@dataclass(frozen=True)
class RemovalEntry:
    """What to remove: an item of a data set, or a bare URL/hash in one.

    An item is given as the row (`item`) or, by callers streaming tuples from a query, by
    `item_id` with its `external_id`, `url` and hashes: no model object per entry."""

    dataset: Dataset
    item: DatasetItem | None = None
    url: str | None = None
    phash: int | None = None
    dhash: int | None = None
    pdq: bytes | None = None
    item_id: int | None = None
    external_id: str | None = None


@dataclass(slots=True)
class _Row:
    """A removal being written: the columns of its INSERT, then its primary key."""

    public_id: str
    dataset: Dataset
    dataset_id: int
    item: DatasetItem | None
    item_id: int | None
    external_id: str | None
    url: str | None
    url_key: int | None
    phash: int | None
    dhash: int | None
    pdq: bytes | None
    reason: str
    source_ref: str
    approved_at: datetime
    state: str = RemovalState.PENDING
    acknowledged_at: datetime | None = None
    pk: int | None = None

    def removal(self) -> Removal:
        """The model object (for removals_record's callers and the SQLite insert)."""
        removal = Removal(
            public_id=self.public_id,
            dataset=self.dataset,
            external_id=self.external_id,
            url=self.url,
            url_key=self.url_key,
            phash=self.phash,
            dhash=self.dhash,
            pdq=self.pdq,
            reason=self.reason,
            source_ref=self.source_ref,
            approved_at=self.approved_at,
            state=self.state,
        )
        if self.item is not None:
            removal.item = self.item
        else:
            removal.item_id = self.item_id
        if self.pk is not None:
            removal.pk = self.pk
            removal._state.adding, removal._state.db = False, "default"
        return removal


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


# The columns a new removal sets, with their PostgreSQL types for the UNNEST insert.
_COLUMNS = (
    ("public_id", "varchar"),
    ("dataset_id", "bigint"),
    ("item_id", "bigint"),
    ("external_id", "varchar"),
    ("url", "text"),
    ("url_key", "bigint"),
    ("phash", "bigint"),
    ("dhash", "bigint"),
    ("pdq", "bytea"),
    ("reason", "varchar"),
    ("source_ref", "varchar"),
    ("approved_at", "timestamptz"),
    ("state", "varchar"),
)


def _insert(rows: list[_Row]) -> None:
    """One INSERT for a chunk of new removals; each row gets its primary key.

    On PostgreSQL one array parameter per column (INSERT ... SELECT FROM UNNEST): Django's
    bulk_create would write one placeholder per value (28,000 for 2,000 rows, since a
    BinaryField keeps it off its own UNNEST path), and building and parsing that statement
    cost more than running it. Elsewhere (SQLite), bulk_create.
    """
    connection = connections[router.db_for_write(Removal)]
    if connection.vendor != "postgresql":
        created = Removal.objects.bulk_create([row.removal() for row in rows])
        for row, removal in zip(rows, created, strict=True):
            row.pk = removal.pk
        return
    names = ", ".join(name for name, _ in _COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
    sql = f"INSERT INTO {Removal._meta.db_table} ({names}) SELECT * FROM UNNEST({arrays}) RETURNING id"  # noqa: S608 (fixed names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [[getattr(r, name) for r in rows] for name, _ in _COLUMNS])
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk


def _link(event: WebhookEvent, removals: list[_Row]) -> None:
    """The event's removals (its many-to-many rows): one INSERT, by UNNEST on PostgreSQL."""
    through = WebhookEvent.removals.through
    connection = connections[router.db_for_write(through)]
    if connection.vendor != "postgresql":
        through.objects.bulk_create([through(webhookevent_id=event.pk, removal_id=r.pk) for r in removals])
        return
    sql = (
        f"INSERT INTO {through._meta.db_table} (webhookevent_id, removal_id) SELECT %s, UNNEST(%s::bigint[])"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [event.pk, [r.pk for r in removals]])


def subscribed_endpoints(dataset: Dataset, event_type: str) -> list[WebhookEndpoint]:
    """The maintainer's live endpoints that take `event_type` for `dataset` (none listed: all)."""
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            Q(datasets__isnull=True) | Q(datasets=dataset.pk),
            maintainer_id=dataset.maintainer_id,
            enabled=True,
            deleted_at__isnull=True,
        ).distinct()
        if event_type in endpoint.event_types
    ]


def event_payload(
    event_type: str, dataset: Dataset, removals: Sequence[RemovalLike | Removal], now: datetime
) -> dict[str, object]:
    """The body of one webhook event: its type, time, data set and removals (at most 500)."""
    return {
        "type": event_type,
        "timestamp": iso(now),
        "data": {
            "dataset": dataset.slug,
            "removals": [removal_to_dict(r, dataset_slug=dataset.slug) for r in removals],
        },
    }


class _Recorder:
    """Streams entries into removals and their events (see removals_record_many)."""

    def __init__(
        self, *, source_ref: str, reason: str, approved_at: datetime | None, keep: list[Removal] | None
    ) -> None:
        self.source_ref, self.reason = source_ref, reason
        self.approved_at = approved_at or clock.now()
        self.keep = keep
        self.summary = RecordSummary()
        self.waiting: dict[int, list[_Row]] = defaultdict(list)  # per data set, not in an event yet
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
        item_ids = [e.item.pk if e.item is not None else e.item_id for e in chunk]
        wanted = [i for i in item_ids if i is not None]
        already = (
            set(
                Removal.objects.filter(source_ref=self.source_ref, item_id__in=wanted).values_list(
                    "item_id", flat=True
                )
            )
            if wanted
            else set()
        )
        rows: list[_Row] = []
        for entry, item_id in zip(chunk, item_ids, strict=True):
            item = entry.item
            if item_id is not None:
                if item_id in already:
                    continue
                already.add(item_id)
            self.datasets.setdefault(entry.dataset.pk, entry.dataset)
            url = entry.url or (item.url if item else None)
            rows.append(
                _Row(
                    public_id=ids.new_removal_id(),
                    dataset=entry.dataset,
                    dataset_id=entry.dataset.pk,
                    item=item,
                    item_id=item_id,
                    external_id=item.external_id if item else entry.external_id,
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
        _insert(rows)
        self.summary.count += len(rows)
        if self.keep is not None:
            self.keep.extend(row.removal() for row in rows)
        for row in rows:
            self.summary.dataset_ids.add(row.dataset_id)
            waiting = self.waiting[row.dataset_id]
            waiting.append(row)
            if len(waiting) >= MAX_REMOVALS_PER_EVENT:
                self._event(row.dataset_id)

    def _event(self, dataset_id: int) -> None:
        waiting = self.waiting[dataset_id]
        chunk, self.waiting[dataset_id] = waiting[:MAX_REMOVALS_PER_EVENT], waiting[MAX_REMOVALS_PER_EVENT:]
        dataset = self.datasets[dataset_id]
        event_type = WebhookEventType.REMOVAL_APPROVED
        event = WebhookEvent.objects.create(
            maintainer_id=dataset.maintainer_id,
            dataset=dataset,
            event_type=event_type,
            payload=event_payload(event_type, dataset, chunk, self.now),
        )
        _link(event, chunk)
        self.summary.events += 1
        if dataset_id not in self.endpoints:
            self.endpoints[dataset_id] = subscribed_endpoints(dataset, event_type)
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
