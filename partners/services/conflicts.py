"""Conflicts between a partner's rows and artists' own requests: the same work, claimed twice.

A partner files for the creators it hosts; an artist may claim the same picture in a request of
their own. Nothing links a creator on a platform to an artist on this site yet, so every artist
is someone else: a row that names a work an artist claims is not approved by policy, it goes to
the desk in conflict, with both sides' evidence.

The signals of two artists' conflicts (requests_app.services.conflicts): the same registered
item (the row matched it, the artist confirmed it as a copy of their work), or a pHash within
CONFLICT_PHASH_MAX_DISTANCE of the artist's work (the same file is distance 0: a row carries no
file's sha256 comparable with a work's, which is of the work re-encoded without metadata).
Set-wise per chunk: one query for the items, and for the pHashes either a read of the claiming
works when they are few (FULL_READ_MAX) or one statement that probes the bands' indexes of their
pHash (core.phash_bands) with the chunk's codes and measures the distance of what it finds there:
then the claiming works read are those near the chunk's codes, and only the pairs within the
distance come back, however many works claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from core.phash_bands import MAX_DISTANCE, jit_off, near_params, near_sql
from requests_app.evidence import CLAIMED_MATCH_STATES
from requests_app.models import Match, RemovalRequest, Work
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
    rows_of_code: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.phash is not None:
            rows_of_code[row.phash].append(row.pk)
    if rows_of_code:
        for code, distance, work_id, request_id in claiming_works_near(list(rows_of_code)):
            for row_id in rows_of_code[code]:
                add(row_id, request_id, work_id, ConflictKind.PHASH, distance, None)
    return dict(found)


# Up to this many claiming works with a pHash, reading them all and comparing costs less than the
# bands' 67,000 probes a chunk (10,000 works: 0.03-0.08 s read, 0.06-0.08 s probed, and probing
# an empty index still costs 0.06-0.1 s; 100,000: 0.8 s read, 0.24 s probed; bench/partner_conflicts.py).
FULL_READ_MAX = 20_000


def claiming_works_near(codes: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """(code, distance, work, request) for every work of a claiming request whose pHash is within
    CONFLICT_PHASH_MAX_DISTANCE of one of `codes`, each pair once, in order. Few claiming works
    (FULL_READ_MAX, counted by a bounded query; and always on the embedded SQLite site) are read
    and compared in blocks; more, through one statement of index probes (core.phash_bands)."""
    limit = settings.CONFLICT_PHASH_MAX_DISTANCE
    if limit > MAX_DISTANCE:
        raise ImproperlyConfigured(
            f"CONFLICT_PHASH_MAX_DISTANCE: the pHash bands find distances up to {MAX_DISTANCE} only"
        )
    if not codes:
        return []
    works = Work.objects.filter(request__status__in=CLAIMING, phash__isnull=False)
    if connection.vendor != "postgresql" or works[: FULL_READ_MAX + 1].count() <= FULL_READ_MAX:
        return _compared(codes, list(works.values_list("pk", "request_id", "phash")), limit)
    found: set[tuple[int, int, int, int]] = set()
    near = near_sql(table=Work._meta.db_table, columns=("id", "request_id"))
    sql = (
        f"SELECT n.* FROM ({near}) AS n CROSS JOIN LATERAL (SELECT 1 FROM {RemovalRequest._meta.db_table} r"  # noqa: S608 (the models' tables)
        " WHERE r.id = n.request_id AND r.status = ANY(%s) OFFSET 0) AS r"
    )
    with jit_off(), connection.cursor() as cursor:
        cursor.execute(sql, [*near_params(codes, limit), list(CLAIMING)])
        found.update(cursor.fetchall())
    return sorted(found)


def _compared(
    codes: Sequence[int], works: list[tuple[int, int | None, int | None]], limit: int
) -> list[tuple[int, int, int, int]]:
    """The pairs within `limit` of `codes` and `works` (id, request, pHash): one popcount pass per
    block of 1,000 works."""
    found: set[tuple[int, int, int, int]] = set()
    mine = np.array(codes, dtype=np.int64).view(np.uint64)
    for start in range(0, len(works), 1000):
        block = works[start : start + 1000]
        theirs = np.fromiter((w[2] or 0 for w in block), dtype=np.int64, count=len(block)).view(np.uint64)
        distances = np.bitwise_count(theirs[:, None] ^ mine[None, :])
        for j, k in zip(*np.nonzero(distances <= limit), strict=True):
            work_id, request_id, _phash = block[int(j)]
            found.add((codes[int(k)], int(distances[j, k]), work_id, request_id or 0))
    return sorted(found)
