"""Load test: locust against the production set (gunicorn, a worker per queue, beat) on loopback.

A realistic mix for LOAD_MINUTES (10; 1 with --quick): maintainers polling their removal feeds,
looking up 10,000 URLs and asking the v2 query endpoint about 10,000 more; artists browsing
their requests and uploading works (hashed and matched by the workers meanwhile); moderators
on the desk's queue and request pages. PostgreSQL holds 1,000,000 removals (200,000 with
--quick). Everything listens on and talks to 127.0.0.1 only. Reported per endpoint: requests,
requests/s, p50, p99, failures; a failure is any non-2xx answer or a connection error.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import note, table
from .pgdb import ROOT, bench_database, fill_removals, free_port, url_of

USERS = int(os.environ.get("LOAD_USERS", "40"))
PASSWORD = "load test pass phrase 2026"  # noqa: S105 (a throw-away database)


def distinct_image(seed: str) -> bytes:
    """A JPEG no other seed resembles (blocks of random colours), so no two artists conflict."""
    import io
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (16, 12))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    buffer = io.BytesIO()
    image.resize((640, 480), Image.Resampling.NEAREST).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _seed(n_removals: int) -> dict[str, object]:
    from django.contrib.auth.models import Group, User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from registry import services as registry_services
    from registry.models import Maintainer
    from requests_app import services
    from requests_app.roles import MODERATOR_GROUP

    fill_removals(connection.settings_dict["NAME"], n_removals)
    _, key = registry_services.api_key_create(
        maintainer=Maintainer.objects.get(name="Bench Org"), name="load"
    )
    moderator = User.objects.create_user("mod@load.example", "mod@load.example", PASSWORD, is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    artists, submitted = [], []
    for i in range(20):
        profile = services.artist_signup(
            email=f"artist{i}@load.example", password=PASSWORD, display_name=f"Artist {i}"
        )
        services.email_verify(token=services.email_verification_link(profile).rstrip("/").rsplit("/", 1)[-1])
        refs = {}
        for kind in ("draft", "approved", "submitted"):
            ticket = services.request_create(artist=profile, basis="copyright")
            count = 4 if kind == "draft" else 1
            files = [
                SimpleUploadedFile(f"{kind}-{i}-{n}.jpg", distinct_image(f"{kind}-{i}-{n}"))
                for n in range(count)
            ]
            for work in services.works_add(ticket=ticket, actor=profile.user, files=files).works:
                services.work_hash_and_match(work_id=work.pk)
            if kind != "draft":
                services.request_submit(ticket=ticket, actor=profile.user, signed_name=f"Artist {i}")
            if kind == "approved":
                services.request_approve(ticket=ticket, moderator=moderator)
            if kind == "submitted":
                submitted.append(ticket.pk)
            refs[kind] = ticket.reference
        artists.append({"email": f"artist{i}@load.example", **refs})
    return {
        "key": key,
        "password": PASSWORD,
        "moderator": "mod@load.example",
        "artists": artists,
        "submitted_pks": submitted,
        "removals": n_removals,
    }


def _wait_healthy(base: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=5) as response:  # noqa: S310 (loopback)
                body = json.loads(response.read())
                if body["status"] == "ok":
                    return body
                last = body
        except OSError as error:
            last = error
        time.sleep(2)
    raise RuntimeError(f"the production set did not become healthy: {last}")


def run(*, quick: bool = False) -> None:
    minutes = float(os.environ.get("LOAD_MINUTES", "1" if quick else "10"))
    n_removals = 200_000 if quick else 1_000_000
    work = Path(tempfile.mkdtemp(prefix="rd-load-"))
    env_for_set = {
        "SECRET_KEY": "load-test-secret-key-not-for-deployments-0123456789",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/9",
        "REDIS_URL": "redis://127.0.0.1:6379/8",
        "VAR_DIR": str(work / "var"),
        "PRIVATE_MEDIA_ROOT": str(work / "private"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # One key drives all maintainer traffic here; the per-key limit is not what is measured.
        "API_RATE_LIMIT": "1000000/min",
        "DEBUG": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    os.environ.update(env_for_set)
    subprocess.run(["redis-cli", "-n", "9", "flushdb"], check=True, capture_output=True)
    subprocess.run(["redis-cli", "-n", "8", "flushdb"], check=True, capture_output=True)
    with bench_database("load") as database:
        note(f"load: seeding {n_removals:,} removals, 20 artists with 60 requests, a moderator")
        fixture = _seed(n_removals)
        fixture_path = work / "fixture.json"
        fixture_path.write_text(json.dumps(fixture))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, **env_for_set, "DATABASE_URL": url_of(database)}
        log = (work / "production.log").open("wb")
        production = subprocess.Popen(
            [sys.executable, "scripts/production.py", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            note(
                "load: waiting for /health/ to report every queue's worker (beat sends a heartbeat a minute)"
            )
            _wait_healthy(base)
            note(f"load: {USERS} users for {minutes:g} min against {base}")
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "--users",
                    str(USERS),
                    "--spawn-rate",
                    "5",
                    "--run-time",
                    f"{int(minutes * 60)}s",
                    "--host",
                    base,
                    "--csv",
                    str(work / "load"),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env={**env, "LOAD_FIXTURE": str(fixture_path), "PYTHONPATH": str(ROOT)},
                check=False,
            )
            elapsed = time.perf_counter() - started
            health = _wait_healthy(base, timeout=30)
        finally:
            production.terminate()
            try:
                production.wait(timeout=60)
            except subprocess.TimeoutExpired:
                production.kill()
            log.close()
    _report(work, minutes, elapsed, health)


def _report(work: Path, minutes: float, elapsed: float, health: dict[str, object]) -> None:
    with (work / "load_stats.csv").open() as handle:
        stats = list(csv.DictReader(handle))
    rows = []
    for row in stats:
        rows.append(
            [
                row["Name"] if row["Name"] != "Aggregated" else "**all**",
                f"{int(row['Request Count']):,}",
                f"{float(row['Requests/s']):.1f}",
                row["50%"],
                row["99%"],
                row["Max Response Time"].split(".")[0],
                row["Failure Count"],
            ]
        )
    print(f"## Load test: {USERS} users, {minutes:g} min (ran {elapsed:.0f} s), production set on loopback\n")
    print(table(["endpoint", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "failures"], rows))
    failures = work / "load_failures.csv"
    if failures.exists():
        with failures.open() as handle:
            failed = list(csv.DictReader(handle))
        if failed:
            print("\nFailures:\n")
            print(
                table(
                    ["method", "name", "error", "count"],
                    [[f["Method"], f["Name"], f["Error"], f["Occurrences"]] for f in failed],
                )
            )
    print(f"\nHealth after the run: {health['status']}; logs in {work}")
