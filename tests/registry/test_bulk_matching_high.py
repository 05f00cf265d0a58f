"""The bulk matcher's want="high" (partners' automatic approval): the dHash search alone, plus the
pHash search for rows with a PDQ where items have PDQs, finds exactly the high matches that the
full search (want="any") finds, over batches large enough for the index's join."""

from __future__ import annotations

import random

import pytest

from registry import services
from registry.bulk_matching import OptOutRow, optout_rows_match
from registry.hashing import code_to_hex
from registry.matching import HIGH, dhash_informative, indexes, phash_informative


def _signed(code: int) -> int:
    code &= (1 << 64) - 1
    return code - (1 << 64) if code >= 1 << 63 else code


def _moved(rng: random.Random, code: int, bits: int, width: int = 64) -> int:
    for bit in rng.sample(range(width), bits):
        code ^= 1 << bit
    return code


def _informative(rng: random.Random, check) -> int:
    while True:
        code = _signed(rng.getrandbits(64))
        if check(code):
            return code


def _pdq(rng: random.Random) -> bytes:
    return rng.getrandbits(256).to_bytes(32, "big")


def _pdq_moved(rng: random.Random, pdq: bytes, bits: int) -> bytes:
    return _moved(rng, int.from_bytes(pdq, "big"), bits, 256).to_bytes(32, "big")


def _world(maintainer, rng: random.Random, *, items_with_pdq: bool):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="w", name="W")
    items = []
    for n in range(120):
        phash, dhash = _informative(rng, phash_informative), _informative(rng, dhash_informative)
        pdq = _pdq(rng) if items_with_pdq and n % 2 else None
        items.append((phash, dhash, pdq))
    # 500 more items that no row is near: an index this size answers a batch by its join
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": f"x{n}", "url": f"https://img.example/x{n}.jpg",
               "phash": code_to_hex(_informative(rng, phash_informative)),
               "dhash": code_to_hex(_informative(rng, dhash_informative))} for n in range(500)],
    )  # fmt: skip
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": f"i{n}", "url": f"https://img.example/{n}.jpg", "phash": code_to_hex(p),
             "dhash": code_to_hex(d), **({"pdq": pdq.hex(), "pdq_quality": 90} if pdq else {})}
            for n, (p, d, pdq) in enumerate(items)
        ],
    )  # fmt: skip
    rows = []
    for phash, dhash, pdq in items:
        # every mix of near and far hashes around each item, with and without the item's PDQ
        for dp, dd, dq in ((3, 2, None), (9, 8, None), (10, 9, None), (4, 14, 10), (4, 14, None),
                           (12, 6, 20), (20, 11, 5), (11, 20, 5), (2, 30, 40)):  # fmt: skip
            row_pdq = _pdq_moved(rng, pdq, dq) if pdq is not None and dq is not None else None
            rows.append(
                OptOutRow(
                    len(rows),
                    phash=_signed(_moved(rng, phash, dp)),
                    dhash=_signed(_moved(rng, dhash, dd)),
                    pdq=row_pdq if row_pdq is not None else (_pdq(rng) if dq is not None else None),
                    pdq_quality=90 if dq is not None else None,
                )
            )
    return dataset, rows


@pytest.mark.parametrize("items_with_pdq", [False, True])
def test_want_high_finds_exactly_the_high_matches_of_the_full_search(maintainer, items_with_pdq):
    rng = random.Random(14 + items_with_pdq)
    dataset, rows = _world(maintainer, rng, items_with_pdq=items_with_pdq)
    every = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows) if m.confidence == HIGH)
    high = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows, want="high"))
    assert high == every
    assert indexes("dhash").get(dataset.pk)._joins.main is not None  # the batch went through the join
    assert len(high) >= 2 * 120  # the (3, 2) and (9, 8) rows of every item at least
    if items_with_pdq:
        # a pHash and a PDQ strict with the dHash far (4, 14, 10): found only by the pHash search
        via_pdq = {r.row_id for r in rows if r.pdq is not None and r.row_id % 9 == 3}
        assert {row for row, _ in high} & via_pdq


def test_want_high_in_small_batches_equals_one_large_batch(maintainer):
    _dataset, rows = _world(maintainer, random.Random(3), items_with_pdq=True)
    whole = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows, want="high"))
    in_tens = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows, want="high", batch=10))
    assert whole == in_tens and whole


def test_want_must_be_any_or_high():
    with pytest.raises(ValueError, match="want must be"):
        list(optout_rows_match([OptOutRow(1, url="https://img.example/a.jpg")], want="medium"))  # type: ignore[arg-type]
