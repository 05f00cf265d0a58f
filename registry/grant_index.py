"""The pHash of every standing licence grant, as a Hamming index kept between re-matches.

Re-matching new items against the grants (services.grant_rematch) once read every standing grant
and indexed it on each call: 1.9 s at 100,000 grants, paid again for each chunk of an import's
re-match (bench/grant_rematch.py). This keeps the index per process and checks it against the
database on each use with one aggregate, the standing grants' state version: how many carry a
pHash, the sum of their ids and the highest. Read in the caller's transaction, it sees that
transaction's own grants as the re-match does.

- The version is the one the index holds: it is used as it is.
- Otherwise the standing grants above the highest id held are read and added (grants are only
  appended; revoking one changes its state). If the version is then the one held, done.
- Otherwise (a grant revoked, a transaction rolled back after the index saw its grants, or one
  committed behind a later id) the index is read again in full: ids and pHashes only.

A grant revoked since it was indexed is harmless: the re-match reads its hits back as they now
stand and keeps the standing ones. What the version cannot tell is a set of the same size and the
same sum of ids as the one held (two changes that cancel out between two uses): the index would
then miss a grant until the next change. What stays linear in the grants is the aggregate, a read
of the standing grants' ids (tens of milliseconds at 100,000).
"""

from __future__ import annotations

import threading

import numpy as np
from django.db import connection
from django.db.models import Count, Max, QuerySet, Sum

from .index import HammingIndex
from .models import GrantState, LicenceGrant

Version = tuple[int, int, int]  # (how many, sum of ids, highest id)


def _standing() -> QuerySet[LicenceGrant]:
    return LicenceGrant.objects.filter(state=GrantState.ACTIVE, phash__isnull=False)


def _version_of(ids: list[int]) -> Version:
    return (len(ids), sum(ids), max(ids, default=0))


class GrantIndex:
    """One process's index of the standing grants' pHash (see the module's note). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index = HammingIndex()
        self._version: Version = (0, 0, 0)
        self._database: object = None
        self.rebuilds = 0  # full reads, for the tests and the bench

    def get(self) -> HammingIndex:
        with self._lock:
            database = connection.settings_dict["NAME"]
            now = _standing().aggregate(n=Count("pk"), total=Sum("pk"), top=Max("pk"))
            version: Version = (int(now["n"]), int(now["total"] or 0), int(now["top"] or 0))
            if database == self._database and version == self._version:
                return self._index
            if database == self._database:
                count, total, top = self._version
                rows = list(_standing().filter(pk__gt=top).order_by("pk").values_list("pk", "phash"))
                ids = [pk for pk, _ in rows]
                grown = (count + len(ids), total + sum(ids), ids[-1] if ids else top)
                if grown == version:
                    self._index.add(
                        np.array(ids, dtype=np.int64), np.array([code for _, code in rows], dtype=np.int64)
                    )
                    self._version = grown
                    return self._index
            self._rebuild(database)
            return self._index

    def _rebuild(self, database: object) -> None:
        rows = list(_standing().order_by("pk").values_list("pk", "phash"))
        ids = [pk for pk, _ in rows]
        self._index = HammingIndex.build(
            np.array(ids, dtype=np.int64), np.array([code for _, code in rows], dtype=np.int64)
        )
        # The version of what was read (not of the aggregate: a grant may have committed between).
        self._version = _version_of(ids)
        self._database = database
        self.rebuilds += 1


_grant_index = GrantIndex()


def grant_index() -> HammingIndex:
    """The index of the standing grants' pHash, up to date for the caller's transaction."""
    return _grant_index.get()
