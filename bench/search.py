"""Hamming range search over 1 M and 10 M random 64-bit codes with planted near-copies.

HammingIndex (faiss IndexBinaryMultiHash, exact by pigeonhole) vs a numpy
popcount scan over the whole array vs pybktree (1 M only, a few queries).
"""

from __future__ import annotations

import gc
import time

import numpy as np

from registry.index import HammingIndex

from .common import note, rss_bytes, table

QUERIES = 1000
NUMPY_QUERIES = 30
BKTREE_QUERIES = 10
RADII = (4, 8)


def planted(
    rng: np.random.Generator, codes: np.ndarray, radius: int, taken: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    """QUERIES random queries; for each, overwrite one code with a copy at distance 1..radius."""
    queries = rng.integers(0, 2**64, size=QUERIES, dtype=np.uint64)
    positions = []
    for q in range(QUERIES):
        while True:
            pos = int(rng.integers(0, len(codes)))
            if pos not in taken:
                taken.add(pos)
                break
        distance = 1 + q % radius
        mask = 0
        for bit in rng.choice(64, size=distance, replace=False):
            mask |= 1 << int(bit)
        codes[pos] = queries[q] ^ np.uint64(mask)
        positions.append(pos)
    return queries, np.array(positions, dtype=np.int64)


def numpy_scan(codes: np.ndarray, query: np.uint64, radius: int) -> list[tuple[int, int]]:
    d = np.bitwise_count(codes ^ query)
    hits = np.flatnonzero(d <= radius)
    return sorted(zip((hits + 1).tolist(), d[hits].tolist(), strict=True), key=lambda h: (h[1], h[0]))


def run(*, quick: bool = False) -> None:
    sizes = (100_000, 1_000_000) if quick else (1_000_000, 10_000_000)
    rows = []
    facts = []
    for n in sizes:
        rng = np.random.default_rng(n)
        note(f"search: {n:,} codes")
        codes = rng.integers(0, 2**64, size=n, dtype=np.uint64)
        taken: set[int] = set()
        plants = {r: planted(rng, codes, r, taken) for r in RADII}
        ids = np.arange(1, n + 1, dtype=np.int64)  # id = position + 1
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        index = HammingIndex.build(ids, codes.view(np.int64))
        build = time.perf_counter() - start
        grown = rss_bytes() - before
        facts.append(
            [
                f"{n:,}",
                f"{build:.1f} s",
                f"{index.memory_bytes() / n * 1e6 / 1e6:.0f} MB",
                f"{grown / n * 1e6 / 1e6:.0f} MB",
                f"nhash={3}, b={index._bits}" if index.uses_faiss else "numpy scan",
            ]
        )
        tree = None
        tree_build = 0.0
        if n == 1_000_000:
            import pybktree

            note("search: building the BK tree")
            start = time.perf_counter()
            tree = pybktree.BKTree(lambda a, b: (a ^ b).bit_count(), codes.tolist())
            tree_build = time.perf_counter() - start
        for radius in RADII:
            queries, positions = plants[radius]
            start = time.perf_counter()
            results = [index.search(int(q), radius) for q in queries]
            per_query = (time.perf_counter() - start) / QUERIES
            start = time.perf_counter()
            batch = index.search_many(queries, radius)
            per_query_batch = (time.perf_counter() - start) / QUERIES
            assert batch == results
            recall = np.mean(
                [
                    int(pos) + 1 in {hit[0] for hit in result}
                    for pos, result in zip(positions, results, strict=True)
                ]
            )
            start = time.perf_counter()
            scans = [numpy_scan(codes, q, radius) for q in queries[:NUMPY_QUERIES]]
            numpy_per_query = (time.perf_counter() - start) / NUMPY_QUERIES
            agree = sum(scan == result for scan, result in zip(scans, results, strict=False))
            rows.append(
                [
                    f"{n:,}",
                    radius,
                    "HammingIndex (faiss multi-hash)",
                    f"{per_query * 1000:.3f} ms",
                    f"{per_query_batch * 1000:.3f} ms",
                    f"{recall:.3f} ({QUERIES} queries)",
                    f"{agree}/{NUMPY_QUERIES} identical",
                ]
            )
            rows.append(
                [
                    f"{n:,}",
                    radius,
                    "numpy `bitwise_count` scan",
                    f"{numpy_per_query * 1000:.2f} ms",
                    "",
                    f"({NUMPY_QUERIES} queries)",
                    f"speed-up of the index: {numpy_per_query / per_query:.0f}x",
                ]
            )
            if tree is not None:
                start = time.perf_counter()
                found = [tree.find(int(q), radius) for q in queries[:BKTREE_QUERIES]]
                tree_per_query = (time.perf_counter() - start) / BKTREE_QUERIES
                tree_recall = np.mean(
                    [
                        int(codes[pos]) in {code for _, code in hits}
                        for pos, hits in zip(positions, found, strict=False)
                    ]
                )
                rows.append(
                    [
                        f"{n:,}",
                        radius,
                        f"pybktree (built in {tree_build:.0f} s; slow, so {BKTREE_QUERIES} queries only)",
                        f"{tree_per_query * 1000:.1f} ms",
                        "",
                        f"{tree_recall:.3f}",
                        "",
                    ]
                )
        del index, tree, codes
        gc.collect()
    print("## Search: exact Hamming range search over random 64-bit codes with planted near-copies\n")
    print(
        f"Each query has one planted code at distance 1..radius. Recall = share of planted copies returned; "
        f"agreement = result lists (ids and distances) identical to the numpy scan on the first "
        f"{NUMPY_QUERIES} queries.\n"
    )
    print(
        table(
            [
                "codes",
                "radius",
                "method",
                "latency per query",
                "per query, batch of 1000",
                "recall",
                "vs numpy",
            ],
            rows,
        )
    )
    print()
    print(
        table(
            [
                "codes",
                "index build",
                "memory per million codes (estimate)",
                "measured (RSS growth)",
                "tables",
            ],
            facts,
        )
    )
