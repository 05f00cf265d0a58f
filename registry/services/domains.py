"""Domain opt-outs: a rule for everything under a host (with its subdomains, or under a path prefix).

Recording a rule writes a Removal of its source reference for every registered item under
it, in every data set, with one set-based INSERT ... SELECT over the host index, and the
webhook events in chunks of at most 500 removals. Items written later are matched when
they are written (imports and the items endpoint call optouts_match_written): the batch's
hosts are looked up among the active rules, never the data set scanned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from django.db import connection, transaction
from psycopg.types.json import Jsonb

from core import clock

from .. import ids, signals
from ..hosts import Scope, url_host_path
from ..models import (
    Dataset,
    DatasetItem,
    DomainOptOut,
    Removal,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
)
from ..selectors import active_optouts_for_keys, rule_scope, scope_sql
from .removals import (
    MAX_REMOVALS_PER_EVENT,
    RemovalEntry,
    _enqueue_deliveries,
    event_payload,
    removals_record,
    subscribed_endpoints,
)


@dataclass
class OptOutsRecorded:
    """What recording a request's rules did: the rules, and the removals written per data set id."""

    rules: list[DomainOptOut] = field(default_factory=list)
    removals_by_dataset: dict[int, int] = field(default_factory=dict)
    # For each rule (same order), its new removals per data set id.
    per_rule: list[dict[int, int]] = field(default_factory=list)

    @property
    def removals(self) -> int:
        return sum(self.removals_by_dataset.values())


def _new_id_sql() -> str:
    # The same shape as ids.new_removal_id (a prefix and random characters), made by the database.
    if connection.vendor == "postgresql":
        return "'rm_' || replace(gen_random_uuid()::text, '-', '')"
    return "'rm_' || lower(hex(randomblob(16)))"


_RETURNED = ("id", "dataset_id", "public_id", "external_id", "url", "phash", "pdq", "approved_at")


def _insert_removals(rule: DomainOptOut, *, approved_at: datetime) -> list[Removal]:
    """One INSERT ... SELECT: a pending Removal of every item under `rule` not yet removed for its
    source. Returns the new rows (what their webhook payload needs), not read back."""
    condition, params = scope_sql(rule_scope(rule))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO registry_removal
                (public_id, dataset_id, item_id, external_id, url, url_key, phash, dhash, pdq, reason,
                 source_ref, approved_at, state)
            SELECT {_new_id_sql()}, i.dataset_id, i.id, i.external_id, i.url, i.url_key, i.phash,
                   i.dhash, i.pdq, %s, %s, %s, 'pending'
            FROM registry_datasetitem i
            WHERE {condition}
              AND NOT EXISTS (
                  SELECT 1 FROM registry_removal r WHERE r.source_ref = %s AND r.item_id = i.id
              )
            ON CONFLICT DO NOTHING
            RETURNING {", ".join(_RETURNED)}
            """,  # noqa: S608 (fixed SQL and scope_sql's condition; every value is a parameter)
            [rule.reason, rule.source_ref, approved_at, *params, rule.source_ref],
        )
        return [
            Removal(**dict(zip(_RETURNED, row, strict=True)), reason=rule.reason, source_ref=rule.source_ref)
            for row in cursor.fetchall()
        ]


EVENTS_PER_STATEMENT = 10  # events (of 500 removals) written per INSERT: bounded memory


def _events_for(removals: Sequence[Removal]) -> None:
    """The webhook events (at most 500 removals each) and outbox rows of new removals, set-based:
    a few statements per 5,000 removals, the same payload as removals_record's (event_payload)."""
    by_dataset: dict[int, list[Removal]] = defaultdict(list)
    for removal in removals:
        by_dataset[removal.dataset_id].append(removal)
    datasets = Dataset.objects.in_bulk(list(by_dataset))
    event_type = WebhookEventType.REMOVAL_APPROVED
    now = clock.now()
    delivery_ids: list[int] = []
    for dataset_id, rows in by_dataset.items():
        dataset = datasets[dataset_id]
        rows.sort(key=lambda r: r.pk)
        endpoints = subscribed_endpoints(dataset, event_type)
        step = MAX_REMOVALS_PER_EVENT * EVENTS_PER_STATEMENT
        for start in range(0, len(rows), step):
            chunks = [
                rows[at : at + MAX_REMOVALS_PER_EVENT]
                for at in range(start, min(start + step, len(rows)), MAX_REMOVALS_PER_EVENT)
            ]
            payloads = [event_payload(event_type, dataset, chunk, now) for chunk in chunks]
            write = _write_events_postgres if connection.vendor == "postgresql" else _write_events_portable
            delivery_ids += write(dataset, chunks, payloads, [e.pk for e in endpoints], now)
    if delivery_ids:
        transaction.on_commit(lambda: _enqueue_deliveries(delivery_ids))


def _write_events_postgres(
    dataset: Dataset,
    chunks: list[list[Removal]],
    payloads: list[dict[str, object]],
    endpoint_ids: list[int],
    now: datetime,
) -> list[int]:
    """Events, their removal links and outbox rows in three statements with array parameters (a
    statement with 5,000 rows of parameters spends longer being quoted than being run)."""
    event_ids = [ids.new_event_id() for _ in chunks]
    # Server-side binding: the payloads (a megabyte a statement) travel as parameters instead of
    # being quoted into the SQL text, which cost more than running the statement.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            "INSERT INTO registry_webhookevent (public_id, maintainer_id, dataset_id, event_type, payload,"
            " created_at) SELECT p.public_id, %s, %s, %s, p.payload, %s"
            " FROM unnest(%s::text[], %s::jsonb[]) AS p(public_id, payload) RETURNING id, public_id",
            [dataset.maintainer_id, dataset.pk, str(WebhookEventType.REMOVAL_APPROVED), now, event_ids,
             [Jsonb(p) for p in payloads]],
        )  # fmt: skip
        pk_of = dict((public_id, pk) for pk, public_id in cursor.fetchall())
        events = [pk_of[public_id] for public_id in event_ids]
        links = [
            (event, removal.pk) for event, chunk in zip(events, chunks, strict=True) for removal in chunk
        ]
        cursor.execute(
            "INSERT INTO registry_webhookevent_removals (webhookevent_id, removal_id)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            [[e for e, _ in links], [r for _, r in links]],
        )
        if not endpoint_ids:
            return []
        pairs = [(event, endpoint) for event in events for endpoint in endpoint_ids]
        cursor.execute(
            "INSERT INTO registry_webhookdelivery (public_id, event_id, endpoint_id, state, attempts,"
            " next_attempt_at, last_error, created_at)"
            " SELECT p.public_id, p.event_id, p.endpoint_id, 'pending', 0, %s, '', %s"
            " FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS p(public_id, event_id, endpoint_id)"
            " RETURNING id",
            [now, now, [ids.new_delivery_id() for _ in pairs], [e for e, _ in pairs], [n for _, n in pairs]],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def _write_events_portable(
    dataset: Dataset,
    chunks: list[list[Removal]],
    payloads: list[dict[str, object]],
    endpoint_ids: list[int],
    now: datetime,
) -> list[int]:
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            maintainer_id=dataset.maintainer_id,
            dataset=dataset,
            event_type=WebhookEventType.REMOVAL_APPROVED,
            payload=payload,
        )
        for payload in payloads
    )
    through = WebhookEvent.removals.through
    through.objects.bulk_create(
        [
            through(webhookevent_id=event.pk, removal_id=removal.pk)
            for event, chunk in zip(events, chunks, strict=True)
            for removal in chunk
        ],
        batch_size=500,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint_id=endpoint, next_attempt_at=now)
        for event in events
        for endpoint in endpoint_ids
    )
    return [d.pk for d in deliveries]


@transaction.atomic
def domain_optouts_record(
    *, source_ref: str, reason: str, scopes: Sequence[Scope], approved_at: datetime | None = None
) -> OptOutsRecorded:
    """Record a rule per scope and remove every registered item under each, in the caller's transaction.

    Idempotent: a scope already recorded for `source_ref` keeps its rule, and an item already
    removed for `source_ref` (by this rule, another, or a match) gets no second removal.
    """
    approved_at = approved_at or clock.now()
    done = OptOutsRecorded()
    totals: dict[int, int] = defaultdict(int)
    for scope in dict.fromkeys(scopes):
        rule, _created = DomainOptOut.objects.get_or_create(
            source_ref=source_ref,
            host_key=scope.key,
            include_subdomains=scope.include_subdomains,
            path_prefix=scope.path_prefix,
            defaults={"host": scope.host, "reason": reason, "approved_at": approved_at},
        )
        rows = _insert_removals(rule, approved_at=approved_at)
        _events_for(rows)
        mine: dict[int, int] = defaultdict(int)
        for removal in rows:
            mine[removal.dataset_id] += 1
            totals[removal.dataset_id] += 1
        done.rules.append(rule)
        done.per_rule.append(dict(mine))
    done.removals_by_dataset = dict(totals)
    return done


@transaction.atomic
def domain_optouts_revoke(*, source_ref: str) -> int:
    """Stop the rules of `source_ref` from covering new items and lookups (its removals stay)."""
    return DomainOptOut.objects.filter(source_ref=source_ref, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def optouts_match_written(*, dataset_id: int, rows: Iterable[dict[str, object]]) -> list[Removal]:
    """Items just written to `dataset_id` (`rows` with external_id and url) that fall under an
    active rule become removals of the rule's source, in the caller's transaction.

    One query for the rules that may cover the batch's hosts; none when no rule does.
    """
    if not DomainOptOut.objects.filter(revoked_at__isnull=True).exists():
        return []  # no rule at all: the common case costs one indexed query a batch
    keyed = [(str(r["external_id"]), *url_host_path(str(r["url"]))) for r in rows]
    rules = active_optouts_for_keys({key for _, key, _ in keyed if key})
    if not rules:
        return []
    scopes = [(rule, rule_scope(rule)) for rule in rules]
    wanted: dict[DomainOptOut, set[str]] = defaultdict(set)
    for external_id, key, path in keyed:
        for rule, scope in scopes:
            if scope.covers(key, path):
                wanted[rule].add(external_id)
    created: list[Removal] = []
    for rule, external_ids in wanted.items():
        items = DatasetItem.objects.filter(
            dataset_id=dataset_id, external_id__in=sorted(external_ids)
        ).select_related("dataset")
        created += removals_record(
            source_ref=rule.source_ref,
            reason=rule.reason,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items],
        )
    if created:
        refs = {r.source_ref for r in created}
        transaction.on_commit(lambda: signals.removals_rematched.send(sender=Removal, source_refs=refs))
    return created
