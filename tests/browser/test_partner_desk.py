"""The partners' desk in chromium at 1280 px: the list of rows left to a person, with their
evidence (domain, matched items, conflicts with artists' requests), fits beside its filters with
every column header on screen; so does a row's page. Photographed (screenshots/partner-desk-*)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import fits, image_bytes, item_row, make_request, partner_row, photo, photo_url

pytestmark = [pytest.mark.django_db(transaction=True)]


def headers(page: Page, selector: str) -> list[str]:
    return [h.strip().lower() for h in page.locator(selector).all_inner_texts() if h.strip()]


def desk_rows(maintainer: Any, artist: Any) -> Any:
    """A partner's filing whose rows wait (long URLs), conflict with an artist's request, or fail."""
    from partners import services
    from registry import services as registry_services

    dataset = registry_services.dataset_create(
        maintainer=maintainer.maintainer, slug="photos-of-a-long-name", name="Photographs of a long name"
    )
    items = []
    for name in ("chelsea.png", "coffee.png"):
        image = photo(name).convert("RGB")
        copy = image.resize((image.width // 2, image.height // 2))
        items.append({**item_row(name, image_bytes(copy, "JPEG", quality=70)), "url": photo_url(name)})
    registry_services.items_upsert(dataset=dataset, rows=items)
    make_request(artist, "chelsea.png")
    partner = services.partner_create(
        name="ArtPlace Worldwide Creative Community",
        slug="artplace",
        contact_email="legal@art.example",
        agreement_ref="AG-1",
        agreement_date=datetime.date(2026, 11, 1),
        attestation_text="We hold the written instruction of every creator we file for.",
    )
    services.partner_domain_verify(domain=services.partner_domain_add(partner=partner, host="*.art.example"))
    key, _ = services.partner_key_create(partner=partner)
    long_path = "/".join(["a-very-long-folder-name-for-the-work"] * 6)
    rows = [partner_row(0, work_url=photo_url("chelsea.png"))]
    rows += [
        partner_row(i, work_url=f"https://cdn.art.example/{long_path}/{i}.jpg", phash=None)
        for i in range(1, 8)
    ]
    rows.append(partner_row(8, work_url=photo_url("coffee.png")))
    rows[0]["creator"]["id"] = "creator-with-a-rather-long-identifier-on-the-platform-0001"
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_the_partners_desk_fits_1280_px(visitor: Any, maintainer: Any, artist: Any, moderator: Any):
    filing = desk_rows(maintainer, artist)
    desk = visitor()
    page = desk.page
    desk.goto("/admin/login/")
    page.get_by_label("Username").fill("mod@example.com")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()

    desk.goto("/admin/partners/deskrow/")
    expect(page.locator("#result_list")).to_be_visible()
    assert headers(page, "#result_list thead th") == [
        "row",
        "partner",
        "state",
        "creator",
        "work url",
        "domain",
        "matched items",
        "conflict",
        "mark",
    ]
    assert page.locator("#result_list tbody tr").count() == 9
    assert fits(page) == []
    expect(page.locator("#result_list td.field-conflict a").first).to_contain_text("RR-")
    desk.check("partner-desk")

    conflict = filing.rows.get(index=0)
    desk.goto(f"/admin/partners/deskrow/{conflict.pk}/change/")
    expect(page.locator(".field-artist_conflicts")).to_contain_text("Ada Lovelace")
    expect(page.locator(".field-matched_items")).to_contain_text("same URL")
    assert fits(page) == []
    desk.check("partner-desk-row")
