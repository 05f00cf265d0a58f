"""N works uploaded into one artist's portfolio through the site, until every one is hashed and matched.

A real server (gunicorn, 2 processes of 4 threads) and TWO Celery worker processes (concurrency 1
each, every queue) on loopback, on a fresh PostgreSQL database and Redis (db 1 unless
BENCH_REDIS_URL says otherwise). The data set holds ITEMS random codes (1,000,000 by default)
plus an edited copy (resized, re-compressed) of every 20th work. The works are N distinct
1024x768 JPEGs drawn from bench/distractors.py's seeded generator, 2% of them sent twice under
another name (duplicates by content); they travel as zips of at most 250 works through the chunk
API as the page's script speaks it (announce, 8 MB PATCH chunks with Upload-Offset, 3 files at
a time), then the workers unpack, hash and match. Timed from the first request to: every byte
in, every upload unpacked, every work hashed and matched (hash_state done). Asserts that no work
is lost: stored works = distinct works, duplicates reported = duplicates sent, copies found.

    python -m bench portfolio_upload [--quick] [--works 5000]     (--quick: 200 works, 100,000 items)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .common import note, table
from .pgdb import ROOT, bench_database, free_port, psql, url_of
from .upload_sqlite import Site

WORKS = 1000
ITEMS = 1_000_000
PER_ZIP = 250
PARALLEL = 3  # static/js/uploader.js: PARALLEL
COPY_EVERY = 20
DUPLICATE_EVERY = 50
PASSWORD = "bench portfolio pass phrase 2026"  # noqa: S105 (a throw-away database)
EMAIL = "artist@bench.example"


def targets(works: int) -> float:
    """The issue's figures: 1,000 works within 300 s, 5,000 within 25 minutes (scaled between)."""
    return 300.0 if works <= 1000 else 300.0 + (works - 1000) * (1500 - 300) / 4000


def works_jpegs(count: int) -> list[bytes]:
    from PIL import Image

    from .distractors import distractors

    out = []
    for d in distractors(count, seed=20261213):
        buffer = io.BytesIO()
        d.image.convert("RGB").resize((1024, 768), Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


def _zips(jpegs: list[bytes]) -> tuple[list[tuple[str, bytes]], int]:
    """Zips of at most PER_ZIP works; every DUPLICATE_EVERY-th work also goes into the next zip."""
    files: list[list[tuple[str, bytes]]] = []
    duplicates = 0
    for index, data in enumerate(jpegs):
        if index % PER_ZIP == 0:
            files.append([])
        files[-1].append((f"work-{index:05d}.jpg", data))
        if index % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
            files[-1].append((f"copy-of-{index:05d}.jpg", data))
            duplicates += 1
    zips = []
    for number, members in enumerate(files):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for name, data in members:
                archive.writestr(f"portfolio/{name}", data)
        zips.append((f"portfolio-{number:02d}.zip", buffer.getvalue()))
    return zips, duplicates


def _seed(database: str, jpegs: list[bytes], items: int) -> int:
    from registry import services as registry_services
    from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
    from requests_app import services

    profile = services.artist_signup(email=EMAIL, password=PASSWORD, display_name="Bench Artist")
    services.email_verify(token=services.email_verification_link(profile).rstrip("/").rsplit("/", 1)[-1])
    maintainer, _ = registry_services.maintainer_create(name="Bench Lab", email="ops@lab.example")
    dataset = registry_services.dataset_create(maintainer=maintainer, slug="big", name="Big set")
    started = time.perf_counter()
    psql(
        database,
        f"""
        INSERT INTO registry_datasetitem
            (dataset_id, external_id, url, url_key, host, path, phash, dhash, created_at, updated_at)
        SELECT {dataset.pk}, 'r' || i, 'https://img.example/r/' || i || '.jpg',
               ('x' || left(encode(sha256(convert_to('https://img.example/r/' || i || '.jpg', 'UTF8')),
                'hex'), 16))::bit(64)::bigint, 'example.img.', '/r/' || i || '.jpg',
               ('x' || left(md5('p' || i), 16))::bit(64)::bigint,
               ('x' || left(md5('d' || i), 16))::bit(64)::bigint, now(), now()
        FROM generate_series(1, {items}) AS i;
        ANALYZE registry_datasetitem;
        """,  # noqa: S608 (numbers only)
    )
    note(f"portfolio_upload: {items:,} random items written in {time.perf_counter() - started:.1f} s")
    from PIL import Image

    rows = []
    for index in range(0, len(jpegs), COPY_EVERY):
        image = Image.open(io.BytesIO(jpegs[index])).convert("RGB").resize((512, 384))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=70)
        h = compute_hashes(buffer.getvalue(), max_pixels=10**8)
        rows.append(
            {
                "external_id": f"copy-{index}",
                "url": f"https://img.example/copies/{index}.jpg",
                "phash": code_to_hex(h.phash),
                "dhash": code_to_hex(h.dhash),
                "pdq": pdq_to_hex(h.pdq),
            }
        )
    for start in range(0, len(rows), 1000):
        registry_services.items_upsert(dataset=dataset, rows=rows[start : start + 1000])
    return len(rows)


class ChunkSite(Site):
    """The site's HTTP client, with the page script's calls of the upload protocol."""

    def call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310 (our own site on loopback)
            self.base + path,
            data=body,
            method=method,
            headers={
                "Accept": "application/json",
                "X-CSRFToken": self.csrf(),
                "Referer": self.base + "/",
                **headers,
            },
        )
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def send(self, name: str, data: bytes) -> dict:
        announce = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        status, upload = self.call(
            "POST", "/portfolio/uploads/", json.dumps(announce).encode(), {"Content-Type": "application/json"}
        )
        if status != 201:
            raise RuntimeError(f"{name}: announce answered {status} {upload}")
        offset = 0
        while offset < len(data):
            chunk = data[offset : offset + upload["chunk_size"]]
            status, answer = self.call(
                "PATCH",
                upload["url"],
                chunk,
                {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
            )
            if status == 409 and "offset" in answer:
                offset = answer["offset"]
                continue
            if status != 200:
                raise RuntimeError(f"{name}: chunk at {offset} answered {status} {answer}")
            offset = answer["offset"]
        return answer


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their living descendants (the pool children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, seen, todo = 0.0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def _processes(work: Path, env: dict[str, str], port: int) -> list[subprocess.Popen[bytes]]:
    web = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "4", "--timeout", "300",
    ]  # fmt: skip
    started = [
        subprocess.Popen(
            web, cwd=ROOT, env=env, stdout=(work / "web.log").open("wb"), stderr=subprocess.STDOUT
        )
    ]
    for n in (1, 2):
        worker = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,hashing,matching",
            "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO", "--without-gossip",
            "--without-mingle", "--hostname", f"bench-portfolio-{n}-{os.getpid()}@%h",
        ]  # fmt: skip
        log = (work / f"worker-{n}.log").open("wb")
        started.append(subprocess.Popen(worker, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    for n in (1, 2):
        while b"ready." not in (work / f"worker-{n}.log").read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"worker {n} did not start: {(work / f'worker-{n}.log').read_text()[-2000:]}"
                )
            time.sleep(0.3)
    return started


def measure(count: int, items: int) -> dict[str, object]:
    jpegs = works_jpegs(count)
    zips, duplicates = _zips(jpegs)
    size = sum(len(d) for _, d in zips)
    note(
        f"portfolio_upload: {count} works ({duplicates} sent twice) in {len(zips)} zips, {size / 1e6:.0f} MB"
    )
    work = Path(tempfile.mkdtemp(prefix="rd-portfolio-"))
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
    env_for_set = {
        "SECRET_KEY": "bench-portfolio-secret-key-not-for-deployments-0123456789",
        "CELERY_BROKER_URL": redis,
        "VAR_DIR": str(work / "var"),
        "PRIVATE_MEDIA_ROOT": str(work / "private"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env_for_set)
    subprocess.run(["redis-cli", "-u", redis, "flushdb"], check=True, capture_output=True)
    with bench_database("portfolio_upload") as database:
        copies = _seed(database, jpegs, items)
        env = {**os.environ, **env_for_set, "DATABASE_URL": url_of(database)}
        port = free_port()
        processes = _processes(work, env, port)
        try:
            facts = {"bytes": size, "items": items, "pids": [p.pid for p in processes]}
            return _run(count, duplicates, copies, zips, port, work, facts)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


def _run(
    count: int,
    duplicates: int,
    copies: int,
    zips: list[tuple[str, bytes]],
    port: int,
    work: Path,
    facts: dict,
) -> dict[str, object]:
    from requests_app.models import HashState, Match, PortfolioUpload, UploadState, Work

    site = ChunkSite(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            site.get("/login/")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    site.post_form("/login/", {"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": site.csrf()})
    site.get("/portfolio/upload/")
    load_before = os.getloadavg()
    cpu_before = cpu_seconds(facts["pids"])
    note(f"portfolio_upload: sending (load average {load_before[0]:.1f})")
    start = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda item: site.send(*item), zips))
    received = time.monotonic() - start
    assert all(a["state"] == "queued" for a in answers), answers
    note(f"portfolio_upload: every byte in after {received:.1f} s")
    unpacked = done = None
    limit = max(targets(count) * 4, 1800.0)
    while time.monotonic() - start < limit:
        now = time.monotonic() - start
        states = set(PortfolioUpload.objects.values_list("state", flat=True))
        if unpacked is None and states <= {UploadState.DONE, UploadState.FAILED}:
            unpacked = now
            note(f"portfolio_upload: every upload unpacked after {unpacked:.1f} s")
        if unpacked is not None and not Work.objects.filter(hash_state=HashState.PENDING).exists():
            done = now
            break
        time.sleep(1)
    load_after = os.getloadavg()
    cpu = cpu_seconds(facts["pids"]) - cpu_before
    uploads = list(PortfolioUpload.objects.all())
    logs = "".join((work / f"worker-{n}.log").read_text(errors="replace") for n in (1, 2))
    found = Match.objects.filter(item__external_id__startswith="copy-").values("item_id").distinct().count()
    return {
        **facts,
        "works": count,
        "zips": len(zips),
        "received": received,
        "unpacked": unpacked,
        "done": done,
        "target": targets(count),
        "stored": Work.objects.count(),
        "hashed": Work.objects.filter(hash_state=HashState.DONE).count(),
        "hash_failed": Work.objects.filter(hash_state=HashState.FAILED).count(),
        "duplicates_sent": duplicates,
        "duplicates_found": sum(u.duplicates for u in uploads),
        "member_errors": sum(u.failed for u in uploads),
        "copies": copies,
        "copies_found": found,
        "failed_tasks": len(re.findall(r"raised unexpected", logs)),
        "load": f"{load_before[0]:.1f} before, {load_after[0]:.1f} after",
        "cpu": cpu,
        "logs": str(work),
    }


def run(quick: bool = False) -> None:
    count = int(os.environ.get("BENCH_WORKS") or (200 if quick else WORKS))
    items = int(os.environ.get("BENCH_ITEMS") or (100_000 if quick else ITEMS))
    r = measure(count, items)
    print(f"## Portfolio upload: {count:,} works through the site (PostgreSQL + Redis, two workers)\n")
    print(__doc__.split("\n\n")[1].replace("\n", " ") + "\n")

    def seconds(value: object) -> str:
        return f"{value:.0f} s" if isinstance(value, float) else "not reached"

    print(
        table(
            [
                "works",
                "sent",
                "all bytes in",
                "all unpacked",
                "all hashed and matched",
                "target",
                "load average",
                "CPU of the site and workers",
                "that CPU on 2 idle cores",
            ],
            [
                [
                    f"{count:,} in {r['zips']} zips",
                    f"{r['bytes'] / 1e6:,.0f} MB",  # type: ignore[operator]
                    seconds(r["received"]),
                    seconds(r["unpacked"]),
                    seconds(r["done"]),
                    f"{r['target']:.0f} s",
                    r["load"],
                    f"{r['cpu']:.0f} s ({r['cpu'] / count * 1000:.0f} ms a work)",  # type: ignore[operator]
                    f"{r['cpu'] / 2:.0f} s",  # type: ignore[operator]
                ]
            ],
        )
    )
    print()
    headers = ["stored", "hashed", "hash failed", "duplicates sent / found", "member errors"]
    headers += ["copies planted / found", "failed tasks", "items"]
    row = [r["stored"], r["hashed"], r["hash_failed"], f"{r['duplicates_sent']} / {r['duplicates_found']}"]
    row += [r["member_errors"], f"{r['copies']} / {r['copies_found']}", r["failed_tasks"], f"{r['items']:,}"]
    print(table(headers, [row]))
    lost = count - int(r["stored"])  # type: ignore[call-overload]
    print(f"\nWorks lost: {lost}. Logs in {r['logs']}.")
    assert lost == 0, f"{lost} works lost"
    assert r["duplicates_found"] == r["duplicates_sent"], "duplicates miscounted"
    assert r["hashed"] == count, "not every work was hashed and matched"
