"""Licence grants: an artist's permission to train on their works, recorded and revoked.

A grant is the `licence` choice of registry.preferences reaching the registry. It is not a
removal (see LicenceGrant): it has its own feed, and the lookup and the v2 answer read it. A
work's grants are written in one transaction with the revocation of its removals when the
artist changes their mind (requests_app.services.consent), so no reader ever sees both standing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from core import clock

from ..models import DatasetItem, GrantState, LicenceGrant, RemovalSource, WebhookEventType, url_key
from ..preferences import Choice, Consent
from .grant_events import grant_events_write
from .removals import RemovalEntry, revoked_reason_problem


@transaction.atomic
def licence_grants_record(
    *,
    source_ref: str,
    consent: Consent,
    entries: Iterable[RemovalEntry],
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> list[LicenceGrant]:
    """Record a grant of every entry under `consent` (a checked licence choice).

    Idempotent per (source_ref, item) while a grant stands: an item granted already for the
    source gets no second grant. Bare hashes (no item) are recorded as given; callers send each
    once (a work's decision says whether it was sent)."""
    return licence_grants_record_many(
        source_ref=source_ref, granted=[(consent, entries)], source=source, partner=partner
    )


@transaction.atomic
def licence_grants_record_many(
    *,
    source_ref: str,
    granted: Sequence[tuple[Consent, Iterable[RemovalEntry]]],
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> list[LicenceGrant]:
    """licence_grants_record for entries under several licences at once (a partner's rows, each
    with its own licence and attribution): one insert and one events write for all, not one a
    licence. An item named under two licences is granted under the first."""
    if any(consent.choice != Choice.LICENCE for consent, _ in granted):
        raise ValueError("only a licence choice is recorded as a grant")
    now = clock.now()
    rows = [
        _grant(entry, source_ref, consent, source, partner, now)
        for consent, entries in granted
        for entry in entries
    ]
    taken = set(
        LicenceGrant.objects.filter(
            source_ref=source_ref,
            item_id__in=[row.item_id for row in rows if row.item_id is not None],
            state=GrantState.ACTIVE,
        ).values_list("item_id", flat=True)
    )
    new = []
    for row in rows:
        if row.item_id is not None:
            if row.item_id in taken:
                continue
            taken.add(row.item_id)
        new.append(row)
    created = LicenceGrant.objects.bulk_create(new)
    grant_events_write(
        event_type=WebhookEventType.LICENCE_GRANTED, grant_ids=[g.pk for g in created], now=now
    )
    return created


# Grants of registered items under their licences in one statement (PostgreSQL): each wanted
# item with the number of its terms, joined with its item row for what a grant copies of it.
_GRANT_ITEMS_SQL = """
    WITH terms AS (
        SELECT * FROM unnest(%(n)s::int[], %(licence)s::varchar[], %(licence_url)s::varchar[],
                             %(attribution)s::varchar[], %(search)s::varchar[])
            AS t(n, licence, licence_url, attribution, search)
    ), wanted AS (
        SELECT * FROM unnest(%(items)s::bigint[], %(terms)s::int[]) WITH ORDINALITY AS w(item_id, n, ord)
    )
    INSERT INTO registry_licencegrant
        (public_id, dataset_id, item_id, external_id, url, url_key, phash, dhash, pdq,
         licence, licence_url, attribution, search, source_ref, source, partner, granted_at,
         state, revoked_reason)
    SELECT 'lg_' || replace(gen_random_uuid()::text, '-', ''), i.dataset_id, i.id, i.external_id,
           i.url, i.url_key, i.phash, i.dhash, i.pdq, t.licence, t.licence_url, t.attribution,
           t.search, %(source_ref)s, %(source)s, %(partner)s, %(now)s, 'active', ''
    FROM wanted w
    JOIN registry_datasetitem i ON i.id = w.item_id
    JOIN terms t ON t.n = w.n
    WHERE NOT EXISTS (
        SELECT 1 FROM registry_licencegrant g
        WHERE g.source_ref = %(source_ref)s AND g.item_id = w.item_id AND g.state = 'active'
    )
    ORDER BY w.ord
    ON CONFLICT DO NOTHING
    RETURNING id
"""


@transaction.atomic
def licence_grants_record_items(
    *,
    source_ref: str,
    granted: Sequence[tuple[Consent, Sequence[int]]],
    source: str = RemovalSource.ARTIST,
    partner: str = "",
) -> int:
    """licence_grants_record_many for registered items named by id (a partner's approved licence
    rows): how many grants were written. On PostgreSQL one INSERT ... SELECT joins the ids with
    their items, as removals are written, instead of a model read and a model built per grant
    (2.5x a removal row's CPU); elsewhere through licence_grants_record_many. An item named
    twice is granted under its first licence; one granted already for the source, not again."""
    if any(consent.choice != Choice.LICENCE for consent, _ in granted):
        raise ValueError("only a licence choice is recorded as a grant")
    if connection.vendor != "postgresql":
        wanted = [pk for _, ids in granted for pk in ids]
        items = DatasetItem.objects.select_related("dataset").in_bulk(wanted)
        entries = [
            (consent, [RemovalEntry(dataset=items[pk].dataset, item=items[pk]) for pk in ids if pk in items])
            for consent, ids in granted
        ]
        return len(
            licence_grants_record_many(source_ref=source_ref, granted=entries, source=source, partner=partner)
        )
    seen: set[int] = set()
    item_ids: list[int] = []
    term_of: list[int] = []
    for number, (_, ids) in enumerate(granted):
        for pk in ids:
            if pk not in seen:
                seen.add(pk)
                item_ids.append(pk)
                term_of.append(number)
    if not item_ids:
        return 0
    now = clock.now()
    consents = [consent for consent, _ in granted]
    with connection.cursor() as cursor:
        cursor.execute(
            _GRANT_ITEMS_SQL,
            {
                "n": list(range(len(consents))),
                "licence": [c.licence for c in consents],
                "licence_url": [c.licence_url for c in consents],
                "attribution": [c.attribution for c in consents],
                "search": [str(c.search) for c in consents],
                "items": item_ids,
                "terms": term_of,
                "source_ref": source_ref,
                "source": source,
                "partner": partner,
                "now": now,
            },
        )
        new = sorted(int(pk) for (pk,) in cursor.fetchall())
    grant_events_write(event_type=WebhookEventType.LICENCE_GRANTED, grant_ids=new, now=now)
    return len(new)


def _grant(
    entry: RemovalEntry, source_ref: str, consent: Consent, source: str, partner: str, now: datetime
) -> LicenceGrant:
    item = entry.item
    url = entry.url or (item.url if item else None)
    pdq = entry.pdq if entry.pdq is not None else (bytes(item.pdq) if item and item.pdq else None)
    return LicenceGrant(
        dataset=entry.dataset,
        item_id=item.pk if item is not None else entry.item_id,
        external_id=item.external_id if item else entry.external_id,
        url=url,
        url_key=url_key(url) if url else None,
        phash=entry.phash if entry.phash is not None else (item.phash if item else None),
        dhash=entry.dhash if entry.dhash is not None else (item.dhash if item else None),
        pdq=pdq,
        licence=consent.licence,
        licence_url=consent.licence_url,
        attribution=consent.attribution,
        search=consent.search,
        source_ref=source_ref,
        source=source,
        partner=partner,
        granted_at=now,
    )


@dataclass(frozen=True)
class GrantSelection:
    """Some of a source's grants: of these items, and bare ones of these pHashes (or, with
    `whole_source`, all of them: a partner's filing revoked)."""

    source_ref: str
    item_ids: Sequence[int] = ()
    phashes: Sequence[int] = ()
    whole_source: bool = False

    def queryset(self) -> QuerySet[LicenceGrant]:
        if self.whole_source:
            return LicenceGrant.objects.filter(source_ref=self.source_ref)
        return LicenceGrant.objects.filter(
            Q(item_id__in=list(self.item_ids)) | Q(item__isnull=True, phash__in=list(self.phashes)),
            source_ref=self.source_ref,
        )


@transaction.atomic
def licence_grants_revoke(*, grants: GrantSelection, why: str) -> int:
    """Revoke the standing grants `grants` selects (the artist withdrew the licence); returns how
    many, each told to maintainers in a `licence.revoked` event. A grant revoked already is left
    as it was (and not told twice)."""
    problem = revoked_reason_problem(why)
    if problem:
        raise ValueError(problem)
    now = clock.now()
    # Locked, so a grant revoked by two writers at once is revoked (and told) once.
    ids = list(
        grants.queryset()
        .filter(state=GrantState.ACTIVE)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    LicenceGrant.objects.filter(pk__in=ids).update(
        state=GrantState.REVOKED, revoked_at=now, revoked_reason=why
    )
    grant_events_write(event_type=WebhookEventType.LICENCE_REVOKED, grant_ids=ids, now=now)
    return len(ids)
