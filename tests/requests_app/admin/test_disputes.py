"""The dispute desk: the queue and its clock, a dispute's page (the removal beside the artist's
matched works, the exchange), notes and decisions posted from it, the private evidence file,
and who may see and decide."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import clock
from registry import services as registry_services
from registry.models import Dispute, DisputeState, Removal, RemovalState, WebhookEvent
from requests_app.admin.disputes import time_left
from requests_app.models import EventKind, TicketEvent
from tests.helpers import logged_in, messages_of

STATEMENT = "The item is a photograph we took ourselves; the artist made another one."
QUEUE = reverse("admin:registry_dispute_changelist")


def page_of(dispute):
    return reverse("admin:registry_dispute_change", args=[dispute.pk])


@pytest.fixture
def dispute(published, maintainer):
    return registry_services.dispute_file(
        removal=published,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement=STATEMENT,
        links=[],
    )


def test_the_queue_lists_disputes_with_their_clock_and_hides_unconfirmed_ones(moderator, dispute, published):
    unconfirmed = registry_services.dispute_file(
        removal=published, email="x@example.org", reason="own_work", statement=STATEMENT, links=[]
    )
    page = logged_in(moderator).get(QUEUE).content.decode()
    assert dispute.public_id in page and unconfirmed.public_id not in page
    assert "13d 23h left" in page or "14d 0h left" in page
    waiting = logged_in(moderator).get(QUEUE + "?state=waiting").content.decode()
    assert dispute.public_id not in waiting


def test_the_clock_reads_time_left_or_overdue(dispute):
    assert time_left(dispute, now=dispute.response_due_at - timedelta(hours=5)) == "5h left"
    assert time_left(dispute, now=dispute.response_due_at + timedelta(days=2, hours=1)) == "ran out 2d 1h ago"


def test_the_page_shows_the_removal_beside_the_artists_side_and_the_exchange(
    moderator, dispute, published, artist
):
    page = logged_in(moderator).get(page_of(dispute)).content.decode()
    assert STATEMENT in page and published.public_id in page
    assert published.source_ref in page and artist.display_name in page
    work = artist.works.get()
    assert reverse("work_image", args=[work.pk]) in page
    assert 'id="dispute-decide"' in page and "Opened" in page


def test_revoking_before_the_answer_or_deadline_is_refused_then_allowed(
    moderator, dispute, published, clock_back
):
    client = logged_in(moderator)
    decide = reverse("admin:registry_dispute_decide", args=[dispute.pk])
    response = client.post(decide, {"outcome": "revoke", "reason": "Not a copy."})
    assert any("has until" in m for m in messages_of(response))
    assert Removal.objects.get(pk=published.pk).state == RemovalState.DELIVERED
    clock.travel(timedelta(days=15))
    registry_services.disputes_sweep()
    response = client.post(
        decide, {"outcome": "revoke", "reason": "The maintainer's item is another photograph."}
    )
    assert any("revoked" in m for m in messages_of(response))
    assert Dispute.objects.get().state == DisputeState.REVOKED
    assert Removal.objects.get(pk=published.pk).state == RemovalState.REVOKED
    assert WebhookEvent.objects.filter(event_type="removal.revoked").count() == 1
    kinds = [e.params.get("step") for e in TicketEvent.objects.filter(kind=EventKind.DISPUTE).order_by("pk")]
    assert kinds == ["opened", "due", "decided"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"outcome": "maybe", "reason": "x"}, "uphold or revoke"),
        ({"outcome": "uphold", "reason": ""}, "empty"),
        ({"outcome": "uphold", "reason": "NUL \x00"}, "Nothing was saved"),
        ({"outcome": "uphold", "reason": "<i>copy</i>"}, "plain text"),
    ],
)
def test_bad_decisions_are_messages_and_change_nothing(moderator, dispute, data, expected):
    response = logged_in(moderator).post(reverse("admin:registry_dispute_decide", args=[dispute.pk]), data)
    assert response.status_code == 302
    assert any(expected in m for m in messages_of(response)), messages_of(response)
    assert Dispute.objects.get().state == DisputeState.OPEN


def test_a_note_stays_on_the_desk(moderator, dispute, artist):
    response = logged_in(moderator).post(
        reverse("admin:registry_dispute_note", args=[dispute.pk]), {"note": "Ask for RAW."}
    )
    assert messages_of(response) == ["Note added."]
    assert dispute.messages.filter(kind="note", body="Ask for RAW.").exists()
    assert not TicketEvent.objects.filter(kind=EventKind.DISPUTE, message__contains="RAW").exists()


def test_only_moderators_see_and_decide(dispute, artist, staff_without_group):
    assert logged_in(artist.user).get(page_of(dispute)).status_code == 302  # to the admin's login
    staff = logged_in(staff_without_group)
    assert staff.get(page_of(dispute)).status_code == 403
    response = staff.post(
        reverse("admin:registry_dispute_decide", args=[dispute.pk]), {"outcome": "uphold", "reason": "x"}
    )
    assert response.status_code == 403 and Dispute.objects.get().state == DisputeState.OPEN


def test_the_evidence_file_is_a_download_for_moderators_only(
    moderator, published, tmp_path, settings, staff_without_group
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    dispute = registry_services.dispute_file(
        removal=published,
        email="d@example.org",
        reason="own_work",
        statement=STATEMENT,
        links=[],
        evidence=SimpleUploadedFile("id card.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
    )
    registry_services.dispute_confirm(token=registry_services.dispute_confirm_token(dispute))
    url = reverse("admin:registry_dispute_evidence", args=[dispute.pk])
    response = logged_in(moderator).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert (
        response["Content-Disposition"].startswith("attachment")
        and response["X-Content-Type-Options"] == "nosniff"
    )
    assert logged_in(staff_without_group).get(url).status_code == 403


def test_an_id_that_is_not_one_is_a_404(moderator, dispute):
    assert logged_in(moderator).get(
        "/admin/registry/dispute/99999999999999999999999/change/"
    ).status_code in (302, 404)
    assert logged_in(moderator).post("/admin/registry/dispute/abc/decide/", {}).status_code == 404
