"""Webhook delivery: 10,000 approved removals (20 events of 500) to three receivers on loopback,
sent by real `celery worker` processes on their own Redis, from a PostgreSQL database of their own.

Two runs on the same workers: 20 approvals of 500 made back to back (20 transactions), and one
approval of 10,000 (one transaction, 20 events). Latency is per removal and receiver: from the
commit of its approval to the receiver reading the request. The sweeper does not run: every
delivery goes through the after-commit message.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .common import note, table
from .pgdb import ROOT, bench_database, free_port, url_of

RECEIVERS = 3
EVENTS = 20
PER_EVENT = 500
WORKERS = 2
CONCURRENCY = 2


class Receivers:
    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.received: dict[tuple[int, str], float] = {}  # (receiver, webhook-id) -> first receipt
        self.requests = 0
        self.servers: list[ThreadingHTTPServer] = []
        outer = self
        for index in range(count):

            class Handler(BaseHTTPRequestHandler):
                receiver = index

                def do_POST(self) -> None:
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    at = time.time()
                    key = (self.receiver, self.headers.get("webhook-id", ""))
                    with outer.lock:
                        outer.requests += 1
                        outer.received.setdefault(key, at)
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

                def log_message(self, *args: Any) -> None:
                    pass

            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.server_address[1]}/hooks" for s in self.servers]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _use_broker(url: str) -> None:
    """Celery reads CELERY_BROKER_URL from the environment first, so both change; pools are re-made."""
    from config.celery import app

    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(*, quick: bool = False) -> None:
    events = 4 if quick else EVENTS
    workdir = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench-delivery"
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{port}/0"
    receivers = Receivers(RECEIVERS)
    workers: list[subprocess.Popen[bytes]] = []
    results = []
    try:
        with bench_database("delivery") as database:
            from django.db.models import Count

            from registry import services
            from registry.models import DeliveryState, WebhookDelivery, WebhookEvent

            _use_broker(broker)
            org, _ = services.maintainer_create(name="Bench Org", email="ops@bench.example")
            dataset = services.dataset_create(maintainer=org, slug="photos", name="Photos")
            for url in receivers.urls:
                services.webhook_endpoint_create(maintainer=org, url=url, event_types=["removal.approved"])
            total = 2 * events * PER_EVENT
            for first in range(0, total, 10_000):
                services.items_upsert(
                    dataset=dataset,
                    rows=[
                        {"external_id": str(i), "url": f"https://img.example/{i}.jpg"}
                        for i in range(first, min(total, first + 10_000))
                    ],
                )
            items = list(dataset.items.order_by("pk"))
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": url_of(database),
                "CELERY_BROKER_URL": broker,
                "OUTBOUND_ALLOW_LOOPBACK": "1",
            }
            for w in range(WORKERS):
                log = open(workdir / f"worker-{w}.log", "wb")  # noqa: SIM115
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "celery",
                            "-A",
                            "config",
                            "worker",
                            "-Q",
                            "deliveries",
                            "--concurrency",
                            str(CONCURRENCY),
                            "--loglevel",
                            "WARNING",
                            "--without-gossip",
                            "--without-mingle",
                            "--hostname",
                            f"bench-{w}@%h",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            time.sleep(6)  # let the workers connect before the clock starts
            for label, batches in (
                (f"{events} approvals of {PER_EVENT}, back to back", [PER_EVENT] * events),
                (f"one approval of {events * PER_EVENT:,} ({events} events)", [events * PER_EVENT]),
            ):
                note(f"delivery: {label}")
                taken = items[: sum(batches)]
                items = items[sum(batches) :]
                committed_at: dict[str, float] = {}
                start = time.time()
                position = 0
                for size in batches:
                    chunk = taken[position : position + size]
                    position += size
                    ref = f"RR-{len(results)}-{position}"
                    services.removals_record(
                        source_ref=ref,
                        reason="copyright",
                        entries=[services.RemovalEntry(dataset=dataset, item=i) for i in chunk],
                    )
                    committed_at[ref] = time.time()
                # Which event holds which approval's removals, and how many: one query, after the clock.
                approved: dict[str, float] = {}
                sizes: dict[str, int] = {}
                for event, ref, count in (
                    WebhookEvent.objects.filter(removals__source_ref__in=committed_at)
                    .values_list("public_id", "removals__source_ref")
                    .annotate(n=Count("removals"))
                ):
                    approved[event] = committed_at[ref]
                    sizes[event] = count
                assert sum(sizes.values()) == sum(batches)
                wanted = {(rcv, event) for rcv in range(RECEIVERS) for event in approved}
                deadline = time.time() + 600
                while time.time() < deadline:
                    with receivers.lock:
                        if wanted <= set(receivers.received):
                            break
                    time.sleep(0.02)
                else:
                    raise RuntimeError("deliveries did not all arrive within 600 s")
                with receivers.lock:
                    got = {key: receivers.received[key] for key in wanted}
                end = max(got.values())
                latencies: list[float] = []
                for (_, event), at in got.items():
                    latencies.extend([at - approved[event]] * sizes[event])
                states = set(
                    WebhookDelivery.objects.filter(event__public_id__in=approved).values_list(
                        "state", flat=True
                    )
                )
                deadline = time.time() + 30
                while states != {DeliveryState.SUCCEEDED} and time.time() < deadline:
                    time.sleep(0.1)
                    states = set(
                        WebhookDelivery.objects.filter(event__public_id__in=approved).values_list(
                            "state", flat=True
                        )
                    )
                assert states == {DeliveryState.SUCCEEDED}, states
                elapsed = end - start
                results.append(
                    [
                        label,
                        f"{len(wanted)}",
                        f"{elapsed:.1f} s",
                        f"{len(wanted) / elapsed:.1f}",
                        f"{len(latencies) / elapsed:,.0f}",
                        f"{statistics.median(latencies) * 1000:,.0f} ms",
                        f"{_percentile(latencies, 0.99) * 1000:,.0f} ms",
                    ]
                )
                note(
                    f"  {len(wanted) / elapsed:.1f} deliveries/s, median {statistics.median(latencies):.2f} s"
                )
            duplicates = receivers.requests - len(receivers.received)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        receivers.close()
        redis.kill()
        redis.wait()
    print(
        f"## Delivery: {events * PER_EVENT:,} removals per run ({events} events of {PER_EVENT}) to "
        f"{RECEIVERS} receivers on loopback\n"
    )
    print(
        f"{WORKERS} `celery worker` processes x {CONCURRENCY} (prefork) on their own Redis; PostgreSQL on "
        "the same 2-core machine; every delivery is the after-commit message (no sweep). Latency: per "
        "removal and receiver, from the commit of its approval to the receiver reading it. "
        f"Requests received more than once: {duplicates}.\n"
    )
    print(
        table(
            ["run", "deliveries", "approval to last receipt", "deliveries/s", "removals/s", "median", "p99"],
            results,
        )
    )
