"""requests_app.services.portfolio: a selection of the portfolio starts a request, joins an editable
one or goes back; works in another request stay there and are reported; another artist's works
are never moved, whatever ids a form carries; 5,000 works move in a bounded number of queries."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app import portfolio, services
from requests_app.models import EventKind, RemovalRequest, RequestConflict, TicketEvent, Work
from requests_app.workflow import Status
from tests.helpers import big_portfolio, confirm_all, hashed_draft, make_request


def works_events(ticket):
    return list(
        TicketEvent.objects.filter(request=ticket, kind=EventKind.WORKS).values_list("params", flat=True)
    )


def test_a_selection_starts_a_draft_holding_it(artist):
    ids = big_portfolio(artist, 12)
    result = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=Work.objects.filter(pk__in=ids[:5]), basis="copyright"
    )
    ticket = result.ticket
    assert (ticket.status, result.moved, result.left_out) == (Status.DRAFT, 5, {})
    assert sorted(ticket.works.values_list("pk", flat=True)) == ids[:5]
    assert Work.objects.filter(pk__in=ids[5:], request__isnull=True).count() == 7
    [params] = works_events(ticket)
    assert params == {
        "text": "works_added",
        "count": 5,
        "names": ["cat-00000.png", *[Work.objects.get(pk=pk).original_name for pk in ids[1:5]]],
    }


def test_every_work_matching_a_filter_joins_not_only_one_page(artist):
    ids = big_portfolio(artist, 240)
    flt = portfolio.PortfolioFilter(q="cat")
    selection = portfolio.works_filtered(portfolio.works_of(artist), flt)
    result = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=selection, basis="likeness"
    )
    assert result.moved == 80 > portfolio.PAGE_SIZE
    names = set(result.ticket.works.values_list("original_name", flat=True))
    assert len(names) == 80 and all(name.startswith("cat-") for name in names)
    assert Work.objects.filter(pk__in=ids, request__isnull=True).count() == 160
    assert result.ticket.basis == "likeness"


def test_works_in_another_open_request_are_left_out_and_reported(artist, dataset):
    submitted = make_request(artist, "chelsea.png")
    draft = hashed_draft(artist, "coffee.png")
    free = big_portfolio(artist, 3)
    result = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=portfolio.works_of(artist), basis="copyright"
    )
    assert result.moved == 3
    assert result.left_out == {submitted.reference: 1, draft.reference: 1}
    assert sorted(result.ticket.works.values_list("pk", flat=True)) == free
    assert submitted.works.count() == draft.works.count() == 1


def test_a_selection_of_which_nothing_can_join_is_refused_and_leaves_no_draft(artist, dataset):
    submitted = make_request(artist, "chelsea.png")
    before = RemovalRequest.objects.count()
    with pytest.raises(services.ActionRefused, match=submitted.reference or "RR-"):
        services.portfolio_request_start(
            artist=artist, actor=artist.user, works=submitted.works.all(), basis="copyright"
        )
    assert RemovalRequest.objects.count() == before
    with pytest.raises(services.ActionRefused, match="Select at least one"):
        services.portfolio_request_start(
            artist=artist, actor=artist.user, works=Work.objects.none(), basis="copyright"
        )
    assert RemovalRequest.objects.count() == before


def test_another_artists_works_are_never_selected_even_by_forged_ids(artist, other_artist):
    theirs = big_portfolio(other_artist, 4)
    mine = big_portfolio(artist, 2)
    forged = Work.objects.filter(pk__in=theirs)
    with pytest.raises(services.ActionRefused):
        services.portfolio_request_start(artist=artist, actor=artist.user, works=forged, basis="copyright")
    draft = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=Work.objects.filter(pk__in=mine[:1]), basis="copyright"
    ).ticket
    result = services.portfolio_works_add(
        ticket=draft, actor=artist.user, works=Work.objects.filter(pk__in=theirs + mine)
    )
    assert result.moved == 1
    assert Work.objects.filter(pk__in=theirs, request__isnull=True).count() == 4
    # Their request is not mine to fill, nor my portfolio theirs to start from.
    with pytest.raises(services.ActionRefused, match="another account"):
        services.portfolio_works_add(
            ticket=draft, actor=other_artist.user, works=Work.objects.filter(pk__in=theirs)
        )
    with pytest.raises(services.ActionRefused, match="another account"):
        services.portfolio_request_start(
            artist=artist, actor=other_artist.user, works=Work.objects.filter(pk__in=mine), basis="copyright"
        )


def test_works_join_a_draft_or_a_request_that_needs_information_but_not_a_submitted_one(
    artist, dataset, moderator
):
    submitted = make_request(artist, "chelsea.png")
    later = big_portfolio(artist, 4)
    with pytest.raises(services.ActionRefused, match="draft or needs information"):
        services.portfolio_works_add(
            ticket=submitted, actor=artist.user, works=Work.objects.filter(pk__in=later)
        )
    services.request_start_review(ticket=submitted, moderator=moderator)
    services.request_ask_info(ticket=submitted, moderator=moderator, message="More of them?")
    submitted.refresh_from_db()
    result = services.portfolio_works_add(
        ticket=submitted, actor=artist.user, works=Work.objects.filter(pk__in=later[:2])
    )
    assert (result.moved, submitted.works.count()) == (2, 3)
    assert works_events(submitted)[-1]["count"] == 2
    again = services.portfolio_works_add(
        ticket=submitted, actor=artist.user, works=Work.objects.filter(pk__in=later)
    )
    assert (again.moved, again.already) == (2, 2)


def test_removing_takes_works_back_to_the_portfolio_and_deletes_nothing(artist, dataset):
    draft = hashed_draft(artist, "chelsea.png", "coffee.png", "horse.png")
    chelsea, coffee, horse = draft.works.order_by("pk")
    matches = chelsea.matches.count()
    result = services.portfolio_works_remove(
        ticket=draft, actor=artist.user, works=Work.objects.filter(pk__in=[chelsea.pk, coffee.pk])
    )
    assert result.moved == 2
    assert list(draft.works.all()) == [horse]
    chelsea.refresh_from_db()
    assert chelsea.request is None and chelsea.matches.count() == matches
    params = works_events(draft)[-1]
    assert params == {"text": "works_removed", "count": 2, "names": ["chelsea.png", "coffee.png"]}
    with pytest.raises(services.ActionRefused, match="None of the selected works"):
        services.portfolio_works_remove(
            ticket=draft, actor=artist.user, works=Work.objects.filter(pk=chelsea.pk)
        )


def test_a_submitted_request_keeps_its_works(artist, dataset):
    submitted = make_request(artist, "chelsea.png")
    with pytest.raises(services.ActionRefused, match="draft or needs information"):
        services.portfolio_works_remove(ticket=submitted, actor=artist.user, works=submitted.works.all())
    assert submitted.works.count() == 1


def test_works_of_a_withdrawn_request_can_start_a_new_one_and_the_old_one_says_so(artist, dataset):
    old = hashed_draft(artist, "chelsea.png", "coffee.png")
    services.request_withdraw(ticket=old, actor=artist.user)
    result = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=old.works.all(), basis="copyright"
    )
    assert result.moved == 2 and old.works.count() == 0
    assert works_events(old)[-1] == {"text": "works_moved", "count": 2, "reference": result.ticket.reference}


def test_the_conflicts_check_still_runs_on_submit(artist, other_artist, dataset):
    make_request(other_artist, "chelsea.png")
    draft = hashed_draft(artist, "chelsea.png")
    services.portfolio_works_remove(ticket=draft, actor=artist.user, works=draft.works.all())
    ticket = services.portfolio_request_start(
        artist=artist, actor=artist.user, works=portfolio.works_of(artist), basis="copyright"
    ).ticket
    confirm_all(ticket, artist)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    assert RequestConflict.objects.filter(second=ticket).exists()


def test_five_thousand_works_move_in_a_bounded_number_of_queries(artist):
    ids = big_portfolio(artist, 5000)
    selection = portfolio.works_filtered(portfolio.works_of(artist), portfolio.PortfolioFilter())
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = services.portfolio_request_start(
            artist=artist, actor=artist.user, works=selection, basis="copyright"
        )
    elapsed = time.perf_counter() - started
    assert result.moved == 5000 == result.ticket.works.count()
    assert len(queries) <= 15, [q["sql"][:120] for q in queries]
    assert elapsed < 20, elapsed
    with CaptureQueriesContext(connection) as back:
        removed = services.portfolio_works_remove(
            ticket=result.ticket, actor=artist.user, works=Work.objects.filter(pk__in=ids)
        )
    assert removed.moved == 5000 and len(back) <= 10
