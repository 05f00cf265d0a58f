"""Exact Hamming search of a work's codes against every registered data set's items.

Both 64-bit codes are searched, each through its per-data-set index
(registry.index): pHash survives re-encoding, resizing and colour changes
best; dHash survives banners and overlays that move pHash (see the
robustness table in README). An item found by either, within that hash's
threshold, is a candidate that the artist confirms or excludes.

The removal index (the pHash of every live removal) is searched the other
way, by re-matching and by the lookup endpoint.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from .index import DatasetIndexes, HammingIndex
from .models import Removal, RemovalState

_lock = threading.Lock()
_indexes: dict[str, DatasetIndexes] = {}


@dataclass(frozen=True)
class Hit:
    item_id: int
    distance: int
    algorithm: str = "phash"


def indexes(field: str) -> DatasetIndexes:
    """This process's index cache for one hash field (built or loaded on first use)."""
    with _lock:
        if field not in _indexes:
            _indexes[field] = DatasetIndexes(field=field, check_interval=settings.MATCH_INDEX_CHECK_SECONDS)
        return _indexes[field]


def search_phash(code: int, *, max_distance: int) -> list[Hit]:
    return [Hit(item_id, d) for item_id, d in indexes("phash").search_all(code, max_distance)]


def search_work(*, phash: int, dhash: int | None, phash_variants: Sequence[int] = ()) -> list[Hit]:
    """Items within the pHash or the dHash threshold, or within the pHash threshold of the
    work mirrored or turned by right angles (`phash_variants`, see hashing.hashes_of_image).

    When several hit one item, the direct pHash, then dHash, then the turned
    variant is reported.
    """
    threshold = settings.MATCH_PHASH_MAX_DISTANCE
    hits = {h.item_id: h for h in search_phash(phash, max_distance=threshold)}
    if dhash is not None:
        for item_id, d in indexes("dhash").search_all(dhash, settings.MATCH_DHASH_MAX_DISTANCE):
            hits.setdefault(item_id, Hit(item_id, d, "dhash"))
    for variant in phash_variants:
        for item_id, d in indexes("phash").search_all(variant, threshold):
            best = hits.get(item_id)
            if best is None or (best.algorithm == "phash-turned" and d < best.distance):
                hits[item_id] = Hit(item_id, d, "phash-turned")
    return sorted(hits.values(), key=lambda h: (h.distance, h.item_id))


class RemovalIndex:
    """A process-local Hamming index over the pHash of every live (not revoked) removal.

    Removals are only appended, so new rows are added by primary key on each
    use; a revocation (or a row committed late, below the highest key held)
    changes the live count, which the periodic check turns into a rebuild.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = HammingIndex()
        self._max_pk = 0
        self._live = 0
        self._checked_at = -math.inf

    def get(self) -> HammingIndex:
        with self._lock:
            rows = list(
                Removal.objects.filter(pk__gt=self._max_pk, phash__isnull=False)
                .exclude(state=RemovalState.REVOKED)
                .order_by("pk")
                .values_list("pk", "phash")
            )
            if rows:
                self._index.add(
                    np.array([r[0] for r in rows], dtype=np.int64),
                    np.array([r[1] for r in rows], dtype=np.int64),
                )
                self._max_pk = rows[-1][0]
                self._live += len(rows)
            # Counting every live removal is a scan: on the lookup endpoint's path it
            # runs at most every MATCH_INDEX_CHECK_SECONDS, like the item indexes' check.
            now = time.monotonic()
            if now - self._checked_at >= settings.MATCH_INDEX_CHECK_SECONDS:
                self._checked_at = now
                live = (
                    Removal.objects.filter(pk__lte=self._max_pk, phash__isnull=False)
                    .exclude(state=RemovalState.REVOKED)
                    .count()
                )
                if live != self._live:
                    self._rebuild()
            return self._index

    def _rebuild(self) -> None:
        rows = list(
            Removal.objects.filter(phash__isnull=False)
            .exclude(state=RemovalState.REVOKED)
            .order_by("pk")
            .values_list("pk", "phash")
        )
        self._index = HammingIndex.build(
            np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)
        )
        self._max_pk = rows[-1][0] if rows else 0
        self._live = len(rows)


_removal_index = RemovalIndex()


def removal_index() -> HammingIndex:
    return _removal_index.get()
