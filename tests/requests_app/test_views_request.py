"""The artist's requests: list, detail, matches, submission, withdrawal, status, follow-up."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Dataset, Removal, WebhookDelivery
from registry.services import delivery
from requests_app import services
from requests_app.models import EventKind, HashState, Match, MatchState, RemovalRequest, TicketEvent, Work
from requests_app.workflow import Status
from tests.conftest import image_bytes, make_artist, photo, photo_bytes


def dataset_with_copy(maintainer, *, slug: str, name: str, url: str, of: str = "chelsea.png") -> Dataset:
    """A registered data set holding a resized, re-compressed copy of one sample photograph."""
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug=slug, name=name)
    copy = photo(of).convert("RGB").resize((300, 200))
    hashes = compute_hashes(image_bytes(copy, "JPEG", quality=60), max_pixels=10**8)
    result = registry_services.items_upsert(
        dataset=dataset, rows=[{"external_id": "1", "url": url, "phash": code_to_hex(hashes.phash)}]
    )
    assert result.created == 1
    return dataset


def hashed_draft(artist, *names: str) -> RemovalRequest:
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[SimpleUploadedFile(name, photo_bytes(name)) for name in names],
    )
    for work in added.works:
        assert services.work_hash_and_match(work_id=work.pk) == "done"
    return removal_request


@pytest.fixture
def two_copies(maintainer) -> tuple[Dataset, Dataset]:
    return (
        dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg"),
        dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://mirror.example/b/cat-2.jpg"),
    )


def logged_in(profile) -> Client:
    client = Client()
    client.force_login(profile.user)
    return client


def detail(removal_request: RemovalRequest) -> str:
    return reverse("request_detail", args=[removal_request.reference])


# --- access -----------------------------------------------------------------

ARTIST_PAGES = [
    ("get", "request_list", False),
    ("get", "request_new", False),
    ("get", "request_detail", True),
    ("get", "request_status", True),
    ("post", "request_upload", True),
    ("post", "request_matches", True),
    ("post", "request_submit", True),
    ("post", "request_withdraw", True),
]


@pytest.mark.parametrize(("method", "name", "needs_reference"), ARTIST_PAGES)
def test_it_sends_anonymous_visitors_to_log_in(client, artist, method, name, needs_reference):
    removal_request = services.request_create(artist=artist, basis="copyright")
    url = reverse(name, args=[removal_request.reference] if needs_reference else [])
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(
    ("method", "name"), [(m, n) for m, n, needs_reference in ARTIST_PAGES if needs_reference]
)
def test_it_answers_404_for_another_artists_request(artist, other_artist, method, name):
    removal_request = services.request_create(artist=artist, basis="copyright")
    response = getattr(logged_in(other_artist), method)(reverse(name, args=[removal_request.reference]))
    assert response.status_code == 404
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT


def test_it_tells_a_staff_account_without_artist_profile_why_it_cannot_file(moderator):
    client = Client()
    client.force_login(moderator)
    response = client.get(reverse("request_new"))
    assert response.status_code == 403
    assert "no artist profile" in response.content.decode()


def test_it_checks_csrf_on_posts(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    client = Client(enforce_csrf_checks=True)
    client.force_login(artist.user)
    response = client.post(reverse("request_withdraw", args=[removal_request.reference]))
    assert response.status_code == 403
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT


def test_it_accepts_only_post_for_changes(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    client = logged_in(artist)
    for name in ("request_upload", "request_matches", "request_submit", "request_withdraw"):
        assert client.get(reverse(name, args=[removal_request.reference])).status_code == 405


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
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("coins.png", photo_bytes("coins.png")),
        ],
    )
    client = logged_in(artist)

    content = client.get(detail(removal_request)).content.decode()
    assert 'http-equiv="refresh" content="3"' in content
    assert content.count("checking…") == 2
    assert reverse("request_status", args=[removal_request.reference]) in content

    cat, coins = added.works
    services.work_hash_and_match(work_id=cat.pk)
    # A stored file that can no longer be read: hashing fails and says why.
    with coins.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash_and_match(work_id=coins.pk) == "failed"

    content = client.get(detail(removal_request)).content.decode()
    assert 'http-equiv="refresh"' not in content
    assert "checking…" not in content
    assert "Could not be checked:" in content
    assert "not an image we can read" in content
    assert "No copy found in the registered data sets" in content


def test_it_shows_each_match_with_its_data_set_address_and_distance(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    content = logged_in(artist).get(detail(removal_request)).content.decode()

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
    removal_request = hashed_draft(artist, "chelsea.png")
    content = logged_in(artist).get(detail(removal_request)).content.decode()
    assert "javascript:alert(1)" in content
    assert 'href="javascript:' not in content


# --- matches ----------------------------------------------------------------


def test_it_confirms_and_excludes_matches(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    alpha, beta = (Match.objects.get(item__dataset=d) for d in two_copies)

    response = logged_in(artist).post(
        reverse("request_matches", args=[removal_request.reference]),
        {f"match-{alpha.pk}": "mine", f"match-{beta.pk}": "not_mine"},
        follow=True,
    )

    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert (alpha.state, beta.state) == (MatchState.CONFIRMED, MatchState.EXCLUDED)
    assert response.redirect_chain[0][0] == f"{detail(removal_request)}#matches"
    content = response.content.decode()
    assert "Your choices are saved." in content
    assert f'name="match-{alpha.pk}" value="mine" checked' in content
    assert f'name="match-{beta.pk}" value="not_mine" checked' in content


def test_it_confirms_all_undecided_matches_and_keeps_exclusions(artist, maintainer, two_copies):
    dataset_with_copy(maintainer, slug="gamma", name="Gamma Set", url="https://g.example/1.jpg")
    removal_request = hashed_draft(artist, "chelsea.png")
    excluded, *rest = Match.objects.order_by("pk")
    services.matches_decide(request=removal_request, actor=artist.user, exclude=[excluded.pk])

    logged_in(artist).post(reverse("request_matches", args=[removal_request.reference]), {"confirm_all": "1"})

    states = dict(Match.objects.values_list("pk", "state"))
    assert states[excluded.pk] == MatchState.EXCLUDED
    assert all(states[m.pk] == MatchState.CONFIRMED for m in rest) and len(rest) == 2


def test_it_shows_why_a_choice_is_refused_on_its_row_and_keeps_the_other_answers(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    response = logged_in(artist).post(
        reverse("request_matches", args=[removal_request.reference]),
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


# --- submission and withdrawal ----------------------------------------------


def _confirm_all(removal_request: RemovalRequest, artist) -> None:
    ids = list(Match.objects.filter(work__request=removal_request).values_list("pk", flat=True))
    services.matches_decide(request=removal_request, actor=artist.user, confirm=ids)


def test_it_submits_a_signed_request(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    _confirm_all(removal_request, artist)
    client = logged_in(artist)
    page = client.get(detail(removal_request)).content.decode()
    assert services.STATEMENT_TEXT in page
    assert '<label for="id_signed_name">' in page

    response = client.post(
        reverse("request_submit", args=[removal_request.reference]),
        {"signed_name": "  Ada Lovelace "},
        follow=True,
    )

    removal_request.refresh_from_db()
    assert removal_request.status == Status.SUBMITTED
    assert removal_request.signed_name == "Ada Lovelace"
    assert removal_request.statement == services.STATEMENT_TEXT
    assert removal_request.statement_language == "en"
    content = response.content.decode()
    assert f"Request {removal_request.reference} is submitted." in content
    assert "Sign and submit" not in content
    assert "Add more works" not in content
    assert 'type="radio"' not in content


def test_it_refuses_to_submit_before_the_email_is_confirmed(db, maintainer):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")
    unverified = make_artist("new@example.com", verified=False)
    removal_request = hashed_draft(unverified, "chelsea.png")
    _confirm_all(removal_request, unverified)
    client = logged_in(unverified)
    assert "Send the link again" in client.get(detail(removal_request)).content.decode()

    response = client.post(
        reverse("request_submit", args=[removal_request.reference]), {"signed_name": "new"}
    )

    assert response.status_code == 200  # the page again, with the error beside its control
    content = response.content.decode()
    assert "Confirm your email address first: follow the link we sent you." in content
    assert 'value="new"' in content  # what was typed is kept
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT


def test_it_submits_works_with_no_confirmed_copy_since_their_hashes_are_removed_too(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    logged_in(artist).post(
        reverse("request_submit", args=[removal_request.reference]), {"signed_name": "Ada Lovelace"}
    )
    removal_request.refresh_from_db()
    assert removal_request.status == Status.SUBMITTED


def test_it_refuses_to_submit_when_no_work_could_be_read(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash(work_id=work.pk) == "failed"
    response = logged_in(artist).post(
        reverse("request_submit", args=[removal_request.reference]),
        {"signed_name": "Ada Lovelace"},
        follow=True,
    )
    assert "None of these works could be read; add a work we can check." in response.content.decode()
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT


def test_it_refuses_to_submit_unsigned(artist, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    _confirm_all(removal_request, artist)
    response = logged_in(artist).post(
        reverse("request_submit", args=[removal_request.reference]), {"signed_name": "   "}, follow=True
    )
    assert "Type your full name to sign the statement." in response.content.decode()
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT


def test_it_withdraws_and_then_offers_no_more_actions(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    client = logged_in(artist)
    assert "Withdraw this request" in client.get(detail(removal_request)).content.decode()

    response = client.post(
        reverse("request_withdraw", args=[removal_request.reference]), {"confirm": "on"}, follow=True
    )

    removal_request.refresh_from_db()
    assert removal_request.status == Status.WITHDRAWN
    content = response.content.decode()
    assert f"Request {removal_request.reference} is withdrawn." in content
    assert "Withdraw this request" not in content
    assert "Sign and submit" not in content

    again = client.post(
        reverse("request_withdraw", args=[removal_request.reference]), {"confirm": "on"}, follow=True
    )
    assert "A request that is withdrawn cannot become withdrawn." in again.content.decode()


# --- status.json ------------------------------------------------------------


def test_it_reports_the_status_as_json(artist, two_copies):
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("coins.png", photo_bytes("coins.png")),
        ],
    )
    client = logged_in(artist)
    url = reverse("request_status", args=[removal_request.reference])

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
    removal_request = hashed_draft(artist, "chelsea.png")
    _confirm_all(removal_request, artist)
    services.request_submit(request=removal_request, actor=artist.user, signed_name="Ada Lovelace")
    services.request_start_review(request=removal_request, moderator=moderator)
    services.request_note_add(
        request=removal_request, moderator=moderator, message="Sock puppet? Check.", public=False
    )
    services.request_note_add(
        request=removal_request, moderator=moderator, message="Thank you, we are looking at it.", public=True
    )
    assert TicketEvent.objects.filter(request=removal_request, kind=EventKind.INTERNAL_NOTE).exists()

    content = logged_in(artist).get(detail(removal_request)).content.decode()

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
    removal_request = hashed_draft(artist, "chelsea.png")
    _confirm_all(removal_request, artist)
    services.request_submit(request=removal_request, actor=artist.user, signed_name="Ada Lovelace")
    with django_capture_on_commit_callbacks(execute=False):
        services.request_approve(request=removal_request, moderator=moderator, reason="Clear case.")
    client = logged_in(artist)

    row = _removal_row(client.get(detail(removal_request)).content.decode(), "Alpha Set")
    assert row.startswith("pending|") and "Waiting to be delivered" in row

    for webhook_delivery in WebhookDelivery.objects.all():
        assert delivery.delivery_attempt(webhook_delivery.pk) == "succeeded"
    content = client.get(detail(removal_request)).content.decode()
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
    content = client.get(detail(removal_request)).content.decode()
    row = _removal_row(content, "Alpha Set")
    assert row.startswith("acknowledged|")
    assert f'<time datetime="{alpha_removal.acknowledged_at.isoformat()}">' in row
    assert _removal_row(content, "Beta Set").startswith("delivered|")
    assert "Confirmed removed" not in content

    with django_capture_on_commit_callbacks(execute=True):
        registry_services.removals_acknowledge(
            dataset=beta, ids=[Removal.objects.get(dataset=beta).public_id]
        )
    removal_request.refresh_from_db()
    assert removal_request.status == Status.COMPLETED
    content = client.get(detail(removal_request)).content.decode()
    assert '<h2 id="receipt-title">Confirmed removed</h2>' in content
    assert "Every data set maintainer confirmed the removal." in content
    assert _removal_row(content, "Beta Set").startswith("acknowledged|")


def test_it_shows_the_reason_of_a_rejection(artist, moderator, two_copies):
    removal_request = hashed_draft(artist, "chelsea.png")
    _confirm_all(removal_request, artist)
    services.request_submit(request=removal_request, actor=artist.user, signed_name="Ada Lovelace")
    services.request_reject(request=removal_request, moderator=moderator, reason="These are stock photos.")
    content = logged_in(artist).get(detail(removal_request)).content.decode()
    assert "This request was rejected." in content
    assert "These are stock photos." in content
    assert "Withdraw this request" not in content


def test_it_keeps_the_uploaded_works_private_to_the_page(artist):
    removal_request = hashed_draft(artist, "coffee.png")
    work = Work.objects.get()
    content = logged_in(artist).get(detail(removal_request)).content.decode()
    assert f'src="{reverse("work_image", args=[work.pk])}"' in content
    assert work.file.name not in content
