"""Conflicts between a partner's rows and artists' own requests: the same work, claimed twice.

A partner files for the creators it hosts; an artist may claim the same picture in a request of
their own. Nothing links a creator on a platform to an artist on this site yet, so every artist
is someone else: a row that names a work an artist claims is not approved by policy, it goes to
the desk in conflict, with both sides' evidence.

The signals of two artists' conflicts (requests_app.services.conflicts): the same registered
item (the row matched it, the artist confirmed it as a copy of their work), or a pHash within
CONFLICT_PHASH_MAX_DISTANCE of the artist's work (the same file is distance 0: a row carries no
file's sha256 comparable with a work's, which is of the work re-encoded without metadata).
Set-wise per chunk: two queries and one numpy popcount pass per hashed row, whatever the
chunk's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from django.conf import settings

from requests_app.evidence import CLAIMED_MATCH_STATES
from requests_app.models import Match, Work
from requests_app.workflow import CLAIMING

from ..models import ConflictKind, FilingRow, FilingRowConflict


def rows_conflicts(
    rows: Sequence[FilingRow], matches: dict[int, set[int]]
) -> dict[int, list[FilingRowConflict]]:
    """Row pk -> its conflicts with artists' claiming requests (unsaved rows; none: not listed)."""
    found: dict[int, list[FilingRowConflict]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()  # (row, work): one conflict per pair, the strongest signal

    def add(row_id: int, request_id: int, work_id: int, kind: str, distance: int, item: int | None) -> None:
        if (row_id, work_id) in seen:
            return
        seen.add((row_id, work_id))
        found[row_id].append(
            FilingRowConflict(
                row_id=row_id, request_id=request_id, work_id=work_id, kind=kind, distance=distance,
                item_id=item,
            )
        )  # fmt: skip

    claiming = Work.objects.filter(request__status__in=CLAIMING)
    rows_of_item: dict[int, list[int]] = defaultdict(list)
    for row_id, items in matches.items():
        for item_id in items:
            rows_of_item[item_id].append(row_id)
    if rows_of_item:
        claimed = Match.objects.filter(
            item_id__in=list(rows_of_item),
            state__in=CLAIMED_MATCH_STATES,
            work__request__status__in=CLAIMING,
        ).values_list("item_id", "work_id", "work__request_id", "distance")
        for item_id, work_id, request_id, distance in claimed:
            for row_id in rows_of_item[item_id]:
                add(row_id, request_id, work_id, ConflictKind.ITEM, distance, item_id)
    hashed = [row for row in rows if row.phash is not None]
    if hashed:
        works = list(claiming.filter(phash__isnull=False).values_list("pk", "request_id", "phash"))
        if works:
            work_ids = np.fromiter((w[0] for w in works), dtype=np.int64, count=len(works))
            requests = np.fromiter((w[1] for w in works), dtype=np.int64, count=len(works))
            codes = np.fromiter((w[2] for w in works), dtype=np.int64, count=len(works)).view(np.uint64)
            limit = settings.CONFLICT_PHASH_MAX_DISTANCE
            for row in hashed:
                code = np.array([row.phash], dtype=np.int64).view(np.uint64)[0]
                distances = np.bitwise_count(codes ^ code)
                for k in np.flatnonzero(distances <= limit):
                    add(
                        row.pk,
                        int(requests[k]),
                        int(work_ids[k]),
                        ConflictKind.PHASH,
                        int(distances[k]),
                        None,
                    )
    return dict(found)
