"""The portfolio page (views/portfolio.py): every work with where it was found, filters with their
counts, pages, a constant number of queries from 10 to 1,000 works, hostile query strings (a page
or a clear 400, never a 500), and the selection's actions: start a request, add to one, take back."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from requests_app import services
from requests_app.models import EventKind, RemovalRequest, TicketEvent, Work
from requests_app.portfolio import PAGE_SIZE
from requests_app.workflow import Status
from tests.helpers import big_portfolio, detail, french_client, logged_in, make_request, messages_of

PORTFOLIO = "/portfolio/"
SELECTION = "/portfolio/selection/"


def shown_ids(content: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="work" id="work-(\d+)">', content)]


def test_only_artists_see_it_and_the_header_links_to_it(client, artist, staff_without_group):
    assert reverse("portfolio") == PORTFOLIO
    response = client.get(PORTFOLIO)
    assert response.status_code == 302 and "/login/" in response["Location"]
    page = logged_in(artist).get(PORTFOLIO)
    assert page.status_code == 200
    assert f'<a href="{PORTFOLIO}" aria-current="page">Portfolio</a>' in page.content.decode()
    assert f'href="{PORTFOLIO}"' in logged_in(artist).get(reverse("request_list")).content.decode()
    staff = logged_in(staff_without_group).get(PORTFOLIO)
    assert staff.status_code == 403
    assert f'<a href="{PORTFOLIO}"' not in staff.content.decode()


def test_it_lists_every_work_with_where_it_was_found(artist, dataset):
    make_request(artist, "chelsea.png", submit=False)
    ids = big_portfolio(artist, 20, dataset=dataset, copies=2)
    content = logged_in(artist).get(PORTFOLIO).content.decode()
    assert sorted(shown_ids(content)) == sorted(
        ids + list(Work.objects.filter(original_name="chelsea.png").values_list("pk", flat=True))
    )
    assert f'src="/works/{ids[0]}/image/"' in content
    assert '<span class="finding-set">Demo</span>' in content
    assert "2 found" in content
    assert "checking…" in content and "Could not be checked" in content
    assert "In no request" in content and "In <a href=" in content
    assert "21 works" in content


def test_the_filters_show_their_counts_and_narrow_the_list(artist, dataset):
    ids = big_portfolio(artist, 30, dataset=dataset, copies=1)
    client = logged_in(artist)
    content = client.get(PORTFOLIO).content.decode()
    assert '<option value="found">Found (24)</option>' in content
    assert '<option value="pending">Being checked (3)</option>' in content
    assert f'<option value="{dataset.pk}">Demo (24)</option>' in content
    assert "In no request (30)" in content
    pending = client.get(PORTFOLIO, {"state": "pending"}).content.decode()
    assert sorted(shown_ids(pending)) == [ids[i] for i in (7, 17, 27)]
    assert '<option value="pending" selected>' in pending
    cats = client.get(PORTFOLIO, {"q": "cat", "state": "found"}).content.decode()
    assert all(Work.objects.get(pk=pk).original_name.startswith("cat-") for pk in shown_ids(cats))
    assert len(shown_ids(cats)) == 8  # 0, 3, ... 27 without 27 (pending)
    none = client.get(PORTFOLIO, {"in": "any"}).content.decode()
    assert shown_ids(none) == [] and "No work matches this filter." in none


def test_it_shows_a_page_at_a_time_and_any_page_number(artist):
    ids = big_portfolio(artist, PAGE_SIZE * 2 + 5)
    client = logged_in(artist)
    first = client.get(PORTFOLIO).content.decode()
    assert shown_ids(first) == sorted(ids, reverse=True)[:PAGE_SIZE]
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = client.get(PORTFOLIO, {"page": "3"}).content.decode()
    assert shown_ids(last) == sorted(ids, reverse=True)[PAGE_SIZE * 2 :]
    for hostile in (str(10**30), "9" * 5000, "-1", "abc", "٣", "1\x00", "0"):
        response = client.get(PORTFOLIO, {"page": hostile})
        assert response.status_code == 200, hostile
        assert len(shown_ids(response.content.decode())) in (5, PAGE_SIZE), hostile


@pytest.mark.parametrize(
    "query",
    [
        {"state": "gone"},
        {"state": "\x00"},
        {"q": "a\x00b"},
        {"dataset": "1; drop"},
        {"in": "RR-\x00"},
        {"q": "x" * 300},
    ],
)
def test_a_hostile_filter_gets_a_clear_400(artist, query):
    response = logged_in(artist).get(PORTFOLIO, query)
    assert response.status_code == 400
    content = response.content.decode()
    assert "This filter cannot be used" in content and f'href="{PORTFOLIO}"' in content


def test_an_unknown_parameter_or_data_set_still_gets_the_page(artist):
    big_portfolio(artist, 3)
    client = logged_in(artist)
    assert client.get(PORTFOLIO, {"colour": "blue", "sort": "\x00"}).status_code == 200
    assert client.get(PORTFOLIO, {"dataset": "424242"}).status_code == 200


def count_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PORTFOLIO).status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert client.get(PORTFOLIO, {"state": "found", "q": "cat", "page": "2"}).status_code == 200
    return len(queries), len(filtered)


def test_the_number_of_queries_stays_the_same_from_10_to_1000_works(artist, other_artist, dataset):
    big_portfolio(artist, 10, dataset=dataset, copies=3)
    make_request(artist, "chelsea.png")
    client = logged_in(artist)
    small = count_queries(client)
    big_portfolio(artist, 990, dataset=dataset, copies=5)
    services.request_create(artist=artist, basis="copyright")
    assert count_queries(client) == small


def test_a_selection_starts_a_request_with_the_ticked_works(artist):
    ids = big_portfolio(artist, 5)
    response = logged_in(artist).post(
        SELECTION, {"action": "start", "basis": "privacy", "work": [str(ids[0]), str(ids[2])]}
    )
    ticket = RemovalRequest.objects.get(artist=artist)
    assert response.status_code == 302 and response["Location"] == detail(ticket) + "#works"
    assert (ticket.status, ticket.basis) == (Status.DRAFT, "privacy")
    assert sorted(ticket.works.values_list("pk", flat=True)) == [ids[0], ids[2]]
    assert messages_of(response) == [f"Request {ticket.reference} started with 2 works."]


def test_select_all_takes_every_work_matching_the_filter_and_reports_those_left_out(artist, dataset):
    held = make_request(artist, "chelsea.png")
    big_portfolio(artist, PAGE_SIZE * 3)
    Work.objects.filter(request=held).update(original_name="cat-held.png")
    draft = services.request_create(artist=artist, basis="copyright")
    response = logged_in(artist).post(
        SELECTION, {"action": "add", "target": draft.reference, "all": "1", "q": "cat", "work": ["1"]}
    )
    assert response.status_code == 302 and response["Location"] == f"{PORTFOLIO}?q=cat"
    assert draft.works.count() == PAGE_SIZE  # one work in three of 180 is a cat
    assert messages_of(response) == [
        f"{PAGE_SIZE} works added to {draft.reference}.",
        f"1 work was left out: it is already in another request: {held.reference} (1).",
    ]
    assert held.works.count() == 1


def test_forged_ids_never_reach_another_artists_works(artist, other_artist):
    theirs = big_portfolio(other_artist, 3)
    client = logged_in(artist)
    response = client.post(
        SELECTION, {"action": "start", "basis": "copyright", "work": [str(i) for i in theirs]}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Select at least one of your works."]
    assert not RemovalRequest.objects.filter(artist=artist).exists()
    their_draft = services.portfolio_request_start(
        artist=other_artist,
        actor=other_artist.user,
        works=Work.objects.filter(pk=theirs[0]),
        basis="copyright",
    ).ticket
    for action in ("add", "remove"):
        key = "target" if action == "add" else "remove_from"
        response = client.post(
            SELECTION, {"action": action, key: their_draft.reference, "work": [str(theirs[1])]}
        )
        assert response.status_code == 400 and "Choose one of your requests." in response.content.decode()
    assert their_draft.works.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode"},
        {"action": "start", "basis": "copyright", "work": ["abc"]},
        {"action": "start", "basis": "copyright", "work": ["1" * 40]},
        {"action": "start", "basis": "\x00", "work": ["1"]},
        {"action": "start\x00"},
        {"action": "start", "basis": "copyright", "all": "1", "state": "nope"},
        {"action": "add", "target": "RR-2026-999999", "work": ["1"]},
    ],
)
def test_a_hostile_selection_gets_a_clear_400(artist, data):
    big_portfolio(artist, 1)
    response = logged_in(artist).post(SELECTION, data)
    assert response.status_code == 400, data
    assert not RemovalRequest.objects.exists()
    assert Work.objects.filter(request__isnull=False).count() == 0


def test_a_big_request_lists_its_works_a_page_at_a_time_with_the_filters(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    ids = big_portfolio(artist, PAGE_SIZE + 10, ticket=ticket)
    client = logged_in(artist)
    first = client.get(detail(ticket)).content.decode()
    assert shown_ids(first) == ids[:PAGE_SIZE]
    assert "Page 1 of 2" in first and 'name="state"' in first and 'name="in"' not in first
    assert "Checking 7 works" in first  # the count covers the whole request, not the page
    second = client.get(detail(ticket), {"page": "2"}).content.decode()
    assert shown_ids(second) == ids[PAGE_SIZE:]
    failed = client.get(detail(ticket), {"state": "failed"}).content.decode()
    assert shown_ids(failed) == [ids[i] for i in range(9, PAGE_SIZE + 10, 10)]
    assert client.get(detail(ticket), {"state": "\x00"}).status_code == 400
    assert client.get(detail(ticket), {"page": str(10**30)}).status_code == 200
    small = services.request_create(artist=artist, basis="copyright")
    assert 'name="state"' not in client.get(detail(small)).content.decode()


def test_works_go_back_to_the_portfolio_from_the_request_page(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    ids = big_portfolio(artist, 6, ticket=ticket)
    client = logged_in(artist)
    assert f'value="{ids[0]}" form="works-selection"' in client.get(detail(ticket)).content.decode()
    response = client.post(
        SELECTION,
        {"action": "remove", "remove_from": ticket.reference, "from": "request", "work": [str(ids[0])]},
    )
    assert response["Location"] == detail(ticket) + "#works"
    assert messages_of(response) == [f"1 work taken out of {ticket.reference}; it stays in your portfolio."]
    everything = client.post(
        SELECTION, {"action": "remove", "remove_from": ticket.reference, "from": "request", "all": "1"}
    )
    assert everything.status_code == 302 and ticket.works.count() == 0
    assert Work.objects.filter(pk__in=ids, request__isnull=True).count() == 6
    rows = TicketEvent.objects.filter(request=ticket, kind=EventKind.WORKS).order_by("pk")
    assert [r.params["count"] for r in rows] == [1, 5]
    timeline = client.get(detail(ticket)).content.decode()
    assert "5 works taken back to the portfolio" in timeline


def test_the_portfolio_in_french(artist, dataset):
    big_portfolio(artist, 12, dataset=dataset, copies=1)
    content = french_client(artist).get(PORTFOLIO).content.decode()
    assert "<h1>Portfolio</h1>" in content
    assert "Sélectionner les 12 œuvres correspondant à ce filtre" in content
    assert "Trouvée" in content
