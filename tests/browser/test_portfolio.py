"""The portfolio in chromium at 1280 and 375 px: filters, a few works ticked to start a request,
then every work matching a filter added to it, and the request page's works in pages. Every page
passes axe-core, does not scroll sideways on a phone, logs no console error, and is photographed
(tests/browser/screenshots/portfolio-*)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from registry import services as registry_services
from requests_app.models import RemovalRequest
from requests_app.portfolio import PAGE_SIZE
from tests.helpers import ARTIST_PASSWORD, PHONE, big_portfolio, log_in, make_artist

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_an_artist_selects_works_in_the_portfolio_on_a_desktop_and_a_phone(visitor: Any):
    artist = make_artist("iris@artist.example", name="Iris Portfolio")
    maintainer, _key = registry_services.maintainer_create(name="Open Images Lab", email="ops@lab.example")
    dataset = registry_services.dataset_create(maintainer=maintainer, slug="photos-v1", name="Photos v1")
    big_portfolio(artist, PAGE_SIZE + 20, dataset=dataset, copies=2)

    pages = visitor()
    page = pages.page
    log_in(pages, "iris@artist.example", ARTIST_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Portfolio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")
    expect(page.locator("li.work")).to_have_count(PAGE_SIZE)
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
    expect(page.locator("li.work .findings").first).to_contain_text("Photos v1")
    pages.check("portfolio")

    # --- the filters: only the cats found in Photos v1
    page.get_by_label("State").select_option("found")
    page.get_by_label("Name contains").fill("cat")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"state=found.*q=cat"))
    cats = page.locator("li.work")
    expect(cats.first).to_contain_text("cat-")
    found_cats = cats.count()
    assert 0 < found_cats < PAGE_SIZE
    pages.check("portfolio-filtered")

    # --- two boxes ticked start a request
    page.locator("li.work input[type=checkbox]").nth(0).check()
    page.locator("li.work input[type=checkbox]").nth(1).check()
    page.get_by_label("Basis of the new request").select_option("copyright")
    page.get_by_role("button", name="Start a new removal request with these").click()
    ticket = RemovalRequest.objects.get(artist=artist)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {ticket.reference}")
    expect(page.locator(".messages")).to_contain_text(f"Request {ticket.reference} started with 2 works.")
    assert ticket.works.count() == 2
    pages.check("portfolio-request-started")

    # --- every work matching "in no request" (more than a page) joins it
    pages.goto("/portfolio/?in=none")
    page.get_by_label("Select all").check()
    page.get_by_label("Add to one of your requests").select_option(ticket.reference or "")
    page.get_by_role("button", name="Add to this request").click()
    expect(page.locator(".messages")).to_contain_text(f"works added to {ticket.reference}")
    assert ticket.works.count() == PAGE_SIZE + 20

    # --- the request page now lists its works in pages, with the same filters, on a phone too
    pages.goto(f"/requests/{ticket.reference}/")
    expect(page.locator("#works li.work")).to_have_count(PAGE_SIZE)
    expect(page.locator("#works .pagination")).to_contain_text("Page 1 of 2")
    pages.check("portfolio-big-request")
    page.set_viewport_size(PHONE)
    pages.goto("/portfolio/")
    expect(page.get_by_role("button", name="Start a new removal request with these")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
