"""Approval at size: one request of 5,000 works whose confirmed matches are 50,000 items in five
data sets, approved through the desk's approve POST (the admin view that calls
services.request_approve), on a PostgreSQL database of its own.

The fixture is written by PostgreSQL itself (INSERT ... SELECT generate_series), so building it
costs this process no memory. Each size is approved once, smaller first, in one process: the
peak RSS (ru_maxrss) after the small approval and after the large one show whether memory grows
with the request. Every data set's maintainer has one webhook endpoint, so the outbox rows are
written too (their messages go to a broker nobody consumes, which is purged).
"""

from __future__ import annotations

import os
import time

from .common import note, peak_rss_mb, table
from .pgdb import bench_database, psql

DATASETS = 5
SIZES = ((500, 5_000), (5_000, 50_000))  # (works, matched items)
QUICK_SIZES = ((100, 1_000), (1_000, 10_000))


def _fixture(database: str, *, label: str, works: int, items: int) -> int:
    """A submitted request of `works` hashed works, each with items/works confirmed matches spread
    over the data sets; returns the request's pk."""
    from requests_app import services

    artist = services.artist_signup(
        email=f"{label}@bench.example",
        password="correct horse battery staple",  # noqa: S106 (a bench account)
        display_name=f"Bench {label}",
    )
    ticket = services.request_create(artist=artist, basis="copyright")
    per_work = items // works
    started = time.perf_counter()
    psql(
        database,
        f"""
        INSERT INTO registry_datasetitem
            (dataset_id, external_id, url, url_key, host, path, phash, dhash, pdq_quality,
             created_at, updated_at)
        SELECT ds.id, '{label}-' || i, 'https://img.example/{label}/' || i || '.jpg',
               (random() * 9.2e18)::bigint, 'example.img.', '/{label}/' || i || '.jpg',
               (random() * 9.2e18)::bigint, (random() * 9.2e18)::bigint, 50, now(), now()
        FROM generate_series(0, {items - 1}) AS i
        JOIN registry_dataset ds ON ds.slug = 'set-' || (i % {DATASETS});
        INSERT INTO requests_app_work
            (artist_id, request_id, file, original_name, sha256, size_bytes, format, width, height,
             phash, dhash, pdq_quality, phash_variants, derived_hashes, hash_state, hash_error,
             decision, created_at)
        SELECT {artist.pk}, {ticket.pk}, 'works/bench/' || i || '.png', 'work-' || i || '.png',
               md5('{label}' || i) || md5('{label}' || i), 100000, 'PNG', 1200, 900,
               (random() * 9.2e18)::bigint, (random() * 9.2e18)::bigint, 90, '[]', '[]', 'done', '',
               '', now()
        FROM generate_series(0, {works - 1}) AS i;
        INSERT INTO requests_app_match
            (work_id, item_id, algorithm, distance, signals, view, confidence, state, created_at)
        SELECT w.id, it.id, 'phash', 4, '[]', 'original', 'high', 'confirmed', now()
        FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM requests_app_work
              WHERE request_id = {ticket.pk}) w
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM registry_datasetitem
              WHERE external_id LIKE '{label}-%') it ON it.n / {per_work} = w.n;
        UPDATE requests_app_removalrequest SET status = 'submitted', submitted_at = now(),
               signed_name = 'Bench', signed_at = now() WHERE id = {ticket.pk};
        ANALYZE;
        """,  # noqa: S608 (numbers and a fixed label only)
    )
    seconds = time.perf_counter() - started
    note(f"  {label}: {works:,} works, {items:,} matched items written in {seconds:.1f} s")
    return ticket.pk


def run(*, quick: bool = False) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    rows = []
    with bench_database("approval") as database:
        from django.conf import settings
        from django.contrib.auth.models import Group, User
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.urls import reverse

        from config.celery import app
        from registry import services as registry_services
        from registry.models import Removal, WebhookDelivery, WebhookEvent
        from requests_app.models import RemovalRequest
        from requests_app.roles import MODERATOR_GROUP

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # not into the tables
        org, _ = registry_services.maintainer_create(name="Bench Org", email="ops@bench.example")
        for d in range(DATASETS):
            registry_services.dataset_create(maintainer=org, slug=f"set-{d}", name=f"Set {d}")
        registry_services.webhook_endpoint_create(
            maintainer=org, url="https://hooks.example/removals", event_types=["removal.approved"]
        )
        moderator = User.objects.create_user("mod@bench.example", "mod@bench.example", "pw", is_staff=True)
        moderator.groups.add(Group.objects.get(name=MODERATOR_GROUP))
        client = Client()
        client.force_login(moderator)
        baseline_rss = peak_rss_mb()
        for works, items in sizes:
            label = f"w{works}"
            pk = _fixture(database, label=label, works=works, items=items)
            ticket = RemovalRequest.objects.get(pk=pk)
            connection.queries_log.clear()
            started = time.perf_counter()
            response = client.post(
                reverse("admin:requests_app_removalrequest_decide", args=[pk]), {"decision": "approve"}
            )
            seconds = time.perf_counter() - started
            assert response.status_code == 302, response.status_code
            ticket.refresh_from_db()
            assert ticket.status == "approved", ticket.status
            note(f"  {label}: approved in {seconds:.1f} s")
            removals = Removal.objects.filter(source_ref=ticket.reference)
            item_removals = removals.filter(item__isnull=False).count()
            through = WebhookEvent.removals.through
            per_event = dict(
                through.objects.filter(removal__source_ref=ticket.reference)
                .values_list("webhookevent_id")
                .annotate(n=Count("id"))
                .order_by()
            )
            biggest = max(per_event.values(), default=0)
            # The payloads say the same as the link rows: every removal once.
            listed = sum(
                len(payload["data"]["removals"])
                for payload in WebhookEvent.objects.filter(pk__in=list(per_event))
                .values_list("payload", flat=True)
                .iterator(chunk_size=20)
            )
            assert listed == removals.count() == sum(per_event.values()), (listed, removals.count())
            deliveries = WebhookDelivery.objects.filter(event_id__in=list(per_event)).count()
            assert item_removals == items, (item_removals, items)
            rows.append(
                (
                    f"{works:,} works / {items:,} items",
                    f"{removals.count():,} ({item_removals:,} of items)",
                    f"{len(per_event):,} (largest {biggest})",
                    f"{deliveries:,}",
                    f"{seconds:.1f} s",
                    f"{peak_rss_mb():.0f} MB",
                )
            )
            note(f"  {label}: checked, peak RSS {peak_rss_mb():.0f} MB")
        app.control.purge()
    load = os.getloadavg()
    print("## Approval at size (desk approve POST -> services.request_approve, PostgreSQL)\n")
    print(
        table(
            (
                "request",
                "removals written",
                "events (<= 500 each)",
                "outbox rows",
                "approve POST",
                "peak RSS after",
            ),
            rows,
        )
    )
    print(
        f"\nPeak RSS before the first approval: {baseline_rss:.0f} MB. Load average during the run: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores."
    )
