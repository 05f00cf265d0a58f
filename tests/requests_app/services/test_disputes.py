"""requests_app.services.disputes: each step of a dispute about an artist's removal on the
request's timeline and in the artist's email (in their language), the moderators told when the
clock runs out, and the artist's answer only on their own request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from core import clock
from registry import services as registry_services
from registry.models import DisputeState
from requests_app import services
from requests_app.models import EventKind, TicketEvent
from requests_app.timeline import event_text

STATEMENT = "The item is another photograph of the same bridge, shot by our own staff."


@pytest.fixture
def dispute(published, maintainer):
    return registry_services.dispute_file(
        removal=published,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement=STATEMENT,
        links=[],
    )


def test_opening_writes_a_public_timeline_row_and_mails_the_artist_in_their_language(
    published, maintainer, artist, django_capture_on_commit_callbacks
):
    artist.language = "fr"
    artist.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        dispute = registry_services.dispute_file(
            removal=published,
            maintainer=maintainer.maintainer,
            reason="not_a_copy",
            statement=STATEMENT,
            links=[],
        )
    event = TicketEvent.objects.get(kind=EventKind.DISPUTE)
    assert event.params["step"] == "opened" and event.params["dispute"] == dispute.public_id
    assert "answers are taken until" in event.message  # stored in English
    [to_artist] = [m for m in mail.outbox if m.to == [artist.user.email]]
    assert f"Quelqu\u2019un conteste le retrait {published.public_id}" in to_artist.subject
    assert "L\u2019élément n\u2019est pas une copie" in to_artist.body
    assert (
        maintainer.maintainer.email not in to_artist.body and maintainer.maintainer.name not in to_artist.body
    )


def test_the_artist_answers_only_their_own_request(dispute, published, artist, other_artist, submitted):
    with pytest.raises(services.ActionRefused):
        services.dispute_artist_answer(
            ticket=submitted,
            dispute_id=dispute.public_id,
            body="Not my request at all, really.",
            links=[],
            actor=other_artist.user,
        )
    with pytest.raises(services.ActionRefused) as refused:
        services.dispute_artist_answer(
            ticket=submitted,
            dispute_id="dp_unknown",
            body="An answer long enough to pass.",
            links=[],
            actor=artist.user,
        )
    assert "no such dispute" in str(refused.value)
    with pytest.raises(services.ActionRefused) as refused:
        services.dispute_artist_answer(
            ticket=submitted,
            dispute_id=dispute.public_id,
            body="<b>x</b> and more words here",
            links=[],
            actor=artist.user,
        )
    assert refused.value.field == "body"
    services.dispute_artist_answer(
        ticket=submitted,
        dispute_id=dispute.public_id,
        body="It is mine: the RAW is dated 2019.",
        links=[],
        actor=artist.user,
    )
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.ANSWERED
    answered = TicketEvent.objects.get(kind=EventKind.DISPUTE, params__step="answered")
    assert answered.actor == artist.user


def test_when_the_clock_runs_out_the_moderators_are_told(
    dispute, moderator, clock_back, django_capture_on_commit_callbacks
):
    clock.travel(timedelta(days=15))
    with django_capture_on_commit_callbacks(execute=True):
        assert registry_services.disputes_sweep()["due"] == 1
    [notice] = [m for m in mail.outbox if moderator.email in m.to]
    assert dispute.public_id in notice.subject and "/admin/registry/dispute/" in notice.body


def test_the_decision_reads_in_the_timeline_with_the_moderators_reason(dispute, moderator):
    registry_services.dispute_decide(
        dispute=dispute, moderator=moderator, outcome="uphold", reason="It is a copy."
    )
    event = TicketEvent.objects.get(kind=EventKind.DISPUTE, params__step="decided")
    assert (
        event_text(event)
        == f"Dispute {dispute.public_id} decided: removal {dispute.removal.public_id} stays. It is a copy."
    )
    assert event.actor == moderator


def test_a_partners_or_unknown_source_writes_no_timeline_row(dataset, maintainer):
    from tests.helpers import published_removals

    [removal] = published_removals(dataset, 1, ref="pf_notaticket")
    registry_services.dispute_file(
        removal=removal, maintainer=maintainer.maintainer, reason="not_a_copy", statement=STATEMENT, links=[]
    )
    assert not TicketEvent.objects.filter(kind=EventKind.DISPUTE).exists()
