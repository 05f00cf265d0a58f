"""Exact Hamming search of a code against every registered data set's items.

A plain numpy scan over the 64-bit pHash codes: exact, and fine for the
sizes of the demo and early deployments. The per-data-set FAISS index
replaces it (issue 3) behind the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import DatasetItem

_CHUNK = 200_000


@dataclass(frozen=True)
class Hit:
    item_id: int
    distance: int


def search_phash(code: int, *, max_distance: int) -> list[Hit]:
    query = np.array([code], dtype=np.int64).view(np.uint64)[0]
    hits: list[Hit] = []
    last_id = 0
    while True:
        rows = list(
            DatasetItem.objects.filter(pk__gt=last_id, phash__isnull=False)
            .order_by("pk")
            .values_list("pk", "phash")[:_CHUNK]
        )
        if not rows:
            break
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        codes = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)).view(np.uint64)
        distances = np.bitwise_count(codes ^ query)
        for index in np.flatnonzero(distances <= max_distance):
            hits.append(Hit(item_id=int(ids[index]), distance=int(distances[index])))
        last_id = int(ids[-1])
    hits.sort(key=lambda h: (h.distance, h.item_id))
    return hits
