"""Schemathesis over the partner operations of the served OpenAPI document, with a partner key.

The partner has filings with rows, so generated requests reach past the 404s. The checks: no
server error, the response matches its documented schema and content type.
"""

from __future__ import annotations

import schemathesis
from django.core.cache import cache

from config.wsgi import application
from partners import services
from partners.models import PartnerKey
from registry import services as registry_services
from registry.models import Removal
from tests.helpers import partner_row, schemathesis_fuzz

KNOWN_GOOD = {
    "POST /api/v1/partner/filings/": {"attestation": True, "rows": [partner_row(500)]},
    "POST /api/v1/partner/filings/files/": {"attestation": True, "name": "rows.csv", "size": 100},
    "PATCH /api/v1/partner/filings/{filing_id}/file/": b'{"creator": {}}\n',
    "POST /api/v1/partner/disputes/{dispute_id}/answer/": {
        "answer": "Our creator made this photograph; the original is dated 2019."
    },
}
KNOWN_GOOD_HEADERS = {"PATCH /api/v1/partner/filings/{filing_id}/file/": {"Upload-Offset": "0"}}


def test_every_partner_operation_holds_to_its_schema(
    partner, partner_dataset, auto_policy, maintainer, wsgi_keeps_the_test_connection
):
    key = PartnerKey.objects.get(partner=partner.partner)
    result = services.filing_create(key=key, rows=[partner_row(0), {"bad": 1}], attestation=True)
    # The filing's removal, delivered and disputed: the disputes operations have one to answer.
    services.filing_run(services.filing_claim(result.filing.pk), chunk=1000)
    removal = Removal.objects.get(source_ref=result.filing.public_id)
    registry_services.removals_mark_delivered(removals=[removal])
    dispute = registry_services.dispute_file(
        removal=removal,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is another photograph of the same place.",
        links=[],
    )
    # The file operations take a file filing, announced far bigger than any chunk sent here.
    file_filing = services.file_filing_create(key=key, attestation=True, name="rows.ndjson", size=10**8)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    seen: dict[str, list[int]] = {}
    failures: dict[str, str] = {}
    for found in schema.get_all_operations():
        operation = found.ok()
        if not operation.path.startswith("/api/v1/partner/"):
            continue
        cache.clear()  # each operation its own rate-limit window (the partner's is 120 calls a minute)
        filing = file_filing if operation.path.endswith("/file/") else result.filing
        path_parameters = {"filing_id": filing.public_id} if "{filing_id}" in operation.path else {}
        if "{dispute_id}" in operation.path:
            path_parameters = {"dispute_id": dispute.public_id}
        try:
            seen[operation.label] = schemathesis_fuzz(
                operation,
                headers={"Authorization": f"Bearer {partner.key}"},
                path_parameters=path_parameters,
                known_good=KNOWN_GOOD,
                known_good_headers=KNOWN_GOOD_HEADERS,
            )
        except Exception as exc:  # one operation's failure must not hide the others'
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert len(seen) + len(failures) == 9, (seen, failures)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert all(any(code < 300 for code in codes) for codes in seen.values()), {
        k: sorted(set(v)) for k, v in seen.items() if min(v) >= 300
    }
