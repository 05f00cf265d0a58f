"""The partners' conflict check (partners.services.rows_conflicts) against many claiming works.

- Load: W claiming works (default 100,000; --quick 10,000; BENCH_WORKS overrides) of submitted
  requests, their pHashes random 64-bit codes (uniform: real pHashes cluster, so the bands meet
  more candidates than here).
- Chunk: 1,000 hashed partner rows (the policy's chunk), 10 of them within 3 bits of a work, the
  rest random; no item matches (the pHash half of the check is what grows with the works).
- Measured: rows_conflicts on that chunk, end to end (its queries through the pHash bands'
  indexes, then one popcount pass over the chunk per candidate), against the baseline measured in
  the same process: the former check, every claiming work's pHash read and one popcount pass over
  them per row. Both must find the same conflicts.

`python -m bench partner_conflicts [--quick]`.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .common import note, table
from .pgdb import bench_database


def _former_check(rows: list, limit: int) -> set[tuple[int, int]]:
    from requests_app.models import Work
    from requests_app.workflow import CLAIMING

    works = list(
        Work.objects.filter(request__status__in=CLAIMING, phash__isnull=False).values_list("pk", "phash")
    )
    ids = np.fromiter((w[0] for w in works), dtype=np.int64, count=len(works))
    codes = np.fromiter((w[1] for w in works), dtype=np.int64, count=len(works)).view(np.uint64)
    found = set()
    for row in rows:
        code = np.array([row.phash], dtype=np.int64).view(np.uint64)[0]
        for k in np.flatnonzero(np.bitwise_count(codes ^ code) <= limit):
            found.add((row.pk, int(ids[k])))
    return found


def run(*, quick: bool = False) -> None:
    total = int(os.environ.get("BENCH_WORKS") or (10_000 if quick else 100_000))
    with bench_database("partner_conflicts") as _database:
        from django.conf import settings

        from partners.models import FilingRow
        from partners.services import rows_conflicts
        from requests_app.models import ArtistProfile, RemovalRequest, Work
        from requests_app.services import artist_signup
        from requests_app.workflow import Status

        artist: ArtistProfile = artist_signup(
            email="bench@example.com",
            password="a long bench password 14",  # noqa: S106 (a throwaway database)
            display_name="Bench",
        )
        ticket = RemovalRequest.objects.create(artist=artist, status=Status.SUBMITTED, reference="RR-BENCH-1")
        rng = np.random.default_rng(14)
        codes = rng.integers(-(2**63), 2**63 - 1, size=total, dtype=np.int64)
        note(f"partner_conflicts: loading {total:,} claiming works")
        for start in range(0, total, 10_000):
            Work.objects.bulk_create(
                [
                    Work(
                        artist=artist, request=ticket, file="works/x.png", original_name=f"{i}.png",
                        sha256=f"{i:064x}", size_bytes=1, format="PNG", width=1, height=1,
                        phash=int(codes[i]),
                    )
                    for i in range(start, min(total, start + 10_000))
                ]
            )  # fmt: skip
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE requests_app_work")
        chunk = rng.integers(-(2**63), 2**63 - 1, size=1000, dtype=np.int64)
        for k in range(10):  # ten rows near a work
            chunk[k] = int(codes[k * 997]) ^ 0b10010001
        rows = [FilingRow(pk=k + 1, phash=int(c)) for k, c in enumerate(chunk)]
        limit = settings.CONFLICT_PHASH_MAX_DISTANCE
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            former = _former_check(rows, limit)
            baseline = time.perf_counter() - started
            started = time.perf_counter()
            found = rows_conflicts(rows, {})
            banded = time.perf_counter() - started
            timings.append((baseline, banded))
        pairs = {(row_id, c.work_id) for row_id, cs in found.items() for c in cs}
        assert pairs == former, "the banded check must find what the full check finds"
        baseline, banded = min(t[0] for t in timings), min(t[1] for t in timings)
        load = os.getloadavg()[0]
        print(
            "\n".join(
                [
                    f"Claiming works: {total:,}; a chunk of 1,000 hashed rows; "
                    f"conflicts found: {len(pairs)}; "
                    f"load average {load:.1f}; best of 3.",
                    "",
                    table(
                        ["check", "seconds per chunk", "ratio"],
                        [
                            ["every claiming pHash read (former)", f"{baseline:.3f}", "1.00"],
                            ["pHash bands through indexes", f"{banded:.3f}", f"{banded / baseline:.2f}"],
                        ],
                    ),
                ]
            )
        )
