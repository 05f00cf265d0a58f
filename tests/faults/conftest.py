"""Fault injection with real processes: our own Redis servers, Celery workers we can kill, receivers
that go down, answer slowly or answer oddly, and a clock shared with the workers through a file.

Nothing here touches the machine's shared Redis: every test talks to a `redis-server` this
conftest starts on a free port. Workers use the test database (tests are `transaction=True`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from core import clock
from registry import services, tasks
from registry.models import DeliveryState, Removal, WebhookDelivery
from tests.helpers import ROOT, database_url, wait_until

WORKER_TIMEOUT_SECONDS = 1  # WEBHOOK_TIMEOUT_SECONDS for workers and this process


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a fault test that takes several seconds (real processes)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- Redis ------------------------------------------------------------------


class RedisServer:
    """A throw-away `redis-server` (no persistence), killed with SIGKILL and started again on its port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="session")
def faults_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


def use_broker(url: str) -> str:
    """Point this process's Celery app (what `.delay()` uses) at `url`; returns the previous URL.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, so both change.
    """
    from config.celery import app

    previous = str(app.conf.broker_url)
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    # Only drop the references: kombu keeps one pool per URL for the process, and closing it would
    # break the next test that points here again.
    app._pool = None
    if "amqp" in app.__dict__:
        app.__dict__["amqp"]._producer_pool = None
    return previous


@pytest.fixture
def broker(faults_redis: RedisServer) -> Iterator[RedisServer]:
    """This process enqueues to the faults Redis for the test, and to the usual broker after it."""
    if not faults_redis.answers():
        faults_redis.start()
    faults_redis.flush()
    previous = use_broker(faults_redis.url)
    yield faults_redis
    use_broker(previous)


# --- the shared clock and emails of worker processes --------------------------


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults")
    (path / "emails").mkdir()
    return path


@pytest.fixture(autouse=True)
def shared_clock(shared_dir: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[None]:
    """`clock.travel` here moves the workers' clock too (they read the same offset file)."""
    monkeypatch.setenv(clock.OFFSET_FILE_VARIABLE, str(shared_dir / "clock-offset"))
    settings.WEBHOOK_TIMEOUT_SECONDS = WORKER_TIMEOUT_SECONDS
    clock.reset()
    yield
    clock.reset()


def emails_sent(shared_dir: Path) -> list[str]:
    """Messages the workers sent (their settings write mail to files)."""
    return [p.read_text() for p in sorted((shared_dir / "emails").iterdir())]


# --- Celery workers -----------------------------------------------------------


class Worker:
    """A `celery worker` process in its own process group, so SIGKILL takes its children too."""

    def __init__(
        self,
        *,
        broker_url: str,
        shared_dir: Path,
        name: str,
        concurrency: int = 2,
        timeout_seconds: int = WORKER_TIMEOUT_SECONDS,
        queues: str = "deliveries,default",
    ) -> None:
        self.log_path = shared_dir / f"worker-{name}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": broker_url,
            "WEBHOOK_TIMEOUT_SECONDS": str(timeout_seconds),
            clock.OFFSET_FILE_VARIABLE: str(shared_dir / "clock-offset"),
            "FAULTS_EMAIL_DIR": str(shared_dir / "emails"),
        }
        self.args = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues,
            "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"faults-{name}-{os.getpid()}@%h",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115
        start_at = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.log()[-3000:]}")
            if b"ready." in self.log_path.read_bytes()[start_at:]:
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"celery worker did not start: {self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): no clean-up, no acks."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None


@pytest.fixture
def start_worker(shared_dir: Path, transactional_db: Any) -> Iterator[Callable[..., Worker]]:
    """Start workers for one test; all are stopped (killed) before the database is flushed."""
    started: list[Worker] = []

    def start(**kwargs: Any) -> Worker:
        worker = Worker(shared_dir=shared_dir, **kwargs)
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.kill()


# --- receivers ----------------------------------------------------------------


@dataclass
class Hit:
    webhook_id: str
    body: bytes
    headers: dict[str, str]
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FaultReceiver:
    """An HTTP receiver on a fixed loopback port that can go down (connection refused) and come back.

    `answer(hit, n)` returns a status or (status, headers, body), and may sleep; n counts earlier
    requests with the same webhook-id. Every request is recorded before it is answered.
    """

    port: int = field(default_factory=free_port)
    hits: list[Hit] = field(default_factory=list)
    answer: Callable[[Hit, int], Any] = lambda hit, n: 204
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                hit = Hit(headers.get("webhook-id", ""), self.rfile.read(length), headers, time.monotonic())
                with receiver.lock:
                    n = sum(1 for h in receiver.hits if h.webhook_id == hit.webhook_id)
                    receiver.hits.append(hit)
                answer = receiver.answer(hit, n)
                status, extra, body = answer if isinstance(answer, tuple) else (answer, {}, b"")
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the sender gave up (timeout) or was killed

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> list[str]:
        with self.lock:
            return [h.webhook_id for h in self.hits]


@pytest.fixture
def fault_receiver() -> Iterator[FaultReceiver]:
    receiver = FaultReceiver()
    receiver.up()
    yield receiver
    receiver.down()


# --- approvals and the final check ----------------------------------------------


def approve(dataset: Any, n: int, ref: str) -> list[Removal]:
    """Record `n` approved removals of new items of `dataset` (events of at most 500)."""
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": f"{ref}-{i}", "url": f"https://i.example/{ref}/{i}.jpg"} for i in range(n)],
    )
    items = list(dataset.items.filter(external_id__startswith=f"{ref}-"))
    return services.removals_record(
        source_ref=ref,
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
    )


def sweep_until_done(timeout: float = 60, every: float = 1.0) -> None:
    """Run the sweep task's body here (it queues to the workers) until no delivery is pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not WebhookDelivery.objects.filter(state=DeliveryState.PENDING).exists():
            return
        tasks.deliveries_sweep()
        time.sleep(every)
    states = list(WebhookDelivery.objects.values_list("pk", "state", "attempts", "locked_until"))
    raise AssertionError(f"deliveries still pending after {timeout}s: {states}")


def assert_all_received(receiver: FaultReceiver, removals: list[Removal]) -> None:
    """Every removal reached the receiver at least once; copies carry the same webhook-id and body;
    nothing is stuck: every delivery row succeeded."""
    by_id: dict[str, bytes] = {}
    received: set[str] = set()
    for hit in list(receiver.hits):
        assert hit.webhook_id.startswith("msg_")
        if hit.webhook_id in by_id:
            assert hit.json()["data"] == json.loads(by_id[hit.webhook_id])["data"]
        by_id.setdefault(hit.webhook_id, hit.body)
        received.update(r["id"] for r in hit.json()["data"]["removals"])
    assert received >= {r.public_id for r in removals}
    rows = list(WebhookDelivery.objects.select_related("event"))
    assert rows and {row.state for row in rows} == {DeliveryState.SUCCEEDED}
    assert {row.event.public_id for row in rows} == set(by_id)
