"""The public transparency report at size: 1,000,000 removals over 4 data sets (a third of them
acknowledged, hours to days after approval) and 100,000 requests over a year, in PostgreSQL.

Measured: `requests_app.report.compute()` (every figure of the page, the percentiles included)
against a baseline in the same run, one `SELECT count(*)` over the removals (the least any
figure over that table costs); then the page through Django's test client when its figures are
computed (cache emptied) and when they are cached, which is what visitors get between refreshes
(REPORT_CACHE_SECONDS).
"""

from __future__ import annotations

import statistics
import time

from .common import note, table
from .pgdb import bench_database, fill_removals, psql

REMOVALS = 1_000_000
REQUESTS = 100_000
RUNS = 3


def _best(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(*, quick: bool = False) -> None:
    n = REMOVALS // 5 if quick else REMOVALS
    with bench_database("report"):
        from django.contrib.auth.models import User
        from django.core.cache import cache
        from django.db import connection
        from django.test import Client

        from requests_app import report
        from requests_app.models import ArtistProfile, RemovalRequest

        database = connection.settings_dict["NAME"]
        note(f"report: writing {n:,} removals and {REQUESTS:,} requests")
        fill_removals(database, n)
        psql(
            database,
            """
            UPDATE registry_removal SET acknowledged_at = approved_at + (random() * 96 || ' hours')::interval
            WHERE state = 'acknowledged';
            ANALYZE registry_removal;
            """,
        )
        user = User.objects.create_user("bench@example.org", "bench@example.org", "x" * 12)
        artist = ArtistProfile.objects.create(user=user, display_name="Bench")
        statuses = ["approved", "completed", "rejected", "withdrawn", "in_review"]
        bases = ["copyright", "likeness", "privacy"]
        RemovalRequest.objects.bulk_create(
            (
                RemovalRequest(
                    artist=artist,
                    reference=f"RR-2026-{i:06d}",
                    status=statuses[i % 5],
                    basis=bases[i % 3],
                )
                for i in range(REQUESTS)
            ),
            batch_size=5000,
        )
        psql(
            database,
            "UPDATE requests_app_removalrequest"
            " SET submitted_at = now() - (random() * 360 || ' days')::interval;"
            " ANALYZE requests_app_removalrequest;",
        )

        def baseline() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM registry_removal")
                cursor.fetchone()

        base = _best(baseline)
        computed = _best(report.compute)
        client = Client()

        def cold() -> None:
            cache.delete(report.CACHE_KEY)
            assert client.get("/transparency/").status_code == 200

        def warm() -> None:
            assert client.get("/transparency/").status_code == 200

        page_cold = _best(cold)
        warm()
        page_warm = _best(warm)
        figures = report.compute()
        assert sum(d["in_force"] + d["revoked"] for d in figures["datasets"]) == n
        assert sum(m["approved"] + m["rejected"] + m["withdrawn"] + m["open"] for m in figures["months"]) > 0
    rows = [
        ["`report.compute()`: every figure", f"{computed * 1000:,.0f} ms", f"{computed / base:.1f}x"],
        ["baseline: `SELECT count(*)` over the removals", f"{base * 1000:,.0f} ms", "1.0x"],
        ["`GET /transparency/`, figures computed (cache emptied)", f"{page_cold * 1000:,.0f} ms", ""],
        ["`GET /transparency/`, figures cached", f"{page_warm * 1000:,.0f} ms", ""],
    ]
    print(f"## Transparency report: {n:,} removals, {REQUESTS:,} requests (PostgreSQL, median of {RUNS})\n")
    print(table(["what", "time", "vs baseline"], rows))
