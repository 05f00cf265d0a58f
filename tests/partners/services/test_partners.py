"""Partners, domains and policies: every operator change writes its audit row."""

from __future__ import annotations

import datetime

import pytest

from partners import services
from partners.models import FilingPolicy, PartnerAction, PartnerActionKind, PartnerStatus


def kinds(partner) -> list[str]:
    return list(PartnerAction.objects.filter(partner=partner).order_by("pk").values_list("kind", flat=True))


def test_it_creates_a_partner_with_a_policy_that_waits_for_the_desk(db, superuser):
    partner = services.partner_create(
        name="Museum",
        slug="museum",
        contact_email="ops@museum.example",
        agreement_ref="AG-1",
        agreement_date=datetime.date(2026, 1, 2),
        attestation_text="We attest.",
        actor=superuser,
    )
    assert FilingPolicy.objects.get(partner=partner).auto_approve_verified_hashed is False
    action = PartnerAction.objects.get(partner=partner)
    assert action.kind == PartnerActionKind.PARTNER_CREATED and action.actor == superuser
    assert (
        action.detail["agreement_date"] == "2026-01-02" and action.detail["attestation_text"] == "We attest."
    )


def test_it_refuses_a_partner_without_an_attestation(db):
    with pytest.raises(services.PartnerError, match="attestation"):
        services.partner_create(
            name="X", slug="x", contact_email="a@x.example", agreement_ref="A",
            agreement_date=datetime.date(2026, 1, 1), attestation_text="  ",
        )  # fmt: skip


def test_it_records_what_an_update_changed_and_nothing_when_nothing_did(partner, superuser):
    org = partner.partner
    services.partner_update(partner=org, actor=superuser, name=org.name, contact_email=org.contact_email)
    assert kinds(org)[-1] != PartnerActionKind.PARTNER_CHANGED
    services.partner_update(partner=org, actor=superuser, contact_email="new@art.example")
    action = PartnerAction.objects.filter(partner=org).order_by("pk").last()
    assert action.kind == PartnerActionKind.PARTNER_CHANGED
    assert action.detail == {"changed": {"contact_email": ["legal@art.example", "new@art.example"]}}
    with pytest.raises(TypeError):
        services.partner_update(partner=org, status="suspended")


def test_suspending_says_who_when_and_why_once(partner, superuser):
    org = services.partner_suspend(partner=partner.partner, reason="Agreement under review", actor=superuser)
    assert org.status == PartnerStatus.SUSPENDED and org.status_changed_by == superuser
    assert org.status_reason == "Agreement under review" and org.status_changed_at is not None
    services.partner_suspend(partner=partner.partner, reason="again", actor=superuser)
    assert kinds(org).count(PartnerActionKind.PARTNER_SUSPENDED) == 1
    with pytest.raises(services.PartnerError, match="Say why"):
        services.partner_reinstate(partner=org, reason=" ")
    org = services.partner_reinstate(partner=org, reason="Review done", actor=superuser)
    assert org.is_active and kinds(org)[-1] == PartnerActionKind.PARTNER_REINSTATED


@pytest.mark.parametrize(
    ("written", "host", "subdomains"),
    [
        ("Art.Example", "art.example", False),
        ("*.art.example", "art.example", True),
        ("https://WWW.Exämple.com:8443/gallery", "www.xn--exmple-cua.com", False),
    ],
)
def test_domains_are_normalised(other_partner, written, host, subdomains):
    domain = services.partner_domain_add(partner=other_partner.partner, host=written)
    assert (domain.host, domain.include_subdomains, domain.verified) == (host, subdomains, False)


@pytest.mark.parametrize(
    "written", ["", "localhost", "10.0.0.1", "[::1]", "bad host.example", "a\x00b.example"]
)
def test_a_domain_that_is_not_a_domain_name_is_refused(partner, written):
    with pytest.raises(services.PartnerError, match="not a domain name"):
        services.partner_domain_add(partner=partner.partner, host=written)


def test_a_domain_twice_is_refused(partner):
    with pytest.raises(services.PartnerError, match="already one of"):
        services.partner_domain_add(partner=partner.partner, host="ART.example")


def test_verifying_and_removing_domains_are_audited(other_partner, superuser):
    domain = services.partner_domain_add(partner=other_partner.partner, host="new.example", actor=superuser)
    services.partner_domain_verify(domain=domain, actor=superuser)
    services.partner_domain_verify(domain=domain, actor=superuser)
    services.partner_domain_remove(domain=domain, actor=superuser)
    tail = kinds(other_partner.partner)[-3:]
    assert tail == [
        PartnerActionKind.DOMAIN_ADDED,
        PartnerActionKind.DOMAIN_VERIFIED,
        PartnerActionKind.DOMAIN_REMOVED,
    ]
    assert not other_partner.partner.domains.filter(host="new.example").exists()


def test_a_policy_change_records_before_and_after(partner, superuser):
    policy = partner.partner.policy
    services.filing_policy_update(policy=policy, auto_approve_verified_hashed=False, actor=superuser)
    assert kinds(partner.partner)[-1] != PartnerActionKind.POLICY_CHANGED
    services.filing_policy_update(policy=policy, auto_approve_verified_hashed=True, actor=superuser)
    action = PartnerAction.objects.filter(partner=partner.partner).order_by("pk").last()
    assert action.kind == PartnerActionKind.POLICY_CHANGED and action.actor == superuser
    assert action.detail == {
        "before": {"auto_approve_verified_hashed": False, "sample_size": 0},
        "after": {"auto_approve_verified_hashed": True, "sample_size": 0},
    }
    services.filing_policy_update(policy=policy, auto_approve_verified_hashed=True, sample_size=25)
    assert PartnerAction.objects.order_by("pk").last().detail["after"]["sample_size"] == 25
    with pytest.raises(services.PartnerError, match="sample size"):
        services.filing_policy_update(policy=policy, auto_approve_verified_hashed=True, sample_size=10_001)
