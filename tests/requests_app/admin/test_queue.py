"""The moderators' queue (the change list): its rows, columns and counts, its order, search, a
fixed number of queries, and the bulk actions."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.models import Removal
from requests_app.models import (
    IdentityProof,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
)
from requests_app.workflow import Status
from tests.helpers import (
    CHANGELIST,
    DATASET_PHOTOS,
    logged_in,
    make_request,
    messages_of,
    verify_domain,
)


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
    for name in DATASET_PHOTOS[1:]:
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
        f"Approve 2 requests. 1 will be skipped because {draft.reference} is draft and cannot be approved."
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


def test_the_index_shows_counts_per_state(moderator, staff_without_group, artist, dataset):
    make_request(artist, "chelsea.png")
    make_request(artist, "coffee.png", submit=False)
    html = logged_in(moderator).get(reverse("admin:index")).content.decode()
    assert 'id="desk-counts"' in html and "?status__exact=submitted" in html and "?sla=overdue" in html
    response = logged_in(moderator).get(reverse("admin:index"))
    assert "Moderation queue" in response.content.decode()
    assert (
        'id="desk-counts"' not in logged_in(staff_without_group).get(reverse("admin:index")).content.decode()
    )


def test_the_conflict_column_says_conflict_or_none_in_words(artist, other_artist, moderator, dataset):
    import re

    strong = make_request(artist, "chelsea.png")
    weak = make_request(other_artist, "coffee.png")
    clash = make_request(other_artist, "chelsea.png")  # conflicts with `strong`
    html = logged_in(moderator).get(CHANGELIST).content.decode()
    cells = {}
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        ref = re.search(r"RR-\d{4}-\d{6}", row)
        cell = re.search(r'<td class="field-conflict_flag">(.*?)</td>', row, flags=re.S)
        if ref and cell:
            cells[ref.group(0)] = cell.group(1)
    assert set(cells) == {strong.reference, weak.reference, clash.reference}
    for held in (strong, clash):
        assert "⚠" in cells[held.reference] and "Conflict" in cells[held.reference]
        assert 'aria-hidden="true"' in cells[held.reference]  # the sign is decoration; the word is read
    assert ">None<" in cells[weak.reference] and "⚠" not in cells[weak.reference]
    # Not the admin's boolean icons (a green tick for "has a conflict", a grey "?" for none).
    assert not any("icon-" in cell for cell in cells.values())


# --- bulk approval -------------------------------------------------------------------


def test_bulk_approve_takes_only_strong_requests_without_conflict(
    artist,
    other_artist,
    moderator,
    dataset,
):
    verify_domain(artist)
    strong = make_request(artist, "chelsea.png")
    weak = make_request(other_artist, "coffee.png")
    verify_domain(other_artist)  # the same domain: a conflict is what holds this one
    clash = make_request(other_artist, "chelsea.png")
    selected = [strong.pk, weak.pk, clash.pk]
    client = logged_in(moderator)
    page = client.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": selected}
    ).content.decode()
    # The page says what the button will do: one approved, two skipped, and why.
    assert (
        f"Approve 1 request. 2 will be skipped because {strong.reference} needs a look on its own: "
        f"an unresolved conflict with {clash.reference}; {clash.reference} needs a look on its own: "
        f"an unresolved conflict with {strong.reference}."
    ) in page
    assert 'value="Approve 1 request"' in page and "request(s)" not in page
    response = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": selected, "post": "yes", "reason": "ok"},
    )
    said = messages_of(response)
    assert any(
        m.startswith(f"{clash.reference} was not approved in bulk: an unresolved conflict") for m in said
    )
    assert any(
        m.startswith(f"{strong.reference} was not approved in bulk: an unresolved conflict") for m in said
    )
    statuses = dict(RemovalRequest.objects.values_list("pk", "status"))
    assert statuses[clash.pk] == statuses[strong.pk] == Status.SUBMITTED
    assert statuses[weak.pk] == Status.APPROVED  # on img.example too, which grace verified
    assert set(Removal.objects.values_list("source_ref", flat=True)) == {weak.reference}


def test_bulk_approve_refuses_a_request_without_domain_evidence(artist, moderator, dataset):
    ticket = make_request(artist, "chelsea.png")
    response = logged_in(moderator).post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [ticket.pk], "post": "yes"}
    )
    assert messages_of(response) == [
        f"{ticket.reference} was not approved in bulk: no verified domain or profile. "
        "Open it and decide it on its own."
    ]
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED


def test_the_queue_puts_requests_with_a_clock_before_those_without(client, moderator, artist):
    """The nearest SLA first; requests waiting on the artist or decided (no clock) last, on every database."""

    from requests_app import services as request_services
    from requests_app.models import RemovalRequest

    waiting = request_services.request_create(artist=artist, basis="copyright")
    due_late = request_services.request_create(artist=artist, basis="copyright")
    due_soon = request_services.request_create(artist=artist, basis="copyright")
    now = timezone.now()
    RemovalRequest.objects.filter(pk=due_late.pk).update(sla_due_at=now + timedelta(days=2))
    RemovalRequest.objects.filter(pk=due_soon.pk).update(sla_due_at=now + timedelta(hours=3))
    RemovalRequest.objects.filter(pk=waiting.pk).update(sla_due_at=None)
    client.force_login(moderator)
    response = client.get("/admin/requests_app/removalrequest/")
    order = [r.pk for r in response.context["cl"].result_list]
    assert order.index(due_soon.pk) < order.index(due_late.pk) < order.index(waiting.pk)
    # PostgreSQL sorts NULLs last anyway; SQLite (make run) needs it said.
    assert "NULLS LAST" in str(response.context["cl"].result_list.query)


def test_the_desk_says_whose_it_is_in_the_moderators_language(moderator):
    client = logged_in(moderator)
    page = client.get("/admin/").content.decode()
    assert "Removal Desk" in page and "The moderators&#x27; desk" in page
    assert "Django administration" not in page
    client.post("/i18n/setlang/", {"language": "fr", "next": "/admin/"})
    assert "Le bureau des modérateurs" in client.get("/admin/").content.decode()
