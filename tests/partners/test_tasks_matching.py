"""A filing's rows matched by hashes on the real worker (Redis, PostgreSQL) the same way as registry's
full search rates them high: re-encoded copies at other URLs of the partner's domain, with and
without PDQ, against a data set large enough that the worker's dHash index answers by its join."""

from __future__ import annotations

import random

import pytest

from partners.models import Filing, FilingState
from registry import services as registry_services
from registry.bulk_matching import OptOutRow, optout_rows_match
from registry.hashing import code_to_hex, hex_to_code, hex_to_pdq
from registry.matching import HIGH, dhash_informative, phash_informative
from registry.models import Removal
from tests.helpers import PARTNER_HOST, partner_row, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
FILE = "/api/v1/partner/filings/"


def _code(rng: random.Random, check) -> int:
    while True:
        code = hex_to_code(f"{rng.getrandbits(64):016x}")
        if check(code):
            return code


def _moved(rng: random.Random, code: int, bits: int, width: int = 64) -> int:
    for bit in rng.sample(range(width), bits):
        code ^= 1 << bit
    return code


def test_the_worker_approves_exactly_the_high_hash_matches_of_the_full_search(
    celery_worker_process, maintainer, partner_api, auto_policy
):
    rng = random.Random(14)
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="big", name="Big")
    items = []
    for n in range(700):  # past the size where a batch's dHash search goes through the join
        pdq = rng.getrandbits(256).to_bytes(32, "big") if n % 3 == 0 else None
        items.append((f"x{n}", _code(rng, phash_informative), _code(rng, dhash_informative), pdq))
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": e, "url": f"https://img.example/{e}.jpg", "phash": code_to_hex(p),
             "dhash": code_to_hex(d), **({"pdq": pdq.hex(), "pdq_quality": 90} if pdq else {})}
            for e, p, d, pdq in items
        ],
    )  # fmt: skip
    rows = []
    for n, (_e, phash, dhash, pdq) in enumerate(items[:300]):  # a batch past JOIN_MIN_BATCH
        # near and far mixes: both strict, pHash strict with a far dHash (high only with a PDQ), neither
        dp, dd, dq = ((3, 2, 8), (4, 15, 10), (9, 8, None), (12, 10, 12))[n % 4]
        row = partner_row(1000 + n, work_url=f"https://cdn.{PARTNER_HOST}/copy/{n}.jpg")
        row["phash"] = code_to_hex(hex_to_code(f"{_moved(rng, phash & (2**64 - 1), dp):016x}"))
        row["dhash"] = code_to_hex(hex_to_code(f"{_moved(rng, dhash & (2**64 - 1), dd):016x}"))
        if pdq is not None and dq is not None:
            row["pdq"] = f"{_moved(rng, int.from_bytes(pdq, 'big'), dq, 256):064x}"
            row["pdq_quality"] = 90
        rows.append(row)
    response = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json")
    assert response.status_code == 202, response.content
    filing_id = response.json()["id"]
    filing = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.COMPLETED).first(),
        what="the worker to decide the filing",
    )
    expected: dict[int, set[int]] = {}
    wanted = [
        OptOutRow(
            row_id=n,
            phash=hex_to_code(row["phash"]),
            dhash=hex_to_code(row["dhash"]),
            pdq=hex_to_pdq(row["pdq"]) if "pdq" in row else None,
            pdq_quality=row.get("pdq_quality"),
        )
        for n, row in enumerate(rows)
    ]
    for match in optout_rows_match(wanted):  # the full search, in this process
        if match.confidence == HIGH:
            expected.setdefault(match.row_id, set()).add(match.item_id)
    decided = {row.index: row.matched for row in filing.rows.all()}
    assert decided == {n: len(expected.get(n, ())) for n in range(len(rows))}
    removed = set(Removal.objects.filter(source_ref=filing_id).values_list("item_id", flat=True))
    assert removed == set().union(*expected.values())
    # the mixes above: every both-strict row, and the far-dHash rows whose item has a PDQ
    assert len(removed) == 75 + 75 + sum(1 for n in range(1, 300, 4) if n % 3 == 0)
