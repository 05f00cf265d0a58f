"""The desk's decisions and their refusals: a rejection needs a reason, illegal transitions and a
second decision are refused with a message, canned questions to the artist."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.models import Removal
from requests_app import services
from requests_app.models import (
    EventKind,
    TicketEvent,
)
from requests_app.workflow import Status
from tests.helpers import (
    decide_url,
    logged_in,
    make_request,
    messages_of,
)


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
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED and ticket.sla_due_at is not None


def test_illegal_transitions_are_refused(artist, moderator, dataset):
    draft = make_request(artist, "coffee.png", submit=False)
    with pytest.raises(services.ActionRefused, match="draft cannot become needs information"):
        services.request_ask_info(ticket=draft, moderator=moderator, message="?")
    with pytest.raises(services.ActionRefused):
        services.request_approve(ticket=draft, moderator=moderator)
    ticket = make_request(artist, "chelsea.png")
    services.request_reject(ticket=ticket, moderator=moderator, reason="no")
    with pytest.raises(services.ActionRefused, match="rejected cannot become"):
        services.request_ask_info(ticket=ticket, moderator=moderator, message="?")
    with pytest.raises(services.ActionRefused, match="nothing to work on"):
        services.request_assign(ticket=ticket, moderator=moderator, assignee=moderator)
    draft.refresh_from_db()
    ticket.refresh_from_db()
    assert (draft.status, ticket.status) == (Status.DRAFT, Status.REJECTED)
