"""The Hamming index: exact (agrees with a numpy scan), persistent, incremental, fed from the database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import index as index_module
from registry import services
from registry.hashing import code_to_hex, hamming64
from registry.index import DatasetIndexes, HammingIndex, codes_to_bytes, to_uint64
from registry.models import DatasetItem


def brute_force(ids: np.ndarray, codes: np.ndarray, code: int, radius: int) -> list[tuple[int, int]]:
    d = np.bitwise_count(to_uint64(codes) ^ np.uint64(code & 0xFFFFFFFFFFFFFFFF))
    hits = [(int(i), int(x)) for i, x in zip(ids, d, strict=True) if x <= radius]
    return sorted(hits, key=lambda h: (h[1], h[0]))


def flip_bits(code: int, bits: list[int]) -> int:
    code &= 0xFFFFFFFFFFFFFFFF
    for bit in bits:
        code ^= 1 << int(bit)
    return code - (1 << 64) if code >= (1 << 63) else code


def random_signed(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=n, dtype=np.uint64).view(np.int64)


def test_byte_layout_is_little_endian_and_distances_match_ints():
    codes = np.array([1, -1, -(2**63), 0x0123456789ABCDEF], dtype=np.int64)
    rows = codes_to_bytes(to_uint64(codes))
    assert rows.shape == (4, 8) and rows.dtype == np.uint8
    assert rows[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert rows[2].tolist() == [0, 0, 0, 0, 0, 0, 0, 0x80]
    assert rows[3].tolist() == [0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01]
    # faiss's own distance over that layout equals hamming64 on the signed ints
    import faiss

    flat = faiss.IndexBinaryFlat(64)
    flat.add(rows)
    distances, labels = flat.search(rows[:1], 4)
    for distance, label in zip(distances[0], labels[0], strict=True):
        assert distance == hamming64(int(codes[0]), int(codes[label]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    radius=st.integers(0, 12),
    planted=st.lists(st.integers(0, 12), max_size=20),
)
def test_it_agrees_exactly_with_a_numpy_scan(small_flat_max, seed, n, radius, planted):
    rng = np.random.default_rng(seed)
    query = int(random_signed(rng, 1)[0])
    codes = list(random_signed(rng, n))
    # near neighbours at every distance 0..12, and exact duplicates
    for distance in planted:
        codes.append(flip_bits(query, rng.choice(64, size=distance, replace=False).tolist()))
    codes_array = np.array(codes, dtype=np.int64)
    ids = rng.permutation(len(codes_array)).astype(np.int64) * 7 + 3
    index = HammingIndex.build(ids, codes_array)
    assert index.uses_faiss == (small_flat_max == "faiss" and len(codes_array) > 8)
    expected = brute_force(ids, codes_array, query, radius)
    assert index.search(query, radius) == expected
    assert index.search_many(np.array([query, query], dtype=np.int64), radius) == [expected, expected]
    planted_within = sum(1 for d in planted if d <= radius)
    assert sum(1 for _, d in expected if d <= radius) >= planted_within


def test_big_index_uses_faiss_and_finds_every_planted_copy():
    rng = np.random.default_rng(7)
    codes = random_signed(rng, 100_000)
    ids = np.arange(1, len(codes) + 1, dtype=np.int64)
    index = HammingIndex.build(ids, codes)
    assert index.uses_faiss and len(index) == 100_000
    for radius in (0, 3, 4, 8, 11):
        queries = []
        for q in range(20):
            target = int(codes[q * 97])
            queries.append(
                flip_bits(target, rng.choice(64, size=min(radius, q % (radius + 1)), replace=False))
            )
        results = index.search_many(np.array(queries, dtype=np.int64), radius)
        for query, result in zip(queries, results, strict=True):
            assert result == brute_force(ids, codes, query, radius)
    assert index.memory_bytes() > 100_000 * 8


def test_save_and_load_give_identical_results(tmp_path, small_flat_max):
    rng = np.random.default_rng(1)
    codes = random_signed(rng, 300)
    ids = np.arange(10, 310, dtype=np.int64)
    index = HammingIndex.build(ids, codes)
    index.remove([12, 13])
    index.meta = {"dataset_id": 5, "max_pk": 309}
    path = tmp_path / "sub" / "x.faissbin"
    index.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["x.faissbin"]  # no temp file left behind
    loaded = HammingIndex.load(path)
    assert loaded.meta == index.meta and len(loaded) == len(index) == 298
    assert loaded.uses_faiss == index.uses_faiss
    for q in range(30):
        query = flip_bits(int(codes[q]), [q % 64, (q * 7) % 64])
        assert loaded.search(query, 10) == index.search(query, 10)
    assert all(hit[0] not in (12, 13) for hit in loaded.search(int(codes[2]), 64))


def test_a_loaded_index_searches_through_its_own_hash_tables(tmp_path):
    """The tables read from the file stay alive after loading (a freed table once answered
    faiss's `assert d == self.code_size` in the second worker that loaded a saved index)."""
    import gc

    rng = np.random.default_rng(2)
    codes = random_signed(rng, 100_000)
    ids = np.arange(100_000, dtype=np.int64)
    index = HammingIndex.build(ids, codes)
    index.save(tmp_path / "big.faissbin")
    loaded = HammingIndex.load(tmp_path / "big.faissbin")
    gc.collect()
    assert loaded.uses_faiss and loaded._faiss.code_size == 8
    for q in range(20):
        query = flip_bits(int(codes[q * 31]), [q % 64])
        assert loaded.search(query, 3) == index.search(query, 3) == brute_force(ids, codes, query, 3)


def test_load_rejects_a_file_that_is_not_an_index(tmp_path):
    path = tmp_path / "bad.faissbin"
    path.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a Hamming index"):
        HammingIndex.load(path)


def test_incremental_adds_and_replacements(small_flat_max):
    rng = np.random.default_rng(3)
    codes = random_signed(rng, 50)
    index = HammingIndex.build(np.arange(50, dtype=np.int64), codes)
    more = random_signed(rng, 50)
    index.add(np.arange(50, 100, dtype=np.int64), more)
    all_ids, all_codes = np.arange(100, dtype=np.int64), np.concatenate([codes, more])
    for q in (0, 49, 50, 99):
        assert index.search(int(all_codes[q]), 6) == brute_force(all_ids, all_codes, int(all_codes[q]), 6)
    # replace the code of id 60: the old one stops matching
    index.remove([60])
    index.add(np.array([60]), np.array([flip_bits(int(codes[0]), [1])]))
    assert (60, 0) not in index.search(int(more[10]), 0)
    assert index.search(int(codes[0]), 1)[:2] == [(0, 0), (60, 1)]
    assert len(index) == 100


def test_growing_past_the_flat_size_switches_to_faiss(monkeypatch):
    monkeypatch.setattr(index_module, "FLAT_MAX", 100)
    rng = np.random.default_rng(4)
    codes = random_signed(rng, 300)
    index = HammingIndex()
    for start in range(0, 300, 60):
        index.add(np.arange(start, start + 60, dtype=np.int64), codes[start : start + 60])
    assert index.uses_faiss
    ids = np.arange(300, dtype=np.int64)
    for q in range(0, 300, 37):
        assert index.search(int(codes[q]), 9) == brute_force(ids, codes, int(codes[q]), 9)


# --- from the database --------------------------------------------------------


def _items(prefix: str, codes: list[int]) -> list[dict[str, str]]:
    return [
        {
            "external_id": f"{prefix}{n}",
            "url": f"https://img.example/{prefix}{n}.jpg",
            "phash": code_to_hex(c),
        }
        for n, c in enumerate(codes)
    ]


def test_dataset_indexes_build_from_the_database_and_pick_up_later_items(maintainer, tmp_path):
    rng = np.random.default_rng(5)
    target = int(random_signed(rng, 1)[0])
    photos = services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    art = services.dataset_create(maintainer=maintainer.maintainer, slug="art", name="Art")
    services.items_upsert(dataset=photos, rows=[*_items("p", [int(c) for c in random_signed(rng, 40)])])
    services.items_upsert(dataset=photos, rows=_items("near", [flip_bits(target, [3, 9])]))
    services.items_upsert(dataset=art, rows=[{"external_id": "nohash", "url": "https://img.example/n.jpg"}])

    indexes = DatasetIndexes(tmp_path, check_interval=0)
    near = DatasetItem.objects.get(external_id="near0")
    assert indexes.search_all(target, 4) == [(near.pk, 2)]
    assert (tmp_path / f"dataset-{photos.pk}.faissbin").exists()
    assert len(indexes.get(photos.pk)) == 41 and len(indexes.get(art.pk)) == 0

    # later items, in another data set and the same one, are found by the same cache...
    services.items_upsert(dataset=art, rows=_items("a", [target]))
    services.items_upsert(dataset=photos, rows=_items("later", [flip_bits(target, [60])]))
    exact = DatasetItem.objects.get(external_id="a0")
    later = DatasetItem.objects.get(external_id="later0")
    assert indexes.search_all(target, 4) == [(exact.pk, 0), (later.pk, 1), (near.pk, 2)]

    # ...and by a fresh one that loads the saved files and catches up from the database
    services.items_upsert(dataset=art, rows=_items("b", [flip_bits(target, [0, 1, 2])]))
    fresh = DatasetIndexes(tmp_path, check_interval=0)
    b0 = DatasetItem.objects.get(external_id="b0")
    assert fresh.search_all(target, 4) == [(exact.pk, 0), (later.pk, 1), (near.pk, 2), (b0.pk, 3)]
    assert fresh.get(art.pk).meta["max_pk"] == b0.pk


def test_dataset_indexes_see_replaced_hashes_and_deleted_items(maintainer, tmp_path):
    rng = np.random.default_rng(6)
    target = int(random_signed(rng, 1)[0])
    photos = services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    services.items_upsert(dataset=photos, rows=_items("p", [target, flip_bits(target, [5])]))
    indexes = DatasetIndexes(tmp_path, check_interval=0)
    p0, p1 = (DatasetItem.objects.get(external_id=f"p{n}").pk for n in (0, 1))
    assert indexes.search_all(target, 2) == [(p0, 0), (p1, 1)]

    services.items_upsert(dataset=photos, rows=_items("p", [flip_bits(target, [1, 2, 3, 4, 5, 6])]))
    assert indexes.search_all(target, 2) == [(p1, 1)]  # p0's hash was replaced

    DatasetItem.objects.filter(pk=p1).delete()
    assert indexes.search_all(target, 8) == [(p0, 6)]


def test_a_fresh_build_is_not_read_again_at_once_but_the_next_check_sees_changes(maintainer, tmp_path):
    """Items written in the last 10 minutes (the late-commit margin) were read a second time, as
    tuples, by the check that followed the build: at 10 M items, 4.4 GB and minutes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = np.random.default_rng(7)
    target = int(random_signed(rng, 1)[0])
    photos = services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    services.items_upsert(dataset=photos, rows=_items("p", [target, flip_bits(target, [5])]))
    indexes = DatasetIndexes(tmp_path, check_interval=60)
    with CaptureQueriesContext(connection) as queries:
        assert len(indexes.get(photos.pk)) == 2
    assert not [q for q in queries if "updated_at" in q["sql"]]  # built, not checked
    indexes.check_interval = 0  # the next check is due
    p0 = DatasetItem.objects.get(external_id="p0").pk
    services.items_upsert(dataset=photos, rows=_items("p", [flip_bits(target, [1, 2, 3, 4, 5, 6])]))
    assert indexes.search_all(target, 2) == [(DatasetItem.objects.get(external_id="p1").pk, 1)]
    assert p0 not in [pk for pk, _ in indexes.search_all(target, 2)]  # the replaced hash is seen


def test_the_check_reads_the_updated_items_in_chunks(maintainer, tmp_path, monkeypatch):
    from registry import index as index_module

    monkeypatch.setattr(index_module, "CHUNK", 2)  # three items: two chunks, both checked
    rng = np.random.default_rng(8)
    target = int(random_signed(rng, 1)[0])
    photos = services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    services.items_upsert(
        dataset=photos, rows=_items("p", [target, flip_bits(target, [5]), flip_bits(target, [9])])
    )
    indexes = DatasetIndexes(tmp_path, check_interval=0)
    assert len(indexes.search_all(target, 2)) == 3
    far = flip_bits(target, [1, 2, 3, 4, 5, 6])
    services.items_upsert(dataset=photos, rows=_items("p", [far, far, far]))
    assert indexes.search_all(target, 2) == []  # the first chunk's and the last one's replaced


def test_rebuild_index_command(maintainer, tmp_path, settings):
    import io

    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    photos = services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    services.items_upsert(dataset=photos, rows=_items("p", [1, 2, 3]))
    (tmp_path / "indexes").mkdir()
    (tmp_path / "indexes" / "dataset-999999.faissbin").write_bytes(b"orphan")
    err = io.StringIO()
    call_command("rebuild_index", stderr=err)
    assert "3 codes indexed from 3 items" in err.getvalue()
    assert sorted(p.name for p in (tmp_path / "indexes").iterdir()) == [f"dataset-{photos.pk}.faissbin"]
    assert len(HammingIndex.load(tmp_path / "indexes" / f"dataset-{photos.pk}.faissbin")) == 3
    with pytest.raises(Exception, match="no data set with slug nope"):
        call_command("rebuild_index", "nope", stderr=io.StringIO())
