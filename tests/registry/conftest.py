"""Fixtures for the registry tests (people, maintainers and the receiver: tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from registry import services
from registry.models import Dataset, WebhookEndpoint


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
