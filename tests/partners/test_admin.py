"""The operator's pages: a partner set up, its domains verified, a key shown once, suspended."""

from __future__ import annotations

from partners.models import (
    PartnerAction,
    PartnerActionKind,
    PartnerDomain,
    PartnerKey,
    PartnerStatus,
)
from partners.services import partner_key_authenticate
from tests.helpers import messages_of
from tests.partners.admin_steps import ClientPages, PartnerSetUp


def test_an_operator_sets_a_partner_up_in_the_admin(operator_client, superuser):
    steps = PartnerSetUp(ClientPages(operator_client))
    partner = steps.add_partner()
    assert partner.policy.auto_approve_verified_hashed is False
    created = PartnerAction.objects.get(partner=partner, kind=PartnerActionKind.PARTNER_CREATED)
    assert created.actor == superuser

    domain = steps.add_domain(partner)
    assert (domain.host, domain.include_subdomains, domain.verified) == ("gallery.example", True, False)

    steps.verify_domain(domain)
    assert domain.verified and domain.verified_by == superuser

    raw = steps.create_key(partner)  # shown once: not on the partner's page, which names its prefix
    assert raw.startswith("rdp_") and partner_key_authenticate(raw).partner == partner
    page = operator_client.get(f"/admin/partners/partner/{partner.pk}/change/").content.decode()
    assert PartnerKey.objects.get(partner=partner).prefix in page


def test_a_domain_that_is_not_one_is_an_error_on_the_form(operator_client, partner):
    response = operator_client.post(
        "/admin/partners/partnerdomain/add/", {"partner": partner.partner.pk, "host": "10.0.0.1"}
    )
    assert response.status_code == 200 and "is not a domain name" in response.content.decode()
    nul = operator_client.post(
        "/admin/partners/partnerdomain/add/", {"partner": partner.partner.pk, "host": "a\x00"}
    )
    assert (
        nul.status_code in (200, 302) and PartnerDomain.objects.filter(partner=partner.partner).count() == 1
    )


def test_suspending_asks_why_and_records_it(operator_client, partner, superuser):
    selected = {"action": "suspend", "_selected_action": [partner.partner.pk]}
    asked = operator_client.post("/admin/partners/partner/", selected)
    assert asked.status_code == 200 and "Why?" in asked.content.decode()
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.ACTIVE
    operator_client.post("/admin/partners/partner/", {**selected, "apply": "1", "reason": "Contract lapsed"})
    partner.partner.refresh_from_db()
    assert (
        partner.partner.status == PartnerStatus.SUSPENDED
        and partner.partner.status_reason == "Contract lapsed"
    )
    assert partner.partner.status_changed_by == superuser


def test_revoking_a_key_in_the_admin(operator_client, partner):
    key = PartnerKey.objects.get(partner=partner.partner)
    operator_client.post("/admin/partners/partnerkey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert partner_key_authenticate(partner.key) is None


def test_the_policy_is_changed_through_its_service(operator_client, partner, superuser):
    policy = partner.partner.policy
    PartnerSetUp(ClientPages(operator_client)).set_policy(partner.partner, sample_size=5)
    policy.refresh_from_db()
    assert policy.auto_approve_verified_hashed and policy.sample_size == 5
    action = PartnerAction.objects.filter(partner=partner.partner).order_by("pk").last()
    assert action.kind == PartnerActionKind.POLICY_CHANGED and action.actor == superuser


def test_the_lists_open(operator_client, partner):
    for model in (
        "partner",
        "partnerdomain",
        "partnerkey",
        "filingpolicy",
        "filing",
        "filingrow",
        "partneraction",
    ):
        assert operator_client.get(f"/admin/partners/{model}/").status_code == 200, model


def test_a_moderator_passes_or_fails_a_sample_in_the_admin(
    operator_client, partner, partner_dataset, superuser
):
    from partners import services
    from partners.models import Filing, SampleState
    from tests.helpers import partner_row

    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=1
    )
    key = PartnerKey.objects.get(partner=partner.partner)
    made = []
    for start in (0, 5):
        rows = [partner_row(i) for i in range(start, start + 3)]
        filing = services.filing_create(key=key, rows=rows, attestation=True).filing
        made.append(services.filing_run(services.filing_claim(filing.pk)))
    passing, failing = made
    operator_client.post(
        "/admin/partners/filing/", {"action": "pass_sample", "_selected_action": [passing.pk]}
    )
    selected = {"action": "fail_sample", "_selected_action": [failing.pk]}
    asked = operator_client.post("/admin/partners/filing/", selected)
    assert asked.status_code == 200 and "Why?" in asked.content.decode()
    operator_client.post("/admin/partners/filing/", {**selected, "apply": "1", "reason": "Not theirs"})
    assert Filing.objects.get(pk=passing.pk).sample_state == SampleState.PASSED
    assert Filing.objects.get(pk=failing.pk).sample_state == SampleState.FAILED
    again = operator_client.post(
        "/admin/partners/filing/", {"action": "pass_sample", "_selected_action": [failing.pk]}, follow=True
    )
    assert any("no sample waiting" in m for m in messages_of(again))


def test_moderators_read_filings_and_judge_samples_but_set_nothing_up(moderator, partner, partner_dataset):
    from partners import services
    from partners.models import Filing, SampleState
    from tests.helpers import logged_in, partner_row

    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=1
    )
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(0), partner_row(1)], attestation=True).filing
    services.filing_run(services.filing_claim(filing.pk))
    desk = logged_in(moderator)
    assert desk.get("/admin/partners/filing/").status_code == 200
    assert desk.get("/admin/partners/filingrow/?state__exact=sampled").status_code == 200
    assert desk.get("/admin/partners/partner/add/").status_code == 403
    assert desk.get("/admin/partners/partnerkey/").status_code == 403
    desk.post("/admin/partners/filing/", {"action": "pass_sample", "_selected_action": [filing.pk]})
    assert Filing.objects.get(pk=filing.pk).sample_state == SampleState.PASSED


def test_the_partner_s_page_lists_the_disputes_about_its_filings(
    operator_client, partner, partner_dataset, auto_policy, maintainer
):
    from partners import services
    from registry import services as registry_services
    from registry.models import Removal
    from tests.helpers import partner_row

    page = operator_client.get(f"/admin/partners/partner/{partner.partner.pk}/change/").content.decode()
    assert "disputes" in page
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(0)], attestation=True).filing
    services.filing_run(services.filing_claim(filing.pk), chunk=1000)
    removal = Removal.objects.get(source_ref=filing.public_id)
    registry_services.removals_mark_delivered(removals=[removal])
    dispute = registry_services.dispute_file(
        removal=removal,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is another photograph of the same place.",
        links=[],
    )
    page = operator_client.get(f"/admin/partners/partner/{partner.partner.pk}/change/").content.decode()
    assert f'href="/admin/registry/dispute/{dispute.pk}/change/"' in page
    assert dispute.public_id in page and removal.public_id in page and filing.public_id in page
    assert "not answered" in page
