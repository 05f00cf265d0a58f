"""A partner files a creator's licence choice: checked as the artist's form checks it, recorded as
licence grants (never removals) named as the partner's, told as licence.granted, and taken back
with the filing when moderators revoke it."""

from __future__ import annotations

from partners import services
from partners.models import FilingRow, FilingRowItem, PartnerKey, RowState
from partners.services.approval import rows_grants_record
from registry import services as registry_services
from registry.models import GrantState, LicenceGrant, Removal, WebhookEvent
from tests.helpers import partner_row

CREDIT = "Photo: C. Creator"


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    result = services.filing_create(key=key, rows=rows, attestation=True)
    return result, services.filing_run(services.filing_claim(result.filing.pk), chunk=1000)


def test_it_records_a_licence_row_as_a_grant_of_its_items_not_a_removal(
    partner, partner_dataset, auto_policy, maintainer, receiver
):
    registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["licence.granted"]
    )
    rows = [
        partner_row(
            0, choice="licence", licence="cc-by", attribution=CREDIT, licence_url="https://ignored.example"
        ),
        partner_row(1, choice="licence", licence="custom", licence_url="https://art.example/terms"),
        partner_row(2),
    ]
    result, filing = file_and_run(partner, rows)
    assert result.rejected == []
    assert set(filing.rows.values_list("state", flat=True)) == {RowState.APPROVED}
    grants = {g.external_id: g for g in LicenceGrant.objects.filter(source_ref=filing.public_id)}
    assert set(grants) == {"e0", "e1"}
    assert (grants["e0"].licence, grants["e0"].licence_url, grants["e0"].attribution) == (
        "cc-by",
        "https://creativecommons.org/licenses/by/4.0/",
        CREDIT,
    )
    assert (grants["e1"].licence_url, grants["e1"].attribution) == ("https://art.example/terms", "")
    assert {(g.source, g.partner) for g in grants.values()} == {("partner", partner.partner.name)}
    assert list(
        Removal.objects.filter(source_ref=filing.public_id).values_list("external_id", flat=True)
    ) == ["e2"]
    # A claimed creator lifts or changes rows: every approved row keeps the items it names.
    assert sorted(FilingRowItem.objects.values_list("row__index", flat=True)) == [0, 1, 2]
    # One write for the chunk's licences: one event carries both grants, each with its licence.
    [event] = WebhookEvent.objects.filter(event_type="licence.granted")
    told = {g["external_id"]: g["licence"] for g in event.payload["data"]["licences"]}
    assert told == {"e0": "cc-by", "e1": "custom"}
    stored = FilingRow.objects.get(filing=filing, index=0).licence_terms
    assert (stored.licence, stored.attribution) == ("cc-by", CREDIT)
    assert not FilingRow.objects.filter(filing=filing, index=2, licence_terms__isnull=False).exists()

    # The same rows decided again (a chunk whose commit was not seen) grant nothing twice.
    licensed = [(row, {grants[f"e{row.index}"].item_id}) for row in filing.rows.filter(index__in=[0, 1])]
    assert rows_grants_record(filing=filing, partner=partner.partner, rows_items=licensed) == 0
    assert LicenceGrant.objects.filter(source_ref=filing.public_id).count() == 2


def test_a_bad_licence_row_is_rejected_alone_and_grants_nothing(partner, partner_dataset, auto_policy):
    rows = [
        partner_row(0, choice="licence", licence="cc-by-sa"),
        partner_row(1, choice="licence", licence="custom", licence_url="ftp://art.example/terms"),
        partner_row(2, choice="licence", licence="cc0", attribution="<script>x</script>"),
        partner_row(3, choice="licence", licence="mit"),
        partner_row(4, choice="licence", licence="cc0"),
    ]
    result, _ = file_and_run(partner, rows)
    assert [(r["index"], r["field"]) for r in result.rejected] == [
        (0, "attribution"),
        (1, "licence_url"),
        (2, "attribution"),
        (3, "licence"),
    ]
    assert "http:// or https://" in result.rejected[1]["error"]
    assert [g.external_id for g in LicenceGrant.objects.all()] == ["e4"]


def test_revoking_the_filing_takes_its_grants_back(partner, partner_dataset, auto_policy, superuser):
    _, filing = file_and_run(partner, [partner_row(0, choice="licence", licence="cc0"), partner_row(1)])
    done = services.filing_revoke(filing=filing, reason="Filed for the wrong creators", actor=superuser)
    assert done.removals == 1
    grant = LicenceGrant.objects.get(source_ref=filing.public_id)
    assert (grant.state, grant.revoked_reason) == (GrantState.REVOKED, services.REVOKED_BY_DESK)
