"""Keeping removals working over time.

A removal names one item, but the same picture keeps arriving: a new version
of a data set, a repost at another URL, another data set. Two sweeps close
the gap, both with the strict thresholds no person confirms
(REMATCH_PHASH_MAX_DISTANCE on pHash, and MATCH_PDQ_MAX_DISTANCE on PDQ
where both sides have one):

- `items_rematch`: items that arrived or changed are searched against the
  hashes of every live removal; a hit becomes a new Removal of the same
  source in the item's data set, delivered like any other.
- `source_rematch`: a newly approved source's removals are searched against
  the items of every data set (items the upstream side says to skip, e.g.
  ones its artist excluded, are left alone).

Both extend licence grants to later copies as well (services.grant_rematch).

The removal index they search (`matching.removal_index()`) is also what the
lookup endpoint searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction

from .. import signals
from ..matching import indexes, removal_index
from ..models import DatasetItem, Removal, RemovalState
from .grant_rematch import grants_items_rematch, grants_source_rematch, items_in_chunks, pdq_agrees
from .removals import RemovalEntry, removals_record

_CHUNK = 5000


def _record(pairs: Iterable[tuple[Removal, DatasetItem]]) -> list[Removal]:
    """New removals for (existing removal's source, item) pairs not recorded yet."""
    # The copy carries the removal's whole statement: its reason and its search preference.
    by_source: dict[tuple[str, str, str], dict[int, DatasetItem]] = defaultdict(dict)
    for removal, item in pairs:
        by_source[(removal.source_ref, removal.reason, removal.search)][item.pk] = item
    created: list[Removal] = []
    for (source_ref, reason, search), items in by_source.items():
        created += removals_record(
            source_ref=source_ref,
            reason=reason,
            search=search,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items.values()],
        )
    if created:
        refs = {r.source_ref for r in created}
        transaction.on_commit(lambda: signals.removals_rematched.send(sender=Removal, source_refs=refs))
    return created


@transaction.atomic
def items_rematch(*, item_ids: Sequence[int]) -> list[Removal]:
    """Search new or changed items against every live removal; record the copies found. Copies
    of licensed pictures are granted the same way (grant_rematch)."""
    grants_items_rematch(item_ids=item_ids)
    index = removal_index()
    if not len(index):
        return []
    radius = settings.REMATCH_PHASH_MAX_DISTANCE
    pairs: list[tuple[Removal, DatasetItem]] = []
    for items in items_in_chunks(item_ids):
        results = index.search_many([i.phash for i in items if i.phash is not None], radius)
        removal_ids = {rid for hits in results for rid, _ in hits}
        removals = Removal.objects.in_bulk(removal_ids)
        for item, hits in zip(items, results, strict=True):
            for removal_id, _distance in hits:
                removal = removals[removal_id]
                if removal.item_id != item.pk and pdq_agrees(removal.pdq, item.pdq):
                    pairs.append((removal, item))
    return _record(pairs)


@transaction.atomic
def source_rematch(*, source_ref: str, skip_item_ids: Iterable[int] = ()) -> list[Removal]:
    """Search a source's removals against the items of every data set; record the copies found.

    In chunks of _CHUNK removals: one batched index search and one item look-up per chunk, so a
    request of 50,000 removals costs tens of queries, not one or two per removal. The source's
    licence grants are extended to their copies the same way (grant_rematch).
    """
    skip = set(skip_item_ids)
    grants_source_rematch(source_ref=source_ref, skip_item_ids=skip)
    live = (
        Removal.objects.filter(source_ref=source_ref, phash__isnull=False)
        .exclude(state=RemovalState.REVOKED)
        .order_by("pk")
    )
    radius = settings.REMATCH_PHASH_MAX_DISTANCE
    pairs: list[tuple[Removal, DatasetItem]] = []
    last = 0
    while chunk := list(live.filter(pk__gt=last)[:_CHUNK]):
        last = chunk[-1].pk
        results = indexes("phash").search_all_many([r.phash for r in chunk if r.phash is not None], radius)
        wanted = {item_id for hits in results for item_id, _ in hits if item_id not in skip}
        candidates = DatasetItem.objects.select_related("dataset").in_bulk(list(wanted))
        for removal, hits in zip(chunk, results, strict=True):
            for item_id, _distance in hits:
                item = candidates.get(item_id)
                if item is not None and pdq_agrees(removal.pdq, item.pdq):
                    pairs.append((removal, item))
    return _record(pairs)


def dataset_rematch(*, dataset_id: int, since: object) -> int:
    """After a bulk import: re-match the data set's items changed since `since`, in chunks."""
    last = 0
    found = 0
    while True:
        ids = list(
            DatasetItem.objects.filter(dataset_id=dataset_id, updated_at__gte=since, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:_CHUNK]
        )
        if not ids:
            return found
        found += len(items_rematch(item_ids=ids))
        last = ids[-1]
