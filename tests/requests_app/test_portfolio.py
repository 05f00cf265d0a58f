"""requests_app.portfolio: the filter's values (a clear refusal for any other), each state of a
work, the counts per filter, and what a page shows per data set: found, removed (with the
maintainer's confirmation), excluded."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from registry import services as registry_services
from registry.models import Removal
from requests_app import portfolio, services
from requests_app.portfolio import FilterInvalid, PortfolioFilter
from tests.helpers import big_portfolio, hashed_draft, make_request, unreadable_draft


@pytest.fixture
def shelf(artist, dataset, moderator):
    """One work of each kind: removed and confirmed (chelsea), found (horse), excluded (coffee),
    not found (brick), failed (an unreadable file); each named after its state."""
    approved = make_request(artist, "chelsea.png")
    services.request_approve(ticket=approved, moderator=moderator)
    removals = Removal.objects.filter(source_ref=approved.reference, item__isnull=False)
    registry_services.removals_acknowledge(dataset=dataset, ids=[r.public_id for r in removals])
    draft = hashed_draft(artist, "horse.png", "coffee.png", "brick.png")
    coffee = draft.works.get(original_name="coffee.png")
    services.matches_decide(
        ticket=draft, actor=artist.user, exclude=list(coffee.matches.values_list("pk", flat=True))
    )
    unreadable_draft(artist, "camera.png")
    return {"approved": approved, "draft": draft}


def names(flt: PortfolioFilter, artist) -> list[str]:
    works = portfolio.works_filtered(portfolio.works_of(artist), flt)
    return sorted(works.values_list("original_name", flat=True))


def test_each_state_finds_its_works(artist, shelf):
    assert names(PortfolioFilter(state="removed"), artist) == ["chelsea.png"]
    assert names(PortfolioFilter(state="found"), artist) == ["horse.png"]
    assert names(PortfolioFilter(state="excluded"), artist) == ["coffee.png"]
    assert names(PortfolioFilter(state="not_found"), artist) == ["brick.png"]
    assert names(PortfolioFilter(state="failed"), artist) == ["camera.png"]  # the unreadable one
    assert names(PortfolioFilter(state="pending"), artist) == []
    assert names(PortfolioFilter(q="HORSE"), artist) == ["horse.png"]
    assert names(PortfolioFilter(within=shelf["approved"].reference), artist) == ["chelsea.png"]
    assert names(PortfolioFilter(within="none"), artist) == []


def test_the_counts_of_each_choice(artist, dataset, shelf):
    counts = portfolio.filter_counts(portfolio.works_of(artist), PortfolioFilter())
    assert counts.total == 5
    assert counts.states == {
        "found": 1,
        "not_found": 1,
        "removed": 1,
        "excluded": 1,
        "pending": 0,
        "failed": 1,
    }
    assert counts.datasets == [(dataset.pk, "Demo", 3)]
    assert counts.within == {"none": 0, "any": 5}
    # Under a data set, "every state" is the works found there.
    narrowed = portfolio.filter_counts(portfolio.works_of(artist), PortfolioFilter(dataset=dataset.pk))
    assert (narrowed.total, narrowed.states["removed"], narrowed.states["not_found"]) == (3, 1, 1)


def test_a_page_shows_each_work_per_data_set(artist, shelf):
    works = list(portfolio.works_filtered(portfolio.works_of(artist), PortfolioFilter()))
    rows = {
        row.work.original_name: row for row in portfolio.page_rows(works) if row.work.hash_state == "done"
    }
    [chelsea] = rows["chelsea.png"].findings
    assert (chelsea.dataset, chelsea.removed, chelsea.acknowledged, chelsea.found) == ("Demo", 1, 1, 0)
    [horse] = rows["horse.png"].findings
    assert (horse.found, horse.removed, horse.excluded) == (1, 0, 0)
    [coffee] = rows["coffee.png"].findings
    assert (coffee.found, coffee.excluded) == (0, 1)
    assert rows["brick.png"].findings == [] and rows["brick.png"].copies == 0


def test_an_approved_copy_whose_removal_was_revoked_counts_as_found(artist, shelf):
    Removal.objects.filter(source_ref=shelf["approved"].reference).update(state="revoked")
    assert names(PortfolioFilter(state="removed"), artist) == []
    assert names(PortfolioFilter(state="found"), artist) == ["chelsea.png", "horse.png"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=gone", "not a state"),
        ("state=found%00", "NUL"),
        ("dataset=abc", "not a data set"),
        ("dataset=99999999999999999999999", "not a data set"),
        ("in=RR-x", "not a request"),
        ("q=" + "x" * 201, "at most 200"),
        ("q=%00", "NUL"),
    ],
)
def test_a_filter_that_is_not_one_is_refused_with_its_reason(query, message):
    with pytest.raises(FilterInvalid, match=message):
        portfolio.filter_parse(QueryDict(query))


def test_a_filter_reads_back_its_own_query():
    flt = portfolio.filter_parse(QueryDict("state=found&dataset=3&in=RR-2026-000012&q=cat&page=4&other=1"))
    assert flt == PortfolioFilter(state="found", dataset=3, within="RR-2026-000012", q="cat")
    assert portfolio.filter_parse(QueryDict(flt.query())) == flt
    assert portfolio.filter_parse(QueryDict("in=RR-2026-000012"), in_request=True) == PortfolioFilter()


def test_pending_works_of_a_big_portfolio_are_counted(artist):
    big_portfolio(artist, 30)
    counts = portfolio.filter_counts(portfolio.works_of(artist), PortfolioFilter())
    assert (counts.total, counts.states["pending"], counts.states["failed"], counts.states["not_found"]) == (
        30,
        3,
        3,
        24,
    )
    assert counts.within == {"none": 30, "any": 0}
