"""Exact Hamming search of a work's codes against every registered data set's items.

Both 64-bit codes are searched, each through its per-data-set index
(registry.index): pHash survives re-encoding, resizing and colour changes
best; dHash survives banners and overlays that move pHash (see the
robustness table in README). An item found by either, within that hash's
threshold, is a candidate that the artist confirms or excludes.
"""

from __future__ import annotations

import threading
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


def search_work(*, phash: int, dhash: int | None) -> list[Hit]:
    """Items within the pHash or the dHash threshold; pHash's distance is reported when both hit."""
    hits = {h.item_id: h for h in search_phash(phash, max_distance=settings.MATCH_PHASH_MAX_DISTANCE)}
    if dhash is not None:
        for item_id, d in indexes("dhash").search_all(dhash, settings.MATCH_DHASH_MAX_DISTANCE):
            hits.setdefault(item_id, Hit(item_id, d, "dhash"))
    return sorted(hits.values(), key=lambda h: (h.distance, h.item_id))
