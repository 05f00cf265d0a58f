"""The portfolio page at 100 and 10,000 works (5 matches per work: 500 and 50,000), PostgreSQL.

Both artists live in one database, so the small portfolio is measured beside the big tables.
Each page is served end to end through Django's test client (URL resolution, the artist's
session, the selectors, the template), as the artist's browser asks for it: the first page,
filtered pages (found, removed in one data set, a name search), the last page, and the page of a
draft request holding a tenth of the works (its works in pages, with their copies to answer).
Figures: median ms over RUNS, queries per page (BEGIN, SET LOCAL and COMMIT included), and the
ratio to the same page of the 100-work portfolio measured in the same run.
"""

from __future__ import annotations

import statistics
import time

from .common import note, table
from .pgdb import bench_database

RUNS = 7
COPIES = 5
DATASETS = 3


def _fill(
    cursor, *, artist_id: int, n: int, approved_id: int, draft_id: int, reference: str, tag: str
) -> None:
    """`n` works (2 in 50 still being checked, 2 in 50 failed), COPIES matches per hashed work in
    DATASETS data sets; one work in ten in an approved request (its copies approved, removals
    recorded, half acknowledged by the maintainer), one in ten in a draft, the rest in none."""
    cursor.execute(
        """
        INSERT INTO requests_app_work (artist_id, request_id, file, original_name, sha256, size_bytes,
            format, width, height, phash, phash_variants, derived_hashes, hash_state, hash_error, created_at)
        SELECT %(artist)s,
               CASE WHEN i %% 10 = 3 THEN %(approved)s WHEN i %% 10 = 5 THEN %(draft)s END,
               'works/bench/' || i || '.png',
               CASE WHEN i %% 3 = 0 THEN 'cat-' ELSE 'work-' END || lpad(i::text, 5, '0') || '.png',
               md5(%(tag)s || i) || md5(i || %(tag)s), 200000, 'PNG', 800, 600,
               CASE WHEN i %% 50 IN (7, 9) THEN NULL ELSE i END, '[]', '[]',
               CASE WHEN i %% 50 = 7 THEN 'pending' WHEN i %% 50 = 9 THEN 'failed' ELSE 'done' END,
               CASE WHEN i %% 50 = 9 THEN 'The file could not be read.' ELSE '' END, now()
        FROM generate_series(0, %(n)s - 1) AS i
        """,
        {"artist": artist_id, "approved": approved_id, "draft": draft_id, "n": n, "tag": tag},
    )
    cursor.execute(
        """
        CREATE TEMP TABLE bench_copies ON COMMIT DROP AS
        SELECT w.id AS work_id, w.request_id, c, ds.id AS dataset_id,
               %(tag)s || '-' || w.id || '-' || c AS external_id
        FROM requests_app_work w
        CROSS JOIN generate_series(0, %(copies)s - 1) AS c
        JOIN registry_dataset ds ON ds.slug = 'bench-' || ((w.id + c) %% %(datasets)s)
        WHERE w.artist_id = %(artist)s AND w.hash_state = 'done';
        INSERT INTO registry_datasetitem
            (dataset_id, external_id, url, url_key, host, path, phash, created_at, updated_at)
        SELECT dataset_id, external_id, 'https://img.example/' || external_id || '.jpg',
               ('x' || left(md5(external_id), 16))::bit(64)::bigint,
               'example.img.', '/' || external_id || '.jpg', work_id, now(), now()
        FROM bench_copies;
        INSERT INTO requests_app_match (work_id, item_id, algorithm, distance, signals, view, confidence,
            state, created_at)
        SELECT b.work_id, it.id, 'phash', b.c, '[]', 'original', 'high',
               CASE WHEN b.request_id = %(approved)s THEN 'approved'
                    WHEN (b.work_id + b.c) %% 10 = 0 THEN 'excluded'
                    WHEN (b.work_id + b.c) %% 10 IN (1, 2) THEN 'confirmed'
                    ELSE 'suggested' END, now()
        FROM bench_copies b
        JOIN registry_datasetitem it ON it.dataset_id = b.dataset_id AND it.external_id = b.external_id;
        INSERT INTO registry_removal (public_id, dataset_id, item_id, external_id, url, url_key, phash,
            reason, source_ref, approved_at, state, acknowledged_at)
        SELECT 'rm_' || %(tag)s || it.id, it.dataset_id, it.id, it.external_id, it.url, it.url_key, it.phash,
               'copyright', %(reference)s, now(),
               CASE WHEN it.id %% 2 = 0 THEN 'acknowledged' ELSE 'delivered' END,
               CASE WHEN it.id %% 2 = 0 THEN now() END
        FROM bench_copies b
        JOIN registry_datasetitem it ON it.dataset_id = b.dataset_id AND it.external_id = b.external_id
        WHERE b.request_id = %(approved)s;
        """,
        {
            "artist": artist_id,
            "approved": approved_id,
            "reference": reference,
            "copies": COPIES,
            "datasets": DATASETS,
            "tag": tag,
        },
    )


def run(*, quick: bool = False) -> None:
    sizes = (100, 2_000) if quick else (100, 10_000)
    with bench_database("portfolio_page"):
        from django.db import connection, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from registry import services as registry_services
        from registry.models import Dataset
        from requests_app import services
        from requests_app.models import Match, RemovalRequest, Work
        from requests_app.workflow import Status

        maintainer, _ = registry_services.maintainer_create(name="Bench Org", email="ops@bench.example")
        for d in range(DATASETS):
            registry_services.dataset_create(maintainer=maintainer, slug=f"bench-{d}", name=f"Bench {d}")
        removed_in = Dataset.objects.get(slug="bench-1").pk
        clients: dict[int, tuple[Client, str]] = {}
        for n in sizes:
            note(f"portfolio_page: writing {n:,} works with {COPIES} copies each")
            profile = services.artist_signup(
                email=f"artist{n}@bench.example",
                password="bench pass phrase 1234",  # noqa: S106 (a throw-away database)
                display_name=f"Artist {n}",
            )
            approved = services.request_create(artist=profile, basis="copyright")
            draft = services.request_create(artist=profile, basis="copyright")
            RemovalRequest.objects.filter(pk=approved.pk).update(status=Status.APPROVED)
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                _fill(
                    cursor,
                    artist_id=profile.pk,
                    n=n,
                    approved_id=approved.pk,
                    draft_id=draft.pk,
                    reference=approved.reference or "",
                    tag=f"a{n}",
                )
            matches = Match.objects.filter(work__artist=profile).count()
            note(
                f"  {Work.objects.filter(artist=profile).count():,} works, {matches:,} matches in "
                f"{time.perf_counter() - started:.1f} s"
            )
            client = Client()
            client.force_login(profile.user)
            clients[n] = (client, draft.reference or "")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        def pages(n: int) -> list[tuple[str, str, dict[str, str]]]:
            last = str(-(-n // 60))
            reference = clients[n][1]
            return [
                ("first page", "/portfolio/", {}),
                ("state = found", "/portfolio/", {"state": "found"}),
                ("removed in one data set", "/portfolio/", {"state": "removed", "dataset": str(removed_in)}),
                ("name search (“cat”) + found", "/portfolio/", {"q": "cat", "state": "found"}),
                ("last page", "/portfolio/", {"page": last}),
                ("draft request page (a tenth of the works)", f"/requests/{reference}/", {}),
            ]

        results: dict[tuple[int, str], tuple[float, int]] = {}
        for n in sizes:
            client = clients[n][0]
            for label, path, query in pages(n):
                assert client.get(path, query).status_code == 200  # warm
                times = []
                queries = 0
                for _ in range(RUNS):
                    with CaptureQueriesContext(connection) as captured:
                        start = time.perf_counter()
                        response = client.get(path, query)
                        times.append(time.perf_counter() - start)
                    assert response.status_code == 200, (path, query, response.status_code)
                    queries = len(captured)
                results[(n, label)] = (statistics.median(times) * 1000, queries)
                note(f"  {n:,} works, {label}: {results[(n, label)][0]:.0f} ms, {queries} queries")

    small, big = sizes
    rows = []
    for label, _path, _query in pages(small):
        s_ms, s_q = results[(small, label)]
        b_ms, b_q = results[(big, label)]
        rows.append([label, f"{s_ms:.0f} ms", s_q, f"{b_ms:.0f} ms", b_q, f"{b_ms / s_ms:.1f}x"])
    print(f"## Portfolio page: {small:,} and {big:,} works ({COPIES} matches each), PostgreSQL\n")
    print(
        "Served through Django's test client with the artist's session (60 works per page), median of "
        f"{RUNS}; both portfolios in one database. Ratio: the {big:,}-work page over the "
        f"{small:,}-work one.\n"
    )
    print(
        table(
            ["page", f"{small:,} works", "queries", f"{big:,} works", "queries", "ratio"],
            rows,
        )
    )
