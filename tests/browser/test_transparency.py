"""The transparency report in chromium, with JavaScript off as a reader without it sees it: the
plots are images with a title and a description, each followed by its table; axe-core passes and
nothing scrolls sideways at 375 px, in English and in French."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from registry import services as registry
from registry.preferences import consent_clean
from requests_app import report
from tests.helpers import PHONE, fits, record_removals

pytestmark = [pytest.mark.django_db(transaction=True)]


def translated(text: str) -> str:
    with translation.override("fr"):
        return str(translation.gettext(text))


# Each chart text's size as drawn: its font size in the drawing's units times the drawing's scale
# (its width on screen over its viewBox's), beside the height of its box on screen; and whether
# that box lies inside the drawing.
CHART_TEXT = """() => [...document.querySelectorAll("svg.chart")].flatMap(svg => {
  const drawn = svg.getBoundingClientRect();
  const scale = drawn.width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map(text => {
    const box = text.getBoundingClientRect();
    return {
      chart: svg.getAttribute("aria-labelledby"), text: text.textContent,
      size: parseFloat(getComputedStyle(text).fontSize) * scale, box: box.height,
      inside: box.left >= drawn.left - 1 && box.right <= drawn.right + 1,
    };
  });
})"""
MIN_TEXT_PX = 12


def chart_text_sizes(page: Page) -> list[dict]:  # type: ignore[type-arg]
    return list(page.evaluate(CHART_TEXT))


def licences_section(page: Page) -> Locator:
    return page.locator("#licences-heading").locator("..")


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_the_report_reads_without_javascript_and_fits_a_phone(live_server, visitor, maintainer, locale):
    cache.delete(report.CACHE_KEY)
    dataset = registry.dataset_create(
        maintainer=maintainer.maintainer, slug="laion", name="LAION-5B subset with a long public name"
    )
    removals = record_removals(dataset, 12)
    registry.removals_acknowledge(dataset=dataset, ids=[r.public_id for r in removals[:8]])
    registry.items_upsert(
        dataset=dataset,
        rows=[{"external_id": f"lic{i}", "url": f"https://i.example/lic{i}.jpg"} for i in range(5)],
    )
    registry.licence_grants_record(
        source_ref="RR-2026-000077",
        consent=consent_clean(choice="licence", licence="cc-by-sa", attribution="Photo: A. Artist"),
        entries=[
            registry.RemovalEntry(dataset=dataset, item=i)
            for i in dataset.items.filter(external_id__startswith="lic")
        ],
    )
    heading = "Rapport de transparence" if locale == "fr-FR" else "Transparency report"
    for javascript in (False, True):
        reader = visitor(javascript=javascript, locale=locale)
        if locale == "fr-FR":
            reader.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
        page = reader.goto("/transparency/")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        # No request yet: a sentence; removals and acknowledgement: a plot each; licences: two;
        # no dispute yet: the disputes section has its table only.
        expect(page.get_by_role("img")).to_have_count(4)
        # Each plot's title is written above it too: the licences' second plot follows a table.
        titles = page.locator(".chart-title")
        expect(titles).to_have_count(4)
        for i in range(4):
            expect(titles.nth(i)).to_be_visible()
        month_title = "Licence grants recorded each month"
        if locale == "fr-FR":
            month_title = translated(month_title)
        expect(licences_section(page).locator(".chart-title").nth(1)).to_have_text(month_title)
        expect(page.locator("table")).to_have_count(7)
        expect(page.locator("table").nth(2)).to_contain_text("12")
        licences = licences_section(page)
        expect(licences.locator("table").first).to_contain_text("CC BY-SA 4.0")
        expect(licences.get_by_role("img").first).to_contain_text("5")
    reader.check(f"transparency-{locale}")  # axe-core runs in the page: with JavaScript
    page.set_viewport_size(PHONE)
    try:
        assert fits(page) == []
        sizes = chart_text_sizes(page)
        assert sizes and min(s["size"] for s in sizes) >= MIN_TEXT_PX, sizes
        assert all(s["inside"] for s in sizes), [s for s in sizes if not s["inside"]]
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    cache.delete(report.CACHE_KEY)
