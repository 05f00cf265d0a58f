"""requests_app.services.quotas: a portfolio's bytes and works against PORTFOLIO_QUOTA_BYTES and
PORTFOLIO_QUOTA_WORKS, checked when a file is announced and when each work is stored, with
sentences that say the limit and the use; files announced and not unpacked count too."""

from __future__ import annotations

import pytest

from registry.hashing import sanitize
from requests_app import selectors, services
from requests_app.models import PortfolioUpload, UploadState, Work
from requests_app.services import UploadRefused
from tests.helpers import distinct_png, make_zip, upload_send

pytestmark = pytest.mark.django_db


def _store(artist, seed: int, ticket=None):
    clean = sanitize(distinct_png(seed), max_pixels=50_000_000)
    return services.work_store(artist=artist, ticket=ticket, name=f"w{seed}.png", clean_content=clean)


def test_usage_counts_works_bytes_and_what_is_announced_but_not_unpacked(artist, other_artist):
    first, second = _store(artist, 1).work, _store(artist, 2).work
    _store(other_artist, 3)  # another artist's work is not counted
    services.upload_create(artist=artist, actor=artist.user, name="big.zip", size=10_000)
    usage = selectors.portfolio_usage(artist.pk)
    assert (usage.works, usage.bytes) == (2, first.size_bytes + second.size_bytes)
    assert usage.pending == 10_000 and usage.total == usage.bytes + 10_000
    assert selectors.portfolio_usage(artist.pk, with_pending=False).pending == 0
    # An upload half unpacked counts for the members not done yet; a finished one not at all.
    PortfolioUpload.objects.update(state=UploadState.PROCESSING, members=4, processed=3)
    assert selectors.portfolio_usage(artist.pk).pending == 2_500
    PortfolioUpload.objects.update(state=UploadState.DONE)
    assert selectors.portfolio_usage(artist.pk).pending == 0


def test_a_file_over_the_byte_quota_is_refused_when_announced_with_the_limit_and_use(artist, settings):
    settings.PORTFOLIO_QUOTA_BYTES = 2 * 1024 * 1024
    stored = _store(artist, 1).work
    services.upload_create(artist=artist, actor=artist.user, name="a.zip", size=1024 * 1024)
    with pytest.raises(UploadRefused) as refused:
        services.upload_create(artist=artist, actor=artist.user, name="b.zip", size=1024 * 1024)
    assert (refused.value.code, refused.value.status) == ("over_quota", 413)
    assert "b.zip (1.0\xa0MB) does not fit in your portfolio: it uses 1.0\xa0MB of the 2.0\xa0MB" in str(
        refused.value
    )
    assert refused.value.details == {
        "quota": {"bytes": 2 * 1024 * 1024, "works": 50_000},
        "used": {"bytes": stored.size_bytes + 1024 * 1024, "works": 1, "pending_bytes": 1024 * 1024},
    }
    assert PortfolioUpload.objects.count() == 1  # nothing written for the refused file


def test_a_full_portfolio_refuses_new_works_but_recognises_duplicates(artist, settings):
    settings.PORTFOLIO_QUOTA_WORKS = 2
    first = _store(artist, 1).work
    _store(artist, 2)
    refused = _store(artist, 3)
    assert refused.work is None and refused.over_quota
    assert refused.message.startswith("Your portfolio is full: it holds 2 works, the most one portfolio")
    assert Work.objects.filter(artist=artist).count() == 2
    again = _store(artist, 1)  # the same content again is not a new work: not refused by the quota
    assert not again.over_quota and again.duplicate == first
    with pytest.raises(UploadRefused, match="Your portfolio is full") as announced:
        services.upload_create(artist=artist, actor=artist.user, name="c.png", size=100)
    assert announced.value.details["used"]["works"] == 2
    assert services.quota_full(selectors.portfolio_usage(artist.pk)).startswith("Your portfolio is full")


def test_a_zip_unpacked_into_a_full_portfolio_reports_the_members_that_did_not_fit(artist, settings):
    settings.PORTFOLIO_QUOTA_WORKS = 3
    data = make_zip({f"z{i}.png": distinct_png(10 + i) for i in range(5)})
    announced = services.upload_create(artist=artist, actor=artist.user, name="z.zip", size=len(data))
    upload = upload_send(announced, data, chunk=4096)
    assert upload.state == UploadState.QUEUED
    assert services.upload_process(upload_id=upload.pk) == "done"
    upload.refresh_from_db()
    assert (upload.added, upload.failed, upload.duplicates) == (3, 2, 0)
    assert [r["name"] for r in upload.reports] == ["z3.png", "z4.png"]
    assert all(r["kind"] == "error" and "Your portfolio is full" in r["message"] for r in upload.reports)
    assert Work.objects.filter(artist=artist).count() == 3


def test_the_byte_quota_stops_a_work_that_would_go_over_it(artist, settings):
    one = _store(artist, 1).work
    settings.PORTFOLIO_QUOTA_BYTES = one.size_bytes + 10
    refused = _store(artist, 2)
    assert refused.over_quota and "does not fit in your portfolio" in refused.message
