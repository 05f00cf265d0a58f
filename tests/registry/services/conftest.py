"""Fixtures of the service tests: a pending delivery to the test receiver, and a clock put back."""

from __future__ import annotations

import pytest

from core import clock
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


@pytest.fixture
def clock_back():
    """Put the clock back after a test that moved it (clock.travel as a plain call lasts)."""
    yield
    clock.reset()
