"""The webhook events of licence grants: `licence.granted` when grants are recorded,
`licence.revoked` when they are withdrawn.

Like the removal events (services.events): per data set, in id order, at most 500 grants an
event, one outbox row per endpoint that takes the type, written in the transaction that changed
the grants and enqueued on commit. On PostgreSQL by the removal events' own writer
(events._events_write with GRANTS: payloads built in SQL, in event_payload's shape, which tests
compare): a partner's licence rows grant as many items as its removal rows remove. On SQLite
(the embedded site) through the ORM. Each event is linked to its grants, which is
what delivery's order check reads: a grant's event waits for earlier events about the same
item (a removal.revoked of the work it replaces, say) to reach the endpoint first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from django.db import connection, transaction

from ..models import Dataset, LicenceGrant, WebhookDelivery, WebhookEvent, WebhookEventType
from .events import (
    GRANTS,
    _enqueue_deliveries,
    _events_write,
    _written_table,
    event_payload,
    subscribed_endpoints,
)

MAX_GRANTS_PER_EVENT = 500


def grant_events_write(*, event_type: str, grant_ids: Sequence[int], now: datetime) -> int:
    """Write the events of the grants `grant_ids` (read back as they now stand) and their outbox
    rows; returns how many events. Call inside the transaction that changed the grants."""
    if event_type not in (WebhookEventType.LICENCE_GRANTED, WebhookEventType.LICENCE_REVOKED):
        raise ValueError(f"not a licence event type: {event_type}")
    if not grant_ids:
        return 0
    if connection.vendor == "postgresql":
        # As the removal events are written: the ids in a temporary table, then one statement
        # per 20 events builds their payloads (jsonb), links and outbox rows.
        _written_table(GRANTS.written)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {GRANTS.written} (id, dataset_id) SELECT id, dataset_id"  # noqa: S608 (fixed names)
                f" FROM {GRANTS.table} WHERE id = ANY(%s)",
                [list(grant_ids)],
            )
        return _events_write(event_type, now, MAX_GRANTS_PER_EVENT, GRANTS).events
    grants = list(LicenceGrant.objects.filter(pk__in=list(grant_ids)).order_by("dataset_id", "pk"))
    datasets = Dataset.objects.in_bulk({g.dataset_id for g in grants})
    events = 0
    delivery_ids: list[int] = []
    for dataset_id, rows in groupby(grants, key=lambda g: g.dataset_id):
        dataset = datasets[dataset_id]
        endpoint_ids = [e.pk for e in subscribed_endpoints(dataset, event_type)]
        of_dataset = list(rows)
        for first in range(0, len(of_dataset), MAX_GRANTS_PER_EVENT):
            chunk = of_dataset[first : first + MAX_GRANTS_PER_EVENT]
            event = WebhookEvent.objects.create(
                maintainer_id=dataset.maintainer_id,
                dataset=dataset,
                event_type=event_type,
                payload=event_payload(event_type, dataset, chunk, now),
            )
            event.grants.add(*chunk)
            events += 1
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(event=event, endpoint_id=endpoint_id, next_attempt_at=now)
                for endpoint_id in endpoint_ids
            )
            delivery_ids += [d.pk for d in deliveries]
    if delivery_ids:
        transaction.on_commit(lambda: _enqueue_deliveries(delivery_ids))
    return events
