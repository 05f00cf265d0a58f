"""Schemathesis over the served OpenAPI document: every operation, real fixtures, bounded.

Each operation gets a maintainer with a key, a data set with items and removals, a webhook
endpoint with a delivery and an import job, so generated requests reach past the 404s. The
checks: no server error, the response matches its documented schema and content type.
"""

from __future__ import annotations

import schemathesis

from config.wsgi import application
from tests.helpers import schemathesis_fuzz

# A valid request for operations whose generated cases may all be refused for reasons outside
# the schema: a generated webhook URL is vetted by resolving its host, and what a random host
# name resolves to (nothing, a public or a private address) depends on the machine's DNS.
KNOWN_GOOD = {
    "POST /api/v1/webhooks/": {"url": "https://93.184.215.14/hooks/removals", "events": ["removal.approved"]},
}
# The partner API takes partner keys: tests/partners/api/test_schemathesis.py fuzzes it.
PARTNER_PATHS = "/api/v1/partner/"


def test_every_operation_holds_to_its_schema(api_world, wsgi_keeps_the_test_connection):
    world, ids = api_world
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    failures: dict[str, str] = {}
    known_good = {
        **KNOWN_GOOD,
        "POST /api/v1/datasets/{slug}/disputes/": {
            "removal": ids["dispute.removal"],
            "reason": "not_a_copy",
            "statement": "The item is another photograph of the same place.",
        },
    }
    seen: dict[str, list[int]] = {}
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(PARTNER_PATHS):
            continue
        labels.append(operation.label)
        path_parameters = {
            name: ids.get(f"{operation.method.lower()}.{name}", ids[f"path.{name}"])
            for name in ("slug", "webhook_id", "delivery_id", "import_id", "dispute_id")
            if "{" + name + "}" in operation.path
        }
        scheme = "API" if operation.path.startswith("/api/v2/") else "Bearer"
        headers = {"Authorization": f"{scheme} {world.key}"}
        try:
            seen[operation.label] = schemathesis_fuzz(
                operation, headers=headers, path_parameters=path_parameters, known_good=known_good
            )
        except Exception as exc:  # one operation's failure must not hide the others'
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert len(labels) >= 16, labels
    print({label: sorted(set(codes)) for label, codes in seen.items()})
    # The fixtures let every operation answer a success at least once, not only 4xx; the
    # imports upload is the exception (random bytes are no index file: test_imports covers it).
    unsuccessful = [label for label, codes in seen.items() if not any(c < 300 for c in codes)]
    assert unsuccessful == ["POST /api/v1/datasets/{slug}/imports/"], seen
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
