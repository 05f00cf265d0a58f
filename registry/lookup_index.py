"""The look-up's in-process index (PostgreSQL): live removals, licence grants, domain opt-outs.

At 10 million removals, probing `removal_url_key` for each of 10,000 URLs and reading the heap
pages of the hits costs 200-330 ms a batch (bench/RESULTS.md). This holds instead, per process:

- every live removal as sorted numpy arrays: the URL's key (the first 8 bytes of its SHA-256,
  as `url_key`), the next 8 bytes (so a hit means 128 bits agree: no URL has to be read back
  to rule out a collision of the 64-bit key), the removal's id, and what the answer says of it
  (source, partner, search) as an index into a small table: 28 bytes a removal;
- the url_keys of the standing licence grants (a hit is read from the database: grants are few);
- the active domain opt-out rules (a handful).

Exactness: a write is answered as soon as its transaction commits, a revocation too. Each row
carries `changed_xact`, the id of the transaction that last changed what a look-up says of it
(triggers of migration 0011, so no writer can forget it). Before answering, the index reads in
one statement the rows of the transactions its last read could not see: those in progress then
(the snapshot's xip list) and those from its xmax on; then that statement's snapshot's xip and
xmax are the next read's. A transaction's rows become visible all at once when it commits, so a
transaction that the snapshot saw committed has had every row read, and one it did not see is
read next time, whatever its removal ids. (A cursor on the id would skip a removal whose
transaction commits after one with a later id; the snapshot's xmin alone would read again every
row of each transaction committed since the oldest one still open anywhere on the server.)

With LOOKUP_INDEX_SNAPSHOT_DIR the sorted arrays are built once per machine and mapped by the
other processes (registry/lookup_snapshot.py); the rest is each process's own, as above.

Until a process has built its index (a thread started by its first look-up: at 10 M removals
it takes tens of seconds) look-ups read the database as before, as they do on SQLite and
inside a transaction that has written (its own rows are not committed, and may never be).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, connections

from .lookup_snapshot import (
    Snapshot,
    build_lock,
    database_identity,
    snapshot_dir,
    snapshot_load,
    snapshot_write,
)
from .models import DomainOptOut, GrantState, RemovalState

log = logging.getLogger(__name__)

Origin = tuple[str, str, str]  # (source, partner, search) of a live removal

# The second 8 bytes of the URL's SHA-256 as a signed bigint, as `url_keys` computes them.
_KEY2_SQL = (
    "('x' || encode(substring(sha256(convert_to({url}, 'UTF8')) from 9 for 8), 'hex'))::bit(64)::bigint"
)
_REVOKED = RemovalState.REVOKED.value
# What the last read could not see (each condition: `changed_xact = ANY(xip) OR >= xmax`, two
# ranges of the changed_xact index), this statement's snapshot xip and xmax, and whether this
# transaction has written (then it sees rows that are not committed, and may never be).
_CHANGES_SQL = f"""
WITH snap AS (
    SELECT pg_snapshot_xmax(t.s)::text::bigint AS xmax,
           ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(t.s) AS x) AS xip,
           pg_current_xact_id_if_assigned() IS NOT NULL AS wrote
      FROM (SELECT pg_current_snapshot() AS s) AS t
), changed AS (
    SELECT 'r' AS kind, r.id, r.url_key, {_KEY2_SQL.format(url="r.url")} AS key2,
           r.state = '{_REVOKED}' OR r.url IS NULL OR r.url_key IS NULL AS dead,
           r.source, r.partner, r.search
      FROM registry_removal r
     WHERE (r.changed_xact = ANY(%(xip)s::bigint[]) OR r.changed_xact >= %(xmax)s)
    UNION ALL
    SELECT 'g', g.id, g.url_key, NULL,
           g.state <> '{GrantState.ACTIVE.value}' OR g.url_key IS NULL, '', '', ''
      FROM registry_licencegrant g
     WHERE (g.changed_xact = ANY(%(xip)s::bigint[]) OR g.changed_xact >= %(xmax)s)
    UNION ALL
    SELECT 'o', o.id, NULL, NULL, o.revoked_at IS NOT NULL, '', '', ''
      FROM registry_domainoptout o
     WHERE (o.changed_xact = ANY(%(xip)s::bigint[]) OR o.changed_xact >= %(xmax)s)
)
SELECT snap.xmax, snap.xip, snap.wrote, changed.* FROM snap LEFT JOIN changed ON true
"""  # noqa: S608 (constants only)
# One COPY row: 4 fields (int16), then per field its length (int32) and a bigint.
_COPY_ROW = np.dtype(
    [
        *[("n", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("key", ">i8")],
        *[("l3", ">i4"), ("key2", ">i8"), ("l4", ">i4"), ("origin", ">i8")],
    ]
)
_COLUMNS = (("key", np.int64), ("key2", np.int64), ("id", np.int64), ("origin", np.int32))
_COPY_HEADER = 19  # PGCOPY\n\377\r\n\0, flags, header extension length
# Past this many removals changed since the build, they are merged into the sorted arrays.
MERGE_AT = 100_000


def url_keys(urls: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(url_key, second key) of each URL: the first and second 8 bytes of its SHA-256, signed."""
    sha256 = hashlib.sha256
    # Whole digests joined, the two words taken by numpy: no slice (a new bytes) per URL.
    digests = b"".join([sha256(u.encode("utf-8")).digest() for u in urls])
    both = np.frombuffer(digests, dtype=">i8").reshape(-1, 4)[:, :2].astype(np.int64)
    return both[:, 0], both[:, 1]


def _ends(keys: np.ndarray, needles: np.ndarray, start: np.ndarray) -> np.ndarray:
    """searchsorted(keys, needles, "right") from the "left" places `start`: a URL has one
    removal or a few (one per data set), so stepping over the equal keys costs a few gathers
    where a second binary search over 10 M keys cost 5 ms a batch; past 8 steps, the search."""
    end = start.copy()
    if not len(keys):
        return end
    last = len(keys) - 1
    for _ in range(8):
        more = (end <= last) & (keys[np.minimum(end, last)] == needles)
        if not more.any():
            return end
        end[more] += 1
    rest = np.nonzero((end <= last) & (keys[np.minimum(end, last)] == needles))[0]
    end[rest] = np.searchsorted(keys, needles[rest], "right")
    return end


@dataclass
class _Sorted:
    """Live removals as of the build (or the last merge), sorted by key."""

    keys: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    key2: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    origins: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.key2.nbytes + self.ids.nbytes + self.origins.nbytes)


class LookupIndex:
    """One process's index (see the module's note). Thread-safe: one lock around read and apply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "cold"  # cold -> building -> ready (or failed, then cold again)
        self.built_in = 0.0
        self.served = 0  # look-ups answered from memory, for the tests and the bench
        self.shared = False  # the sorted arrays are mapped from the shared snapshot
        self._builder: threading.Thread | None = None
        self._reset_data()

    def _reset_data(self) -> None:
        # What the last read could not see: the transactions in progress then, and from xmax on.
        self.xmax = 0
        self.xip: list[int] = []
        self.sorted = _Sorted()
        self.origins: list[Origin] = []
        self._origin_ids: dict[Origin, int] = {}
        # Removals changed since the sorted arrays were made: id -> (key, key2, origin), or None
        # when it is no longer live; and the live ones by key.
        self.changed: dict[int, tuple[int, int, int] | None] = {}
        self.added: dict[int, dict[int, tuple[int, int]]] = {}
        self._changed_ids = np.empty(0, np.int64)
        self.grant_keys: dict[int, int] = {}  # grant id -> url_key, standing grants
        self.grant_key_count: Counter[int] = Counter()
        self.rules: dict[int, DomainOptOut] = {}

    # --- building ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Whether the index can answer now; if not, the build is started (once) in a thread."""
        if self.state == "ready":
            return True
        if connection.vendor != "postgresql" or not settings.LOOKUP_INDEX:
            return False
        with self._lock:
            if self.state == "cold":
                self.state = "building"
                self._builder = threading.Thread(target=self._build_thread, name="lookup-index", daemon=True)
                self._builder.start()
        return False

    def _build_thread(self) -> None:
        try:
            self.build()
        except Exception:  # the look-ups keep reading the database; the next one tries again
            log.exception("lookup index: build failed")
            with self._lock:
                self.state = "cold"
        finally:
            connections.close_all()

    def build(self) -> None:
        """Read every live removal, grant and rule in one snapshot; then the index is ready.
        With LOOKUP_INDEX_SNAPSHOT_DIR, the arrays another process wrote are mapped instead
        when they are of this database (registry/lookup_snapshot.py), or written for the others."""
        folder = snapshot_dir()
        if folder is None:
            self._build_from_database(None)
            return
        started = time.perf_counter()
        with build_lock(folder):  # the first process builds; the others wait and map its arrays
            with connection.cursor() as cursor:
                shared = snapshot_load(folder, cursor)
            if shared is None:
                self._build_from_database(folder)
                return
            self._install_shared(shared, started)

    def _install_shared(self, shared: Snapshot, started: float) -> None:
        """The mapped arrays, at their read position; grants and rules read now (a catch-up
        from an older position applies their changes again, to the same result)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, url_key FROM registry_licencegrant WHERE state = %s AND url_key IS NOT NULL",
                [GrantState.ACTIVE.value],
            )
            grants = {int(pk): int(key) for pk, key in cursor.fetchall()}
        rules = {r.pk: r for r in DomainOptOut.objects.filter(revoked_at__isnull=True)}
        a = shared.arrays
        arrays = _Sorted(keys=a["keys"], key2=a["key2"], ids=a["ids"], origins=a["origins"])
        with self._lock:
            self._reset_data()
            self.xmax, self.xip = shared.xmax, shared.xip
            self.sorted = arrays
            self.origins = list(shared.origins)
            self._origin_ids = {o: n for n, o in enumerate(self.origins)}
            self.grant_keys = grants
            self.grant_key_count = Counter(grants.values())
            self.rules = rules
            self.built_in = time.perf_counter() - started
            self.shared = True
            self.state = "ready"
        log.info(
            "lookup index: %d removals in %.1f s (mapped from the shared snapshot)",
            len(arrays.keys),
            self.built_in,
        )

    def _build_from_database(self, folder: Path | None) -> None:
        started = time.perf_counter()
        identity: dict[str, Any] = {}
        with connection.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                cursor.execute(
                    "SELECT pg_snapshot_xmax(s)::text::bigint,"
                    " ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x)"
                    " FROM (SELECT pg_current_snapshot() AS s) AS t"
                )
                xmax, xip = cursor.fetchone()
                cursor.execute(
                    "SELECT DISTINCT source, partner, search FROM registry_removal WHERE state <> %s",
                    [_REVOKED],
                )
                origins: list[Origin] = [(str(s), str(p), str(q)) for s, p, q in cursor.fetchall()]
                arrays = self._copy_removals(cursor.cursor, origins)
                cursor.execute(
                    "SELECT id, url_key FROM registry_licencegrant WHERE state = %s AND url_key IS NOT NULL",
                    [GrantState.ACTIVE.value],
                )
                grants = {int(pk): int(key) for pk, key in cursor.fetchall()}
                rules = {r.pk: r for r in DomainOptOut.objects.filter(revoked_at__isnull=True)}
                if folder is not None:
                    identity = database_identity(cursor)
            finally:
                cursor.execute("COMMIT")
        with self._lock:
            self._reset_data()
            self.xmax, self.xip = int(xmax), [int(x) for x in xip]
            self.sorted = arrays
            self.origins = origins
            self._origin_ids = {o: n for n, o in enumerate(origins)}
            self.grant_keys = grants
            self.grant_key_count = Counter(grants.values())
            self.rules = rules
            self.built_in = time.perf_counter() - started
            self.shared = False
            self.state = "ready"
        log.info("lookup index: %d removals in %.1f s", len(arrays.keys), self.built_in)
        if folder is not None:
            try:
                snapshot_write(
                    folder,
                    identity=identity,
                    arrays={
                        "keys": arrays.keys,
                        "key2": arrays.key2,
                        "ids": arrays.ids,
                        "origins": arrays.origins,
                    },
                    origins=origins,
                    xmax=int(xmax),
                    xip=[int(x) for x in xip],
                )
            except OSError:  # this process answers from its own copy; the others build theirs
                log.exception("lookup index: the shared snapshot could not be written to %s", folder)
                return
            self._map_own_snapshot(folder, arrays)

    def _map_own_snapshot(self, folder: Path, arrays: _Sorted) -> None:
        """Answer from the mapped files just written, as the other processes do, and free this
        process's own copy: the same values, so it can change under the lock at any time,
        unless a merge has replaced the arrays since."""
        with connection.cursor() as cursor:
            shared = snapshot_load(folder, cursor)
        if shared is None or len(shared.arrays["keys"]) != len(arrays.keys):
            return
        a = shared.arrays
        with self._lock:
            if self.sorted is arrays:
                self.sorted = _Sorted(keys=a["keys"], key2=a["key2"], ids=a["ids"], origins=a["origins"])
                self.shared = True

    @staticmethod
    def _copy_removals(raw: Any, origins: list[Origin]) -> _Sorted:
        """The live removals through a binary COPY, parsed by numpy a few megabytes at a time."""
        sql = f"""
            COPY (SELECT r.id, r.url_key, {_KEY2_SQL.format(url="r.url")}, o.n - 1
                    FROM registry_removal r
                    JOIN unnest(%s::text[], %s::text[], %s::text[]) WITH ORDINALITY
                         AS o(source, partner, search, n)
                      ON (o.source, o.partner, o.search) = (r.source, r.partner, r.search)
                   WHERE r.state <> '{_REVOKED}' AND r.url IS NOT NULL AND r.url_key IS NOT NULL)
            TO STDOUT (FORMAT binary)
        """  # noqa: S608 (constants; the origins are parameters)
        params = [[o[0] for o in origins], [o[1] for o in origins], [o[2] for o in origins]]
        parts: list[tuple[np.ndarray, ...]] = []

        def parse(data: bytes) -> None:  # kept as the compact columns, not COPY's 50-byte rows
            rows = np.frombuffer(data, dtype=_COPY_ROW)
            parts.append(
                tuple(rows[name].astype(kind) for name, kind in _COLUMNS)  # astype copies
            )

        pending = bytearray()
        skip = _COPY_HEADER
        size = _COPY_ROW.itemsize
        with raw.copy(sql, params) as copy:
            for chunk in copy:
                pending += chunk
                if skip:
                    if len(pending) < skip:
                        continue
                    del pending[:skip]
                    skip = 0
                whole = len(pending) // size * size
                if whole >= 1 << 22:
                    parse(bytes(pending[:whole]))
                    del pending[:whole]
        whole = len(pending) // size * size  # the 2-byte trailer is left over
        parse(bytes(pending[:whole]))
        keys, key2, ids, origin = (np.concatenate([part[n] for part in parts]) for n in range(4))
        parts.clear()
        order = np.argsort(keys, kind="stable")
        return _Sorted(keys=keys[order], key2=key2[order], ids=ids[order], origins=origin[order])

    # --- keeping up -------------------------------------------------------------------------

    def catch_up(self) -> bool:
        """Apply what committed since the last read. False when this transaction has written
        (it would see its own rows before they commit): the caller reads the database."""
        # One catch-up at a time, read and applied under the lock: a thread's older read applied
        # after a newer one would put back what the newer one changed.
        with self._lock, connection.cursor() as cursor:
            cursor.execute(_CHANGES_SQL, {"xmax": self.xmax, "xip": self.xip})
            rows = cursor.fetchall()
            if rows[0][2]:
                return False
            rule_ids: list[int] = []
            for _, _, _, kind, pk, key, key2, dead, source, partner, search in rows:
                if kind == "r":
                    self._apply_removal(int(pk), key, key2, bool(dead), (source, partner, search))
                elif kind == "g":
                    self._apply_grant(int(pk), key, bool(dead))
                elif kind == "o":
                    rule_ids.append(int(pk))
            if rule_ids:  # a newer read than the snapshot's: what it sees is read again next time
                for pk in rule_ids:
                    self.rules.pop(pk, None)
                self.rules.update(
                    (r.pk, r) for r in DomainOptOut.objects.filter(pk__in=rule_ids, revoked_at__isnull=True)
                )
            self.xmax, self.xip = int(rows[0][0]), [int(x) for x in rows[0][1]]
            if len(self.changed) > MERGE_AT:
                self._merge()
        return True

    def _apply_removal(self, pk: int, key: int | None, key2: int | None, dead: bool, origin: Origin) -> None:
        old = self.changed.get(pk)
        if old is not None:
            self.added.get(old[0], {}).pop(pk, None)
        if dead or key is None or key2 is None:
            self.changed[pk] = None
        else:
            number = self._origin_ids.get(origin)
            if number is None:
                number = self._origin_ids[origin] = len(self.origins)
                self.origins.append(origin)
            self.changed[pk] = (int(key), int(key2), number)
            self.added.setdefault(int(key), {})[pk] = (int(key2), number)

    def _apply_grant(self, pk: int, key: int | None, dead: bool) -> None:
        old = self.grant_keys.pop(pk, None)
        if old is not None:
            self.grant_key_count[old] -= 1
            if self.grant_key_count[old] <= 0:
                del self.grant_key_count[old]
        if not dead and key is not None:
            self.grant_keys[pk] = int(key)
            self.grant_key_count[int(key)] += 1

    def _merge(self) -> None:
        """Fold the changed removals into the sorted arrays (under the lock)."""
        base = self.sorted
        keep = ~np.isin(base.ids, np.fromiter(self.changed, np.int64, len(self.changed)))
        live = [(pk, e) for pk, e in self.changed.items() if e is not None]
        keys = np.concatenate([base.keys[keep], np.array([e[0] for _, e in live], np.int64)])
        key2 = np.concatenate([base.key2[keep], np.array([e[1] for _, e in live], np.int64)])
        ids = np.concatenate([base.ids[keep], np.array([pk for pk, _ in live], np.int64)])
        origins = np.concatenate([base.origins[keep], np.array([e[2] for _, e in live], np.int32)])
        order = np.argsort(keys, kind="stable")
        self.sorted = _Sorted(keys=keys[order], key2=key2[order], ids=ids[order], origins=origins[order])
        self.shared = False  # this process's own arrays from now on
        self.changed, self.added = {}, {}
        self._changed_ids = np.empty(0, np.int64)

    # --- answering --------------------------------------------------------------------------

    def removal_origins(self, urls: Sequence[str]) -> dict[str, frozenset[Origin]]:
        """For each of `urls` with a live removal: its (source, partner, search) triples, in the
        order of `urls` (those only changed since the build after). URLs that say the same share
        one frozenset, so callers can work per distinct answer, not per URL."""
        found: dict[str, frozenset[Origin]] = {}
        if not urls:
            return found
        keys, key2 = url_keys(urls)
        with self._lock:
            base, origins = self.sorted, self.origins
            # The batch's keys searched in their sorted order: numpy's binary search starts from
            # the previous needle's place, so over 10 M keys it stays in cache (19 ms -> 3 ms).
            order = np.argsort(keys)
            ordered = keys[order]
            low = np.empty(len(keys), np.intp)
            high = np.empty(len(keys), np.intp)
            low[order] = start = np.searchsorted(base.keys, ordered, "left")
            high[order] = _ends(base.keys, ordered, start)
            counts = high - low
            asked = np.nonzero(counts)[0]
            shared: dict[frozenset[Origin], frozenset[Origin]] = {}
            if len(asked):
                n = counts[asked]
                which = np.repeat(asked, n)  # the URL of each candidate position, ascending
                first = np.repeat(low[asked], n)
                position = first + np.arange(len(which)) - np.repeat(np.cumsum(n) - n, n)
                same = base.key2[position] == key2[which]
                if self.changed:
                    if len(self._changed_ids) != len(self.changed):
                        self._changed_ids = np.fromiter(self.changed, np.int64, len(self.changed))
                    same &= ~np.isin(base.ids[position], self._changed_ids)
                hit, number = which[same], base.origins[position[same]]
                # Nearly every URL has one removal: its answer is its origin's one-element set,
                # made once per origin; a URL with several is gathered in Python.
                several = np.zeros(len(hit), bool)
                if len(hit) > 1:
                    repeated = hit[1:] == hit[:-1]
                    several[1:] |= repeated
                    several[:-1] |= repeated
                one = ~several
                single = {int(k): frozenset((origins[int(k)],)) for k in np.unique(number[one])}
                for answer in single.values():
                    shared[answer] = answer
                answers = list(map(single.__getitem__, number[one].tolist()))
                at = hit[one].tolist()
                if several.any():
                    gathered: dict[int, set[Origin]] = {}
                    for url_at, k in zip(hit[several].tolist(), number[several].tolist(), strict=True):
                        gathered.setdefault(url_at, set()).add(origins[k])
                    at += list(gathered)
                    answers += [shared.setdefault(frozenset(v), frozenset(v)) for v in gathered.values()]
                    ranked = np.argsort(np.array(at, np.intp), kind="stable").tolist()
                    at = [at[r] for r in ranked]
                    answers = [answers[r] for r in ranked]
                found = dict(zip([urls[k] for k in at], answers, strict=True))
            if self.added:
                for url_at, (key, second) in enumerate(zip(keys.tolist(), key2.tolist(), strict=True)):
                    candidates = self.added.get(key, {}).values()
                    more = {origins[number] for other, number in candidates if other == second}
                    if more:
                        url = urls[url_at]
                        both = found.get(url, frozenset()) | more
                        found[url] = shared.setdefault(both, both)
            self.served += 1
        return found

    def may_be_granted(self, urls: Iterable[str]) -> list[str]:
        """The URLs whose url_key a standing licence grant has (the grants are read for those)."""
        if not self.grant_key_count:  # no standing grant: no URL is hashed for them
            return []
        urls = list(urls)
        if not urls:
            return []
        keys, _ = url_keys(urls)
        counted = self.grant_key_count
        return [u for u, k in zip(urls, keys.tolist(), strict=True) if k in counted]

    def active_rules(self) -> list[DomainOptOut]:
        return list(self.rules.values())

    @property
    def removal_count(self) -> int:
        """Live removals held: the sorted ones not changed since, and the changed ones still live."""
        with self._lock:
            changed = np.fromiter(self.changed, np.int64, len(self.changed))
            kept = len(self.sorted.ids) - int(np.isin(self.sorted.ids, changed).sum())
            return kept + sum(1 for e in self.changed.values() if e is not None)

    @property
    def nbytes(self) -> int:
        return self.sorted.nbytes


_index = LookupIndex()


def lookup_index() -> LookupIndex | None:
    """This process's index when it can answer now (built, caught up); else None (read the
    database), starting its build if it has not started."""
    if not _index.start():
        return None
    return _index if _index.catch_up() else None


def lookup_index_reset() -> None:
    """Forget the index (the test suite empties the tables between tests by TRUNCATE). A build
    still running is waited for first: its thread reads in a transaction of its own, which would
    hold the next flush and whose allocations would count in the next test's measures."""
    global _index
    builder = _index._builder
    if builder is not None and builder is not threading.current_thread():
        builder.join(timeout=60)
    _index = LookupIndex()


def current_index() -> LookupIndex:
    return _index
