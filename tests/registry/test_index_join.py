"""The Hamming index's batch join (search_many_join): the same answers as the per-query search and
a numpy scan, over dead entries, codes added after it was built, compaction and crowded buckets."""

from __future__ import annotations

import numpy as np
import pytest

from registry import index_join
from registry.index import JOIN_MIN_BATCH, HammingIndex, to_uint64

from .test_index import brute_force, flip_bits, random_signed


def planted_queries(rng: np.random.Generator, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Queries, and codes planted at every distance 0..radius+1 from them (bit 63 included, which
    lies in none of the join's segments)."""
    queries = random_signed(rng, 40)
    planted = []
    for q in queries.tolist():
        for d in range(radius + 2):
            planted.append(flip_bits(q, list(rng.choice(64, size=d, replace=False))))
        planted.append(flip_bits(q, [63]))
    return queries, np.array(planted, dtype=np.int64)


def build(
    rng: np.random.Generator, n: int, radius: int
) -> tuple[HammingIndex, np.ndarray, np.ndarray, np.ndarray]:
    queries, planted = planted_queries(rng, radius)
    codes = np.concatenate([random_signed(rng, n), planted])
    ids = rng.permutation(len(codes)).astype(np.int64) + 1000
    return HammingIndex.build(ids, codes), ids, codes, queries


def expected(index: HammingIndex, ids: np.ndarray, codes: np.ndarray, queries: np.ndarray, radius: int):
    live = index.ids()
    keep = np.isin(ids, live)
    return [brute_force(ids[keep], codes[keep], int(q), radius) for q in queries.tolist()]


@pytest.mark.parametrize("radius", [0, 1, 3, 5, 8, 10, 12])
def test_the_join_agrees_with_a_scan_and_with_the_per_query_search(radius):
    rng = np.random.default_rng(radius)
    index, ids, codes, queries = build(rng, 70_000, radius)  # past FLAT_MAX: faiss tables too
    assert index.uses_faiss
    joined = index.search_many_join(queries, radius)
    assert joined == expected(index, ids, codes, queries, radius)
    assert joined == [index.search(int(q), radius) for q in queries.tolist()]
    # every planted code within the radius is found (0..radius, and bit 63's from 1 on)
    assert all(len(hits) >= radius + 1 + (radius >= 1) for hits in joined)


def test_dead_entries_are_skipped_and_compaction_rebuilds_the_join():
    rng = np.random.default_rng(1)
    index, ids, codes, queries = build(rng, 20_000, 8)
    index.search_many_join(queries, 8)
    first = index._joins.main
    dead = rng.choice(ids, size=3_000, replace=False)
    index.remove(dead)
    assert index._joins.main is first  # positions unchanged: the live mask does it
    assert index.search_many_join(queries, 8) == expected(index, ids, codes, queries, 8)
    index.remove(rng.choice(index.ids(), size=len(index) // 3, replace=False))  # past a quarter: compacts
    assert index._joins.main is None
    assert index.search_many_join(queries, 8) == expected(index, ids, codes, queries, 8)
    assert index._joins.main is not None and index._joins.main.size == len(index)


def test_codes_added_after_the_join_are_scanned_then_joined_apart_then_joined_again(monkeypatch):
    monkeypatch.setattr(index_join, "_JOIN_TAIL_MAX", 500)
    rng = np.random.default_rng(2)
    index, ids, codes, queries = build(rng, 20_000, 6)
    index.search_many_join(queries, 6)
    first = index._joins.main

    def add(more_ids: np.ndarray, more_codes: np.ndarray) -> None:
        nonlocal ids, codes
        index.add(more_ids, more_codes)
        ids, codes = np.concatenate([ids, more_ids]), np.concatenate([codes, more_codes])

    # near copies of the queries, added after the join was built: scanned
    add(
        np.arange(len(queries), dtype=np.int64) + 10**6,
        np.array([flip_bits(int(q), [3, 40]) for q in queries.tolist()], dtype=np.int64),
    )
    joined = index.search_many_join(queries, 6)
    assert index._joins.main is first and index._joins.tail is None
    assert joined == expected(index, ids, codes, queries, 6)
    assert all(any(i >= 10**6 for i, _ in hits) for hits in joined)
    # past _JOIN_TAIL_MAX: the added codes get a join of their own, the main one stays
    add(np.arange(600, dtype=np.int64) + 2 * 10**6, random_signed(rng, 600))
    assert index.search_many_join(queries, 6) == expected(index, ids, codes, queries, 6)
    tail = index._joins.tail
    assert index._joins.main is first and tail is not None and tail.base == first.size
    # more than a quarter of the main join: one join over everything again
    add(np.arange(6_000, dtype=np.int64) + 3 * 10**6, random_signed(rng, 6_000))
    assert index.search_many_join(queries, 6) == expected(index, ids, codes, queries, 6)
    assert (
        index._joins.main is not first and index._joins.main.size == len(codes) and index._joins.tail is None
    )


def test_crowded_buckets_are_split_into_smaller_passes(monkeypatch):
    monkeypatch.setattr(index_join, "_JOIN_CANDIDATES_PER_PASS", 1_000)
    rng = np.random.default_rng(3)
    crowd = np.full(5_000, 0x0F0F0F0F0F0F0F0F, dtype=np.int64)  # 5,000 equal codes: one bucket each
    codes = np.concatenate([random_signed(rng, 5_000), crowd])
    ids = np.arange(len(codes), dtype=np.int64)
    index = HammingIndex.build(ids, codes)
    queries = np.array([flip_bits(0x0F0F0F0F0F0F0F0F, [k, 60]) for k in range(30)], dtype=np.int64)
    joined = index.search_many_join(queries, 4)
    assert joined == [brute_force(ids, codes, int(q), 4) for q in queries.tolist()]
    assert all(len(hits) >= 5_000 for hits in joined)


def test_search_many_takes_the_join_for_a_large_batch_only():
    rng = np.random.default_rng(4)
    index, ids, codes, queries = build(rng, 70_000, 8)
    many = np.resize(queries, JOIN_MIN_BATCH)
    index.search_many(many[:-1], 8)
    assert index._joins.main is None and index.join_memory_bytes() == 0
    before = index.memory_bytes()
    assert index.search_many(many, 8) == [brute_force(ids, codes, int(q), 8) for q in many.tolist()]
    assert index._joins.main is not None
    # 3 segments x (4-byte positions + 8-byte codes) per code, plus the offset tables
    bits = index._joins.main.bits
    assert index.join_memory_bytes() == 3 * (12 * len(codes) + 4 * ((1 << bits) + 1))
    assert index.memory_bytes() == before + index.join_memory_bytes()


def test_empty_indexes_batches_and_negative_radii():
    index = HammingIndex()
    assert index.search_many_join([1, 2], 3) == [[], []]
    index.add(np.array([7], dtype=np.int64), np.array([5], dtype=np.int64))
    assert index.search_many_join([], 3) == []
    assert index.search_many_join([5], -1) == [[]]
    assert index.search_many_join(np.array([5, 4], dtype=np.int64), 1) == [[(7, 0)], [(7, 1)]]
    assert to_uint64(np.array([-1])).tolist() == [2**64 - 1]
