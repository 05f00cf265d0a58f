"""Conflicts between a partner's rows and artists' own requests: the same work, claimed twice.

A partner files for the creators it hosts; an artist may claim the same picture in a request of
their own. Nothing links a creator on a platform to an artist on this site yet, so every artist
is someone else: a row that names a work an artist claims is not approved by policy, it goes to
the desk in conflict, with both sides' evidence.

The signals of two artists' conflicts (requests_app.services.conflicts): the same registered
item (the row matched it, the artist confirmed it as a copy of their work), or a pHash within
CONFLICT_PHASH_MAX_DISTANCE of the artist's work (the same file is distance 0: a row carries no
file's sha256 comparable with a work's, which is of the work re-encoded without metadata).
Set-wise per chunk: one query for the items, and for the pHashes one query per band of the
claiming works' pHash (requests_app.models.PHASH_BANDS) by the chunk's keys through the bands'
indexes, then one numpy popcount pass over the chunk per candidate work: the claiming works
that are read are those near the chunk's codes, not all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet

from requests_app.evidence import CLAIMED_MATCH_STATES
from requests_app.models import PHASH_BANDS, Match, Work, phash_band
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
        codes = np.fromiter((row.phash for row in hashed), dtype=np.int64, count=len(hashed))
        limit = settings.CONFLICT_PHASH_MAX_DISTANCE
        near = _works_near(claiming, codes)
        for start in range(0, len(near), 1000):  # one popcount pass per block of candidates
            block = near[start : start + 1000]
            theirs = np.fromiter((w[2] for w in block), dtype=np.int64, count=len(block)).view(np.uint64)
            distances = np.bitwise_count(theirs[:, None] ^ codes.view(np.uint64)[None, :])
            for j, k in zip(*np.nonzero(distances <= limit), strict=True):
                work_id, request_id, _phash = block[j]
                add(hashed[k].pk, request_id, work_id, ConflictKind.PHASH, int(distances[j, k]), None)
    return dict(found)


def band_keys(codes: np.ndarray, band: int) -> list[int]:
    """The values of `band` (requests_app.models.PHASH_BANDS) within one bit of each code's."""
    shift, width = PHASH_BANDS[band]
    values = (codes.view(np.uint64) >> np.uint64(shift)) & np.uint64((1 << width) - 1)
    flips = np.concatenate((np.zeros(1, dtype=np.uint64), np.uint64(1) << np.arange(width, dtype=np.uint64)))
    return np.unique(values[:, None] ^ flips[None, :]).astype(np.int64).tolist()


def _works_near(claiming: QuerySet[Work], codes: np.ndarray) -> list[tuple[int, int, int]]:
    """The claiming works whose pHash may be within CONFLICT_PHASH_MAX_DISTANCE (at most 5) of one
    of `codes`: a band of theirs is within one bit of the code's (PHASH_BANDS), looked up through
    the bands' indexes, one query per band. Candidates only: the caller measures the distance."""
    if 2 * len(PHASH_BANDS) <= settings.CONFLICT_PHASH_MAX_DISTANCE:
        raise ImproperlyConfigured("CONFLICT_PHASH_MAX_DISTANCE: the pHash bands find distances up to 5 only")
    found: dict[int, tuple[int, int, int]] = {}
    with_phash = claiming.filter(phash__isnull=False)
    if connection.vendor != "postgresql":  # the embedded SQLite site: few works, read them all
        for work_id, request_id, phash in with_phash.values_list("pk", "request_id", "phash"):
            if request_id is not None and phash is not None:
                found[work_id] = (work_id, request_id, phash)
        return [found[k] for k in sorted(found)]
    for band in range(len(PHASH_BANDS)):
        # The keys as one array joined in (not an IN list of 20,000 literals, which PostgreSQL
        # plans element by element): a hash join, or one index probe per key, whichever is cheaper.
        near = with_phash.annotate(band=phash_band(band)).values_list("pk", "request_id", "phash", "band")
        sql, params = near.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT q.* FROM ({sql}) AS q JOIN unnest(%s::bigint[]) AS k(v) ON q.band = k.v",  # noqa: S608
                [*params, band_keys(codes, band)],
            )
            for work_id, request_id, phash, _band in cursor.fetchall():
                found[work_id] = (work_id, request_id, phash)
    return [found[k] for k in sorted(found)]
