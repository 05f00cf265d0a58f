"""The moderators' desk in chromium at 1280 px, on the demo data (`seed_demo`): no table runs past
its box and every column header is on screen, on the queue and on a request's page, measured from
the elements' bounding boxes. Each page is photographed (tests/browser/screenshots/desk-*)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from registry.models import Removal
from requests_app.models import RemovalRequest
from requests_app.workflow import Status
from tests.helpers import fits

pytestmark = [pytest.mark.django_db(transaction=True)]


def headers(page: Page, selector: str) -> list[str]:
    return [h.strip().lower() for h in page.locator(selector).all_inner_texts() if h.strip()]


def test_the_queue_and_request_pages_fit_1280_px(demo_desk: Any):
    desk = demo_desk
    page = desk.page

    desk.goto("/admin/requests_app/removalrequest/")
    expect(page.locator("#result_list")).to_be_visible()
    columns = headers(page, "#result_list thead th")
    for wanted in ("verification", "works", "conflict", "assignee", "age"):
        assert wanted in columns, columns
    assert fits(page) == []
    # A held request says so in words.
    assert page.locator("#result_list .desk-conflict").first.inner_text().strip() == "⚠ Conflict"
    desk.check("desk-queue")

    # One request of each kind the demo has: held by a conflict, approved (removals), needs info.
    held = RemovalRequest.objects.filter(status=Status.SUBMITTED).order_by("pk").first()
    approved = RemovalRequest.objects.filter(status=Status.APPROVED).order_by("pk").first()
    rival = RemovalRequest.objects.filter(artist__user__email="rival@demo.example").get()
    for ticket in (held, approved, rival):
        assert ticket is not None
        desk.goto(f"/admin/requests_app/removalrequest/{ticket.pk}/change/")
        proofs = page.locator("#proofs table")
        expect(proofs).to_be_visible()
        assert headers(page, "#proofs thead th") == ["proof", "status", "checked / expires"]
        assert fits(page) == [], ticket.reference
        # The proofs' last column ends inside the artist's card, left of the works.
        card = page.locator("#proofs").bounding_box()
        last = page.locator("#proofs thead th").last.bounding_box()
        works = page.locator("#works").bounding_box()
        assert card and last and works
        assert last["x"] + last["width"] <= card["x"] + card["width"] + 1 <= works["x"]
        desk.check(f"desk-request-{ticket.status}")


def test_a_big_request_desk_fits_1280_and_375_px(demo_desk: Any):
    """A 60-work request (over DESK_BIG_REQUEST_WORKS) with a sample drawn: the summary and the
    sample's works, axe-clean, no sideways scrolling on a phone (Pages.check)."""
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile

    from registry.models import Dataset
    from requests_app import services
    from requests_app.models import Work
    from tests.helpers import big_request, make_artist, photo_bytes

    desk = demo_desk
    page = desk.page
    artist = make_artist("prolific@example.com", name="Prolific Painter")
    big = big_request(artist, list(Dataset.objects.order_by("pk")[:2]), works=60, per_work=3)
    first = big.works.order_by("pk").first()
    assert first is not None
    first.file.save("big.png", ContentFile(photo_bytes("chelsea.png")), save=True)
    Work.objects.filter(request=big).update(file=first.file.name)  # every sampled image loads
    moderator = User.objects.get(username="moderator@demo.example")
    drawn = services.request_sample_draw(ticket=big, moderator=moderator, size=20, seed=3)

    desk.goto(f"/admin/requests_app/removalrequest/{big.pk}/change/")
    expect(page.locator("#evidence h2")).to_have_text("Big request: summary")
    expect(page.locator("#sample-drawn")).to_contain_text("seed 3")
    assert page.locator("#works .work").count() == len(drawn.params["works"]) == 20
    assert fits(page) == []
    desk.check("desk-request-big")


def test_the_registrys_removals_and_items_lists_fit_1280_px(demo_desk: Any):
    """Beside the filters, without the navigation side bar: every header on screen; the removals
    say who filed each (the demo's partner files some)."""
    desk = demo_desk
    page = desk.page
    desk.goto("/admin/registry/removal/")
    expect(page.locator("#result_list")).to_be_visible()
    assert headers(page, "#result_list thead th") == [
        "id",
        "data set",
        "source ref",
        "filed by",
        "url",
        "reason",
        "state",
        "progress",
    ]
    assert fits(page) == []
    # The demo's artists and its partner, by the partner's name.
    assert set(page.locator("#result_list td.field-filed_by").all_inner_texts()) == {"artist", "Demo Gallery"}
    desk.check("registry-removals")
    # The data sets' items, as wide: every column on screen too.
    desk.goto("/admin/registry/datasetitem/")
    assert headers(page, "#result_list thead th") == [
        "external id",
        "data set",
        "url",
        "phash",
        "dhash",
        "pdq quality",
    ]
    assert fits(page) == []


def test_the_people_and_groups_lists_fit_1280_px(demo_operator: Any):
    """Django's own user list kept the navigation side bar and ran 63 px past the window."""
    desk = demo_operator
    page = desk.page
    desk.goto("/admin/auth/user/")
    expect(page.locator("#result_list")).to_be_visible()
    assert "email address" in headers(page, "#result_list thead th")
    assert page.locator("#nav-sidebar").count() == 0
    assert fits(page) == []
    desk.check("auth-users")
    desk.goto("/admin/auth/group/")
    expect(page.locator("#changelist")).to_be_visible()
    assert fits(page) == []


def test_a_removals_page_fits_375_px(demo_desk: Any):
    """A removal's page is headed by its public id (rm_ and 32 letters, one word): on a phone the
    heading wraps instead of pushing the page sideways (check() measures it at 375 px)."""
    desk = demo_desk
    removal = Removal.objects.order_by("pk").first()
    assert removal is not None
    desk.goto(f"/admin/registry/removal/{removal.pk}/change/")
    expect(desk.page.locator("#content h2").first).to_contain_text(removal.public_id)
    desk.check("registry-removal")
