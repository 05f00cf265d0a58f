"""The partners' conflict check (partners.services.rows_conflicts) against many claiming works.

- Load: W claiming works of one submitted request (10,000, 100,000 and 1,000,000; --quick the
  first two; BENCH_WORKS sets one size), written by PostgreSQL itself, their pHashes random 64-bit
  codes (uniform: real pHashes cluster, so the bands meet more candidates than here), vacuumed
  and analysed (this server runs without autovacuum).
- Chunk: 1,000 hashed partner rows (the policy's chunk), 10 of them within 3 bits of a work, the
  rest random; no item matches (the pHash half of the check is what grows with the works).
- Measured: rows_conflicts on that chunk, end to end (up to FULL_READ_MAX claiming works read and
  compared in blocks; more, one statement probing the pHash bands' indexes with the chunk's codes,
  the distance measured in it), against the baseline measured in the same process: the former
  check, every claiming work's pHash read and one popcount pass over them per row. Both must find
  the same conflicts. The plan's buffers are printed for the largest.

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


def _grow(artist_id: int, request_id: int, upto: int) -> None:
    """Works up to `upto` in all, their pHashes random (PostgreSQL's random(), 64 bits)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM requests_app_work")
        (have,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO requests_app_work (file, original_name, sha256, size_bytes, format, width, height,"
            " phash, hash_state, hash_error, created_at, artist_id, request_id, phash_variants,"
            " derived_hashes, decision, embedded_signals, attribution, choice, licence, licence_url)"
            " SELECT 'works/x.png', i || '.png', lpad(to_hex(i), 64, '0'), 1, 'PNG', 1, 1,"
            " (floor(random() * 4294967296)::bigint << 32) # floor(random() * 4294967296)::bigint,"
            " 'done', '', now(), %s, %s, '[]', '[]', '', '{}', '', '', '', ''"
            " FROM generate_series(%s, %s - 1) AS i",
            [artist_id, request_id, have, upto],
        )
        # As autovacuum would (this server runs without): the probes then read the index only.
        cursor.execute("VACUUM ANALYZE requests_app_work")


def run(*, quick: bool = False) -> None:
    one = os.environ.get("BENCH_WORKS")
    sizes = [int(one)] if one else [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
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
        limit = settings.CONFLICT_PHASH_MAX_DISTANCE
        results = []
        for total in sizes:
            note(f"partner_conflicts: {total:,} claiming works")
            _grow(artist.pk, ticket.pk, total)
            theirs = list(Work.objects.order_by("?").values_list("phash", flat=True)[:10])
            chunk = rng.integers(-(2**63), 2**63 - 1, size=1000, dtype=np.int64)
            for k, code in enumerate(theirs):  # ten rows near a work, 3 bits off
                chunk[k] = code ^ 0b10010001
            rows = [FilingRow(pk=k + 1, phash=int(c)) for k, c in enumerate(chunk)]
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
            assert len(pairs) >= 10, pairs
            baseline, banded = min(t[0] for t in timings), min(t[1] for t in timings)
            ratio, load = banded / baseline, os.getloadavg()[0]
            results.append(
                [
                    f"{total:,}",
                    f"{len(pairs)}",
                    f"{baseline:.3f}",
                    f"{banded:.3f}",
                    f"{ratio:.2f}",
                    f"{load:.1f}",
                ]
            )
        plan = _plan([int(c) for c in chunk], limit)
    print(
        "\n".join(
            [
                "A chunk of 1,000 hashed rows against the claiming works; best of 3 each; rows_conflicts"
                " reads the works up to 20,000 of them (FULL_READ_MAX), probes the bands above.",
                "",
                table(
                    [
                        "claiming works",
                        "conflicts found",
                        "former full read (s)",
                        "rows_conflicts (s)",
                        "ratio",
                        "load average",
                    ],
                    results,
                ),
                "",
                f"The probes' plan at {sizes[-1]:,} works (EXPLAIN ANALYZE, BUFFERS), its last lines:",
                "",
                *(f"    {line}" for line in plan[-4:]),
            ]
        )
    )


def _plan(codes: list[int], limit: int) -> list[str]:
    from django.db import connection

    from core.phash_bands import jit_off, near_params, near_sql
    from requests_app.models import Work

    with jit_off(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + near_sql(table=Work._meta.db_table, columns=("id", "request_id")),
            near_params(codes, limit),
        )
        return [row[0] for row in cursor.fetchall()]
