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


@pytest.fixture(scope="session")
def distractor_rows() -> list[dict[str, Any]]:
    """The 2,000 distractors of bench/distractors.py as item rows, hashed as the hasher does
    (`compute_hashes` of each image's PNG), for `services.items_upsert`."""
    from bench.distractors import distractors
    from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex

    rows = []
    for distractor in distractors():
        h = compute_hashes(distractor.png(), max_pixels=10**8)
        rows.append(
            {
                "external_id": f"distractor/{distractor.name}",
                "url": f"https://distractors.example/{distractor.name}.png",
                "phash": code_to_hex(h.phash),
                "dhash": code_to_hex(h.dhash),
                "pdq": pdq_to_hex(h.pdq),
            }
        )
    return rows
