"""Schemathesis over the served OpenAPI document: every operation, real fixtures, bounded.

Each operation gets a maintainer with a key, a data set with items and removals, a webhook
endpoint with a delivery and an import job, so generated requests reach past the 404s. The
checks: no server error, the response matches its documented schema and content type.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from config.wsgi import application
from registry import services
from registry.models import WebhookDelivery

MAX_EXAMPLES = 25


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
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in dataset.items.all()[:3]],
    )
    row = WebhookDelivery.objects.get()
    services.delivery_attempt(row.pk)
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
    }
    return World(key=maintainer.key), ids


def fuzz(operation, *, headers: dict[str, str], path_parameters: dict[str, str]) -> list[int]:
    """Run the checks on generated requests; return the status codes seen."""
    statuses: list[int] = []

    # Valid requests and invalid ones (wrong types, missing fields, hostile strings).
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )
        statuses.append(response.status_code)

    run()
    return statuses


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Calling the WSGI app directly would close the test's database connection after each
    request (request_started/finished); Django's own test client disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_holds_to_its_schema(api_world, wsgi_keeps_the_test_connection):
    world, ids = api_world
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    failures: dict[str, str] = {}
    seen: dict[str, list[int]] = {}
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        path_parameters = {
            name: ids.get(f"{operation.method.lower()}.{name}", ids[f"path.{name}"])
            for name in ("slug", "webhook_id", "delivery_id", "import_id")
            if "{" + name + "}" in operation.path
        }
        scheme = "API" if operation.path.startswith("/api/v2/") else "Bearer"
        headers = {"Authorization": f"{scheme} {world.key}"}
        try:
            seen[operation.label] = fuzz(operation, headers=headers, path_parameters=path_parameters)
        except Exception as exc:  # one operation's failure must not hide the others'
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert len(labels) >= 16, labels
    print({label: sorted(set(codes)) for label, codes in seen.items()})
    # The fixtures let every operation answer a success at least once, not only 4xx; the
    # imports upload is the exception (random bytes are no index file: test_imports covers it).
    unsuccessful = [label for label, codes in seen.items() if not any(c < 300 for c in codes)]
    assert unsuccessful == ["POST /api/v1/datasets/{slug}/imports/"], seen
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
