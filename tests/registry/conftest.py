"""Fixtures for the registry tests (people, maintainers and the receiver: tests/conftest.py):
a data set and an endpoint, a signed-in operator, an audit mark, endpoints with deliveries, a
look-up client of a live server, a folder of images, an unreachable broker, and the two index
back ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from registry import index as index_module
from registry import services
from registry.models import Dataset, DeliveryState, OperatorAction, WebhookDelivery, WebhookEndpoint
from tests.helpers import hashes_row, image_bytes, photo, photo_bytes
from tests.registry.lookups import Looker


@pytest.fixture
def dataset(maintainer: Any) -> Dataset:
    """An empty data set of the `maintainer` fixture, slug "d"."""
    return services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")


@pytest.fixture
def endpoint(maintainer: Any, receiver: Any) -> WebhookEndpoint:
    """An endpoint of the `maintainer` fixture on the test receiver, for removal.approved."""
    endpoint, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    return endpoint


@pytest.fixture
def operator(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def audit_mark(db: Any, maintainer: Any) -> int:
    """The newest audit row before the test acts (the fixtures' own maintainer wrote one)."""
    last = OperatorAction.objects.order_by("-pk").first()
    return last.pk if last else 0


@pytest.fixture
def two_endpoints(maintainer, receiver):
    """Endpoint `good` has one succeeded delivery, `bad` one failed and one pending (failing)."""
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    good, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    bad, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url="http://127.0.0.1:9/refused", event_types=["removal.approved"]
    )
    for n in range(2):
        services.items_upsert(
            dataset=dataset, rows=[{"external_id": str(n), "url": f"https://i.example/{n}"}]
        )
        services.removals_record(
            source_ref=f"RR-{n}",
            reason="copyright",
            entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get(external_id=str(n)))],
        )
    assert services.deliveries_send_due() == {"succeeded": 2, "retry": 2}
    failed = WebhookDelivery.objects.filter(endpoint=bad).order_by("pk").first()
    WebhookDelivery.objects.filter(pk=failed.pk).update(state=DeliveryState.FAILED, next_attempt_at=None)
    return good, bad, failed


@pytest.fixture
def looker(live_server: Any, maintainer: Any) -> Looker:
    """Look-ups through a live server (whose threads share this process's look-up index)."""
    return Looker(live_server.url, maintainer.key)


@pytest.fixture
def image_folder(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / "a.png").write_bytes(photo_bytes("chelsea.png"))
    (tmp_path / "b" / "rocket.JPG").write_bytes(photo_bytes("rocket.jpg", "JPEG", quality=90))
    (tmp_path / "b" / "deep" / "coffee.webp").write_bytes(photo_bytes("coffee.png", "WEBP"))
    big = photo("camera.png").convert("RGB").resize((2000, 1500))
    (tmp_path / "b" / "deep" / "big.jpg").write_bytes(image_bytes(big, "JPEG", quality=90))
    (tmp_path / "x.jpg").write_text("this is text, not a JPEG")
    (tmp_path / "b" / "truncated.png").write_bytes(photo_bytes("chelsea.png")[:5000])
    (tmp_path / "notes.txt").write_text("skipped (with a line): not an image name")
    (tmp_path / ".hidden.png").write_bytes(photo_bytes("chelsea.png"))
    return tmp_path


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the Celery app at a closed port on loopback, as when Redis is down.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, so that is
    what changes; `broker_write_url` is left alone (it reads through to the broker URL, and
    setting it would pin every later test to one broker).
    """
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    yield


@pytest.fixture(params=["numpy", "faiss"])
def small_flat_max(request, monkeypatch):
    """Run index tests both on the numpy scan and on faiss hash tables (tiny FLAT_MAX)."""
    if request.param == "faiss":
        monkeypatch.setattr(index_module, "FLAT_MAX", 8)
    return request.param


@pytest.fixture(scope="session")
def distractor_set(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> list[dict[str, Any]]:
    """The 2,000 distractors of bench/distractors.py: name, sha256 of the PNG and the item row,
    hashed as the hasher does (`compute_hashes` of each image's PNG). Drawn and hashed once per
    run: parallel test processes share the result through a file under a lock (xdist's recipe for
    session fixtures), since drawing and hashing them costs about 25 s of a core."""
    import fcntl
    import hashlib
    import json

    from bench.distractors import distractors
    from registry.hashing import compute_hashes

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    path = shared / "distractors.json"
    with open(shared / "distractors.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return json.loads(path.read_text())
        drawn = []
        for distractor in distractors():
            png = distractor.png()
            h = compute_hashes(png, max_pixels=10**8)
            row = hashes_row(
                f"distractor/{distractor.name}", h, url=f"https://distractors.example/{distractor.name}.png"
            )
            drawn.append({"name": distractor.name, "sha256": hashlib.sha256(png).hexdigest(), "row": row})
        path.write_text(json.dumps(drawn))
        return drawn


@pytest.fixture(scope="session")
def distractor_rows(distractor_set: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distractors as item rows for `services.items_upsert`."""
    return [dict(d["row"]) for d in distractor_set]
