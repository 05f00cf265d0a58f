"""The transparency report's licences section (report.licences_granted): grants in force and
withdrawn per licence, grants per month, on the page (a plot and a table each), in the CSV and
JSON downloads, and in French."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import clock
from registry import services as registry
from registry.models import LicenceGrant
from registry.preferences import consent_clean
from requests_app import report
from tests.helpers import french_client

WHY = "The artist changed their choice for this work."


def _grant(dataset, prefix: str, n: int, *, licence: str, ref: str, **kw) -> list[LicenceGrant]:
    registry.items_upsert(
        dataset=dataset,
        rows=[{"external_id": f"{prefix}{i}", "url": f"https://i.example/{prefix}{i}.jpg"} for i in range(n)],
    )
    consent = consent_clean(choice="licence", licence=licence, attribution="Photo: A. Artist", **kw)
    return registry.licence_grants_record(
        source_ref=ref,
        consent=consent,
        entries=[
            registry.RemovalEntry(dataset=dataset, item=i)
            for i in dataset.items.filter(external_id__startswith=prefix)
        ],
        **({"source": "partner", "partner": "ArtPlace"} if ref.startswith("pf_") else {}),
    )


@pytest.fixture
def licensed(maintainer):
    cache.delete(report.CACHE_KEY)
    dataset = registry.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    by = _grant(dataset, "by", 3, licence="cc-by", ref="RR-2026-000001")
    _grant(dataset, "pf", 2, licence="cc0", ref="pf_one")
    _grant(dataset, "own", 1, licence="custom", ref="RR-2026-000002", licence_url="https://me.example/l")
    registry.licence_grants_revoke(
        grants=registry.GrantSelection(source_ref="RR-2026-000001", item_ids=[by[0].item_id]), why=WHY
    )
    # Two months ago: counted per licence, and in that month.
    LicenceGrant.objects.filter(licence="custom").update(granted_at=clock.now() - timedelta(days=62))
    yield dataset
    cache.delete(report.CACHE_KEY)


def test_the_figures_count_grants_per_licence_and_per_month(licensed):
    figures = report.compute()["licences"]
    assert figures["by_licence"] == [
        {"licence": "cc0", "in_force": 2, "revoked": 0, "from_partners": 2},
        {"licence": "cc-by", "in_force": 2, "revoked": 1, "from_partners": 0},
        {"licence": "cc-by-sa", "in_force": 0, "revoked": 0, "from_partners": 0},
        {"licence": "custom", "in_force": 1, "revoked": 0, "from_partners": 0},
    ]
    months = {m["month"]: m for m in figures["by_month"]}
    now = timezone.now()
    assert months[now.strftime("%Y-%m")] == {
        "month": now.strftime("%Y-%m"),
        "cc0": 2,
        "cc-by": 3,
        "cc-by-sa": 0,
        "custom": 0,
    }
    assert sum(m["custom"] for m in figures["by_month"]) == 1
    assert len(figures["by_month"]) == 12


def test_the_page_draws_a_plot_and_a_table_for_each_and_the_downloads_agree(licensed):
    html = Client().get(reverse("transparency")).content.decode()
    section = html[html.index('id="licences-heading"') :]
    section = section[: section.index("</section>")]
    assert section.count('role="img"') == 2 and section.count("<table") == 2
    assert "CC BY 4.0" in section and "Another licence (its URL)" in section
    assert "Licence grants in force, per licence" in section
    rows = list(csv.reader(io.StringIO(Client().get(reverse("transparency_csv")).content.decode())))
    assert ["licences", "cc-by", "2", "1", "0"] in rows
    assert ["section", "month", "cc0", "cc-by", "cc-by-sa", "custom"] in rows
    assert sum(1 for r in rows if r[0] == "licences_by_month") == 12
    body = Client().get(reverse("transparency_json")).json()
    assert body["licences"]["by_licence"][0] == {
        "licence": "cc0",
        "in_force": 2,
        "revoked": 0,
        "from_partners": 2,
    }


def test_no_grant_says_so(db):
    cache.delete(report.CACHE_KEY)
    html = Client().get(reverse("transparency")).content.decode()
    assert "No licence has been granted yet." in html
    cache.delete(report.CACHE_KEY)


def test_the_section_in_french(licensed):
    html = french_client().get(reverse("transparency")).content.decode()
    assert "Licences accordées" in html and "Licences en vigueur, par licence" in html
    assert "Une autre licence (son adresse)" in html
