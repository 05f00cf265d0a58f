"""Fixtures of the API tests: the served OpenAPI document, a world for schemathesis to call,
and URLs whose views fail unexpectedly (the WSGI app on the test's connection: tests/conftest.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from registry import services
from registry.models import WebhookDelivery


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


@dataclass
class World:
    key: str


@pytest.fixture
def api_world(maintainer, receiver) -> tuple[World, dict[str, str]]:
    org = maintainer.maintainer
    dataset = services.dataset_create(maintainer=org, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": str(i), "url": f"https://img.example/{i}.jpg", "phash": f"{i * 7919:016x}"}
            for i in range(5)
        ],
    )
    endpoint, _ = services.webhook_endpoint_create(
        maintainer=org, url=receiver.url, event_types=["removal.approved"], datasets=[dataset]
    )
    removals = services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in dataset.items.all()[:3]],
    )
    row = WebhookDelivery.objects.get()
    services.delivery_attempt(row.pk)
    # Delivered now: one disputed (for the detail), one left for a known-good dispute.
    dispute = services.dispute_file(
        removal=removals[0],
        maintainer=org,
        reason="not_a_copy",
        statement="The item is another photograph of the same place.",
        links=[],
    )
    job = services.import_create(
        dataset=dataset,
        upload=io.BytesIO(b"external_id,url\nx,https://img.example/x.jpg\n"),
        name="i.csv",
        enqueue=False,
    )
    # DELETE gets an endpoint of its own, so the other webhook operations keep theirs.
    doomed, _ = services.webhook_endpoint_create(
        maintainer=org, url=receiver.url, event_types=["removal.approved"]
    )
    ids = {
        "delete.webhook_id": doomed.public_id,
        "path.slug": "d",
        "path.webhook_id": endpoint.public_id,
        "path.delivery_id": row.public_id,
        "path.import_id": job.public_id,
        "path.dispute_id": dispute.public_id,
        "dispute.removal": removals[1].public_id,
    }
    return World(key=maintainer.key), ids


@pytest.fixture
def unexpected_urls(settings):
    settings.ROOT_URLCONF = "tests.registry.api.urls_unexpected"
    settings.DEBUG = False
