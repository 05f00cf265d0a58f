"""Fixtures of the service tests: a pending delivery to the test receiver (the clock put back:
tests/conftest.py)."""

from __future__ import annotations

import pytest

from registry import services
from registry.models import WebhookDelivery


@pytest.fixture
def delivery_setup(maintainer, receiver):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(dataset=dataset, rows=[{"external_id": "1", "url": "https://i.example/1.jpg"}])
    endpoint, secret = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    return WebhookDelivery.objects.get(), endpoint, secret
