"""Re-matching extends licence grants as it extends removals (services.rematch): a later copy
of a licensed picture (a new version of a data set, a repost at another URL) is granted under
the same licence, attribution and source, with the same strict thresholds no person confirms.

New items are searched in the index of the standing grants' pHash (registry.grant_index), kept
between calls and checked against the database on each; a source's grants are read by source.
An item a live removal of the same source speaks for is left alone: the artist's removal of
that copy stands, and "disallow wins" anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from .. import signals
from ..grant_index import grant_index
from ..hashing import pdq_distance
from ..matching import indexes
from ..models import DatasetItem, GrantState, LicenceGrant, Removal, RemovalState
from ..preferences import Choice, Consent
from .grants import licence_grants_record
from .removals import RemovalEntry

_CHUNK = 5000
_Statement = tuple[str, str, str, str, str, str]  # source_ref, licence, url, attribution, source, partner


def pdq_agrees(a: bytes | memoryview | None, b: bytes | memoryview | None) -> bool:
    """Whether two PDQs are within MATCH_PDQ_MAX_DISTANCE (a side without one: nothing disagrees)."""
    if a is None or b is None:
        return True
    return pdq_distance(bytes(a), bytes(b)) <= settings.MATCH_PDQ_MAX_DISTANCE


def items_in_chunks(item_ids: Sequence[int]) -> Iterator[list[DatasetItem]]:
    """The items of `item_ids` that carry a pHash, with their data set, _CHUNK ids a query, in id
    order; a chunk without one is skipped. What both re-matches of new or changed items search
    (here for grants, services.rematch for removals)."""
    for start in range(0, len(item_ids), _CHUNK):
        items = list(
            DatasetItem.objects.filter(pk__in=item_ids[start : start + _CHUNK], phash__isnull=False)
            .select_related("dataset")
            .order_by("pk")
        )
        if items:
            yield items


def _standing() -> QuerySet[LicenceGrant]:
    return LicenceGrant.objects.filter(state=GrantState.ACTIVE, phash__isnull=False)


def _record(pairs: Iterable[tuple[LicenceGrant, DatasetItem]]) -> list[LicenceGrant]:
    """New grants for (standing grant, copy) pairs: the copy under the grant's whole statement."""
    by_statement: dict[_Statement, dict[int, DatasetItem]] = defaultdict(dict)
    for grant, item in pairs:
        key = (
            grant.source_ref,
            grant.licence,
            grant.licence_url,
            grant.attribution,
            grant.source,
            grant.partner,
        )
        by_statement[key][item.pk] = item
    created: list[LicenceGrant] = []
    for (source_ref, licence, url, attribution, source, partner), items in by_statement.items():
        removed = set(
            Removal.objects.filter(source_ref=source_ref, item_id__in=list(items))
            .exclude(state=RemovalState.REVOKED)
            .values_list("item_id", flat=True)
        )
        entries = [
            RemovalEntry(dataset=i.dataset, item=i) for pk, i in sorted(items.items()) if pk not in removed
        ]
        if entries:
            created += licence_grants_record(
                source_ref=source_ref,
                consent=Consent(Choice.LICENCE, licence, url, attribution),
                entries=entries,
                source=source,
                partner=partner,
            )
    if created:
        counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for grant in created:
            counts[grant.source_ref][grant.dataset_id] += 1
        told = {ref: dict(per_dataset) for ref, per_dataset in counts.items()}
        transaction.on_commit(lambda: signals.grants_rematched.send(sender=LicenceGrant, grants=told))
    return created


def grants_items_rematch(*, item_ids: Sequence[int]) -> list[LicenceGrant]:
    """Search new or changed items against every standing grant; grant the copies found."""
    index = grant_index()
    if not len(index):
        return []
    radius = settings.REMATCH_PHASH_MAX_DISTANCE
    pairs: list[tuple[LicenceGrant, DatasetItem]] = []
    for items in items_in_chunks(item_ids):
        results = index.search_many([i.phash for i in items if i.phash is not None], radius)
        # Read back as they now stand: one revoked since the index saw it is no longer standing.
        by_id = _standing().in_bulk({grant_id for hits in results for grant_id, _ in hits})
        for item, hits in zip(items, results, strict=True):
            for grant_id, _distance in hits:
                grant = by_id.get(grant_id)
                if grant is not None and grant.item_id != item.pk and pdq_agrees(grant.pdq, item.pdq):
                    pairs.append((grant, item))
    return _record(pairs)


def grants_source_rematch(*, source_ref: str, skip_item_ids: Iterable[int] = ()) -> list[LicenceGrant]:
    """Search a source's standing grants against the items of every data set; grant the copies."""
    skip = set(skip_item_ids)
    grants = list(_standing().filter(source_ref=source_ref).order_by("pk"))
    radius = settings.REMATCH_PHASH_MAX_DISTANCE
    pairs: list[tuple[LicenceGrant, DatasetItem]] = []
    for start in range(0, len(grants), _CHUNK):
        chunk = grants[start : start + _CHUNK]
        results = indexes("phash").search_all_many([g.phash for g in chunk if g.phash is not None], radius)
        wanted = {item_id for hits in results for item_id, _ in hits if item_id not in skip}
        candidates = DatasetItem.objects.select_related("dataset").in_bulk(list(wanted))
        for grant, hits in zip(chunk, results, strict=True):
            for item_id, _distance in hits:
                item = candidates.get(item_id)
                if item is not None and item.pk != grant.item_id and pdq_agrees(grant.pdq, item.pdq):
                    pairs.append((grant, item))
    return _record(pairs)
