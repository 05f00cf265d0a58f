"""The admin's revocation actions: a filing's removals (moderators and operators), and a partner
suspended with every filing's removals (operators), each asking why and saying how many."""

from __future__ import annotations

from partners import services
from partners.models import Filing, PartnerAction, PartnerActionKind, PartnerKey, PartnerStatus
from registry.models import Removal
from tests.helpers import logged_in, messages_of, partner_row


def _filing(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_a_moderator_revokes_a_filings_removals_with_a_reason(
    moderator, partner, partner_dataset, auto_policy
):
    filing = _filing(partner, [partner_row(i) for i in range(3)])
    desk = logged_in(moderator)
    selected = {"action": "revoke_removals", "_selected_action": [filing.pk]}
    asked = desk.post("/admin/partners/filing/", selected)
    assert asked.status_code == 200 and "Why?" in asked.content.decode()
    empty = desk.post("/admin/partners/filing/", {**selected, "apply": "1", "reason": " "})
    assert empty.status_code == 200 and set(Removal.objects.values_list("state", flat=True)) == {"pending"}
    nul = desk.post("/admin/partners/filing/", {**selected, "apply": "1", "reason": "bad\x00"})
    # A NUL never reaches the service: refused (asked again, or sent back to the list with a message).
    assert nul.status_code in (200, 302) and set(Removal.objects.values_list("state", flat=True)) == {
        "pending"
    }
    assert not PartnerAction.objects.filter(kind=PartnerActionKind.FILING_REVOKED).exists()
    done = desk.post(
        "/admin/partners/filing/", {**selected, "apply": "1", "reason": "Not theirs"}, follow=True
    )
    told = "3 removals revoked. Maintainers told in 1 removal.revoked event."
    assert any(told in m for m in messages_of(done))
    assert set(Removal.objects.values_list("state", flat=True)) == {"revoked"}
    audit = PartnerAction.objects.get(kind=PartnerActionKind.FILING_REVOKED)
    assert audit.actor == moderator and audit.detail["reason"] == "Not theirs"
    again = desk.post("/admin/partners/filing/", {**selected, "apply": "1", "reason": "x"}, follow=True)
    assert any("revoked already" in m for m in messages_of(again))


def test_an_operator_suspends_a_partner_and_revokes_everything_it_filed(
    operator_client, partner, partner_dataset, auto_policy, superuser
):
    _filing(partner, [partner_row(i) for i in range(2)])
    _filing(partner, [partner_row(i) for i in range(2, 5)])
    selected = {"action": "suspend_and_revoke", "_selected_action": [partner.partner.pk]}
    asked = operator_client.post("/admin/partners/partner/", selected)
    assert asked.status_code == 200 and "Why?" in asked.content.decode()
    done = operator_client.post(
        "/admin/partners/partner/", {**selected, "apply": "1", "reason": "Agreement ended"}, follow=True
    )
    assert any("suspended; 2 filings revoked. 5 removals revoked." in m for m in messages_of(done))
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.SUSPENDED
    assert Filing.objects.filter(revoked_at__isnull=False).count() == 2
    assert PartnerAction.objects.get(kind=PartnerActionKind.PARTNER_REVOKED).actor == superuser


def test_moderators_cannot_suspend_a_partner_from_the_desk(moderator, partner, partner_dataset, auto_policy):
    _filing(partner, [partner_row(0)])
    desk = logged_in(moderator)
    response = desk.post(
        "/admin/partners/partner/",
        {
            "action": "suspend_and_revoke",
            "_selected_action": [partner.partner.pk],
            "apply": "1",
            "reason": "x",
        },
    )
    assert response.status_code in (200, 302, 403)
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.ACTIVE
    assert Removal.objects.get().state == "pending"


def test_the_claims_list_opens(operator_client, moderator):
    assert operator_client.get("/admin/partners/creatorclaim/").status_code == 200
    assert logged_in(moderator).get("/admin/partners/creatorclaim/").status_code == 200
