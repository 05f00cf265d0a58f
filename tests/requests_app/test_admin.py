"""The moderators' desk in the admin: who may see it, the desk page, decisions, bulk decisions, notes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Dataset, Removal
from requests_app import services
from requests_app.models import (
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    EventKind,
    IdentityProof,
    MatchState,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    TicketEvent,
)
from requests_app.workflow import Status
from tests.conftest import image_bytes, photo, photo_bytes

PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png")
CHANGELIST = reverse("admin:requests_app_removalrequest_changelist")


def change_url(request: RemovalRequest) -> str:
    return reverse("admin:requests_app_removalrequest_change", args=[request.pk])


def decide_url(request: RemovalRequest) -> str:
    return reverse("admin:requests_app_removalrequest_decide", args=[request.pk])


def note_url(request: RemovalRequest) -> str:
    return reverse("admin:requests_app_removalrequest_note", args=[request.pk])


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def dataset(maintainer: Any) -> Dataset:
    """A data set holding a half-size JPEG copy of each photo the tests upload."""
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    rows = []
    for name in PHOTOS:
        image = photo(name).convert("RGB")
        copy = image.resize((image.width // 2, image.height // 2))
        h = compute_hashes(image_bytes(copy, "JPEG", quality=70), max_pixels=10**8)
        rows.append(
            {"external_id": name, "url": f"https://img.example/{name}", "phash": code_to_hex(h.phash)}
        )
    assert registry_services.items_upsert(dataset=dataset, rows=rows).created == len(PHOTOS)
    return dataset


def make_request(artist: ArtistProfile, photo_name: str, *, submit: bool = True) -> RemovalRequest:
    request = services.request_create(artist=artist, basis="copyright", description=f"my {photo_name}")
    added = services.works_add(
        request=request, actor=artist.user, files=[SimpleUploadedFile(photo_name, photo_bytes(photo_name))]
    )
    assert services.work_hash_and_match(work_id=added.works[0].pk) == "done"
    if submit:
        confirm = list(added.works[0].matches.values_list("pk", flat=True))
        assert confirm, f"{photo_name} should match its copy"
        services.matches_decide(request=request, actor=artist.user, confirm=confirm)
        services.request_submit(request=request, actor=artist.user, signed_name=artist.display_name)
    request.refresh_from_db()
    return request


@pytest.fixture
def submitted(artist: ArtistProfile, dataset: Dataset) -> RemovalRequest:
    return make_request(artist, "chelsea.png")


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser("root@example.com", "root@example.com", "pw")


@pytest.fixture
def staff_without_group(db: Any) -> User:
    return User.objects.create_user("staff@example.com", "staff@example.com", "pw", is_staff=True)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- who may see and do what --------------------------------------------------


def test_it_sends_an_artist_to_the_admin_login(artist, submitted):
    client = logged_in(artist.user)
    for url in (CHANGELIST, change_url(submitted)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(decide_url(submitted), {"decision": "approve"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_hides_everything_from_staff_without_the_group(staff_without_group, submitted):
    client = logged_in(staff_without_group)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(submitted)).status_code == 403
    assert client.get(reverse("admin:requests_app_work_changelist")).status_code == 403
    assert client.get(reverse("admin:registry_removal_changelist")).status_code == 403
    for url, data in (
        (decide_url(submitted), {"decision": "approve"}),
        (note_url(submitted), {"message": "hi", "visibility": "public"}),
    ):
        assert client.post(url, data).status_code == 403
    index = client.get(reverse("admin:index"))
    assert "Removal requests" not in index.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not TicketEvent.objects.filter(kind__in=[EventKind.PUBLIC_REPLY, EventKind.INTERNAL_NOTE]).exists()


def test_it_lets_a_viewer_without_the_moderate_permission_look_but_not_decide(submitted):
    viewer = User.objects.create_user("viewer@example.com", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_removalrequest"))
    client = logged_in(viewer)
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert "approve_selected" not in listing.content.decode()
    page = client.get(change_url(submitted))
    assert page.status_code == 200
    assert decide_url(submitted) not in page.content.decode()
    assert client.post(decide_url(submitted), {"decision": "approve"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_shows_the_queue_to_a_moderator(moderator, submitted, artist):
    response = logged_in(moderator).get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode().replace("<wbr>", "")  # addresses may wrap before their "@"
    assert submitted.reference in html
    assert artist.user.email in html and "Ada Lovelace" in html
    for action in ("start_review_selected", "approve_selected", "reject_selected"):
        assert action in html
    assert "delete_selected" not in html
    row = response.context["cl"].result_list.get(pk=submitted.pk)
    assert (row.work_count, row.confirmed_match_count) == (1, 1)


def test_it_lists_the_queue_in_a_fixed_number_of_queries(moderator, artist, dataset):
    client = logged_in(moderator)
    make_request(artist, "chelsea.png")
    client.get(CHANGELIST)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        assert client.get(CHANGELIST).status_code == 200
    for name in PHOTOS[1:]:
        make_request(artist, name)
    with CaptureQueriesContext(connection) as five:
        response = client.get(CHANGELIST)
    assert response.context["cl"].result_count == 5
    assert len(five) == len(one)


def test_it_searches_by_matched_item_url_and_filters_by_status(moderator, artist, dataset):
    chelsea = make_request(artist, "chelsea.png")
    coffee = make_request(artist, "coffee.png", submit=False)
    client = logged_in(moderator)
    found = client.get(CHANGELIST, {"q": "img.example/chelsea"}).context["cl"].result_list
    assert [r.pk for r in found] == [chelsea.pk]
    drafts = client.get(CHANGELIST, {"status__exact": "draft"}).context["cl"].result_list
    assert [r.pk for r in drafts] == [coffee.pk]


def test_it_shows_the_desk_to_a_moderator(moderator, submitted, artist):
    services.request_note_add(request=submitted, moderator=moderator, message="looks like hers", public=False)
    services.request_note_add(request=submitted, moderator=moderator, message="thanks, looking", public=True)
    response = logged_in(moderator).get(change_url(submitted))
    assert response.status_code == 200
    html = response.content.decode()
    work = submitted.works.get()
    assert reverse("work_image", args=[work.pk]) in html
    assert f"pHash {work.phash & 0xFFFFFFFFFFFFFFFF:016x}" in html
    assert "https://img.example/chelsea.png" in html
    assert "Confirmed by the artist" in html
    assert "ada@example.com" in html and "Email address" in html  # the verified email proof
    assert 'class="internal"' in html and "looks like hers" in html
    assert 'class="public"' in html and "thanks, looking" in html
    assert 'value="approve"' in html and 'value="reject"' in html and 'value="start_review"' in html
    assert 'name="_save"' not in html  # the row itself is never edited


def test_it_lets_a_superuser_see_and_decide(superuser, submitted):
    client = logged_in(superuser)
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(change_url(submitted)).status_code == 200
    response = client.post(decide_url(submitted), {"decision": "reject", "reason": "not the author"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.REJECTED and submitted.decision_reason == "not the author"


# --- decisions from the change page ------------------------------------------


def test_it_approves_from_the_change_page(moderator, submitted, dataset):
    response = logged_in(moderator).post(decide_url(submitted), {"decision": "approve", "reason": "clear"})
    assert response.status_code == 302 and response["Location"] == change_url(submitted)
    assert messages_of(response) == [f"Approved {submitted.reference}."]
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED and submitted.decision_reason == "clear"
    [removal] = Removal.objects.filter(source_ref=submitted.reference)
    assert removal.dataset == dataset and removal.url == "https://img.example/chelsea.png"
    assert submitted.works.get().matches.get().state == MatchState.APPROVED
    events = TicketEvent.objects.filter(request=submitted)
    status = events.get(kind=EventKind.STATUS, new_value=Status.APPROVED)
    assert status.actor == moderator and status.old_value == Status.SUBMITTED and status.message == "clear"
    assert events.filter(kind=EventKind.REMOVALS, actor=moderator).count() == 1


def test_it_starts_a_review_and_assigns_the_moderator(moderator, submitted):
    response = logged_in(moderator).post(decide_url(submitted), {"decision": "start_review"})
    assert messages_of(response) == [f"Started review of {submitted.reference}."]
    submitted.refresh_from_db()
    assert submitted.status == Status.IN_REVIEW and submitted.assignee == moderator
    assert TicketEvent.objects.filter(request=submitted, kind=EventKind.ASSIGNMENT).exists()


def test_it_refuses_to_reject_without_a_reason(moderator, submitted):
    client = logged_in(moderator)
    response = client.post(decide_url(submitted), {"decision": "reject", "reason": "   "}, follow=True)
    assert response.status_code == 200
    assert "Give the artist a reason for the rejection." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not TicketEvent.objects.filter(request=submitted, new_value=Status.REJECTED).exists()


def test_it_refuses_illegal_transitions_with_a_message(moderator, artist, dataset):
    draft = make_request(artist, "coffee.png", submit=False)
    client = logged_in(moderator)
    response = client.post(decide_url(draft), {"decision": "start_review"})
    assert messages_of(response) == [f"{draft.reference}: A request that is draft cannot become in review."]
    response = client.post(decide_url(draft), {"decision": "approve"})
    assert messages_of(response)[-1] == (
        f"{draft.reference} is draft; only submitted or in-review requests can be decided."
    )
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert not Removal.objects.exists()


def test_it_does_not_decide_twice(moderator, submitted):
    client = logged_in(moderator)
    client.post(decide_url(submitted), {"decision": "approve"})
    response = client.post(decide_url(submitted), {"decision": "reject", "reason": "changed my mind"})
    assert messages_of(response)[-1] == (
        f"{submitted.reference} is approved; only submitted, in-review or needs-information requests can be "
        "rejected."
    )
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED
    assert Removal.objects.filter(source_ref=submitted.reference).count() == 1


def test_it_accepts_decisions_only_by_post(moderator, submitted):
    client = logged_in(moderator)
    assert client.get(decide_url(submitted), {"decision": "approve"}).status_code == 405
    assert client.get(note_url(submitted)).status_code == 405


def test_it_requires_a_csrf_token(moderator, submitted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert client.post(decide_url(submitted), {"decision": "approve"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


# --- bulk decisions -------------------------------------------------------------


def test_bulk_approve_asks_for_confirmation_then_reports_the_refused(moderator, artist, dataset):
    # Bulk approval takes only strong evidence: the copies sit on a domain the artist verified.
    IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target="img.example", status=ProofStatus.VERIFIED
    )
    first = make_request(artist, "chelsea.png")
    second = make_request(artist, "astronaut.png")
    draft = make_request(artist, "coffee.png", submit=False)
    selected = [first.pk, second.pk, draft.pk]
    client = logged_in(moderator)

    page = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": selected})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html and all(r.reference in html for r in (first, second, draft))
    assert (
        f"Approve 2 requests; 1 will be skipped because {draft.reference} is draft and cannot be approved."
        in html
    )
    assert 'value="Approve 2 requests"' in html
    assert RemovalRequest.objects.filter(status=Status.APPROVED).count() == 0

    done = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": selected, "post": "yes", "reason": "batch ok"},
    )
    assert done.status_code == 302
    said = messages_of(done)
    assert f"{draft.reference} is draft; only submitted or in-review requests can be decided." in said
    assert f"Approved 2 requests: {first.reference}, {second.reference}." in said
    statuses = dict(RemovalRequest.objects.values_list("pk", "status"))
    assert statuses == {first.pk: Status.APPROVED, second.pk: Status.APPROVED, draft.pk: Status.DRAFT}
    assert set(Removal.objects.values_list("source_ref", flat=True)) == {first.reference, second.reference}


def test_bulk_reject_needs_a_reason(moderator, artist, dataset):
    first = make_request(artist, "chelsea.png")
    client = logged_in(moderator)
    data = {"action": "reject_selected", "_selected_action": [first.pk], "post": "yes", "reason": ""}
    response = client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert "Give the artists a reason for the rejection." in response.content.decode()
    first.refresh_from_db()
    assert first.status == Status.SUBMITTED

    response = client.post(CHANGELIST, {**data, "reason": "these are stock photos"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Status.REJECTED and first.decision_reason == "these are stock photos"


def test_bulk_start_review_goes_straight_through(moderator, artist, dataset):
    first = make_request(artist, "chelsea.png")
    draft = make_request(artist, "coffee.png", submit=False)
    response = logged_in(moderator).post(
        CHANGELIST, {"action": "start_review_selected", "_selected_action": [first.pk, draft.pk]}
    )
    assert response.status_code == 302
    said = messages_of(response)
    assert f"{draft.reference}: A request that is draft cannot become in review." in said
    first.refresh_from_db()
    assert first.status == Status.IN_REVIEW and first.assignee == moderator


def test_bulk_actions_are_refused_to_a_viewer(submitted):
    viewer = User.objects.create_user("viewer@example.com", "viewer@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_removalrequest"))
    data = {"action": "approve_selected", "_selected_action": [submitted.pk], "post": "yes"}
    logged_in(viewer).post(CHANGELIST, data)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


# --- notes and replies ------------------------------------------------------------


def test_it_adds_an_internal_note_that_the_artist_never_sees(
    moderator, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(moderator).post(
            note_url(submitted), {"message": "  check the EXIF  ", "visibility": "internal"}
        )
    assert response.status_code == 302
    assert messages_of(response) == ["Internal note added (moderators only)."]
    note = TicketEvent.objects.get(request=submitted, kind=EventKind.INTERNAL_NOTE)
    assert note.message == "check the EXIF" and note.actor == moderator
    assert not note.is_public and EventKind.INTERNAL_NOTE not in PUBLIC_EVENT_KINDS
    assert mailoutbox == []


def test_it_sends_a_public_reply_to_the_artist(
    moderator, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = services.request_note_add(
            request=submitted, moderator=moderator, message="Please add the original RAW file.", public=True
        )
    assert event.kind == EventKind.PUBLIC_REPLY and event.is_public
    [mail] = mailoutbox
    assert mail.to == ["ada@example.com"] and submitted.reference in mail.subject
    assert "Please add the original RAW file." in mail.body


def test_it_refuses_an_empty_note(moderator, submitted):
    with pytest.raises(services.ActionRefused):
        services.request_note_add(request=submitted, moderator=moderator, message=" \n ", public=False)
    response = logged_in(moderator).post(note_url(submitted), {"message": "", "visibility": "public"})
    assert messages_of(response) == ["Write something first: the note is empty."]
    assert not TicketEvent.objects.filter(kind__in=[EventKind.INTERNAL_NOTE, EventKind.PUBLIC_REPLY]).exists()


def test_a_note_changes_no_status(moderator, submitted):
    services.request_note_add(request=submitted, moderator=moderator, message="hm", public=False)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
