"""Shared fixtures: people (an artist, another artist, a moderator), maintainers with keys,
images from the sample photographs, a real Celery worker process, a webhook receiver, and a
clock put back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from core import clock
from registry import services as registry_services
from registry.models import Maintainer
from requests_app.models import ArtistProfile
from requests_app.roles import MODERATOR_GROUP
from tests import flush
from tests.helpers import ROOT, database_url, make_artist
from tests.loopback import QuietHandler, loopback_server

# Transactional tests flush the database once the worker and other sessions are quiet (tests/flush.py).
flush.install()

# --- people -----------------------------------------------------------------


@pytest.fixture
def artist(db: Any) -> ArtistProfile:
    return make_artist("ada@example.com", name="Ada Lovelace")


@pytest.fixture
def other_artist(db: Any) -> ArtistProfile:
    return make_artist("grace@example.com", name="Grace Hopper")


@pytest.fixture
def moderator(db: Any) -> User:
    user = User.objects.create_user(
        "mod@example.com", "mod@example.com", "correct horse battery staple", is_staff=True
    )
    user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return User.objects.get(pk=user.pk)  # fresh: permission cache


@pytest.fixture
def superuser(db: Any) -> User:
    """An operator: the admin's superuser, who sees the registry's records."""
    return User.objects.create_superuser("root@example.com", "root@example.com", "pw")


@pytest.fixture
def clock_back() -> Iterator[None]:
    """Put the clock back after a test that moved it (clock.travel as a plain call lasts)."""
    yield
    clock.reset()


# --- maintainers ------------------------------------------------------------


@dataclass
class MaintainerWithKey:
    maintainer: Maintainer
    key: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")
        return client


@pytest.fixture
def maintainer(db: Any) -> MaintainerWithKey:
    org, key = registry_services.maintainer_create(name="LAION-ish", email="ops@laion.example")
    return MaintainerWithKey(org, key)


@pytest.fixture
def other_maintainer(db: Any) -> MaintainerWithKey:
    org, key = registry_services.maintainer_create(name="Other Org", email="ops@other.example")
    return MaintainerWithKey(org, key)


@pytest.fixture
def api(maintainer: MaintainerWithKey) -> APIClient:
    return maintainer.client()


# --- a webhook receiver on loopback -----------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # What to answer: a status, a (status, headers, body) tuple, or a callable returning either
    answer: Any = 204
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook(s) within {timeout}s, got {len(self.received)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            item = Received(
                headers={k.lower(): v for k, v in self.headers.items()}, body=self.rfile.read(length)
            )
            recv = state["r"]
            with recv.lock:
                recv.received.append(item)
            answer = recv.answer(item) if callable(recv.answer) else recv.answer
            self.answer(*(answer if isinstance(answer, tuple) else (answer, {}, b"")))

    with loopback_server(Handler) as port:
        state["r"] = Receiver(url=f"http://127.0.0.1:{port}/hooks")
        yield state["r"]


# --- a real Celery worker process -------------------------------------------


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A `celery worker` subprocess on the test database and the real Redis broker.

    Tests that use it must be `transaction=True`, so what they write is
    committed and visible to the worker.
    """
    from celery.utils.nodenames import host_format
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    app.control.purge()
    hostname = f"test-worker-{os.getpid()}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "VAR_DIR": str(settings.VAR_DIR),
    }
    log_path = Path(settings.VAR_DIR) / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "default,hashing,matching,deliveries,imports",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            hostname,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited: {log_path.read_text()[-3000:]}")
        if b"ready." in log_path.read_bytes():
            break
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"celery worker did not start: {log_path.read_text()[-3000:]}")
    flush.worker_started(host_format(hostname), alive=lambda: process.poll() is None)
    yield process
    flush.worker_stopped()
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the tests that start the shared Celery worker last.

    Once started, the worker consumes every task the test process enqueues;
    tests that exercise claims and sweeps by hand must not race it. In parallel runs
    (`--dist load`) tests are handed out in this order, so each process starts its
    worker only once the other tests have all been handed out.
    """
    items.sort(key=lambda item: "celery_worker_process" in getattr(item, "fixturenames", ()))


# --- the WSGI app on the test's connection (schemathesis) ------------------


@pytest.fixture
def wsgi_keeps_the_test_connection() -> Iterator[None]:
    """Calling the WSGI app directly would close the test's database connection after each
    request (request_started/finished); Django's own test client disconnects them the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache (cached figures and rate-limit counters are per test)
    and a cold look-up index."""
    from django.core.cache import cache

    from registry.lookup_index import lookup_index_reset

    cache.clear()
    # The look-up index of this process (and of a live server's threads) starts cold: the
    # tables are emptied between tests by TRUNCATE, which no change stamp records.
    lookup_index_reset()
    yield
