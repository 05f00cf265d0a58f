"""The webhook events of a write of removals, and their outbox rows: what recording
(removal.approved) and revoking (removal.revoked) share.

A write leaves the ids of the removals it changed in the connection's temporary table (`_NEW`);
`_events_write` turns them into events of at most 500 removals per data set, in id order, with
one outbox row per subscribed endpoint, and enqueues the deliveries on commit. On PostgreSQL one
statement per 20 events builds the payloads in the database (jsonb); on SQLite (the embedded
mode) the portable path builds them in Python through event_payload, which tests compare.

Licence grants' events (services.grant_events) go the same way on PostgreSQL: `GRANTS` names
their table, their temporary table, their link table and their fields (`REMOVALS` the removals').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q

from core.queueing import enqueue

from ..models import (
    Dataset,
    LicenceGrant,
    Removal,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from ..serialize import RemovalLike, grant_to_dict, iso, removal_to_dict

# Events (of up to 500 removals) built per statement: bounds the memory of the database's answer.
EVENTS_PER_STATEMENT = 20

_LICENCE_EVENTS = (WebhookEventType.LICENCE_GRANTED, WebhookEventType.LICENCE_REVOKED)

# The removals of the write in progress (the connection's own temporary table).
_NEW = "registry_removal_written"


@dataclass(frozen=True)
class _Rows:
    """What the events of a write carry: removals (removal.*) or licence grants (licence.*). The
    rows' table, the temporary table of the write's ids, the events' link table and its column,
    the payload's key for the list, and each entry's fields as SQL on the alias `r`."""

    table: str
    written: str
    link_table: str
    link_column: str
    key: str
    fields: tuple[tuple[str, str], ...]


def _new_id_sql(prefix: str) -> str:
    # The shape of ids.public_id (a prefix and random characters), made by the database.
    if connection.vendor == "postgresql":
        return f"'{prefix}_' || replace(gen_random_uuid()::text, '-', '')"
    return f"'{prefix}_' || lower(hex(randomblob(16)))"


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


# --- what recording and revoking share: the table of changed removals and their events


def _written_table(written: str = _NEW) -> None:
    """The connection's temporary table of the removals (or grants) a write changed, emptied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {written} (id bigint PRIMARY KEY, dataset_id bigint NOT NULL,"
            " grp integer)"
        )
        cursor.execute(f"DELETE FROM {written}")  # noqa: S608 (fixed name)


def _events_write(event_type: str, now: datetime, per_event: int, rows: _Rows | None = None) -> RecordSummary:
    """The events of every removal in the temporary table (per data set, in id order, `per_event`
    a piece: removals.MAX_REMOVALS_PER_EVENT),
    their outbox rows for the endpoints that take `event_type`, and the deliveries enqueued on
    commit. The table is emptied. `rows`: GRANTS for the licence events' grants (PostgreSQL only:
    elsewhere services.grant_events writes them through the ORM)."""
    rows = rows or REMOVALS
    postgres = connection.vendor == "postgresql"
    if rows is not REMOVALS and not postgres:
        raise ValueError("only removal events are written through the temporary table here")
    summary = RecordSummary()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT dataset_id, count(*) FROM {rows.written} GROUP BY dataset_id")  # noqa: S608
        summary.by_dataset = {int(d): int(n) for d, n in cursor.fetchall()}
        if not summary.by_dataset:
            return summary
        if not postgres:
            # Each removal's event, numbered per data set: the nth 500 of the data set's new ids
            # (PostgreSQL numbers them in each events statement instead of rewriting the rows).
            cursor.execute(
                f"UPDATE {rows.written} AS n SET grp = (o.rank - 1) / %s FROM (SELECT id, row_number() OVER"  # noqa: S608
                f" (PARTITION BY dataset_id ORDER BY id) AS rank FROM {rows.written}) AS o WHERE o.id = n.id",
                [per_event],
            )
        summary.count = sum(summary.by_dataset.values())
        summary.dataset_ids = set(summary.by_dataset)
        datasets = Dataset.objects.in_bulk(list(summary.by_dataset))
        delivery_ids: list[int] = []
        for dataset_id, count in sorted(summary.by_dataset.items()):
            dataset = datasets[dataset_id]
            endpoint_ids = [e.pk for e in subscribed_endpoints(dataset, event_type)]
            groups = -(-count // per_event)
            summary.events += groups
            for first in range(0, groups, EVENTS_PER_STATEMENT):
                chosen = range(first, min(first + EVENTS_PER_STATEMENT, groups))
                batch = _EventBatch(event_type, now, dataset, chosen, per_event, rows)
                write = _events_postgres if postgres else _events_portable
                delivery_ids += write(cursor, batch, endpoint_ids)
        cursor.execute(f"DELETE FROM {rows.written}")  # noqa: S608 (fixed name)
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
    per_event: int
    rows: _Rows


def _iso_sql(column: str) -> str:
    """A timestamp column as serialize.iso writes it (UTC, "Z", microseconds only when not zero)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN date_trunc('second', {column}) = {column}"
        f""" THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        f""" ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


REMOVALS = _Rows(
    table="registry_removal",
    written=_NEW,
    link_table="registry_webhookevent_removals",
    link_column="removal_id",
    key="removals",
    fields=(
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
        ("train_ai", "'disallowed'::text"),
        ("search", "r.search"),
    ),
)
# The grants of a licence event (services.grant_events), in grant_to_dict's shape.
GRANTS = _Rows(
    table="registry_licencegrant",
    written="registry_licencegrant_written",
    link_table="registry_webhookevent_grants",
    link_column="licencegrant_id",
    key="licences",
    fields=(
        ("id", "r.public_id"),
        ("dataset", "%(slug)s::text"),
        ("external_id", "r.external_id"),
        ("url", "r.url"),
        ("phash", "lpad(to_hex(r.phash), 16, '0')"),
        ("pdq", "encode(r.pdq, 'hex')"),
        ("request", "r.source_ref"),
        ("train_ai", "'allowed'::text"),
        ("search", "r.search"),
        ("licence", "r.licence"),
        ("licence_url", "r.licence_url"),
        ("attribution", "r.attribution"),
        ("source", "r.source"),
        ("partner", "r.partner"),
        ("granted_at", _iso_sql("r.granted_at")),
        ("state", "r.state"),
        ("revoked_at", _iso_sql("r.revoked_at")),
        ("revoked_reason", "r.revoked_reason"),
    ),
)


def _events_postgres(cursor: CursorWrapper, batch: _EventBatch, endpoint_ids: list[int]) -> list[int]:
    """Events, links and outbox rows of some of a data set's groups in one statement, the
    payloads built by the database in the shape of event_payload (tests compare the two)."""
    rows = batch.rows
    entry = ", ".join(f"'{key}', {value}" for key, value in rows.fields)
    dataset = batch.dataset
    cursor.execute(
        f"""
        WITH numbered AS MATERIALIZED (
            SELECT id, (row_number() OVER (ORDER BY id) - 1) / %(per_event)s AS grp
            FROM {rows.written} WHERE dataset_id = %(dataset)s
        ), chosen AS MATERIALIZED (
            SELECT id, grp FROM numbered WHERE grp >= %(first)s AND grp < %(last)s
        ), grouped AS MATERIALIZED (
            SELECT n.grp, {_new_id_sql("msg")} AS public_id,
                   jsonb_agg(jsonb_build_object({entry}) ORDER BY r.id) AS entries
            FROM chosen n JOIN {rows.table} r ON r.id = n.id
            GROUP BY n.grp
        ), events AS (
            INSERT INTO registry_webhookevent
                (public_id, maintainer_id, dataset_id, event_type, payload, created_at)
            SELECT g.public_id, %(maintainer)s, %(dataset)s, %(type)s,
                   jsonb_build_object('type', %(type)s::text, 'timestamp', %(now_iso)s::text,
                       'data', jsonb_build_object('dataset', %(slug)s::text, '{rows.key}', g.entries)),
                   %(now)s
            FROM grouped g ORDER BY g.grp
            RETURNING id, public_id
        ), links AS (
            INSERT INTO {rows.link_table} (webhookevent_id, {rows.link_column})
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
            "per_event": batch.per_event,
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
    event_type: str, dataset: Dataset, rows: Sequence[RemovalLike | Removal | LicenceGrant], now: datetime
) -> dict[str, object]:
    """The body of one webhook event: its type, time, data set and rows (at most 500): removals
    under `removals`, licence grants (the licence.* events, services.grant_events) under `licences`."""
    slug = dataset.slug
    listed = [
        grant_to_dict(row, dataset_slug=slug)
        if isinstance(row, LicenceGrant)
        else removal_to_dict(row, dataset_slug=slug)
        for row in rows
    ]
    key = "licences" if event_type in _LICENCE_EVENTS else "removals"
    return {"type": event_type, "timestamp": iso(now), "data": {"dataset": slug, key: listed}}


def _enqueue_deliveries(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue("registry.tasks.delivery_send", delivery_id, fallback="the delivery sweep sends it")
