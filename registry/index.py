"""Exact Hamming range search over 64-bit codes, and a per-data-set cache of such indexes.

`HammingIndex` answers "every code within `radius` bits of this one" exactly.
Large indexes use faiss-cpu's `IndexBinaryMultiHash`: the 64 bits are cut
into `nhash` disjoint segments of `bits` bits, one hash table per segment.
If two codes differ in at most r bits, one of the segments differs in at
most floor(r / nhash) bits (pigeonhole), so probing every table with all
flips of up to floor(r / nhash) bits (faiss's `nflip`) finds every code
within r; faiss then confirms each candidate with the full distance. Small
indexes (and very large radii, where probing would cost more) use a numpy
popcount scan, which is exact too.

A large batch of queries is answered instead by a join over our own arrays
(registry.index_join, `HammingIndex.search_many_join`).

Codes arrive as the database stores them: signed int64. They are viewed as
uint64 and laid out little-endian, 8 bytes per code, for faiss
(`codes_to_bytes`); a Hamming distance does not depend on the bit order as
long as both sides use the same one, and the tests check faiss's distances
against `hamming64` on ints.

Our ids are kept in our own int64 array, indexed by faiss's sequential
labels (faiss ids are positions). Replaced or removed codes are marked dead
in a mask and skipped until the index is rebuilt.

`DatasetIndexes` keeps one index per data set, built from DatasetItem rows,
saved under VAR_DIR/indexes/dataset-<id>.faissbin and brought up to date
incrementally.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .index_join import NHASH, Joins

_faiss_any: Any = faiss  # the SWIG callback I/O classes have no type stubs

_MAGIC = b"RDHAMM01"
_FORMAT_VERSION = 1
# Below this many codes a numpy scan (about 1 ns per code) beats building hash tables.
FLAT_MAX = 1 << 16

MAX_BITS = 64 // NHASH  # 21: three disjoint 21-bit segments
MIN_BITS = 16
# A hash-table probe (with its candidates) costs about as much as scanning this many codes.
_PROBE_COST_IN_CODES = 600
# From this many queries on, search_many answers by the join. It beats faiss's probing from about
# 8 queries a call (bench/bulk_match.py: 140 us a query at 10 M codes against 1-2 ms), but is
# built on first use (12 s and 37 bytes a code at 10 M codes): a process matching single works
# (about 90 derived views a call) keeps to faiss; bulk matching and re-matching take the join.
JOIN_MIN_BATCH = 256


def to_uint64(codes: Any) -> np.ndarray:
    """Signed int64 codes (as stored in the database), uint64 codes or Python ints -> uint64 array."""
    array = np.asarray(codes)
    if array.dtype == np.uint64:
        return np.ascontiguousarray(array.reshape(-1))
    if array.dtype == object:  # Python ints, possibly >= 2**63
        return np.array([int(c) & 0xFFFFFFFFFFFFFFFF for c in array.reshape(-1)], dtype=np.uint64)
    return np.ascontiguousarray(array.reshape(-1).astype(np.int64, copy=False)).view(np.uint64)


def codes_to_bytes(codes: np.ndarray) -> np.ndarray:
    """uint64 codes -> (n, 8) uint8 rows for faiss: each code's bytes, least significant first."""
    return np.ascontiguousarray(codes.astype("<u8", copy=False)).view(np.uint8).reshape(-1, 8)


def _query_code(code: int) -> np.uint64:
    return np.uint64(int(code) & 0xFFFFFFFFFFFFFFFF)


def choose_bits(n: int) -> int:
    """Bits per hash table: about log2(n), so a bucket holds a few codes."""
    return int(min(MAX_BITS, max(MIN_BITS, math.ceil(math.log2(max(n, 2))))))


def _probes(nhash: int, bits: int, radius: int) -> int:
    nflip = radius // nhash
    return nhash * sum(math.comb(bits, k) for k in range(nflip + 1))


class HammingIndex:
    """Exact Hamming range search over 64-bit codes with our own int64 ids."""

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._codes = np.empty(0, dtype=np.uint64)
        self._live: np.ndarray | None = None  # None: every position is live
        self._dead = 0
        self._faiss: Any = None  # faiss.IndexBinaryMultiHash or None (numpy scan)
        self._bits = 0
        self._joins = Joins()  # built by the first large batch, see search_many_join
        self._lock = threading.RLock()
        self.meta: dict[str, Any] = {}

    # --- building -----------------------------------------------------------

    @classmethod
    def build(cls, ids: np.ndarray, codes: np.ndarray) -> HammingIndex:
        index = cls()
        index.add(ids, codes)
        return index

    def add(self, ids: np.ndarray, codes: np.ndarray) -> None:
        new_ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        new_codes = to_uint64(codes)
        if len(new_ids) != len(new_codes):
            raise ValueError(f"{len(new_ids)} ids but {len(new_codes)} codes")
        if not len(new_ids):
            return
        with self._lock:
            self._ids = np.concatenate([self._ids, new_ids])
            self._codes = np.concatenate([self._codes, new_codes])
            if self._live is not None:
                self._live = np.concatenate([self._live, np.ones(len(new_ids), dtype=bool)])
            total = len(self._codes)
            if total <= FLAT_MAX:
                return
            if self._faiss is None or choose_bits(total) > self._bits + 1:
                self._build_faiss()  # first time past FLAT_MAX, or grown 4x past its table size
            else:
                self._faiss.add(codes_to_bytes(new_codes))

    def _build_faiss(self) -> None:
        bits = choose_bits(len(self._codes))
        table = faiss.IndexBinaryMultiHash(64, NHASH, bits)
        step = 1_000_000
        for start in range(0, len(self._codes), step):
            table.add(codes_to_bytes(self._codes[start : start + step]))
        self._faiss, self._bits = table, bits

    def remove(self, ids: Iterable[int] | np.ndarray) -> int:
        """Mark every entry with one of these ids dead; returns how many. Compacts when a quarter is dead."""
        targets = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        with self._lock:
            hit = np.isin(self._ids, targets)
            if self._live is not None:
                hit &= self._live
            count = int(hit.sum())
            if not count:
                return 0
            if self._live is None:
                self._live = np.ones(len(self._ids), dtype=bool)
            self._live[hit] = False
            self._dead += count
            if self._dead * 4 > len(self._ids):
                self.compact()
            return count

    def compact(self) -> None:
        """Drop dead entries and rebuild the hash tables."""
        with self._lock:
            if self._live is not None:
                self._ids, self._codes = self._ids[self._live], self._codes[self._live]
            self._live, self._dead = None, 0
            self._faiss, self._bits = None, 0
            self._joins.reset()  # positions moved
            if len(self._codes) > FLAT_MAX:
                self._build_faiss()

    # --- searching ----------------------------------------------------------

    def search(self, code: int, radius: int) -> list[tuple[int, int]]:
        """Every (id, distance) within `radius` bits, sorted by distance then id."""
        return self.search_many(np.array([_query_code(code)], dtype=np.uint64), radius)[0]

    def search_many(self, codes: Sequence[int] | np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
        queries = to_uint64(codes if isinstance(codes, np.ndarray) else np.array(list(codes), dtype=object))
        if radius < 0 or not len(self._codes):
            return [[] for _ in range(len(queries))]
        radius = min(int(radius), 64)
        if len(queries) >= JOIN_MIN_BATCH and self.join_pays(radius):
            return self.search_many_join(queries, radius)
        with self._lock:
            use_faiss = self._faiss is not None and (
                _probes(NHASH, self._bits, radius) * _PROBE_COST_IN_CODES < len(self._codes)
            )
            if use_faiss:
                self._faiss.nflip = radius // NHASH  # pigeonhole: exact
                # faiss returns distances strictly below its radius argument.
                lims, distances, labels = self._faiss.range_search(codes_to_bytes(queries), radius + 1)
                return [
                    self._hits(labels[lims[q] : lims[q + 1]], distances[lims[q] : lims[q + 1]])
                    for q in range(len(queries))
                ]
            results = []
            for query in queries:
                d = np.bitwise_count(self._codes ^ query)
                positions = np.flatnonzero(d <= radius)
                results.append(self._hits(positions, d[positions]))
            return results

    def join_pays(self, radius: int) -> bool:
        """Whether the join's candidates per query (probes times a bucket's codes) are fewer than
        a scan's (every code): false for small indexes' wide radii."""
        n = len(self._codes)
        bits = choose_bits(n)
        return radius >= 0 and _probes(NHASH, bits, radius) * max(1.0, n / (1 << bits)) < n

    def search_many_join(self, codes: Sequence[int] | np.ndarray, radius: int) -> list[list[tuple[int, int]]]:
        """search_many for a large batch, by the segment join: the same answers, in numpy passes
        over the whole batch. The join is built on first use and after compaction; codes added
        since are scanned directly (up to _JOIN_TAIL_MAX), then joined apart, until they are a
        quarter of the main join and it is built again; dead ones are skipped."""
        queries = to_uint64(codes if isinstance(codes, np.ndarray) else np.array(list(codes), dtype=object))
        if radius < 0 or not len(self._codes):
            return [[] for _ in range(len(queries))]
        radius = min(int(radius), 64)
        with self._lock:
            query_of, positions, distances = self._joins.search(self._codes, choose_bits, queries, radius)
            if self._live is not None and len(positions):
                keep = self._live[positions]
                query_of, positions, distances = query_of[keep], positions[keep], distances[keep]
            ids = self._ids[positions]
        order = np.lexsort((ids, distances, query_of))
        query_of, ids, distances = query_of[order], ids[order], distances[order]
        bounds = np.searchsorted(query_of, np.arange(len(queries) + 1))
        ids_list, distances_list = ids.tolist(), distances.tolist()
        return [
            list(zip(ids_list[a:b], distances_list[a:b], strict=True))
            for a, b in itertools.pairwise(bounds.tolist())
        ]

    def join_memory_bytes(self) -> int:
        """The joins' arrays (0 until a large batch built them)."""
        return self._joins.nbytes()

    def _hits(self, positions: np.ndarray, distances: np.ndarray) -> list[tuple[int, int]]:
        positions = np.asarray(positions, dtype=np.int64)
        distances = np.asarray(distances, dtype=np.int64)
        if self._live is not None and len(positions):
            keep = self._live[positions]
            positions, distances = positions[keep], distances[keep]
        ids = self._ids[positions]
        order = np.lexsort((ids, distances))
        return list(zip(ids[order].tolist(), distances[order].tolist(), strict=True))

    # --- facts ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids) - self._dead

    @property
    def uses_faiss(self) -> bool:
        return self._faiss is not None

    @property
    def max_id(self) -> int:
        return int(self._ids.max()) if len(self._ids) else 0

    def ids(self) -> np.ndarray:
        """Live ids (a copy)."""
        return self._ids[self._live] if self._live is not None else self._ids.copy()

    def codes_of(self, ids: np.ndarray) -> dict[int, int]:
        """Signed code of each live id among `ids`."""
        mask = np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        if self._live is not None:
            mask &= self._live
        return dict(zip(self._ids[mask].tolist(), self._codes[mask].view(np.int64).tolist(), strict=True))

    def memory_bytes(self) -> int:
        """Approximate resident size: our arrays, faiss's copy of the codes and its hash tables,
        and the join's sorted copies (12 bytes per code per segment plus 2**bits offsets each).

        Each faiss table is a std::unordered_map from segment value to a vector
        of labels; calibrated on this machine at about 29 bytes per code per
        table plus 40 bytes per occupied bucket (see bench/search.py, which
        also reports the measured RSS growth).
        """
        total = self._ids.nbytes + self._codes.nbytes + (self._live.nbytes if self._live is not None else 0)
        if self._faiss is not None:
            n = int(self._faiss.ntotal)
            buckets = (1 << self._bits) * (1 - math.exp(-n / (1 << self._bits)))
            total += n * 8 + NHASH * int(n * 29 + buckets * 40)
        return total + self.join_memory_bytes()

    # --- persistence ----------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: a temporary file in the same folder, fsync, then os.replace."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            header = json.dumps(
                {
                    "version": _FORMAT_VERSION,
                    "count": len(self._ids),
                    "bits": self._bits,
                    "nhash": NHASH,
                    "has_live": self._live is not None,
                    "has_faiss": self._faiss is not None,
                    "meta": self.meta,
                }
            ).encode()
            fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_MAGIC + struct.pack("<Q", len(header)) + header)
                    out.write(self._ids.astype("<i8", copy=False).tobytes())
                    out.write(self._codes.astype("<u8", copy=False).tobytes())
                    if self._live is not None:
                        out.write(self._live.astype(np.uint8).tobytes())
                    if self._faiss is not None:
                        faiss.write_index_binary(self._faiss, _faiss_any.PyCallbackIOWriter(out.write))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HammingIndex:
        with open(path, "rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise ValueError(f"{path} is not a Hamming index file")
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
            if header.get("version") != _FORMAT_VERSION or header.get("nhash") != NHASH:
                raise ValueError(f"{path} has an unsupported format")
            n = int(header["count"])
            index = cls()
            index._ids = _read_array(f, "<i8", n).astype(np.int64)
            index._codes = _read_array(f, "<u8", n).astype(np.uint64)
            if header["has_live"]:
                index._live = _read_array(f, "u1", n).astype(bool)
                index._dead = int(n - index._live.sum())
            if header["has_faiss"]:
                raw: Any = faiss.read_index_binary(_faiss_any.PyCallbackIOReader(f.read))
                table: Any = faiss.downcast_IndexBinary(raw)
                # The downcast is a second proxy of the same C++ object: it must own it, or the
                # object is freed with `raw` and the table reads freed memory (code_size garbage).
                raw.thisown, table.thisown = False, True
                if not isinstance(table, faiss.IndexBinaryMultiHash) or table.ntotal != n:
                    raise ValueError(f"{path}: the hash tables do not match the codes")
                index._faiss, index._bits = table, int(header["bits"])
            index.meta = dict(header.get("meta") or {})
            return index


def _read_array(f: Any, dtype: str, n: int) -> np.ndarray:
    array = np.empty(n, dtype=dtype)
    if n and f.readinto(array.data.cast("B")) != array.nbytes:
        raise ValueError("index file is truncated")
    return array


# --- one index per data set ---------------------------------------------------

CHUNK = 200_000
# Save a cached index again once this many changes (or 1% of it) are not on disk.
SAVE_AFTER = 10_000
# Rows committed late (a transaction that began before the last check) still
# carry an updated_at inside this margin, so the next check sees them.
_LATE_COMMIT_MARGIN = timedelta(minutes=10)

Progress = Callable[[int], None]


class DatasetIndexes:
    """A process-local cache of one HammingIndex per data set, over one hash field of DatasetItem
    (`phash` or `dhash`).

    `get()` loads the saved file (or builds from the database), then adds the
    items whose pk is above the highest it holds. Every `check_interval`
    seconds (0: on every call) it also re-reads the items updated since its
    last check (replaced hashes, and rows a slow transaction committed late)
    and compares the row count with its own, rebuilding on a mismatch
    (deleted items). Without an index on updated_at that check scans the
    data set's rows, hence the interval.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        check_interval: float = 60.0,
        field: str = "phash",
    ):
        if field not in ("phash", "dhash"):
            raise ValueError(f"no 64-bit hash field {field!r}")
        self.field = field
        if directory is None:
            from django.conf import settings

            directory = Path(settings.VAR_DIR) / "indexes"
        self.directory = Path(directory)
        self.check_interval = check_interval
        self._indexes: dict[int, HammingIndex] = {}
        self._checked_at: dict[int, float] = {}
        self._unsaved: dict[int, int] = {}
        self._lock = threading.Lock()

    def path(self, dataset_id: int) -> Path:
        suffix = "" if self.field == "phash" else f"-{self.field}"
        return self.directory / f"dataset-{dataset_id}{suffix}.faissbin"

    def get(self, dataset_id: int) -> HammingIndex:
        with self._lock:
            index = self._indexes.get(dataset_id)
            if index is None:
                index = self._load_or_build(dataset_id)
                self._indexes[dataset_id] = index
                self._unsaved[dataset_id] = 0
            changes = self._add_new(dataset_id, index)
            now = time.monotonic()
            if now - self._checked_at.get(dataset_id, -math.inf) >= self.check_interval:
                self._checked_at[dataset_id] = now
                checked, changed = self._check(dataset_id, index)
                if checked is not index:
                    self._indexes[dataset_id] = index = checked
                    changes = len(index) + 1  # rebuilt: save it
                changes += changed
            # Saving only warms the next start (it catches up from the database anyway),
            # so a big index is not rewritten for every few new items.
            self._unsaved[dataset_id] = self._unsaved.get(dataset_id, 0) + changes
            if self._unsaved[dataset_id] > min(SAVE_AFTER, len(index) // 100):
                index.save(self.path(dataset_id))
                self._unsaved[dataset_id] = 0
            return index

    def rebuild(self, dataset_id: int, progress: Progress | None = None) -> HammingIndex:
        with self._lock:
            index = self._build(dataset_id, progress)
            index.save(self.path(dataset_id))
            self._indexes[dataset_id] = index
            self._checked_at[dataset_id] = time.monotonic()
            self._unsaved[dataset_id] = 0
            return index

    def forget(self, dataset_id: int) -> None:
        with self._lock:
            self._indexes.pop(dataset_id, None)
            self._checked_at.pop(dataset_id, None)
            self._unsaved.pop(dataset_id, None)

    def search_all(self, code: int, radius: int) -> list[tuple[int, int]]:
        """(item_id, distance) over every data set, sorted by distance then item id."""
        return self.search_all_many([code], radius)[0]

    def search_all_many(
        self, codes: Sequence[int], radius: int, *, dataset_ids: Sequence[int] | None = None
    ) -> list[list[tuple[int, int]]]:
        """search_all for several codes at once: one look at the data sets, one batch per index
        (a large batch is answered by the index's join, see HammingIndex.search_many_join).
        `dataset_ids`: only these data sets (default: every one)."""
        from .models import Dataset

        if not codes:
            return []
        existing = list(Dataset.objects.order_by("pk").values_list("pk", flat=True))
        for stale in set(self._indexes) - set(existing):
            self.forget(stale)
        if dataset_ids is not None:
            existing_set = set(existing)
            dataset_ids = [d for d in dataset_ids if d in existing_set]
        else:
            dataset_ids = existing
        from . import shards

        sharded = shards.sharded_datasets()
        hits: list[list[tuple[int, int]]] = [[] for _ in codes]
        for dataset_id in dataset_ids:
            answers = (
                shards.search(self.field, sharded[dataset_id], codes, radius)
                if dataset_id in sharded  # its shards' workers answer (registry.shards)
                else self.get(dataset_id).search_many(codes, radius)
            )
            for found, more in zip(hits, answers, strict=True):
                found.extend(more)
        for found in hits:
            found.sort(key=lambda hit: (hit[1], hit[0]))
        return hits

    # --- internals ------------------------------------------------------------

    def _load_or_build(self, dataset_id: int) -> HammingIndex:
        path = self.path(dataset_id)
        if path.exists():
            try:
                index = HammingIndex.load(path)
                if index.meta.get("dataset_id") == dataset_id:
                    return index
            except (OSError, ValueError, RuntimeError):
                pass  # unreadable or from another format: rebuild below
        index = self._build(dataset_id)
        # Just read whole: no check now (the next one's margin still covers late commits); checked
        # at once, a data set loaded in the last 10 minutes was all read a second time.
        self._checked_at[dataset_id] = time.monotonic()
        index.save(path)
        return index

    def _build(self, dataset_id: int, progress: Progress | None = None) -> HammingIndex:
        from django.utils import timezone

        started = timezone.now()
        index = HammingIndex()
        index.meta = {"dataset_id": dataset_id, "max_pk": 0, "checked_through": started.isoformat()}
        self._stream_into(dataset_id, index, progress)
        return index

    def _items(self, dataset_id: int) -> Any:
        """The rows this cache indexes for one data set (a shard narrows them: registry.shards)."""
        from .models import DatasetItem

        return DatasetItem.objects.filter(dataset_id=dataset_id)

    def _stream_into(self, dataset_id: int, index: HammingIndex, progress: Progress | None = None) -> int:
        """Add every item with pk above meta['max_pk'], in chunks ordered by pk. Returns rows read."""
        last = int(index.meta.get("max_pk", 0))
        seen = 0
        while True:
            rows = list(
                self._items(dataset_id)
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", self.field)[:CHUNK]
            )
            if not rows:
                break
            pks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            has = np.fromiter((r[1] is not None for r in rows), dtype=bool, count=len(rows))
            codes = np.fromiter((r[1] or 0 for r in rows), dtype=np.int64, count=len(rows))
            index.add(pks[has], codes[has])
            last = int(pks[-1])
            index.meta["max_pk"] = last
            seen += len(rows)
            if progress is not None:
                progress(seen)
            if len(rows) < CHUNK:
                break
        return seen

    def _add_new(self, dataset_id: int, index: HammingIndex) -> int:
        return self._stream_into(dataset_id, index)

    def _check(self, dataset_id: int, index: HammingIndex) -> tuple[HammingIndex, int]:
        """Apply rows updated (or committed late) since the last check; rebuild if rows were deleted.

        Returns the index (a new one if rebuilt) and how many entries changed.
        """
        from django.utils import timezone

        started = timezone.now()
        since = datetime.fromisoformat(index.meta["checked_through"]) - _LATE_COMMIT_MARGIN
        max_pk = int(index.meta.get("max_pk", 0))
        changed, last = 0, 0
        while True:  # in chunks, as a build reads: after a big load the margin holds all of it
            rows = list(
                self._items(dataset_id)
                .filter(pk__gt=last, pk__lte=max_pk, updated_at__gte=since)
                .order_by("pk")
                .values_list("pk", self.field)[:CHUNK]
            )
            if not rows:
                break
            last = rows[-1][0]
            held = index.codes_of(np.array([r[0] for r in rows], dtype=np.int64))
            stale = [(pk, code) for pk, code in rows if held.get(pk) != code]
            if stale:
                index.remove(np.array([pk for pk, _ in stale if pk in held], dtype=np.int64))
                fresh = [(pk, code) for pk, code in stale if code is not None]
                if fresh:
                    index.add(
                        np.array([pk for pk, _ in fresh], dtype=np.int64),
                        np.array([code for _, code in fresh], dtype=np.int64),
                    )
                changed += len(stale)
            if len(rows) < CHUNK:
                break
        count = self._items(dataset_id).filter(pk__lte=max_pk, **{f"{self.field}__isnull": False}).count()
        if count != len(index):  # items were deleted: start again
            return self._build(dataset_id), 0
        index.meta["checked_through"] = started.isoformat()
        return index, changed
