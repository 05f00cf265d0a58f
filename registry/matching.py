"""Exact Hamming search of a work's codes against every registered data set's items.

Both 64-bit codes are searched, each through its per-data-set index
(registry.index): pHash survives re-encoding, resizing and colour changes
best; dHash survives banners and overlays that move pHash (see the
robustness table in README). An item found by either, within that hash's
threshold, is a candidate that the artist confirms or excludes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from .index import DatasetIndexes

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
