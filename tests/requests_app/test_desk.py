"""The moderators' desk: queue filters and counts, assignment, questions, SLA, bulk approval, races."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from registry.models import Removal
from requests_app import services
from requests_app.models import (
    EventKind,
    HashState,
    IdentityProof,
    Priority,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    TicketEvent,
    Work,
)
from requests_app.roles import MODERATOR_GROUP
from requests_app.tasks import sla_escalate
from requests_app.workflow import Status
from tests.conftest import photo_bytes

from .test_admin import CHANGELIST, change_url, logged_in, make_request, messages_of


def ids(response) -> list[int]:
    return sorted(r.pk for r in response.context["cl"].result_list)


def verify_domain(artist, domain="img.example"):
    IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target=domain, status=ProofStatus.VERIFIED
    )
    services.profile_recompute_level(profile=artist)


@pytest.fixture
def second_moderator(db):
    user = User.objects.create_user("mod2@example.com", "mod2@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return User.objects.get(pk=user.pk)


# --- who sees the desk -------------------------------------------------------------


def test_the_desk_permission_matrix(artist, other_artist, moderator, staff_without_group, superuser, dataset):
    ticket = make_request(artist, "chelsea.png")
    for user in (artist.user, other_artist.user):
        response = logged_in(user).get(change_url(ticket))
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert logged_in(staff_without_group).get(change_url(ticket)).status_code == 403
    assert (
        logged_in(staff_without_group)
        .post(reverse("admin:requests_app_removalrequest_assign", args=[ticket.pk]), {"assignee": "me"})
        .status_code
        == 403
    )
    for user in (moderator, superuser):
        assert logged_in(user).get(change_url(ticket)).status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_identity_page_is_for_artists(moderator, staff_without_group, superuser):
    assert logged_in(moderator).get(reverse("identity")).status_code == 403  # no artist profile
    assert logged_in(superuser).get(reverse("identity")).status_code == 403
    from django.test import Client

    assert Client().get(reverse("identity")).status_code == 302


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


def test_the_desk_page_shows_evidence_proofs_and_the_two_timelines(artist, moderator, dataset):
    verify_domain(artist)
    ticket = make_request(artist, "chelsea.png")
    services.request_note_add(request=ticket, moderator=moderator, message="internal words", public=False)
    services.request_note_add(request=ticket, moderator=moderator, message="public words", public=True)
    html = logged_in(moderator).get(change_url(ticket)).content.decode()
    assert "Ownership evidence" in html and "1 of 1 confirmed copies" in html and "Strong:" in html
    assert "verified domain" in html and "img.example" in html
    public = html.index("Conversation with the artist")
    internal = html.index("Internal (moderators only)")
    assert public < html.index("public words") < internal < html.index("internal words")
    assert 'name="canned"' in html and "Ask for originals" in html


# --- filters -----------------------------------------------------------------------


def test_the_queue_filters(artist, other_artist, moderator, second_moderator, dataset):
    verify_domain(artist)
    strong = make_request(artist, "chelsea.png")
    weak = make_request(other_artist, "coffee.png")
    clash = make_request(other_artist, "chelsea.png")  # conflicts with `strong`
    services.request_assign(request=weak, moderator=moderator, assignee=moderator)
    services.request_assign(request=clash, moderator=moderator, assignee=second_moderator)
    RemovalRequest.objects.filter(pk=weak.pk).update(sla_due_at=timezone.now() - timedelta(hours=1))
    RemovalRequest.objects.filter(pk=clash.pk).update(sla_due_at=timezone.now() + timedelta(hours=2))
    client = logged_in(moderator)
    assert ids(client.get(CHANGELIST, {"sla": "overdue"})) == [weak.pk]
    assert ids(client.get(CHANGELIST, {"sla": "due_soon"})) == [clash.pk]
    assert ids(client.get(CHANGELIST, {"assignee": "mine"})) == [weak.pk]
    assert ids(client.get(CHANGELIST, {"assignee": "unassigned"})) == [strong.pk]
    assert ids(client.get(CHANGELIST, {"assignee": str(second_moderator.pk)})) == [clash.pk]
    assert ids(client.get(CHANGELIST, {"evidence": "domain"})) == [strong.pk]
    assert ids(client.get(CHANGELIST, {"conflict": "open"})) == sorted([strong.pk, clash.pk])
    assert ids(client.get(CHANGELIST, {"conflict": "none"})) == [weak.pk]
    assert ids(client.get(CHANGELIST, {"artist__verification_level__exact": "2"})) == [strong.pk]
    assert ids(client.get(CHANGELIST, {"age": "1d"})) == sorted([strong.pk, weak.pk, clash.pk])
    assert ids(client.get(CHANGELIST, {"q": "grace@example.com"})) == sorted([weak.pk, clash.pk])


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


# --- assignment, questions -----------------------------------------------------------


def test_claim_and_assign(artist, moderator, second_moderator, staff_without_group, dataset):
    ticket = make_request(artist, "chelsea.png")
    client = logged_in(moderator)
    url = reverse("admin:requests_app_removalrequest_assign", args=[ticket.pk])
    client.post(url, {"assignee": "me"})
    ticket.refresh_from_db()
    assert ticket.assignee == moderator
    client.post(url, {"assignee": str(second_moderator.pk)})
    ticket.refresh_from_db()
    assert ticket.assignee == second_moderator
    response = client.post(url, {"assignee": str(staff_without_group.pk)})
    assert messages_of(response)[-1] == "Choose a moderator."
    with pytest.raises(services.ActionRefused, match="not a moderator"):
        services.request_assign(request=ticket, moderator=moderator, assignee=staff_without_group)
    events = TicketEvent.objects.filter(request=ticket, kind=EventKind.ASSIGNMENT).order_by("id")
    assert [(e.old_value, e.new_value) for e in events] == [
        ("", "mod@example.com"),
        ("mod@example.com", "mod2@example.com"),
    ]


def test_ask_for_more_information_with_a_canned_text(
    artist,
    moderator,
    dataset,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    ticket = make_request(artist, "chelsea.png")
    url = reverse("admin:requests_app_removalrequest_ask_info", args=[ticket.pk])
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(moderator).post(url, {"canned": "originals", "message": "The RAW, please."})
    ticket.refresh_from_db()
    assert ticket.status == Status.NEEDS_INFO and ticket.assignee == moderator and ticket.sla_due_at is None
    event = TicketEvent.objects.get(request=ticket, kind=EventKind.STATUS, new_value=Status.NEEDS_INFO)
    assert event.is_public and event.message.startswith("Please add the original files")
    assert event.message.endswith("The RAW, please.")
    assert mailoutbox[-1].subject == f"[{ticket.reference}] We need more information"
    # The artist answers by resubmitting: the request is back in the queue with a new clock.
    services.request_submit(request=ticket, actor=artist.user, signed_name="Ada Lovelace")
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED and ticket.sla_due_at is not None


def test_illegal_transitions_are_refused(artist, moderator, dataset):
    draft = make_request(artist, "coffee.png", submit=False)
    with pytest.raises(services.ActionRefused, match="draft cannot become needs information"):
        services.request_ask_info(request=draft, moderator=moderator, message="?")
    with pytest.raises(services.ActionRefused):
        services.request_approve(request=draft, moderator=moderator)
    ticket = make_request(artist, "chelsea.png")
    services.request_reject(request=ticket, moderator=moderator, reason="no")
    with pytest.raises(services.ActionRefused, match="rejected cannot become"):
        services.request_ask_info(request=ticket, moderator=moderator, message="?")
    with pytest.raises(services.ActionRefused, match="nothing to work on"):
        services.request_assign(request=ticket, moderator=moderator, assignee=moderator)
    draft.refresh_from_db()
    ticket.refresh_from_db()
    assert (draft.status, ticket.status) == (Status.DRAFT, Status.REJECTED)


# --- SLA -----------------------------------------------------------------------------


def test_sla_is_set_per_status_and_overdue_requests_are_escalated_once(
    artist,
    moderator,
    second_moderator,
    dataset,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    settings.SLA_HOURS = {"submitted": 48, "in_review": 120}
    ticket = make_request(artist, "chelsea.png")
    assert abs((ticket.sla_due_at - ticket.submitted_at) - timedelta(hours=48)) < timedelta(seconds=5)
    RemovalRequest.objects.filter(pk=ticket.pk).update(sla_due_at=timezone.now() - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_escalate() == 1
    assert sla_escalate() == 0  # once per due time
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH and ticket.escalated_at is not None
    assert TicketEvent.objects.filter(request=ticket, kind=EventKind.ESCALATION).count() == 1
    [mail] = [m for m in mailoutbox if "Overdue" in m.subject]
    assert sorted(mail.to) == ["mod2@example.com", "mod@example.com"]  # nobody claimed it: every moderator

    services.request_start_review(request=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.sla_due_at > timezone.now() + timedelta(hours=119)
    # Time passes: the new due time (set by the transition, after the last escalation) goes by.
    RemovalRequest.objects.filter(pk=ticket.pk).update(
        escalated_at=timezone.now() - timedelta(days=6), sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_escalate() == 1
    assert [m.to for m in mailoutbox if "Overdue" in m.subject] == [["mod@example.com"]]  # the assignee


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
        f"Approve 1 request; 2 will be skipped because {strong.reference} needs a look on its own: "
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


# --- two moderators at once ------------------------------------------------------------


def submitted_committed(artist, name: str) -> RemovalRequest:
    """make_request for a transactional test: on-commit hooks run here, so a Celery worker left
    running by another test may hash the work first; either way, wait until it is hashed."""
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        request=ticket, actor=artist.user, files=[SimpleUploadedFile(name, photo_bytes(name))]
    ).works
    services.work_hash_and_match(work_id=work.pk)
    deadline = time.monotonic() + 30
    while Work.objects.get(pk=work.pk).hash_state != HashState.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
    services.matches_decide(
        request=ticket, actor=artist.user, confirm=list(work.matches.values_list("pk", flat=True))
    )
    return services.request_submit(request=ticket, actor=artist.user, signed_name="Ada Lovelace")


@pytest.mark.django_db(transaction=True)
def test_two_moderators_deciding_at_once_one_wins(artist, moderator, second_moderator, dataset):
    assert connection.vendor == "postgresql"
    ticket = submitted_committed(artist, "chelsea.png")
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(name: str, call) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            call()
            outcomes[name] = "done"
        except services.ActionRefused as exc:
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=decide,
            args=(
                "approve",
                lambda: services.request_approve(request=ticket, moderator=moderator, reason="ok"),
            ),
        ),
        threading.Thread(
            target=decide,
            args=(
                "reject",
                lambda: services.request_reject(
                    request=ticket, moderator=second_moderator, reason="not hers"
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(str(type(v).__name__) for v in outcomes.values()) == ["ActionRefused", "str"]
    loser = next(v for v in outcomes.values() if isinstance(v, services.ActionRefused))
    assert "only submitted" in str(loser) and "requests can be" in str(loser)
    ticket.refresh_from_db()
    winner = "approve" if outcomes["approve"] == "done" else "reject"
    assert ticket.status == (Status.APPROVED if winner == "approve" else Status.REJECTED)
    decisions = TicketEvent.objects.filter(
        request=ticket, kind=EventKind.STATUS, new_value__in=[Status.APPROVED, Status.REJECTED]
    )
    assert decisions.count() == 1
    assert Removal.objects.filter(source_ref=ticket.reference).count() == (1 if winner == "approve" else 0)


def test_the_queue_puts_requests_with_a_clock_before_those_without(client, moderator, artist):
    """The nearest SLA first; requests waiting on the artist or decided (no clock) last, on every database."""
    from datetime import timedelta

    from django.utils import timezone

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
