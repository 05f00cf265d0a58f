"""Partner filings on PostgreSQL: JSON batches of 10,000 rows filed through the API, then matched
and approved by policy, against a data set of a million items.

- Load: N items (default 1,000,000; --quick 100,000) written by PostgreSQL itself, their URLs
  `https://cdn.art.example/w/<i>.jpg` with url_key computed in SQL as registry.models.url_key does.
- Filing: B batches of 10,000 rows (default 5; --quick 2) through `POST /api/v1/partner/filings/`
  (Django's test client: parsing, per-row checks, duplicate look-up, one bulk INSERT), each row
  naming one registered item by URL and carrying a pHash and a dHash. Baseline, in the same
  process: the maintainer's `POST /api/v1/datasets/{slug}/items/` with 10,000 index rows.
- Deciding: partners.services.filing_run on each filing (the worker's code, in this process), the
  policy on: every row matched by URL (set-wise) and by hash (registry's search: one verified
  Hamming search per row), approved, its removals recorded with their outbox rows. The Hamming
  index is built once before timing.
- Peak RSS after each stage.

`python -m bench partner_filing [--items N]`.
"""

from __future__ import annotations

import datetime
import os
import random
import time

from .common import note, peak_rss_mb, table
from .pgdb import bench_database, psql

BATCH = 10_000


def _rows(start: int, rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "creator": {"id": f"c{i % 5000}", "profile_url": f"https://art.example/u/c{i % 5000}"},
            "work_url": f"https://cdn.art.example/w/{i}.jpg",
            "phash": f"{rng.getrandbits(64):016x}",
            "dhash": f"{rng.getrandbits(64):016x}",
            "basis": "copyright",
            "choice": "remove",
        }
        for i in range(start, start + BATCH)
    ]


def run(*, quick: bool = False, items: int | None = None) -> None:
    items = items or (100_000 if quick else 1_000_000)
    batches = 2 if quick else 5
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    rng = random.Random(14)
    with bench_database("partner_filing") as database:
        import json

        from django.test import Client

        from config.celery import app
        from partners import services
        from partners.models import Filing
        from registry import services as registry_services
        from registry.matching import search_work
        from registry.models import Removal, WebhookDelivery

        org, maintainer_key = registry_services.maintainer_create(name="Bench Org", email="ops@bench.example")
        dataset = registry_services.dataset_create(maintainer=org, slug="big", name="Big")
        registry_services.webhook_endpoint_create(
            maintainer=org, url="https://hooks.example/removals", event_types=["removal.approved"]
        )
        started = time.perf_counter()
        psql(
            database,
            f"""
            INSERT INTO registry_datasetitem
                (dataset_id, external_id, url, url_key, host, path, phash, dhash, created_at, updated_at)
            SELECT {dataset.pk}, i::text, u.url,
                   ('x' || left(encode(sha256(convert_to(u.url, 'UTF8')), 'hex'), 16))::bit(64)::bigint,
                   'example.art.cdn.', '/w/' || i || '.jpg',
                   (random() * 9.2e18)::bigint, (random() * 9.2e18)::bigint, now(), now()
            FROM generate_series(0, {items - 1}) AS i
            CROSS JOIN LATERAL (SELECT 'https://cdn.art.example/w/' || i || '.jpg' AS url) u;
            ANALYZE registry_datasetitem;
            """,  # noqa: S608 (numbers only)
        )
        note(f"  {items:,} items written in {time.perf_counter() - started:.1f} s")
        partner = services.partner_create(
            name="Bench Partner",
            slug="bench",
            contact_email="legal@art.example",
            agreement_ref="AG-BENCH",
            agreement_date=datetime.date(2026, 12, 1),
            attestation_text="We hold our creators' instruction.",
        )
        services.partner_domain_verify(
            domain=services.partner_domain_add(partner=partner, host="*.art.example")
        )
        services.filing_policy_update(policy=partner.policy, auto_approve_verified_hashed=True)
        _, partner_key = services.partner_key_create(partner=partner)
        client = Client()
        rss_loaded = peak_rss_mb()

        # Baseline: the maintainer's own JSON batch of 10,000 index rows (new items in the same data set).
        index_rows = [
            {
                "external_id": f"b{i}",
                "url": f"https://img.example/b/{i}.jpg",
                "phash": f"{rng.getrandbits(64):016x}",
            }
            for i in range(BATCH)
        ]
        body = json.dumps({"items": index_rows})
        t = time.perf_counter()
        response = client.post(
            "/api/v1/datasets/big/items/", body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {maintainer_key}",
        )  # fmt: skip
        baseline = time.perf_counter() - t
        assert response.status_code == 200, response.content[:500]

        filing_seconds, filing_ids = [], []
        for b in range(batches):
            body = json.dumps({"attestation": True, "rows": _rows(b * BATCH, rng)})
            t = time.perf_counter()
            response = client.post(
                "/api/v1/partner/filings/", body, content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {partner_key}",
            )  # fmt: skip
            filing_seconds.append(time.perf_counter() - t)
            assert response.status_code == 202, response.content[:500]
            answer = response.json()
            assert answer["counts"]["pending"] == BATCH, answer["counts"]
            filing_ids.append(answer["id"])
            note(f"  batch {b + 1}: filed in {filing_seconds[-1]:.2f} s")
        rss_filed = peak_rss_mb()

        t = time.perf_counter()
        search_work(phash=rng.getrandbits(63), dhash=rng.getrandbits(63))  # builds the Hamming index
        index_seconds = time.perf_counter() - t
        note(f"  Hamming index of {items + BATCH:,} items built in {index_seconds:.1f} s")
        decide_seconds = []
        for public_id in filing_ids:
            filing = services.filing_claim(Filing.objects.get(public_id=public_id).pk)
            assert filing is not None
            t = time.perf_counter()
            filing = services.filing_run(filing)
            decide_seconds.append(time.perf_counter() - t)
            assert filing.state == "completed", filing.state
            assert Removal.objects.filter(source_ref=public_id).count() == BATCH
            note(f"  {public_id}: decided in {decide_seconds[-1]:.1f} s")
        rss_decided = peak_rss_mb()
        outbox = WebhookDelivery.objects.count()
        app.control.purge()

    load = os.getloadavg()
    filed = BATCH * batches
    file_rate = filed / sum(filing_seconds)
    base_rate = BATCH / baseline
    decide_rate = filed / sum(decide_seconds)
    print(f"## Partner filings ({items:,} registered items, {batches} batches of {BATCH:,} rows)\n")
    print(
        table(
            ("stage", "time", "rows per second", "peak RSS after"),
            [
                (
                    "maintainer items batch (baseline, 10,000 rows)",
                    f"{baseline:.2f} s",
                    f"{base_rate:,.0f}",
                    "",
                ),
                (
                    f"partner filing POST ({batches} x 10,000 rows)",
                    f"{sum(filing_seconds):.2f} s (slowest batch {max(filing_seconds):.2f} s)",
                    f"{file_rate:,.0f} ({file_rate / base_rate:.2f}x the baseline)",
                    f"{rss_filed:.0f} MB",
                ),
                ("Hamming index build (once)", f"{index_seconds:.1f} s", "", ""),
                (
                    f"matched + approved by policy ({filed:,} rows, {filed:,} removals, "
                    f"{outbox:,} outbox rows)",
                    f"{sum(decide_seconds):.1f} s",
                    f"{decide_rate:,.0f}",
                    f"{rss_decided:.0f} MB",
                ),
            ],
        )
    )
    print(
        f"\nPeak RSS after loading: {rss_loaded:.0f} MB. Load average at the end: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores."
    )
