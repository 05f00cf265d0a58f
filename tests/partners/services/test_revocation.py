"""Moderators revoke what a partner filed: a filing's removals, or every filing's with the partner
suspended; maintainers are told, the policy approves nothing more, each step audited."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import Filing, FilingRowItem, PartnerAction, PartnerActionKind, PartnerKey, PartnerStatus
from registry.models import Removal, WebhookDelivery, WebhookEvent
from tests.helpers import partner_row


def file_and_run(partner, rows, *, chunk: int = 1000) -> Filing:
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk), chunk=chunk)


@pytest.fixture
def revoked_endpoint(maintainer, receiver, partner_dataset):
    from registry import services as registry_services

    endpoint, _ = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.revoked"]
    )
    return endpoint


def test_an_approved_row_records_which_items_it_removes(partner, partner_dataset, auto_policy):
    filing = file_and_run(partner, [partner_row(0), partner_row(1), partner_row(30)])
    links = set(FilingRowItem.objects.values_list("row__index", "item_id"))
    items = dict(partner_dataset.items.values_list("external_id", "pk"))
    assert links == {(0, items["e0"]), (1, items["e1"])}
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 2


def test_revoking_a_filing_revokes_its_removals_and_tells_maintainers(
    partner, partner_dataset, auto_policy, revoked_endpoint, superuser
):
    filing = file_and_run(partner, [partner_row(i) for i in range(3)])
    other = file_and_run(partner, [partner_row(i) for i in range(3, 5)])
    done = services.filing_revoke(filing=filing, reason="Filed for the wrong creators", actor=superuser)
    assert (done.filings, done.removals, done.events) == (1, 3, 1)
    assert set(Removal.objects.filter(source_ref=filing.public_id).values_list("state", flat=True)) == {
        "revoked"
    }
    assert set(Removal.objects.filter(source_ref=other.public_id).values_list("state", flat=True)) == {
        "pending"
    }
    # Maintainers read the desk's fixed reason; the moderator's words stay in the audit trail.
    assert set(
        Removal.objects.filter(source_ref=filing.public_id).values_list("revoked_reason", flat=True)
    ) == {services.REVOKED_BY_DESK}
    event = WebhookEvent.objects.get(event_type="removal.revoked")
    assert WebhookDelivery.objects.filter(event=event, endpoint=revoked_endpoint).exists()
    audit = PartnerAction.objects.get(kind=PartnerActionKind.FILING_REVOKED)
    assert (audit.actor, audit.object_type, audit.object_id) == (superuser, "filing", filing.pk)
    assert audit.detail == {"reason": "Filed for the wrong creators", "removals": 3, "events": 1}
    filing.refresh_from_db()
    assert filing.revoked_at is not None and filing.revoked_reason == "Filed for the wrong creators"
    # Again: nothing more, no second audit row.
    assert services.filing_revoke(filing=filing, reason="again", actor=superuser).filings == 0
    assert PartnerAction.objects.filter(kind=PartnerActionKind.FILING_REVOKED).count() == 1


def test_a_revoked_filing_gets_no_more_approvals(partner, partner_dataset, auto_policy):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(i) for i in range(4)], attestation=True).filing
    claimed = services.filing_claim(filing.pk)
    assert services.filing_decide_chunk(filing=claimed, chunk=2)  # rows 0 and 1 approved
    services.filing_revoke(filing=filing, reason="Stop it")
    services.filing_run(Filing.objects.get(pk=filing.pk), chunk=2)
    states = dict(filing.rows.values_list("index", "state"))
    assert states == {0: "approved", 1: "approved", 2: "waiting", 3: "waiting"}
    assert set(Removal.objects.values_list("state", flat=True)) == {"revoked"}
    assert Removal.objects.count() == 2


def test_suspending_and_revoking_a_partner_takes_back_every_filing_in_one_action(
    partner, other_partner, partner_dataset, auto_policy, superuser
):
    first = file_and_run(partner, [partner_row(i) for i in range(3)])
    second = file_and_run(partner, [partner_row(i) for i in range(3, 6)])
    done = services.partner_suspend_and_revoke(
        partner=partner.partner, reason="Agreement breached", actor=superuser
    )
    assert (done.filings, done.removals) == (2, 6)
    assert set(Removal.objects.values_list("state", flat=True)) == {"revoked"}
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.SUSPENDED
    assert set(
        Filing.objects.filter(pk__in=[first.pk, second.pk]).values_list("revoked_reason", flat=True)
    ) == {"Agreement breached"}
    kinds = list(PartnerAction.objects.filter(partner=partner.partner).values_list("kind", flat=True)[:2])
    assert kinds == [PartnerActionKind.PARTNER_REVOKED, PartnerActionKind.PARTNER_SUSPENDED]
    audit = PartnerAction.objects.get(kind=PartnerActionKind.PARTNER_REVOKED)
    assert audit.detail["filing_count"] == 2 and audit.detail["removals"] == 6
    assert sorted(audit.detail["filings"]) == sorted([first.public_id, second.public_id])


def test_revoking_needs_a_reason(partner, partner_dataset, auto_policy):
    filing = file_and_run(partner, [partner_row(0)])
    with pytest.raises(services.PartnerError, match="Say why"):
        services.filing_revoke(filing=filing, reason="  ")
    with pytest.raises(services.PartnerError, match="Say why"):
        services.partner_suspend_and_revoke(partner=partner.partner, reason="")
    assert Removal.objects.get().state == "pending"
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.ACTIVE
