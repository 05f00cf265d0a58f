"""The artist's requests (views/requests.py): the list, a new request, the detail page with its
matches and follow-up, the status as JSON."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registry import services as registry_services
from registry.models import Removal, WebhookDelivery
from registry.services import delivery
from requests_app import services
from requests_app.forms import PAGES_SEPARATOR
from requests_app.models import (
    EventKind,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
    TicketEvent,
    Work,
)
from requests_app.workflow import Status
from tests.helpers import (
    confirm_all,
    dataset_with_copy,
    detail,
    hashed_draft,
    logged_in,
    photo_bytes,
    zip_upload,
)

# --- access -----------------------------------------------------------------

ARTIST_PAGES = [
    ("get", "request_list", False),
    ("get", "request_new", False),
    ("get", "request_detail", True),
    ("get", "request_status", True),
    ("get", "request_removals_csv", True),
    ("post", "request_upload", True),
    ("post", "request_matches", True),
    ("post", "request_submit", True),
    ("post", "request_withdraw", True),
]


@pytest.mark.parametrize(("method", "name", "needs_reference"), ARTIST_PAGES)
def test_it_sends_anonymous_visitors_to_log_in(client, artist, method, name, needs_reference):
    ticket = services.request_create(artist=artist, basis="copyright")
    url = reverse(name, args=[ticket.reference] if needs_reference else [])
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("method", "name"), [(m, n) for m, n, needs_reference in ARTIST_PAGES if needs_reference]
)
def test_it_answers_404_for_another_artists_request(artist, other_artist, method, name):
    ticket = services.request_create(artist=artist, basis="copyright")
    response = getattr(logged_in(other_artist), method)(reverse(name, args=[ticket.reference]))
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT


def test_it_checks_csrf_on_posts(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    client = Client(enforce_csrf_checks=True)
    client.force_login(artist.user)
    response = client.post(reverse("request_withdraw", args=[ticket.reference]))
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT


def test_it_accepts_only_post_for_changes(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    client = logged_in(artist)
    for name in ("request_upload", "request_matches", "request_submit", "request_withdraw"):
        assert client.get(reverse(name, args=[ticket.reference])).status_code == 405


# --- list and detail --------------------------------------------------------


def test_it_lists_only_the_artists_own_requests(artist, other_artist):
    mine = hashed_draft(artist, "chelsea.png", "coffee.png")
    theirs = services.request_create(artist=other_artist, basis="privacy")

    content = logged_in(artist).get(reverse("request_list")).content.decode()

    assert mine.reference in content
    assert theirs.reference not in content
    assert "Draft" in content
    assert '<td class="num">2</td>' in content
    assert "Send the link again" not in content  # Ada's address is verified


def test_it_refreshes_while_works_are_checked_and_shows_their_state(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("coins.png", photo_bytes("coins.png")),
        ],
    )
    client = logged_in(artist)

    content = client.get(detail(ticket)).content.decode()
    assert 'http-equiv="refresh" content="3"' in content
    assert content.count("checking…") == 2
    assert reverse("request_status", args=[ticket.reference]) in content

    cat, coins = added.works
    services.work_hash_and_match(work_id=cat.pk)
    # A stored file that can no longer be read: hashing fails and says why.
    with coins.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash_and_match(work_id=coins.pk) == "failed"

    content = client.get(detail(ticket)).content.decode()
    assert 'http-equiv="refresh"' not in content
    assert "checking…" not in content
    assert "Could not be checked:" in content
    assert "not an image we can read" in content
    assert "No copy found in the registered data sets" in content


def test_it_shows_each_match_with_its_data_set_address_and_distance(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    content = logged_in(artist).get(detail(ticket)).content.decode()

    assert "2 possible copies found" in content
    for match in Match.objects.select_related("item__dataset"):
        row = re.search(
            rf'<tr class="match match--suggested" id="match-{match.pk}">(.*?)</tr>', content, re.S
        )
        assert row, f"no row for match {match.pk}"
        cells = row.group(1)
        assert match.item.dataset.name in cells
        link = f'<a href="{match.item.url}" rel="noopener nofollow noreferrer" target="_blank">'
        assert f"{link}{match.item.url}</a>" in cells
        assert f'<td class="num" data-label="Distance">{match.distance}</td>' in cells
        for value in ("mine", "not_mine", "undecided"):
            assert f'type="radio" name="match-{match.pk}" value="{value}"' in cells
        assert f'name="match-{match.pk}" value="undecided" checked' in cells


def test_it_never_links_an_item_address_that_is_not_http(artist, maintainer):
    dataset = dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")
    # Arrange an address that the API would refuse, as an old import might have stored it.
    dataset.items.update(url="javascript:alert(1)")
    ticket = hashed_draft(artist, "chelsea.png")
    content = logged_in(artist).get(detail(ticket)).content.decode()
    assert "javascript:alert(1)" in content
    assert 'href="javascript:' not in content


# --- matches ----------------------------------------------------------------


def test_it_confirms_and_excludes_matches(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    alpha, beta = (Match.objects.get(item__dataset=d) for d in two_copies)

    response = logged_in(artist).post(
        reverse("request_matches", args=[ticket.reference]),
        {f"match-{alpha.pk}": "mine", f"match-{beta.pk}": "not_mine"},
        follow=True,
    )

    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert (alpha.state, beta.state) == (MatchState.CONFIRMED, MatchState.EXCLUDED)
    assert response.redirect_chain[0][0] == f"{detail(ticket)}#matches"
    content = response.content.decode()
    assert "Your choices are saved." in content
    assert f'name="match-{alpha.pk}" value="mine" checked' in content
    assert f'name="match-{beta.pk}" value="not_mine" checked' in content


def test_it_confirms_all_undecided_matches_and_keeps_exclusions(artist, maintainer, two_copies):
    dataset_with_copy(maintainer, slug="gamma", name="Gamma Set", url="https://g.example/1.jpg")
    ticket = hashed_draft(artist, "chelsea.png")
    excluded, *rest = Match.objects.order_by("pk")
    services.matches_decide(ticket=ticket, actor=artist.user, exclude=[excluded.pk])

    logged_in(artist).post(reverse("request_matches", args=[ticket.reference]), {"confirm_all": "1"})

    states = dict(Match.objects.values_list("pk", "state"))
    assert states[excluded.pk] == MatchState.EXCLUDED
    assert all(states[m.pk] == MatchState.CONFIRMED for m in rest) and len(rest) == 2


def test_it_shows_why_a_choice_is_refused_on_its_row_and_keeps_the_other_answers(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    response = logged_in(artist).post(
        reverse("request_matches", args=[ticket.reference]),
        {f"match-{first.pk}": "both", f"match-{second.pk}": "not_mine"},
    )
    assert response.status_code == 200  # the page again, with the error beside its control
    content = response.content.decode()
    row = re.search(rf'<tr class="match match--suggested" id="match-{first.pk}">(.*?)</tr>', content, re.S)
    assert row and "Choose mine, not mine or undecided for this copy." in row.group(1)
    assert f'name="match-{first.pk}" value="mine" autofocus' in row.group(1)
    # The other answer is kept as entered, though nothing was saved.
    assert f'name="match-{second.pk}" value="not_mine" checked' in content
    assert set(Match.objects.values_list("state", flat=True)) == {MatchState.SUGGESTED}


def test_it_never_changes_another_artists_matches(artist, other_artist, two_copies):
    mine = hashed_draft(artist, "chelsea.png")
    theirs = hashed_draft(other_artist, "chelsea.png")
    their_matches = list(Match.objects.filter(work__request=theirs).values_list("pk", flat=True))
    client = logged_in(artist)

    # Their request: 404. My request with their match ids: nothing of theirs changes.
    assert (
        client.post(
            reverse("request_matches", args=[theirs.reference]), {"confirm": their_matches}
        ).status_code
        == 404
    )
    client.post(
        reverse("request_matches", args=[mine.reference]), {f"match-{pk}": "mine" for pk in their_matches}
    )
    client.post(reverse("request_matches", args=[mine.reference]), {"confirm_all": "1"})

    assert set(Match.objects.filter(work__request=theirs).values_list("state", flat=True)) == {
        MatchState.SUGGESTED
    }
    assert set(Match.objects.filter(work__request=mine).values_list("state", flat=True)) == {
        MatchState.CONFIRMED
    }


# --- status.json ------------------------------------------------------------


def test_it_reports_the_status_as_json(artist, two_copies):
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("coins.png", photo_bytes("coins.png")),
        ],
    )
    client = logged_in(artist)
    url = reverse("request_status", args=[ticket.reference])

    assert client.get(url).json() == {
        "status": "draft",
        "works": [{"id": w.pk, "hash_state": "pending", "error": ""} for w in added.works],
        "matches": 0,
    }
    services.work_hash_and_match(work_id=added.works[0].pk)
    response = client.get(url)
    assert response["Cache-Control"].startswith("max-age=0")
    data = response.json()
    assert data["works"][0] == {"id": added.works[0].pk, "hash_state": "done", "error": ""}
    assert data["works"][1]["hash_state"] == HashState.PENDING
    assert data["matches"] == 2


# --- the timeline and the maintainers' confirmation -------------------------


def test_it_shows_the_public_timeline_but_never_internal_notes(artist, moderator, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    confirm_all(ticket, artist)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_start_review(ticket=ticket, moderator=moderator)
    services.request_note_add(ticket=ticket, moderator=moderator, message="Sock puppet? Check.", public=False)
    services.request_note_add(
        ticket=ticket, moderator=moderator, message="Thank you, we are looking at it.", public=True
    )
    assert TicketEvent.objects.filter(request=ticket, kind=EventKind.INTERNAL_NOTE).exists()

    content = logged_in(artist).get(detail(ticket)).content.decode()

    assert "Sock puppet" not in content
    assert moderator.username not in content  # the assignment event names the moderator
    assert "Thank you, we are looking at it." in content
    assert "Request created" in content
    assert "Draft → Submitted" in content
    assert "Submitted → In review" in content
    assert "1 work added: chelsea.png" in content


def _removal_row(content: str, dataset_name: str) -> str:
    rows = re.findall(r'<tr class="removal removal--(\w+)">(.*?)</tr>', content, re.S)
    [(state, cells)] = [(state, cells) for state, cells in rows if dataset_name in cells]
    return f"{state}|{cells}"


def test_it_follows_the_removals_to_each_maintainers_confirmation(
    artist, moderator, maintainer, receiver, two_copies, django_capture_on_commit_callbacks
):
    alpha, beta = two_copies
    registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    ticket = hashed_draft(artist, "chelsea.png")
    confirm_all(ticket, artist)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    with django_capture_on_commit_callbacks(execute=False):
        services.request_approve(ticket=ticket, moderator=moderator, reason="Clear case.")
    client = logged_in(artist)

    row = _removal_row(client.get(detail(ticket)).content.decode(), "Alpha Set")
    assert row.startswith("pending|") and "Waiting to be delivered" in row

    for webhook_delivery in WebhookDelivery.objects.all():
        assert delivery.delivery_attempt(webhook_delivery.pk) == "succeeded"
    content = client.get(detail(ticket)).content.decode()
    for dataset in two_copies:
        removal = Removal.objects.get(dataset=dataset)
        row = _removal_row(content, dataset.name)
        assert row.startswith("delivered|")
        assert f'<time datetime="{removal.delivered_at.isoformat()}">' in row
        assert "waiting for the maintainer" in row
    assert "Clear case." in content

    alpha_removal = Removal.objects.get(dataset=alpha)
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.removals_acknowledge(dataset=alpha, ids=[alpha_removal.public_id])
    alpha_removal.refresh_from_db()
    content = client.get(detail(ticket)).content.decode()
    row = _removal_row(content, "Alpha Set")
    assert row.startswith("acknowledged|")
    assert f'<time datetime="{alpha_removal.acknowledged_at.isoformat()}">' in row
    assert _removal_row(content, "Beta Set").startswith("delivered|")
    assert "Confirmed removed" not in content

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.removals_acknowledge(
            dataset=beta, ids=[Removal.objects.get(dataset=beta).public_id]
        )
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    content = client.get(detail(ticket)).content.decode()
    assert '<h2 id="receipt-title">Confirmed removed</h2>' in content
    assert "Every data set maintainer confirmed the removal." in content
    assert _removal_row(content, "Beta Set").startswith("acknowledged|")


def test_it_shows_the_reason_of_a_rejection(artist, moderator, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    confirm_all(ticket, artist)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_reject(ticket=ticket, moderator=moderator, reason="These are stock photos.")
    content = logged_in(artist).get(detail(ticket)).content.decode()
    assert "This request was rejected." in content
    assert "These are stock photos." in content
    assert "Withdraw this request" not in content


def test_it_keeps_the_uploaded_works_private_to_the_page(artist):
    ticket = hashed_draft(artist, "coffee.png")
    work = Work.objects.get()
    content = logged_in(artist).get(detail(ticket)).content.decode()
    assert f'src="{reverse("work_image", args=[work.pk])}"' in content
    assert work.file.name not in content


def test_the_new_request_form_takes_a_zip_and_page_urls(artist):
    client = logged_in(artist)
    response = client.post(
        reverse("request_new"),
        {
            "basis": "copyright",
            "description": "First shown at my gallery.",
            "page_urls": "https://ada.example/portfolio\n\nhttps://shop.example/ada\nhttps://ada.example/portfolio",
            "zip": zip_upload({"cat.png": photo_bytes("chelsea.png"), "readme.md": b"#"}),
        },
        follow=True,
    )
    ticket = RemovalRequest.objects.get()
    assert ticket.description == (
        f"First shown at my gallery.{PAGES_SEPARATOR}https://ada.example/portfolio\nhttps://shop.example/ada"
    )
    assert [w.original_name for w in ticket.works.all()] == ["cat.png"]
    content = response.content.decode()
    assert "1 work added" in content
    assert "readme.md" in content
    assert '<a href="https://shop.example/ada"' in content
    assert PAGES_SEPARATOR.strip() not in content


def test_the_new_request_form_refuses_addresses_that_are_not_web_pages(artist):
    response = logged_in(artist).post(
        reverse("request_new"),
        {"basis": "copyright", "page_urls": "javascript:alert(1)", "works": SimpleUploadedFile("a.png", b"")},
    )
    assert response.status_code == 200
    assert "These are not web addresses" in response.content.decode()
    assert not RemovalRequest.objects.exists()


# --- item 11: the smaller ones -----------------------------------------------------------


def test_my_requests_are_listed_newest_first(nora):
    made = [services.request_create(artist=nora, basis="copyright") for _ in range(3)]
    content = logged_in(nora).get(reverse("request_list")).content.decode()
    shown = re.findall(r"(RR-\d{4}-\d{6})</a>", content)
    assert shown == [r.reference for r in reversed(made)]


def test_two_organisations_data_sets_of_the_same_name_are_told_apart(nora, maintainer, other_maintainer):
    dataset_with_copy(maintainer, slug="photos-a", name="Photos v1", url="https://a.example/1.jpg")
    dataset_with_copy(other_maintainer, slug="photos-b", name="Photos v1", url="https://b.example/1.jpg")
    ticket = hashed_draft(nora, "chelsea.png")
    content = logged_in(nora).get(detail(ticket)).content.decode()
    for owner in (maintainer.maintainer.name, other_maintainer.maintainer.name):
        assert f'Photos v1 <span class="hint">({owner})</span>' in content
    assert maintainer.maintainer.name != other_maintainer.maintainer.name


# --- a big request's receipt -------------------------------------------------------


def test_a_big_receipt_is_per_data_set_with_the_artists_own_csv(artist, other_artist, moderator, maintainer):
    import csv
    import io

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.helpers import big_request

    org = maintainer.maintainer
    a = registry_services.dataset_create(maintainer=org, slug="a", name="Alpha")
    b = registry_services.dataset_create(maintainer=org, slug="b", name="Beta")
    ticket = big_request(artist, [a, b], works=200, per_work=6)
    services.request_approve(ticket=ticket, moderator=moderator)
    removals = Removal.objects.filter(source_ref=ticket.reference)
    # Alpha acknowledges 100 of its 600, Beta has 50 delivered; one item URL is a formula.
    alpha_ids = list(removals.filter(dataset=a).order_by("pk").values_list("public_id", flat=True))
    registry_services.removals_acknowledge(dataset=a, ids=alpha_ids[:100])
    registry_services.removals_mark_delivered(removals=list(removals.filter(dataset=b).order_by("pk")[:50]))
    first_b = removals.filter(dataset=b).order_by("pk").first()
    Removal.objects.filter(pk=first_b.pk).update(url='=HYPERLINK("https://evil.example")')

    client = logged_in(artist)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(detail(ticket)).content.decode()
    assert page.count('class="removal removal--') == 2  # one row per data set, not 1,200
    assert ">600</td>" in page and ">100</td>" in page and ">50</td>" in page
    assert len([q for q in queries if "registry_removal" in q["sql"]]) <= 2

    response = client.get(reverse("request_removals_csv", args=[ticket.reference]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="{ticket.reference}-removals.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["removal", "data_set", "maintainer"]
    assert len(rows) == 1 + removals.count() == 1 + 1200
    assert {r[0] for r in rows[1:]} == set(removals.values_list("public_id", flat=True))
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[first_b.public_id][4] == '\'=HYPERLINK("https://evil.example")'
    assert by_id[alpha_ids[0]][6] == "acknowledged" and by_id[alpha_ids[0]][9].endswith("Z")
    # Nobody else's: another artist gets a 404 (the address does not say the request exists).
    assert (
        logged_in(other_artist).get(reverse("request_removals_csv", args=[ticket.reference])).status_code
        == 404
    )
