"""A batch join for exact Hamming range search over 64-bit codes (HammingIndex.search_many_join).

A large batch of queries (a partner's file, thousands of rows at once) is
answered by a join: the same pigeonhole as
multi-index hashing, but over our own arrays in numpy, a few passes per
batch rather than one C++ probe loop per query. For each of the 3 disjoint
segments the codes are kept sorted by segment value, with a direct-address
table of bucket offsets (`SegmentJoin`); every flip pattern of up to
floor(r / 3) bits is XORed into the whole batch's segment values at once,
the buckets' ranges are expanded into candidates (np.repeat), their codes
gathered and popcounted, and a hit is kept by the first segment that finds
it, so nothing is reported twice. At 10 million codes a dHash query
(radius 8) costs 1-2.4 ms in faiss's per-query probing and about 0.14 ms in
the join, in batches of a few hundred or more (bench/bulk_match.py).

The codes (uint64) are the index's own array; positions returned are positions in it, and the
index applies its live mask and ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

NHASH = 3  # three disjoint segments, as registry.index cuts them for faiss
# The join's candidate arrays are cut to about this many entries per pass (memory stays flat).
_JOIN_CANDIDATES_PER_PASS = 1 << 22
# Codes added after the join was built are scanned directly, up to this many; past it they get a
# join of their own (the tail's), and past a quarter of the main join's size the main one is built
# again over everything: a data set growing by imports costs rebuilds in proportion to what came.
_JOIN_TAIL_MAX = 4096

Found = tuple[np.ndarray, np.ndarray, np.ndarray]  # (query number, position, distance)


def _flip_masks(bits: int, nflip: int) -> np.ndarray:
    """Every `bits`-bit mask with at most `nflip` ones, as int64 (0 first)."""
    masks = [0]
    for k in range(1, nflip + 1):
        masks += [sum(1 << b for b in chosen) for chosen in itertools.combinations(range(bits), k)]
    return np.array(masks, dtype=np.int64)


class SegmentJoin:
    """The codes sorted by each of NHASH disjoint `bits`-bit segments, for HammingIndex.search_many_join.

    Per segment: the positions in segment order (int32), the codes in that order (uint64: a
    bucket's codes are contiguous, so gathering candidates reads memory in runs, not one cache
    miss per candidate), and a direct-address table of 2**bits + 1 bucket offsets (int32 below
    2**31 codes).
    Covers positions [base, base + size) of the index's arrays.
    """

    def __init__(self, codes: np.ndarray, bits: int, base: int = 0):
        self.bits = bits
        self.base = base
        self.size = len(codes)
        self.order: list[np.ndarray] = []
        self.sorted_codes: list[np.ndarray] = []
        self.offsets: list[np.ndarray] = []
        mask = np.uint64((1 << bits) - 1)
        position_type = np.int32 if self.size < 2**31 else np.int64
        for segment in range(NHASH):
            values = ((codes >> np.uint64(segment * bits)) & mask).astype(np.int64)
            order = np.argsort(values, kind="stable").astype(position_type)
            counts = np.bincount(values, minlength=1 << bits)
            offsets = np.zeros((1 << bits) + 1, dtype=position_type)
            np.cumsum(counts, out=offsets[1:])
            self.order.append(order)
            self.sorted_codes.append(codes[order])
            self.offsets.append(offsets)

    def nbytes(self) -> int:
        return sum(a.nbytes for group in (self.order, self.sorted_codes, self.offsets) for a in group)

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query number, position, distance) of every code within `radius`, each pair once."""
        flips = _flip_masks(self.bits, radius // NHASH)
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Queries per pass, so that the candidates stay near _JOIN_CANDIDATES_PER_PASS.
        per_query = max(1.0, len(flips) * self.size / (1 << self.bits))
        step = max(1, int(_JOIN_CANDIDATES_PER_PASS / per_query))
        for first in range(0, len(queries), step):
            for segment in range(NHASH):
                self._probe(queries[first : first + step], first, segment, flips, radius, found)
        if not found:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        q, p, d = (np.concatenate([f[i] for f in found]) for i in range(3))
        return q, p, d

    def _probe(
        self,
        chunk: np.ndarray,
        first: int,
        segment: int,
        flips: np.ndarray,
        radius: int,
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> None:
        """One segment's buckets for `chunk` (queries `first`... of the batch), into `found`."""
        bits, mask = self.bits, np.uint64((1 << self.bits) - 1)
        nflip = radius // NHASH
        values = ((chunk >> np.uint64(segment * bits)) & mask).astype(np.int64)
        probes = (values[:, None] ^ flips[None, :]).reshape(-1)
        offsets = self.offsets[segment]
        starts = offsets[probes]
        counts = offsets[probes + 1] - starts
        per_query = counts.reshape(len(chunk), len(flips)).sum(axis=1, dtype=np.int64)
        total = int(per_query.sum())
        if not total:
            return
        if total > 2 * _JOIN_CANDIDATES_PER_PASS and len(chunk) > 1:
            # Crowded buckets (many equal codes): halve the pass rather than grow its arrays.
            half = len(chunk) // 2
            self._probe(chunk[:half], first, segment, flips, radius, found)
            self._probe(chunk[half:], first + half, segment, flips, radius, found)
            return
        # Candidate k of probe p sits at starts[p] + k: one repeat of (start - the probes' running
        # total) plus a running index gives every candidate's place; each candidate is compared
        # with its query's code, repeated alongside.
        before = np.cumsum(counts, dtype=np.int64) - counts
        places = np.repeat(starts - before, counts) + np.arange(total, dtype=np.int64)
        sorted_codes = self.sorted_codes[segment]
        d = np.bitwise_count(sorted_codes[places] ^ np.repeat(chunk, per_query))
        keep = np.flatnonzero(d <= radius)
        if not len(keep):
            return
        query_of = np.searchsorted(np.cumsum(per_query), keep, side="right")
        places, d = places[keep], d[keep]
        if segment:  # a pair an earlier segment finds (within nflip there) is that segment's
            xor = sorted_codes[places] ^ chunk[query_of]
            earlier = np.zeros(len(keep), dtype=bool)
            for t in range(segment):
                earlier |= np.bitwise_count((xor >> np.uint64(t * bits)) & mask) <= nflip
            query_of, places, d = query_of[~earlier], places[~earlier], d[~earlier]
        positions = self.order[segment][places].astype(np.int64) + self.base
        found.append((query_of + first, positions, d.astype(np.int64)))


class Joins:
    """The main join and the tail's, built or rebuilt as the codes grow (the caller holds its lock)."""

    def __init__(self) -> None:
        self.main: SegmentJoin | None = None
        self.tail: SegmentJoin | None = None

    def reset(self) -> None:
        self.main = self.tail = None

    def nbytes(self) -> int:
        return sum(join.nbytes() for join in (self.main, self.tail) if join is not None)

    def search(
        self, codes: np.ndarray, bits_for: Callable[[int], int], queries: np.ndarray, radius: int
    ) -> Found:
        joins = self._current(codes, bits_for)
        found = [join.search(queries, radius) for join in joins]
        covered = joins[-1].base + joins[-1].size
        if covered < len(codes):
            found.append(_scan(codes, queries, radius, covered))
        q, p, d = (np.concatenate([f[i] for f in found]) for i in range(3))
        return q, p, d

    def _current(self, codes: np.ndarray, bits_for: Callable[[int], int]) -> list[SegmentJoin]:
        n = len(codes)
        main = self.main
        if main is None or (n - main.size) * 4 > main.size:
            main = self.main = SegmentJoin(codes, bits_for(n))
            self.tail = None
        tail = self.tail
        covered = tail.base + tail.size if tail is not None else main.size
        if n - covered > _JOIN_TAIL_MAX:
            tail = self.tail = SegmentJoin(codes[main.size :], bits_for(n - main.size), main.size)
        return [main] if tail is None else [main, tail]


def _scan(codes: np.ndarray, queries: np.ndarray, radius: int, start: int) -> Found:
    """Codes added since the joins were built (positions `start`...), scanned against every query."""
    tail = codes[start:]
    step = max(1, _JOIN_CANDIDATES_PER_PASS // max(1, len(tail)))
    qs, ps, ds = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for first in range(0, len(queries), step):
        d = np.bitwise_count(queries[first : first + step, None] ^ tail[None, :])
        q, p = np.nonzero(d <= radius)
        qs.append(q + first)
        ps.append(p + start)
        ds.append(d[q, p].astype(np.int64))
    return np.concatenate(qs), np.concatenate(ps), np.concatenate(ds)
