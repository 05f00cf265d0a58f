"""The admin's filing page shows a file filing's progress: bytes received, rows read of those
counted, and why a file failed; a batch filing says it is one."""

from __future__ import annotations

from django.test import Client

from partners.models import Filing
from tests.helpers import partner_row
from tests.partners.file_helpers import announce, csv_bytes, ndjson_bytes, read_and_decide_here, upload


def page(client: Client, filing: Filing) -> str:
    response = client.get(f"/admin/partners/filing/{filing.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_filing_page_shows_how_far_its_file_is(partner_api, operator_client, moderator):
    data = ndjson_bytes([partner_row(i) for i in range(1200)])
    receiving = Filing.objects.get(public_id=announce(partner_api, data, "rows.ndjson").json()["id"])
    assert f"receiving its file: 0 of {len(data):,} bytes" in page(operator_client, receiving)

    filing = read_and_decide_here(upload(partner_api, data, "big.ndjson", chunk=1 << 20)["id"])
    assert "1,200 rows read of 1,200 from big.ndjson (ndjson)" in page(operator_client, filing)
    desk = Client()  # moderators read it too
    desk.force_login(moderator)
    assert "1,200 rows read" in page(desk, filing)

    failed = read_and_decide_here(upload(partner_api, csv_bytes([]), "empty.csv")["id"])
    assert "failed: The file holds no rows." in page(operator_client, failed)


def test_a_batch_filing_says_it_is_one(partner_api, operator_client):
    filing_id = partner_api.post(
        "/api/v1/partner/filings/", {"attestation": True, "rows": [partner_row(0)]}, format="json"
    ).json()["id"]
    assert "a JSON batch of 1 rows" in page(operator_client, Filing.objects.get(public_id=filing_id))
