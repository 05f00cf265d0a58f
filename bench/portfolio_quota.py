"""What the portfolio quota costs when a work is stored, at 100, 10,000 and 49,000 works, PostgreSQL.

work_store checks PORTFOLIO_QUOTA_WORKS and PORTFOLIO_QUOTA_BYTES under the artist's lock with one
aggregate (COUNT and SUM of size_bytes over the artist's works, selectors.portfolio_usage): the
cost grows with the portfolio. Measured here: that aggregate alone, and a whole work_store of a
new 64x64 PNG (lock, duplicate lookup, quota, file write, INSERT) in a transaction rolled back, so
every run stores into the same portfolio. Median ms over RUNS; ratio to the 100-work portfolio
measured in the same run (all artists in one database).
"""

from __future__ import annotations

import io
import random
import statistics
import tempfile
import time

from .common import note, table
from .pgdb import bench_database

RUNS = 25


def _png(seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (64, 64))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(64 * 64)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def run(*, quick: bool = False) -> None:
    sizes = [100, 10_000] if quick else [100, 10_000, 49_000]  # 50,000 is the default quota itself
    with bench_database("portfolio_quota"), tempfile.TemporaryDirectory() as media:
        from django.db import connection, transaction
        from django.test import override_settings

        from registry.hashing import sanitize
        from requests_app import selectors, services
        from requests_app.storage import private_storage

        cleans = [sanitize(_png(i), max_pixels=10_000_000) for i in range(RUNS)]
        rows = []
        base: tuple[float, float] | None = None
        with override_settings(PRIVATE_MEDIA_ROOT=media):
            for attribute in ("base_location", "location"):
                private_storage.__dict__.pop(attribute, None)
            for n in sizes:
                note(f"portfolio_quota: {n:,} works")
                profile = services.artist_signup(
                    email=f"artist{n}@bench.example",
                    password="bench passphrase 12345",  # noqa: S106 (a throw-away database)
                    display_name=f"Artist {n}",
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        """
                        INSERT INTO requests_app_work (artist_id, file, original_name, sha256, size_bytes,
                            format, width, height, phash_variants, derived_hashes, hash_state, hash_error,
                            decision, created_at)
                        SELECT %s, 'works/bench/' || i || '.png', 'w' || i || '.png',
                               md5('q' || i) || md5(i || 'q'), 200000, 'PNG', 800, 600, '[]', '[]',
                               'done', '', 'undecided', now()
                        FROM generate_series(0, %s - 1) AS i
                        """,
                        [profile.pk, n],
                    )
                    cursor.execute("ANALYZE requests_app_work")
                usage_ms = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    usage = selectors.portfolio_usage(profile.pk, with_pending=False)
                    usage_ms.append((time.perf_counter() - started) * 1000)
                assert usage.works == n
                store_ms = []
                for clean in cleans:
                    with transaction.atomic():
                        started = time.perf_counter()
                        stored = services.work_store(
                            artist=profile, ticket=None, name="new.png", clean_content=clean
                        )
                        store_ms.append((time.perf_counter() - started) * 1000)
                        assert stored.work is not None, stored.message
                        transaction.set_rollback(True)  # the next run stores into the same portfolio
                figures = (statistics.median(usage_ms), statistics.median(store_ms))
                base = base or figures
                rows.append(
                    [
                        f"{n:,}",
                        f"{figures[0]:.2f}",
                        f"{figures[0] / base[0]:.1f}x",
                        f"{figures[1]:.2f}",
                        f"{figures[1] / base[1]:.1f}x",
                        f"{100 * figures[0] / figures[1]:.0f}%",
                    ]
                )
    print("## Portfolio quota: its check in work_store\n")
    print(
        table(
            [
                "works in the portfolio",
                "usage aggregate (ms)",
                "vs 100",
                "work_store (ms)",
                "vs 100",
                "aggregate's share",
            ],
            rows,
        )
    )
