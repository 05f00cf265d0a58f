"""Matching opt-out rows against every data set in batches: URLs set-wise, hashes through the
Hamming indexes in one batch search, verified like an artist's works."""

from __future__ import annotations

from registry import services
from registry.bulk_matching import OptOutRow, RowMatch, optout_rows_match
from registry.hashing import code_to_hex, hex_to_code
from registry.matching import dhash_informative, phash_informative

PHASH = hex_to_code("b15fe6465121175e")
DHASH = hex_to_code("6a3c9e51d2b7480f")
OTHER_PHASH = hex_to_code("3c71a2e94b5d0f86")
OTHER_DHASH = hex_to_code("95c36a1e4d72b08f")


def _flip(code: int, bits: int) -> int:
    return hex_to_code(code_to_hex(code ^ ((1 << bits) - 1)) or "")


def _setup(maintainer):
    assert all(phash_informative(c) for c in (PHASH, OTHER_PHASH))
    assert all(dhash_informative(c) for c in (DHASH, OTHER_DHASH))
    first = services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="A")
    second = services.dataset_create(maintainer=maintainer.maintainer, slug="b", name="B")
    services.items_upsert(
        dataset=first,
        rows=[
            {"external_id": "cat", "url": "https://img.example/cat.jpg", "phash": code_to_hex(PHASH),
             "dhash": code_to_hex(DHASH)},
            {"external_id": "dog", "url": "https://img.example/dog.jpg", "phash": code_to_hex(OTHER_PHASH),
             "dhash": code_to_hex(OTHER_DHASH)},
        ],
    )  # fmt: skip
    services.items_upsert(dataset=second, rows=[{"external_id": "c2", "url": "https://img.example/cat.jpg"}])
    ids = {(d.slug, i.external_id): i.pk for d in (first, second) for i in d.items.all()}
    return first, second, ids


def test_rows_match_by_exact_url_in_every_data_set(maintainer):
    first, second, ids = _setup(maintainer)
    rows = [OptOutRow(1, url="https://img.example/cat.jpg"), OptOutRow(2, url="https://IMG.example/Cat.jpg")]
    assert sorted(optout_rows_match(rows), key=lambda m: m.dataset_id) == [
        RowMatch(1, first.pk, ids[("a", "cat")], "url"),
        RowMatch(1, second.pk, ids[("b", "c2")], "url"),
    ]


def test_a_row_matches_by_hashes_only_when_a_second_hash_agrees(maintainer):
    first, _second, ids = _setup(maintainer)
    rows = [
        OptOutRow(10, phash=_flip(PHASH, 3), dhash=_flip(DHASH, 2)),  # both close: a copy
        OptOutRow(11, phash=_flip(OTHER_PHASH, 2), dhash=DHASH),  # pHash close, dHash far: no
        OptOutRow(12, phash=hex_to_code("0000000000000001")),  # near-constant: never a candidate
    ]
    assert list(optout_rows_match(rows)) == [RowMatch(10, first.pk, ids[("a", "cat")], "hash", "high")]


def test_a_pair_found_by_url_is_not_repeated_for_its_hashes(maintainer):
    _first, _second, ids = _setup(maintainer)
    rows = [OptOutRow(5, url="https://img.example/cat.jpg", phash=PHASH, dhash=DHASH)]
    found = sorted(optout_rows_match(rows), key=lambda m: m.dataset_id)
    assert [(m.item_id, m.signal) for m in found] == [(ids[("a", "cat")], "url"), (ids[("b", "c2")], "url")]


def test_batches_change_nothing_but_memory(maintainer):
    _setup(maintainer)
    rows = [OptOutRow(n, url="https://img.example/cat.jpg" if n % 2 else None, phash=PHASH, dhash=DHASH)
            for n in range(7)]  # fmt: skip
    whole = sorted(optout_rows_match(rows), key=lambda m: (m.row_id, m.item_id))
    in_twos = sorted(optout_rows_match(rows, batch=2), key=lambda m: (m.row_id, m.item_id))
    assert whole == in_twos and len(whole) == 3 * 2 + 4  # odd rows: 2 URL pairs; even rows: 1 hash pair


def test_hostile_urls_match_nothing_and_fail_nothing(maintainer):
    _setup(maintainer)
    rows = [
        OptOutRow(1, url="https://img.example/cat.jpg\x00"),
        OptOutRow(2, url="https://img.example/\ud800.jpg"),
        OptOutRow(3, url=""),
        OptOutRow(4, url="https://img.example/" + "x" * 100_000),
    ]
    assert list(optout_rows_match(rows)) == []
