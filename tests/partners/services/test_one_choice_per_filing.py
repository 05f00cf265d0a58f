"""One filing states one choice per work: a second row of the same creator, work and hashes with
another choice is rejected, naming the earlier row (and its line in a file), whether both are in
one batch or in two batches of a file read in parts; the identical row again is still a duplicate."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import FilingRow, PartnerKey, RowState
from registry.models import LicenceGrant, Removal, RemovalState
from tests.helpers import partner_row
from tests.partners.file_helpers import ndjson_bytes, read_and_decide_here, upload

CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: C. Creator"}
EARLIER = "the same work appears earlier in this filing"


def _file(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    result = services.filing_create(key=key, rows=rows, attestation=True)
    services.filing_run(services.filing_claim(result.filing.pk))
    return result


def test_it_rejects_a_second_choice_for_a_work_in_one_batch(partner, partner_dataset, auto_policy):
    result = _file(partner, [partner_row(0), partner_row(1), partner_row(0, **CC_BY), partner_row(0)])
    [rejected] = result.rejected
    assert (rejected["index"], rejected["field"]) == (2, "choice")
    assert rejected["error"].startswith(f"{EARLIER} (row 0) with another choice (remove)")
    assert [d["index"] for d in result.duplicates] == [3]  # the identical row: a duplicate
    assert result.changes == []
    assert sorted(Removal.objects.values_list("external_id", flat=True)) == ["e0", "e1"]
    assert not LicenceGrant.objects.exists()
    row = FilingRow.objects.get(filing=result.filing, index=2)
    assert (row.state, row.error_field) == (RowState.REJECTED, "choice")
    result.filing.refresh_from_db()
    assert (result.filing.rejected, result.filing.duplicates) == (1, 1)


def test_a_change_of_choice_is_made_once_per_filing(partner, partner_dataset, auto_policy):
    first = _file(partner, [partner_row(0)])
    second = _file(partner, [partner_row(0, **CC_BY), partner_row(0, choice="search_only")])
    assert [(c["index"], c["new"], c["applied"]) for c in second.changes] == [(0, "licence", False)]
    [rejected] = second.rejected
    assert rejected["index"] == 1 and f"{EARLIER} (row 0) with another choice (licence)" in rejected["error"]
    assert Removal.objects.get().state == RemovalState.REVOKED
    assert LicenceGrant.objects.get().source_ref == first.filing.public_id


def test_in_the_api_the_second_choice_is_among_the_rejected(partner_api, partner):
    response = partner_api.post(
        "/api/v1/partner/filings/",
        {"attestation": True, "rows": [partner_row(0, choice="search_only"), partner_row(0)]},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "choice")]
    assert body["duplicates"] == [] and body["changes"] == []
    rows = partner_api.get(f"/api/v1/partner/filings/{body['id']}/rows/?state=rejected").json()["results"]
    assert EARLIER in rows[0]["error"]


@pytest.fixture
def small_batches(settings):
    settings.PARTNER_FILE_BATCH_ROWS = 2


def test_a_file_read_in_batches_names_the_earlier_line(
    partner_api, partner, partner_dataset, auto_policy, small_batches
):
    rows = [partner_row(0), partner_row(1), partner_row(2), partner_row(0, **CC_BY), partner_row(0)]
    sent = upload(partner_api, ndjson_bytes(rows), "rows.ndjson")
    assert sent["status"] == 200, sent
    filing = read_and_decide_here(sent["id"])
    rejected = FilingRow.objects.get(filing=filing, state=RowState.REJECTED)
    assert (rejected.index, rejected.line, rejected.error_field) == (3, 4, "choice")
    assert rejected.error.startswith(f"{EARLIER} (row 0, line 1) with another choice (remove)")
    assert FilingRow.objects.get(filing=filing, index=4).state == RowState.DUPLICATE
    assert sorted(Removal.objects.values_list("external_id", flat=True)) == ["e0", "e1", "e2"]
    assert not LicenceGrant.objects.exists()


def test_a_file_changes_a_work_filed_before_once(
    partner_api, partner, partner_dataset, auto_policy, small_batches
):
    _file(partner, [partner_row(0)])
    rows = [partner_row(0, **CC_BY), partner_row(1), partner_row(0, choice="search_only")]
    sent = upload(partner_api, ndjson_bytes(rows), "rows.ndjson")
    filing = read_and_decide_here(sent["id"])
    rejected = FilingRow.objects.get(filing=filing, state=RowState.REJECTED)
    assert (rejected.index, rejected.line) == (2, 3)
    assert f"{EARLIER} (row 0, line 1) with another choice (licence)" in rejected.error
    assert LicenceGrant.objects.count() == 1
    assert not Removal.objects.filter(search="allowed").exists()
