"""Recording removals (with their webhook outbox rows) and the maintainer's acknowledgements.

Every removal is written by one set-based writer (`removals_write`): the rows to remove come as
a SQL SELECT (items under a condition, or columns sent as arrays), one INSERT ... SELECT writes
them, skipping items already removed for the source, and the new ids land in a temporary table
from which the events (at most 500 removals each, per data set) and their outbox rows are
written. On PostgreSQL the event payloads are built by the database (jsonb), so no Python object
exists per removal; on SQLite (the embedded mode) a portable path builds them in Python.

Revocation (`removals_revoke`) is the same shape the other way: one UPDATE of the removals a
condition selects, their ids into the same temporary table, and the same event writer sends
them as `removal.revoked`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q

from core import clock
from core.queueing import enqueue

from .. import signals
from ..models import (
    Dataset,
    DatasetItem,
    Removal,
    RemovalSource,
    RemovalState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    url_key,
)
from ..serialize import RemovalLike, iso, removal_to_dict

MAX_REMOVALS_PER_EVENT = 500
PARTNER_MAX_LENGTH = 200  # Removal.partner


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


@dataclass(frozen=True)
class ItemQuery:
    """A set of registered items, given set-wise: a condition on `registry_datasetitem i`.

    Every item it selects becomes a removal in the item's own data set, with the item's
    external id, URL and hashes."""

    condition: str
    params: Sequence[Any] = ()

    @classmethod
    def of_ids(cls, item_ids: Sequence[int]) -> ItemQuery:
        """The items with these ids (one array parameter, whatever the count)."""
        if connection.vendor == "postgresql":
            return cls("i.id = ANY(%s::bigint[])", [list(item_ids)])
        return cls("i.id IN (SELECT value FROM json_each(%s))", [_json_ids(item_ids)])


def _json_ids(item_ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in item_ids) + "]"


@dataclass
class RecordSummary:
    """What a write recorded: how many removals, in which data sets, in how many events."""

    count: int = 0
    dataset_ids: set[int] = field(default_factory=set)
    events: int = 0
    by_dataset: dict[int, int] = field(default_factory=dict)

    def add(self, other: RecordSummary) -> None:
        self.count += other.count
        self.dataset_ids |= other.dataset_ids
        self.events += other.events
        for dataset_id, n in other.by_dataset.items():
            self.by_dataset[dataset_id] = self.by_dataset.get(dataset_id, 0) + n


@dataclass(frozen=True)
class _Source:
    """Who asked, written on every removal of one write."""

    source_ref: str
    reason: str
    approved_at: datetime
    source: str
    partner: str


def _source(source_ref: str, reason: str, approved_at: datetime | None, source: str, partner: str) -> _Source:
    if source not in RemovalSource.values:
        raise ValueError(f"source must be one of {', '.join(RemovalSource.values)}, not {source!r}")
    if source == RemovalSource.ARTIST and partner:
        raise ValueError("an artist's removal names no partner")
    if source == RemovalSource.PARTNER and not partner.strip():
        raise ValueError("a partner's removal names the partner")
    if len(partner) > PARTNER_MAX_LENGTH or "\x00" in partner:
        raise ValueError(f"a partner's name is at most {PARTNER_MAX_LENGTH} characters, without NUL")
    return _Source(source_ref, reason, approved_at or clock.now(), source, partner)


@transaction.atomic
def removals_record(
    *,
    source_ref: str,
    reason: str,
    entries: Iterable[RemovalEntry],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> list[Removal]:
    """Record approved removals and their webhook outbox rows in the caller's transaction.

    Idempotent per (source_ref, item): recording the same item again for the
    same source returns nothing new. Deliveries are sent after commit; the
    sweeper sends anything the after-commit hook did not. For small callers: the
    rows are returned; approvals at size call removals_record_many, which keeps none.
    """
    writer = _Writer(_source(source_ref, reason, approved_at, source, partner))
    writer.entries(entries)
    new_ids = writer.new_ids()
    writer.finish()
    return list(Removal.objects.filter(pk__in=new_ids).select_related("dataset").order_by("pk"))


@transaction.atomic
def removals_record_many(
    *,
    source_ref: str,
    reason: str,
    entries: Iterable[RemovalEntry],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> RecordSummary:
    """removals_record for tens of thousands of entries, in bounded memory.

    `entries` is read lazily (pass a generator over a streamed query) in chunks of
    RECORD_CHUNK, each written by one INSERT (its columns as arrays); the events are written
    once every entry is in, from the new ids. Nothing grows with the request in Python but
    the outbox ids. Same idempotency, same transaction rule as removals_record.
    """
    writer = _Writer(_source(source_ref, reason, approved_at, source, partner))
    writer.entries(entries)
    return writer.finish()


@transaction.atomic
def removals_write(
    *,
    source_ref: str,
    reason: str,
    items: ItemQuery,
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> RecordSummary:
    """A removal of every item `items` selects (in its own data set), with events and outbox rows.

    One INSERT ... SELECT, whatever the count: the rows never travel through Python. An item
    already removed for `source_ref` (by any earlier write) gets no second removal.
    """
    writer = _Writer(_source(source_ref, reason, approved_at, source, partner))
    writer.items(items)
    return writer.finish()


# Entries read and inserted at once: a few thousand rows per INSERT.
RECORD_CHUNK = 2000
# Events (of up to 500 removals) built per statement: bounds the memory of the database's answer.
EVENTS_PER_STATEMENT = 20

# The removals of the write in progress (the connection's own temporary table).
_NEW = "registry_removal_written"
_STAGE = "registry_removal_entries"  # SQLite: the entries of one chunk, as rows

# The columns a row source yields, with their PostgreSQL types (the array insert).
_COLUMNS = (
    ("dataset_id", "bigint"),
    ("item_id", "bigint"),
    ("external_id", "varchar"),
    ("url", "text"),
    ("url_key", "bigint"),
    ("phash", "bigint"),
    ("dhash", "bigint"),
    ("pdq", "bytea"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)


def _new_id_sql(prefix: str) -> str:
    # The shape of ids.public_id (a prefix and random characters), made by the database.
    if connection.vendor == "postgresql":
        return f"'{prefix}_' || replace(gen_random_uuid()::text, '-', '')"
    return f"'{prefix}_' || lower(hex(randomblob(16)))"


class _Writer:
    """One write: row sources inserted into removals, then their events (see removals_write)."""

    def __init__(self, who: _Source) -> None:
        self.who = who
        self.postgres = connection.vendor == "postgresql"
        self.now = clock.now()
        _written_table()

    # --- the removals

    def items(self, items: ItemQuery) -> None:
        columns = "i.dataset_id, i.id AS item_id, i.external_id, i.url, i.url_key, i.phash, i.dhash, i.pdq"
        select = f"SELECT {columns} FROM registry_datasetitem i WHERE {items.condition}"  # noqa: S608
        self._insert(select, list(items.params))

    def entries(self, entries: Iterable[RemovalEntry]) -> None:
        iterator = iter(entries)
        while chunk := list(islice(iterator, RECORD_CHUNK)):
            columns = [_entry_columns(entry) for entry in chunk]
            if self.postgres:
                arrays = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
                select = f"SELECT * FROM UNNEST({arrays}) AS s({_NAMES})"  # noqa: S608 (fixed names)
                self._insert(select, [list(values) for values in zip(*columns, strict=True)])
                continue
            with connection.cursor() as cursor:
                types = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (n integer PRIMARY KEY, {types})")
                cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608 (fixed name)
                marks = ", ".join("%s" for _ in range(len(_COLUMNS) + 1))
                cursor.executemany(
                    f"INSERT INTO {_STAGE} (n, {_NAMES}) VALUES ({marks})",  # noqa: S608 (fixed names)
                    [(n, *row) for n, row in enumerate(columns)],
                )
            self._insert(f"SELECT {_NAMES} FROM {_STAGE} ORDER BY n", [])  # noqa: S608 (fixed names)

    def _insert(self, select: str, params: list[Any]) -> None:
        """INSERT ... SELECT of the new removals; their ids into the temporary table."""
        who = self.who
        insert = f"""
            INSERT INTO registry_removal
                (public_id, {_NAMES}, reason, source_ref, approved_at, state, source, partner)
            SELECT {_new_id_sql("rm")}, {", ".join("s." + name for name, _ in _COLUMNS)},
                   %s, %s, %s, 'pending', %s, %s
            FROM ({select}) AS s
            WHERE s.item_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM registry_removal r WHERE r.source_ref = %s AND r.item_id = s.item_id
            )
            ON CONFLICT DO NOTHING
        """  # noqa: S608 (fixed SQL and the callers' fixed conditions; every value is a parameter)
        # The placeholders read: the written columns, the select's, then the source again.
        values = [who.reason, who.source_ref, who.approved_at, who.source, who.partner, *params]
        values.append(who.source_ref)
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"WITH new AS ({insert} RETURNING id, dataset_id) INSERT INTO {_NEW} (id, dataset_id)"  # noqa: S608
                    " SELECT id, dataset_id FROM new",
                    values,
                )
                return
            # SQLite: no INSERT in a WITH; the new ids come back (RETURNING) and go in by executemany.
            cursor.execute(insert + " RETURNING id, dataset_id", values)
            new = cursor.fetchall()
            cursor.executemany(f"INSERT INTO {_NEW} (id, dataset_id) VALUES (%s, %s)", new)  # noqa: S608

    def new_ids(self) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {_NEW} ORDER BY id")  # noqa: S608 (fixed name)
            return [int(pk) for (pk,) in cursor.fetchall()]

    # --- the events

    def finish(self) -> RecordSummary:
        """The removal.approved events of everything inserted, their outbox rows, and the deliveries
        enqueued on commit (see _events_write)."""
        return _events_write(WebhookEventType.REMOVAL_APPROVED, self.now)


# --- what recording and revoking share: the table of changed removals and their events


def _written_table() -> None:
    """The connection's temporary table of the removals a write changed, emptied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_NEW} (id bigint PRIMARY KEY, dataset_id bigint NOT NULL,"
            " grp integer)"
        )
        cursor.execute(f"DELETE FROM {_NEW}")  # noqa: S608 (fixed name)


def _events_write(event_type: str, now: datetime) -> RecordSummary:
    """The events of every removal in the temporary table (per data set, in id order, 500 a piece),
    their outbox rows for the endpoints that take `event_type`, and the deliveries enqueued on
    commit. The table is emptied."""
    postgres = connection.vendor == "postgresql"
    summary = RecordSummary()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT dataset_id, count(*) FROM {_NEW} GROUP BY dataset_id")  # noqa: S608
        summary.by_dataset = {int(d): int(n) for d, n in cursor.fetchall()}
        if not summary.by_dataset:
            return summary
        if not postgres:
            # Each removal's event, numbered per data set: the nth 500 of the data set's new ids
            # (PostgreSQL numbers them in each events statement instead of rewriting the rows).
            cursor.execute(
                f"UPDATE {_NEW} AS n SET grp = (o.rank - 1) / %s FROM (SELECT id, row_number() OVER"  # noqa: S608
                f" (PARTITION BY dataset_id ORDER BY id) AS rank FROM {_NEW}) AS o WHERE o.id = n.id",
                [MAX_REMOVALS_PER_EVENT],
            )
        summary.count = sum(summary.by_dataset.values())
        summary.dataset_ids = set(summary.by_dataset)
        datasets = Dataset.objects.in_bulk(list(summary.by_dataset))
        delivery_ids: list[int] = []
        for dataset_id, count in sorted(summary.by_dataset.items()):
            dataset = datasets[dataset_id]
            endpoint_ids = [e.pk for e in subscribed_endpoints(dataset, event_type)]
            groups = -(-count // MAX_REMOVALS_PER_EVENT)
            summary.events += groups
            for first in range(0, groups, EVENTS_PER_STATEMENT):
                batch = _EventBatch(
                    event_type, now, dataset, range(first, min(first + EVENTS_PER_STATEMENT, groups))
                )
                write = _events_postgres if postgres else _events_portable
                delivery_ids += write(cursor, batch, endpoint_ids)
        cursor.execute(f"DELETE FROM {_NEW}")  # noqa: S608 (fixed name)
    if delivery_ids:
        transaction.on_commit(lambda: _enqueue_deliveries(delivery_ids))
    return summary


@dataclass(frozen=True)
class _EventBatch:
    """Some of one data set's events of one write: their type, time, data set and group numbers."""

    event_type: str
    now: datetime
    dataset: Dataset
    groups: range


def _iso_sql(column: str) -> str:
    """A timestamp column as serialize.iso writes it (UTC, "Z", microseconds only when not zero)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN date_trunc('second', {column}) = {column}"
        f""" THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        f""" ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


def _events_postgres(cursor: CursorWrapper, batch: _EventBatch, endpoint_ids: list[int]) -> list[int]:
    """Events, links and outbox rows of some of a data set's groups in one statement, the
    payloads built by the database in the shape of event_payload (tests compare the two)."""
    removal = ", ".join(
        f"'{key}', {value}"
        for key, value in (
            ("id", "r.public_id"),
            ("dataset", "%(slug)s::text"),
            ("external_id", "r.external_id"),
            ("url", "r.url"),
            ("phash", "lpad(to_hex(r.phash), 16, '0')"),
            ("pdq", "encode(r.pdq, 'hex')"),
            ("reason", "r.reason"),
            ("request", "r.source_ref"),
            ("approved_at", _iso_sql("r.approved_at")),
            ("state", "r.state"),
            ("acknowledged_at", _iso_sql("r.acknowledged_at")),
            ("source", "r.source"),
            ("partner", "r.partner"),
            ("revoked_at", _iso_sql("r.revoked_at")),
            ("revoked_reason", "r.revoked_reason"),
        )
    )
    dataset = batch.dataset
    cursor.execute(
        f"""
        WITH numbered AS MATERIALIZED (
            SELECT id, (row_number() OVER (ORDER BY id) - 1) / %(per_event)s AS grp
            FROM {_NEW} WHERE dataset_id = %(dataset)s
        ), chosen AS MATERIALIZED (
            SELECT id, grp FROM numbered WHERE grp >= %(first)s AND grp < %(last)s
        ), grouped AS MATERIALIZED (
            SELECT n.grp, {_new_id_sql("msg")} AS public_id,
                   jsonb_agg(jsonb_build_object({removal}) ORDER BY r.id) AS removals
            FROM chosen n JOIN registry_removal r ON r.id = n.id
            GROUP BY n.grp
        ), events AS (
            INSERT INTO registry_webhookevent
                (public_id, maintainer_id, dataset_id, event_type, payload, created_at)
            SELECT g.public_id, %(maintainer)s, %(dataset)s, %(type)s,
                   jsonb_build_object('type', %(type)s::text, 'timestamp', %(now_iso)s::text,
                       'data', jsonb_build_object('dataset', %(slug)s::text, 'removals', g.removals)),
                   %(now)s
            FROM grouped g ORDER BY g.grp
            RETURNING id, public_id
        ), links AS (
            INSERT INTO registry_webhookevent_removals (webhookevent_id, removal_id)
            SELECT e.id, n.id FROM events e JOIN grouped g ON g.public_id = e.public_id
            JOIN chosen n ON n.grp = g.grp
        )
        INSERT INTO registry_webhookdelivery
            (public_id, event_id, endpoint_id, state, attempts, next_attempt_at, last_error, created_at)
        SELECT {_new_id_sql("dl")}, e.id, p.endpoint_id, 'pending', 0, %(now)s, '', %(now)s
        FROM events e CROSS JOIN unnest(%(endpoints)s::bigint[]) AS p(endpoint_id)
        ORDER BY e.id, p.endpoint_id
        RETURNING id
        """,  # noqa: S608 (fixed SQL; every value is a parameter)
        {
            "slug": dataset.slug,
            "dataset": dataset.pk,
            "per_event": MAX_REMOVALS_PER_EVENT,
            "first": batch.groups.start,
            "last": batch.groups.stop,
            "maintainer": dataset.maintainer_id,
            "type": str(batch.event_type),
            "now_iso": iso(batch.now),
            "now": batch.now,
            "endpoints": endpoint_ids,
        },
    )
    return [int(pk) for (pk,) in cursor.fetchall()]


def _events_portable(cursor: CursorWrapper, batch: _EventBatch, endpoint_ids: list[int]) -> list[int]:
    """The same rows through the ORM, the payloads by event_payload (SQLite)."""
    dataset = batch.dataset
    delivery_ids: list[int] = []
    for group in batch.groups:
        cursor.execute(
            f"SELECT id FROM {_NEW} WHERE dataset_id = %s AND grp = %s ORDER BY id",  # noqa: S608
            [dataset.pk, group],
        )
        removal_ids = [int(pk) for (pk,) in cursor.fetchall()]
        removals = list(Removal.objects.filter(pk__in=removal_ids).order_by("pk"))
        event = WebhookEvent.objects.create(
            maintainer_id=dataset.maintainer_id,
            dataset=dataset,
            event_type=batch.event_type,
            payload=event_payload(batch.event_type, dataset, removals, batch.now),
        )
        event.removals.add(*removal_ids)
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, endpoint_id=endpoint_id, next_attempt_at=batch.now)
            for endpoint_id in endpoint_ids
        )
        delivery_ids += [d.pk for d in deliveries]
    return delivery_ids


def _entry_columns(entry: RemovalEntry) -> tuple[Any, ...]:
    """An entry as the row source's columns (the item's values where the entry gives none)."""
    item = entry.item
    url = entry.url or (item.url if item else None)
    return (
        entry.dataset.pk,
        item.pk if item is not None else entry.item_id,
        item.external_id if item else entry.external_id,
        url,
        url_key(url) if url else None,
        entry.phash if entry.phash is not None else (item.phash if item else None),
        entry.dhash if entry.dhash is not None else (item.dhash if item else None),
        entry.pdq if entry.pdq is not None else (bytes(item.pdq) if item and item.pdq else None),
    )


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


# --- revocation -----------------------------------------------------------------

REVOKED_REASON_MAX_LENGTH = 500  # Removal.revoked_reason


@dataclass(frozen=True)
class RemovalQuery:
    """A set of removals, given set-wise: a condition on `registry_removal r`."""

    condition: str
    params: Sequence[Any] = ()

    @classmethod
    def of_ids(cls, removal_ids: Sequence[int]) -> RemovalQuery:
        """The removals with these ids (one array parameter, whatever the count)."""
        if connection.vendor == "postgresql":
            return cls("r.id = ANY(%s::bigint[])", [list(removal_ids)])
        return cls("r.id IN (SELECT value FROM json_each(%s))", [_json_ids(removal_ids)])

    @classmethod
    def of_sources(cls, source_refs: Sequence[str]) -> RemovalQuery:
        """Every removal recorded for these source references (a request, a partner's filings)."""
        if connection.vendor == "postgresql":
            return cls("r.source_ref = ANY(%s::varchar[])", [list(source_refs)])
        return cls("r.source_ref IN (SELECT value FROM json_each(%s))", [json.dumps(list(source_refs))])


def revoked_reason_problem(why: str) -> str:
    """What is wrong with a revocation's reason as maintainers will read it ("" when nothing)."""
    if not why.strip():
        return "say why: maintainers read the reason with the revocation"
    if len(why) > REVOKED_REASON_MAX_LENGTH:
        return f"the reason is at most {REVOKED_REASON_MAX_LENGTH} characters"
    if "\x00" in why:
        return "the reason holds a NUL character"
    return ""


@transaction.atomic
def removals_revoke(*, removals: RemovalQuery, why: str) -> RecordSummary:
    """Revoke every live removal `removals` selects, with removal.revoked events and outbox rows.

    One UPDATE, whatever the count: pending, delivered and acknowledged removals become revoked
    with the time and `why` (a removal revoked already is left as it was, so revoking twice sends
    nothing twice). The events are written by the writer removal.approved uses, 500 removals a
    piece per data set; each removal in them reads `"state": "revoked"`. Who revoked is for the
    caller to audit. The lookup, the phash index and the receipts stop counting them at commit.

    Order: the UPDATE takes the rows' locks, so a delivery marking them delivered meanwhile
    either commits first (and is revoked over) or waits and finds them revoked; the delivery
    engine sends an event only after the earlier events carrying the same removals have reached
    that endpoint (delivery._waits_for_earlier), so a maintainer never sees the revocation
    before the approval.
    """
    problem = revoked_reason_problem(why)
    if problem:
        raise ValueError(problem)
    now = clock.now()
    _written_table()
    update = f"""
        UPDATE registry_removal AS r SET state = %s, revoked_at = %s, revoked_reason = %s
        WHERE ({removals.condition}) AND r.state <> %s
        RETURNING r.id, r.dataset_id
    """  # noqa: S608 (fixed SQL and the callers' fixed conditions; every value is a parameter)
    values = [RemovalState.REVOKED, now, why, *removals.params, RemovalState.REVOKED]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH changed AS ({update}) INSERT INTO {_NEW} (id, dataset_id)"  # noqa: S608
                " SELECT id, dataset_id FROM changed",
                values,
            )
        else:
            cursor.execute(update, values)
            changed = cursor.fetchall()
            cursor.executemany(f"INSERT INTO {_NEW} (id, dataset_id) VALUES (%s, %s)", changed)  # noqa: S608
        cursor.execute(
            f"SELECT DISTINCT r.source_ref FROM registry_removal r JOIN {_NEW} n ON n.id = r.id"  # noqa: S608
        )
        refs = {ref for (ref,) in cursor.fetchall()}
    summary = _events_write(WebhookEventType.REMOVAL_REVOKED, now)
    if refs:
        transaction.on_commit(lambda: signals.removals_revoked.send(sender=Removal, source_refs=refs))
    return summary
