"""An exact Hamming range search over 64-bit codes: a multi-index on segments, in numpy.

The removals are the small side (millions) and a data set the big one (billions): the removals
are indexed once, and the data set's codes stream through in batches.

Pigeonhole: split the 64 bits into three segments (21, 21 and 22 bits). Two codes within
`radius` bits differ by at most radius // 3 bits in at least one segment, so every code within
the radius is among those found by looking up, in each segment's table, the query's segment
with up to radius // 3 of its bits flipped. Each candidate is then checked on all 64 bits, so
the answer is exact: nothing within the radius is missed, nothing outside it is returned.

A segment's table is a counting sort of the codes by that segment (2^21 or 2^22 buckets), so a
lookup is two array reads; a batch of queries is looked up at once, all its flips together.
At radius 6 a query makes 718 lookups (232 + 232 + 254); against a million removals a bucket
holds 0.24 to 0.48 codes, so about 250 candidates are checked per query.

Three segments take one flip a segment up to radius 5. At radius 6 and 7 they need two flips,
ten times the lookups, where four segments of 16 bits need one (68 lookups, about a thousand
candidates per query against a million codes) and answer the same, exactly, several times
faster. `layout` picks whichever of the two a cost estimate says is cheaper for the radius and
the number of codes; both are tested against comparing every pair.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np

SEGMENTS = ((0, 21), (21, 21), (42, 22))  # (shift, width) of each segment; 21 + 21 + 22 = 64
FOUR_SEGMENTS = ((0, 16), (16, 16), (32, 16), (48, 16))
# What a lookup costs against checking one candidate (a random read of the table, its
# bookkeeping), measured on this code: about four.
LOOKUP_COST = 4.0


def layout(radius: int, codes: int) -> tuple[tuple[int, int], ...]:
    """The segments that answer `radius` over `codes` codes with the least estimated work."""

    def cost(segments: tuple[tuple[int, int], ...]) -> float:
        most = radius // len(segments)
        lookups = sum(sum(math.comb(width, k) for k in range(most + 1)) for _, width in segments)
        candidates = sum(
            sum(math.comb(width, k) for k in range(most + 1)) * codes / 2**width for _, width in segments
        )
        return lookups * LOOKUP_COST + candidates

    return min((SEGMENTS, FOUR_SEGMENTS), key=cost)


# Queries looked up together: bounded so that the lookups and candidates of a batch stay near
# 2 million entries (about 100 MB of work arrays) whatever the radius and the number of codes.
PROBE_BUDGET = 2_000_000


@lru_cache(maxsize=32)
def _flips(width: int, most: int) -> np.ndarray:
    """Every mask of `width` bits with at most `most` bits set (0 first)."""
    masks = [0]
    for k in range(1, min(most, width) + 1):
        for bits in itertools.combinations(range(width), k):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.uint64)


def to_codes(values: np.ndarray) -> np.ndarray:
    """int64 (the registry's signed form) or uint64 codes -> uint64, without copying bits."""
    array = np.ascontiguousarray(values)
    if array.dtype == np.int64:
        return array.view(np.uint64)
    return array.astype(np.uint64, copy=False)


class MultiIndex:
    """Codes (uint64) and, for each segment, its counting-sort table: exact range search."""

    def __init__(self, codes: np.ndarray, segments: tuple[tuple[int, int], ...] = SEGMENTS) -> None:
        if sum(width for _, width in segments) != 64:
            raise ValueError("the segments must cover the 64 bits")
        self.codes = to_codes(codes)
        self.segments = segments
        # Per segment: (bucket starts, code positions sorted by bucket).
        self.tables: list[tuple[np.ndarray, np.ndarray]] = []
        for shift, width in segments:
            keys = ((self.codes >> np.uint64(shift)) & np.uint64((1 << width) - 1)).view(np.int64)
            order = np.argsort(keys, kind="stable").astype(np.int32 if len(keys) < 2**31 else np.int64)
            starts = np.zeros((1 << width) + 1, dtype=np.int64)
            np.cumsum(np.bincount(keys, minlength=1 << width), out=starts[1:])
            self.tables.append((starts, order))

    def __len__(self) -> int:
        return len(self.codes)

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (query position, code position, distance) within `radius` bits, each pair once,
        sorted by query then distance then code position."""
        queries = to_codes(queries)
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))
        if radius < 0 or not len(self.codes) or not len(queries):
            return empty
        radius = min(int(radius), 64)
        most = radius // len(self.segments)
        flips = [_flips(width, most) for _, width in self.segments]
        per_query = sum(
            len(f) * (1 + len(self.codes) / 2**width)
            for f, (_, width) in zip(flips, self.segments, strict=True)
        )
        step = max(1, int(PROBE_BUDGET // per_query))
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for start in range(0, len(queries), step):
            found.append(self._search_batch(queries[start : start + step], radius, flips, start))
        q = np.concatenate([f[0] for f in found])
        c = np.concatenate([f[1] for f in found])
        d = np.concatenate([f[2] for f in found])
        order = np.lexsort((c, d, q))
        return q[order], c[order], d[order]

    def _search_batch(
        self, queries: np.ndarray, radius: int, flips: list[np.ndarray], offset: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        query_parts, code_parts = [], []
        for (shift, width), (starts, order), masks in zip(self.segments, self.tables, flips, strict=True):
            keys = (queries >> np.uint64(shift)) & np.uint64((1 << width) - 1)
            probes = (keys[:, None] ^ masks[None, :]).view(np.int64).ravel()  # (queries x flips)
            # The table is read at random (a cache miss a probe); a bucket's end sits next to
            # its start, so the second read is nearly free.
            lo = starts[probes]
            counts = starts[probes + 1] - lo
            hit = np.flatnonzero(counts)
            if not len(hit):
                continue
            lo, counts = lo[hit], counts[hit]
            which = hit // len(masks)
            # Expand each bucket [lo, lo + count) into its positions without a Python loop.
            total = int(counts.sum())
            first = np.cumsum(counts) - counts
            positions = np.arange(total, dtype=np.int64) - np.repeat(first - lo, counts)
            query_parts.append(np.repeat(which, counts))
            code_parts.append(order[positions])
        if not query_parts:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        q = np.concatenate(query_parts)
        c = np.concatenate(code_parts).astype(np.int64)
        d = np.bitwise_count(self.codes[c] ^ queries[q]).astype(np.int64)
        near = d <= radius
        q, c, d = q[near], c[near], d[near]
        # A code near in two segments was found twice: keep each (query, code) pair once.
        pair = np.unique(q * len(self.codes) + c, return_index=True)[1]
        return q[pair] + offset, c[pair], d[pair]


def brute_force(
    codes: np.ndarray, queries: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same answer by comparing every pair: the reference the index is tested against."""
    codes, queries = to_codes(codes), to_codes(queries)
    qs, cs, ds = [], [], []
    for i, query in enumerate(queries):
        d = np.bitwise_count(codes ^ query).astype(np.int64)
        near = np.flatnonzero(d <= radius)
        qs.append(np.full(len(near), i, dtype=np.int64))
        cs.append(near.astype(np.int64))
        ds.append(d[near])
    if not qs:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    q, c, d = np.concatenate(qs), np.concatenate(cs), np.concatenate(ds)
    order = np.lexsort((c, d, q))
    return q[order], c[order], d[order]
