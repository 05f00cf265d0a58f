"""A request's desk page in the admin: who may see it and decide, what it shows (evidence, proofs,
the two timelines), decisions and notes posted from it, assignment, and two moderators racing."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from registry.models import Removal
from requests_app import services
from requests_app.models import (
    PUBLIC_EVENT_KINDS,
    EventKind,
    HashState,
    MatchState,
    RemovalRequest,
    TicketEvent,
    Work,
)
from requests_app.workflow import Status
from tests.helpers import (
    CHANGELIST,
    change_url,
    decide_url,
    logged_in,
    make_request,
    messages_of,
    note_url,
    photo_bytes,
    verify_domain,
)

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


def test_the_desk_page_shows_evidence_proofs_and_the_two_timelines(artist, moderator, dataset):
    verify_domain(artist)
    ticket = make_request(artist, "chelsea.png")
    services.request_note_add(ticket=ticket, moderator=moderator, message="internal words", public=False)
    services.request_note_add(ticket=ticket, moderator=moderator, message="public words", public=True)
    html = logged_in(moderator).get(change_url(ticket)).content.decode()
    assert "Ownership evidence" in html and "1 of 1 confirmed copies" in html and "Strong:" in html
    assert "verified domain" in html and "img.example" in html
    public = html.index("Conversation with the artist")
    internal = html.index("Internal (moderators only)")
    assert public < html.index("public words") < internal < html.index("internal words")
    assert 'name="canned"' in html and "Ask for originals" in html


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
        services.request_assign(ticket=ticket, moderator=moderator, assignee=staff_without_group)
    events = TicketEvent.objects.filter(request=ticket, kind=EventKind.ASSIGNMENT).order_by("id")
    assert [(e.old_value, e.new_value) for e in events] == [
        ("", "mod@example.com"),
        ("mod@example.com", "mod2@example.com"),
    ]


# --- two moderators at once ------------------------------------------------------------


def submitted_committed(artist, name: str) -> RemovalRequest:
    """make_request for a transactional test: on-commit hooks run here, so a Celery worker left
    running by another test may hash the work first; either way, wait until it is hashed."""
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile(name, photo_bytes(name))]
    ).works
    services.work_hash_and_match(work_id=work.pk)
    deadline = time.monotonic() + 30
    while Work.objects.get(pk=work.pk).hash_state != HashState.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
    services.matches_decide(
        ticket=ticket, actor=artist.user, confirm=list(work.matches.values_list("pk", flat=True))
    )
    return services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")


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
                lambda: services.request_approve(ticket=ticket, moderator=moderator, reason="ok"),
            ),
        ),
        threading.Thread(
            target=decide,
            args=(
                "reject",
                lambda: services.request_reject(ticket=ticket, moderator=second_moderator, reason="not hers"),
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


def test_it_shows_the_desk_to_a_moderator(moderator, submitted, artist):
    services.request_note_add(ticket=submitted, moderator=moderator, message="looks like hers", public=False)
    services.request_note_add(ticket=submitted, moderator=moderator, message="thanks, looking", public=True)
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
            ticket=submitted, moderator=moderator, message="Please add the original RAW file.", public=True
        )
    assert event.kind == EventKind.PUBLIC_REPLY and event.is_public
    [mail] = mailoutbox
    assert mail.to == ["ada@example.com"] and submitted.reference in mail.subject
    assert "Please add the original RAW file." in mail.body


def test_it_refuses_an_empty_note(moderator, submitted):
    with pytest.raises(services.ActionRefused):
        services.request_note_add(ticket=submitted, moderator=moderator, message=" \n ", public=False)
    response = logged_in(moderator).post(note_url(submitted), {"message": "", "visibility": "public"})
    assert messages_of(response) == ["Write something first: the note is empty."]
    assert not TicketEvent.objects.filter(kind__in=[EventKind.INTERNAL_NOTE, EventKind.PUBLIC_REPLY]).exists()


def test_a_note_changes_no_status(moderator, submitted):
    services.request_note_add(ticket=submitted, moderator=moderator, message="hm", public=False)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_a_domain_request_shows_its_lines_proofs_and_counts_per_data_set(artist, moderator, maintainer):
    from registry import services as registry_services

    verify_domain(artist, "artist.example")
    first = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="Alpha")
    second = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="b", name="Beta")
    registry_services.items_upsert(
        dataset=first,
        rows=[{"external_id": str(n), "url": f"https://img.artist.example/{n}.jpg"} for n in range(3)],
    )
    registry_services.items_upsert(
        dataset=second,
        rows=[
            {"external_id": "x", "url": "https://artist.example/art/x.jpg"},
            {"external_id": "y", "url": "https://notartist.example/art/y.jpg"},
        ],
    )
    ticket = services.domain_request_create(
        artist=artist, basis="copyright", lines=["*.artist.example", "artist.example/art/"]
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    page = logged_in(moderator).get(change_url(ticket))
    rows = [(r.line, r.proof.method, r.datasets) for r in page.context["desk"]["scopes"]]
    assert rows == [
        ("*.artist.example", "dns_txt", [("Alpha (LAION-ish)", 3), ("Beta (LAION-ish)", 1)]),
        ("artist.example/art/", "dns_txt", [("Beta (LAION-ish)", 1)]),
    ]
    text = page.content.decode()
    assert "Domain scope" in text and "<code>*.artist.example</code>" in text
    assert Removal.objects.count() == 0  # counting writes nothing
    response = logged_in(moderator).post(decide_url(ticket), {"decision": "approve"})
    assert response.status_code == 302
    assert Removal.objects.filter(source_ref=ticket.reference).count() == 4


# --- a big request: summary, sample, approval ----------------------------------------


def _big(artist, maintainer, works=80):
    from registry import services as registry_services
    from tests.helpers import big_request

    org = maintainer.maintainer
    sets = [
        registry_services.dataset_create(maintainer=org, slug=s, name=s.title()) for s in ("big-a", "big-b")
    ]
    return big_request(artist, sets, works=works, per_work=3)


def test_a_big_request_is_shown_as_a_summary_and_a_sample(artist, moderator, maintainer, settings):
    settings.DESK_BIG_REQUEST_WORKS = 50
    ticket = _big(artist, maintainer)
    verify_domain(artist, "img.example")
    client = logged_in(moderator)
    page = client.get(change_url(ticket)).content.decode()
    assert "Big request: summary" in page and "No sample drawn yet." in page
    assert "240 of 240</strong> confirmed copies (100%)" in page
    assert page.count('class="work"') == 0  # no work is listed before a sample is drawn

    response = client.post(
        reverse("admin:requests_app_removalrequest_sample", args=[ticket.pk]), {"size": "20", "seed": "42"}
    )
    assert response.status_code == 302
    drawn = TicketEvent.objects.get(request=ticket, kind=EventKind.SAMPLE)
    assert drawn.actor == moderator and drawn.params["seed"] == 42 and len(drawn.params["works"]) == 20
    page = client.get(change_url(ticket)).content.decode()
    assert page.count('class="work"') == 20 and "seed 42" in page
    for work in Work.objects.filter(pk__in=drawn.params["works"]):
        assert work.original_name in page
    # A typed size wins over the radio; a size that is no number is refused with words.
    client.post(
        reverse("admin:requests_app_removalrequest_sample", args=[ticket.pk]),
        {"size": "20", "custom_size": "7"},
    )
    assert TicketEvent.objects.filter(request=ticket, kind=EventKind.SAMPLE).latest("pk").params["size"] == 7
    refused = client.post(
        reverse("admin:requests_app_removalrequest_sample", args=[ticket.pk]),
        {"custom_size": "lots"},
        follow=True,
    )
    assert "whole numbers" in " ".join(messages_of(refused))

    ids = drawn.params["works"]
    client.post(
        reverse("admin:requests_app_removalrequest_sample_review", args=[ticket.pk, drawn.pk]),
        {f"mark-{ids[0]}": "checked", f"mark-{ids[1]}": "doubtful", f"mark-{ids[2]}": ""},
    )
    review = TicketEvent.objects.get(request=ticket, params__text="sample_reviewed")
    assert review.params["checked"] == [ids[0]] and review.params["doubtful"] == [ids[1]]

    response = client.post(decide_url(ticket), {"decision": "approve", "reason": ""}, follow=True)
    assert any("Approved" in m for m in messages_of(response))
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    assert Removal.objects.filter(source_ref=ticket.reference, item__isnull=False).count() == 240
    page = response.content.decode()
    assert "Removals in the registry, per data set" in page and "rm_" not in page


def test_a_small_request_keeps_the_per_work_desk(artist, moderator, dataset):
    ticket = make_request(artist, "chelsea.png")
    page = logged_in(moderator).get(change_url(ticket)).content.decode()
    assert "Big request: summary" not in page and "Works (1) beside their matched data set items" in page


def test_the_desk_says_which_works_a_conflict_holds(artist, other_artist, moderator, maintainer, settings):
    from registry import services as registry_services
    from tests.helpers import big_request

    settings.DESK_BIG_REQUEST_WORKS = 50
    ticket = _big(artist, maintainer, works=60)
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="c", name="C")
    rival = big_request(other_artist, [dataset], works=1, per_work=1, submit=False)
    Work.objects.filter(request=rival).update(sha256=ticket.works.order_by("pk").first().sha256)
    services.request_submit(ticket=rival, actor=other_artist.user, signed_name=other_artist.display_name)
    client = logged_in(moderator)
    page = client.get(change_url(ticket)).content.decode()
    assert "Held: 1 work in an unresolved conflict. Approving approves every other work" in page
    client.post(decide_url(ticket), {"decision": "approve", "reason": ""})
    page = client.get(change_url(ticket)).content.decode()
    assert "Approved with 1 work held by an unresolved conflict" in page
    assert "unresolved, held" in page


def test_it_resolves_a_conflict_from_the_desk_or_says_why_not(artist, other_artist, moderator, maintainer):
    from registry import services as registry_services
    from requests_app.models import ConflictResolution, RequestConflict
    from tests.helpers import big_request

    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="c", name="C")
    ticket = big_request(artist, [dataset], works=1, per_work=1)
    rival = big_request(other_artist, [dataset], works=1, per_work=1, submit=False, seed=2)
    Work.objects.filter(request=rival).update(sha256=ticket.works.get().sha256)
    services.request_submit(ticket=rival, actor=other_artist.user, signed_name=other_artist.display_name)
    conflict = RequestConflict.objects.get()
    client = logged_in(moderator)
    url = reverse("admin:requests_app_removalrequest_conflict_resolve", args=[ticket.pk, conflict.pk])

    refused = client.post(url, {"resolution": "first", "note": "  "})
    assert refused.status_code == 302 and refused["Location"] == change_url(ticket) + "#evidence"
    assert messages_of(refused) == [f"{ticket}: Write down why: the next moderator will read it."]
    assert RequestConflict.objects.get().is_open
    client.get(refused["Location"])  # the page shows the message once

    resolved = client.post(url, {"resolution": "both", "note": "Two licensees of one stock photo."})
    assert resolved.status_code == 302 and resolved["Location"] == change_url(ticket) + "#evidence"
    assert messages_of(resolved) == ["Conflict resolved; both requests' timelines record it."]
    conflict.refresh_from_db()
    assert conflict.resolution == ConflictResolution.BOTH and conflict.resolved_by == moderator
