"""A creator a partner filed for, in chromium: finds what the platform filed, claims it by the
link mailed to the address the platform gave, reads each work and its removals per data set,
and lifts one; every page passes axe-core, does not scroll sideways at 375 px, and reads in
French too."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from partners import services as partner_services
from partners.models import PartnerKey
from registry import services as registry_services
from registry.models import LicenceGrant, Removal
from tests.helpers import ARTIST_PASSWORD, log_in, make_artist, partner_row

pytestmark = [pytest.mark.django_db(transaction=True)]

ADA = {
    "id": "ada-lovelace",
    "profile_url": "https://art.example/u/ada-lovelace",
    "email": "ada@creators.example",
}


def _filed() -> None:
    """ArtPlace filed three works of Ada's (two in a data set, one nowhere yet) and one of Bob's."""
    maintainer, _ = registry_services.maintainer_create(name="LAION-ish", email="ops@laion.example")
    dataset = registry_services.dataset_create(maintainer=maintainer, slug="pd", name="Photos 2026")
    rows = [partner_row(i) for i in range(3)]
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": f"e{i}", "url": r["work_url"], "phash": r["phash"]} for i, r in enumerate(rows)
        ],
    )
    partner = partner_services.partner_create(
        name="ArtPlace",
        slug="artplace",
        contact_email="legal@art.example",
        agreement_ref="AG-1",
        agreement_date=datetime.date(2026, 11, 1),
        attestation_text="We hold the written instruction of every creator we file for.",
    )
    partner_services.partner_domain_verify(
        domain=partner_services.partner_domain_add(partner=partner, host="*.art.example")
    )
    partner_services.partner_key_create(partner=partner)
    partner_services.filing_policy_update(policy=partner.policy, auto_approve_verified_hashed=True)
    key = PartnerKey.objects.get(partner=partner)
    filed = [
        partner_row(0, creator=ADA),
        partner_row(1, creator=ADA),
        partner_row(40, creator=ADA),
        partner_row(2),
    ]
    filing = partner_services.filing_create(key=key, rows=filed, attestation=True).filing
    partner_services.filing_run(partner_services.filing_claim(filing.pk))


def test_a_creator_claims_what_a_platform_filed_and_lifts_a_work(live_server, visitor, settings):
    settings.SITE_URL = live_server.url
    _filed()
    make_artist("ada@example.com", name="Ada Lovelace")
    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    page = artist.goto("/portfolio/")
    page.get_by_role("link", name=re.compile("See and claim them")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Works a platform filed for you")
    artist.check("claims")
    page.get_by_label("Platform", exact=True).select_option("artplace")
    page.get_by_label("Your creator id on that platform").fill("ADA-LOVELACE")
    page.get_by_role("button", name="Find what was filed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prove that you are this creator")
    assert "a••••••@creators.example" not in artist.text() and "a•@creators.example" not in artist.text()
    assert "@creators.example" in artist.text() and "ada@creators.example" not in artist.text()
    artist.check("claim-new")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.locator(".messages")).to_contain_text("We sent a link to")
    [message] = [m for m in mail.outbox if m.to == ["ada@creators.example"]]
    link = re.search(r"http\S+/claims/confirm/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.locator(".messages")).to_contain_text("Claimed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("ArtPlace")
    main = artist.text()
    assert "Photos 2026" in main and "No match" in main and "w/2.jpg" not in main
    artist.check("claim-detail")

    page.get_by_role("button", name="Lift the removal of https://cdn.art.example/w/0.jpg").click()
    expect(page.locator(".messages")).to_contain_text("1 removal(s) revoked")
    assert dict(Removal.objects.values_list("external_id", "state")) == {
        "e0": "revoked",
        "e1": "pending",
        "e2": "pending",
    }
    expect(page.locator(".claim-rows")).to_contain_text("Lifted")
    artist.check("claim-detail-lifted")

    # The same page in French (the language switch's cookie).
    artist.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.reload()
    expect(page.get_by_role("heading", name="Ce que la plateforme a déposé")).to_be_visible()
    artist.check("claim-detail-fr")


def test_a_creator_reads_the_platform_s_pending_change_and_chooses_over_it(live_server, visitor):
    """The platform asks to license a work while the desk has not decided it: the claim's page shows
    it on that work's row, the choice page says that choosing now sets it aside, and it does."""
    from partners.models import FilingRow, Partner, RowState

    _filed()
    partner = Partner.objects.get(slug="artplace")
    partner_services.filing_policy_update(policy=partner.policy, auto_approve_verified_hashed=False)
    change = partner_row(1, creator=ADA, choice="licence", licence="cc-by", attribution="Photo: Ada Lovelace")
    key = PartnerKey.objects.get(partner=partner)
    filing = partner_services.filing_create(key=key, rows=[change], attestation=True).filing
    [waiting] = partner_services.filing_run(partner_services.filing_claim(filing.pk)).rows.all()
    assert waiting.state == RowState.WAITING
    profile = make_artist("ada@example.com", name="Ada Lovelace")
    creator = partner_services.creator_find(partner=partner, creator_id="ada-lovelace")
    _, token = partner_services.claim_email_token(user=profile.user, creator=creator)
    claim = partner_services.claim_by_email(user=profile.user, token=token)
    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    page = artist.goto(f"/claims/{claim.pk}/")
    expect(page.locator(".claim-rows .pending-change")).to_have_count(2)  # one row: when, then what
    expect(page.locator(".claim-rows")).to_contain_text(
        "ArtPlace asked for “Allow under a licence” (CC BY 4.0)."
    )
    artist.check("claim-detail-pending-change")

    page.get_by_role("link", name="Change the choice for https://cdn.art.example/w/1.jpg").click()
    expect(page.get_by_role("heading", name="A change from the platform is waiting")).to_be_visible()
    expect(page.locator("#pending-changes")).to_contain_text(
        "yours stands and the platform's change will not be applied"
    )
    artist.check("claim-row-choice-pending-change")
    page.get_by_label("Allow for search, not for training").check()
    page.get_by_role("button", name="Save the choice for this work").click()
    expect(page.locator(".messages")).to_contain_text(
        "the platform's change, not decided yet, will not be applied"
    )
    expect(page.locator(".claim-rows .pending-change")).to_have_count(0)

    partner_services.rows_approve(row_ids=[waiting.pk], actor=None)
    assert FilingRow.objects.get(pk=waiting.pk).error.endswith("after this change was sent")
    assert not LicenceGrant.objects.exists()

    artist.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page = artist.goto(f"/claims/{claim.pk}/")
    # Another change after the creator chose is pending again, shown in French.
    partner_services.filing_run(
        partner_services.filing_claim(
            partner_services.filing_create(key=key, rows=[change], attestation=True).filing.pk
        )
    )
    page.reload()
    expect(page.locator(".claim-rows")).to_contain_text("Changement demandé par la plateforme")
    artist.check("claim-detail-pending-change-fr")
    page = artist.goto(f"/claims/{claim.pk}/rows/{waiting.duplicate_of_id}/choice/")
    expect(page.get_by_role("heading", name="Un changement de la plateforme attend")).to_be_visible()
    artist.check("claim-row-choice-pending-change-fr")
