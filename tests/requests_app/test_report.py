"""The public transparency report: its figures from real rows (requests, removals recorded and
acknowledged through the registry's services), the page (plots each with its table), the CSV and
JSON downloads, the cache and the page in French."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registry import services as registry
from registry.models import Removal
from registry.services.removals import RemovalQuery
from requests_app import report, tasks
from requests_app.models import RemovalRequest
from tests.helpers import french_client, make_artist, record_removals

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.delete(report.CACHE_KEY)
    yield
    cache.delete(report.CACHE_KEY)


def requests_of(artist, *pairs):
    """One submitted request per (status, basis), submitted now."""
    now = timezone.now()
    for i, (status, basis) in enumerate(pairs):
        RemovalRequest.objects.create(
            artist=artist, reference=f"RR-2026-{900 + i:06d}", status=status, basis=basis, submitted_at=now
        )


def acknowledged_after(dataset, hours, ref):
    """Removals of `dataset` acknowledged `hours[i]` hours after their approval."""
    removals = record_removals(dataset, len(hours), ref=ref)
    registry.removals_acknowledge(dataset=dataset, ids=[r.public_id for r in removals])
    for removal, h in zip(removals, hours, strict=True):
        acknowledged = Removal.objects.get(pk=removal.pk).acknowledged_at
        Removal.objects.filter(pk=removal.pk).update(approved_at=acknowledged - timedelta(hours=h))
    return removals


@pytest.fixture
def figures(maintainer, other_maintainer):
    artist = make_artist("ada@example.org", name="Ada")
    requests_of(
        artist,
        ("approved", "copyright"),
        ("completed", "copyright"),
        ("rejected", "likeness"),
        ("withdrawn", "privacy"),
        ("in_review", "copyright"),
    )
    photos = registry.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    art = registry.dataset_create(maintainer=other_maintainer.maintainer, slug="art", name="Art")
    hours = [1, 2, 3, 4, 10, 30, 100]
    acknowledged_after(photos, hours, "RR-2026-000001")
    record_removals(photos, 3, ref="RR-2026-000002")  # not acknowledged yet
    revoked = record_removals(art, 2, ref="RR-2026-000003")
    registry.removals_revoke(removals=RemovalQuery.of_ids([revoked[0].pk]), why="Lifted by the artist.")
    return hours


def test_the_figures_count_what_happened(figures):
    computed = report.compute()
    month = computed["months"][-1]
    assert month["month"] == timezone.now().strftime("%Y-%m")
    assert {k: month[k] for k in (*report.OUTCOME_KEYS, *report.BASIS_KEYS)} == {
        "approved": 2,
        "rejected": 1,
        "withdrawn": 1,
        "open": 1,
        "copyright": 3,
        "likeness": 1,
        "privacy": 1,
    }
    assert len(computed["months"]) == 12 and sum(m["approved"] for m in computed["months"]) == 2
    keys = ("dataset", "maintainer", "in_force", "acknowledged", "revoked", "from_partners")
    assert computed["datasets"] == [
        dict(zip(keys, ("Art", "Other Org", 1, 0, 1, 0), strict=True)),
        dict(zip(keys, ("Photos", "LAION-ish", 10, 7, 0, 0), strict=True)),
    ]
    laion, other = computed["maintainers"]
    assert laion["maintainer"] == "LAION-ish" and (laion["removals"], laion["acknowledged"]) == (10, 7)
    # percentile_cont on PostgreSQL is numpy's linear percentile.
    assert laion["median_hours"] == pytest.approx(np.percentile(figures, 50), abs=0.01)
    assert laion["p95_hours"] == pytest.approx(np.percentile(figures, 95), abs=0.01)
    assert other == {
        "maintainer": "Other Org",
        "removals": 2,
        "acknowledged": 0,
        "median_hours": None,
        "p95_hours": None,
    }


@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_the_embedded_database_percentile_is_the_same(n):
    values = sorted(np.random.default_rng(n).exponential(10, n).tolist())
    for q in (0.5, 0.95):
        assert report._percentile(values, q) == pytest.approx(np.percentile(values, q * 100))


def test_the_page_is_public_with_a_table_for_each_plot_and_downloads_that_agree(figures):
    page = Client().get(reverse("transparency"))
    assert page.status_code == 200
    html = page.content.decode()
    # Three plots (no dispute yet: the disputes section has its table only) and five tables.
    assert html.count('role="img"') == 3 and html.count("<caption>") == 5
    assert '<title id="ack-chart-title">Median hours to acknowledge, per maintainer</title>' in html
    assert "ada@example.org" not in html and "RR-2026-" not in html  # nobody is named
    data = Client().get(reverse("transparency_json")).json()
    assert data["datasets"][1]["in_force"] == 10
    rows = list(csv.reader(io.StringIO(Client().get(reverse("transparency_csv")).content.decode())))
    assert ["removals", "Photos", "LAION-ish", "10", "7", "0", "0"] in rows
    laion = next(r for r in rows if r[:2] == ["acknowledgement", "LAION-ish"])
    assert float(laion[4]) == data["maintainers"][0]["median_hours"]


def test_the_figures_are_cached_and_say_when_they_were_computed(figures, maintainer, settings):
    first = Client().get(reverse("transparency_json")).json()
    photos = registry.dataset_create(maintainer=maintainer.maintainer, slug="later", name="Later")
    record_removals(photos, 4, ref="RR-2026-000009")
    assert Client().get(reverse("transparency_json")).json() == first  # until beat computes them again
    assert tasks.transparency_refresh() > first["computed_at"]
    again = Client().get(reverse("transparency_json")).json()
    assert (
        any(d["dataset"] == "Later" for d in again["datasets"])
        and again["computed_at"] > first["computed_at"]
    )
    assert "computed again at most every 10 minutes" in Client().get(reverse("transparency")).content.decode()


def test_an_empty_registry_says_so():
    html = Client().get(reverse("transparency")).content.decode()
    assert (
        "No request was submitted in the months shown." in html and "No data set is registered yet." in html
    )


def test_the_report_in_french(figures):
    html = french_client().get(reverse("transparency")).content.decode()
    assert "Rapport de transparence" in html and "Retraits par jeu de données" in html


# --- disputes ---------------------------------------------------------------------


@pytest.fixture
def disputes(maintainer, moderator):
    from tests.helpers import published_removals

    dataset = registry.dataset_create(maintainer=maintainer.maintainer, slug="disputed", name="Disputed")
    removals = published_removals(dataset, 4, ref="RR-2026-000777")
    filed = [
        registry.dispute_file(
            removal=r,
            maintainer=maintainer.maintainer,
            reason="not_a_copy",
            statement="The item is another photograph of the same place.",
            links=[],
        )
        for r in removals[:3]
    ]
    registry.dispute_answer(
        dispute=filed[0], body="It is my own photograph, see the RAW.", links=[], actor=None
    )
    registry.dispute_answer(
        dispute=filed[1], body="It is my own photograph, see the RAW.", links=[], actor=None
    )
    registry.dispute_decide(dispute=filed[0], moderator=moderator, outcome="uphold", reason="A copy.")
    registry.dispute_decide(dispute=filed[1], moderator=moderator, outcome="revoke", reason="Not a copy.")
    # Unconfirmed: nobody was told, it is not counted.
    registry.dispute_file(
        removal=removals[3],
        email="x@example.org",
        reason="own_work",
        statement="Mine, from my own camera.",
        links=[],
    )
    return filed


def test_disputes_are_counted_by_month_and_outcome(disputes):
    figures = report.compute()
    this_month = figures["disputes"][-1]
    assert this_month == {"month": this_month["month"], "filed": 3, "upheld": 1, "revoked": 1, "open": 1}
    assert sum(m["filed"] for m in figures["disputes"]) == 3
    assert len(figures["disputes"]) == len(figures["months"])


def test_the_page_and_downloads_show_the_disputes(disputes, client):
    page = client.get(reverse("transparency")).content.decode()
    assert 'id="disputes-heading"' in page and 'id="disputes-chart' in page
    assert "Disputes by month and outcome" in page
    rows = list(csv.reader(io.StringIO(client.get(reverse("transparency_csv")).content.decode())))
    [line] = [r for r in rows if r[0] == "disputes" and r[2] == "3"]
    assert line[3:] == ["1", "1", "1"]
    assert client.get(reverse("transparency_json")).json()["disputes"][-1]["filed"] == 3
    assert "x@example.org" not in page
