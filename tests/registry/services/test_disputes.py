"""registry.services.disputes: filing (by a maintainer, or publicly with a confirmed address), the
answer, the clock and its sweep, the decision through the revocation writer; bad input refused
with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from core import clock
from registry import services
from registry.models import (
    Dispute,
    DisputeMessage,
    DisputeState,
    Removal,
    RemovalState,
    WebhookEvent,
)
from tests.helpers import published_removals, record_removals

STATEMENT = "This photograph is mine: I took it in 2019, the original file is linked."


def file_by(maintainer, removal, **overrides):
    args = {
        "removal": removal,
        "maintainer": maintainer.maintainer,
        "reason": "not_a_copy",
        "statement": STATEMENT,
        "links": ["https://proof.example/original.jpg"],
    }
    return services.dispute_file(**{**args, **overrides})


def file_publicly(removal, email="someone@example.org", **overrides):
    args = {
        "removal": removal,
        "email": email,
        "reason": "own_work",
        "statement": STATEMENT,
        "links": [],
        "language": "fr",
    }
    return services.dispute_file(**{**args, **overrides})


@pytest.fixture
def removals(dataset):
    return published_removals(dataset, 3)


def test_it_opens_a_maintainers_dispute_at_once_with_the_counter_notice_clock(
    maintainer, removals, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = file_by(maintainer, removals[0])
    assert dispute.state == DisputeState.OPEN and dispute.public_id.startswith("dp_")
    assert dispute.response_due_at - dispute.opened_at == timedelta(days=settings.DISPUTE_RESPONSE_DAYS)
    kinds = list(dispute.messages.values_list("kind", flat=True))
    assert kinds == ["filed", "opened"]
    [message] = mail.outbox
    assert message.to == [maintainer.maintainer.email] and dispute.public_id in message.subject


def test_a_public_dispute_waits_for_its_address_and_opens_by_the_signed_link(removals):
    dispute = file_publicly(removals[0], email="Someone@Example.org")
    assert (dispute.state, dispute.email) == (DisputeState.UNCONFIRMED, "someone@example.org")
    token = services.dispute_confirm_token(dispute)
    opened = services.dispute_confirm(token=token)
    assert opened.state == DisputeState.OPEN and opened.response_due_at is not None
    # The link again changes nothing.
    assert services.dispute_confirm(token=token).opened_at == opened.opened_at


def test_an_altered_or_old_link_is_refused(removals, clock_back):
    dispute = file_publicly(removals[0])
    token = services.dispute_confirm_token(dispute)
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_confirm(token=token[:-2] + "xx")
    assert refused.value.code == "link_invalid"
    clock.travel(timedelta(hours=49))
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_confirm(token=token)
    assert refused.value.code == "link_expired"
    assert Dispute.objects.get().state == DisputeState.UNCONFIRMED


def test_a_removal_is_found_by_its_id_or_its_address(removals):
    first = removals[0]
    assert services.disputable_removal(ref=first.public_id) == first
    assert services.disputable_removal(ref=f"  {first.url} ") == first


@pytest.mark.parametrize(
    ("ref", "code"),
    [
        ("rm_doesnotexist", "unknown_removal"),
        ("https://i.example/nowhere.jpg", "unknown_removal"),
        ("", "unknown_removal"),
        ("javascript:alert(1)", "unknown_removal"),
        ("x" * 5000, "unknown_removal"),
        ("rm_\x00", "unknown_removal"),
    ],
)
def test_it_refuses_a_removal_that_does_not_exist(removals, ref, code):
    with pytest.raises(services.DisputeRefused) as refused:
        services.disputable_removal(ref=ref)
    assert refused.value.code == code and refused.value.field == "removal"


def test_it_refuses_a_pending_or_revoked_removal(dataset, maintainer):
    [pending] = record_removals(dataset, 1, ref="RR-2026-000007")
    with pytest.raises(services.DisputeRefused) as refused:
        services.disputable_removal(ref=pending.public_id)
    assert (refused.value.code, refused.value.status) == ("removal_not_disputable", 409)
    assert "not published yet" in refused.value.message
    [live] = published_removals(dataset, 1, ref="RR-2026-000008")
    services.removals_revoke(removals=services.RemovalQuery.of_ids([live.pk]), why="The artist lifted it.")
    with pytest.raises(services.DisputeRefused) as refused:
        services.disputable_removal(ref=live.public_id)
    assert "revoked already" in refused.value.message
    # Filing directly (a removal revoked between the look-up and the filing) is refused the same way.
    with pytest.raises(services.DisputeRefused):
        file_by(maintainer, Removal.objects.get(pk=live.pk))
    assert not Dispute.objects.exists()


def test_an_address_removed_from_two_data_sets_asks_for_the_id(maintainer, dataset):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    [a] = published_removals(dataset, 1, ref="RR-2026-000003")
    [b] = published_removals(other, 1, ref="RR-2026-000003")
    assert a.url == b.url
    with pytest.raises(services.DisputeRefused) as refused:
        services.disputable_removal(ref=a.url)
    assert refused.value.code == "ambiguous_removal"
    assert set(refused.value.details["removals"]) == {a.public_id, b.public_id}
    assert "RR-2026" not in refused.value.message  # the request's reference names its artist's ticket
    assert services.disputable_removal(ref=a.url, dataset=other) == b


def test_a_maintainer_cannot_dispute_another_organisations_removal(other_maintainer, removals):
    with pytest.raises(services.DisputeRefused) as refused:
        file_by(other_maintainer, removals[0])
    assert refused.value.code == "unknown_removal" and not Dispute.objects.exists()


def test_a_second_dispute_by_the_same_party_is_refused(maintainer, other_maintainer, removals):
    first = file_by(maintainer, removals[0])
    with pytest.raises(services.DisputeRefused) as refused:
        file_by(maintainer, removals[0])
    assert (refused.value.code, refused.value.status) == ("dispute_exists", 409)
    assert refused.value.details == {"dispute": first.public_id}
    file_publicly(removals[0])
    with pytest.raises(services.DisputeRefused):
        file_publicly(removals[0], email="SOMEONE@example.org")
    assert Dispute.objects.count() == 2


def test_an_address_may_hold_only_so_many_open_disputes(dataset, settings):
    settings.DISPUTE_OPEN_PER_EMAIL = 2
    removals = published_removals(dataset, 3, ref="RR-2026-000004")
    file_publicly(removals[0])
    file_publicly(removals[1])
    with pytest.raises(services.DisputeRefused) as refused:
        file_publicly(removals[2])
    assert (refused.value.code, refused.value.status) == ("too_many_open", 429)


@pytest.mark.parametrize(
    ("statement", "links", "code"),
    [
        ("too short", [], "invalid_statement"),
        ("This holds a NUL \x00 character, which text may not.", [], "invalid_statement"),
        ("This holds a lone surrogate \ud800 which is not Unicode.", [], "invalid_statement"),
        ("x" * 5001, [], "invalid_statement"),
        ("<script>alert(1)</script> this is my own photograph", [], "invalid_statement"),
        ("See <a href='https://x.example'>my page</a> for the original", [], "invalid_statement"),
        ("Mine &amp; nobody else's, taken in 2019 in Lyon.", [], "invalid_statement"),
        ("A bell \x07 rings in this statement, long enough.", [], "invalid_statement"),
        (STATEMENT, ["javascript:alert(1)"], "invalid_links"),
        (STATEMENT, ["ftp://files.example/a.jpg"], "invalid_links"),
        (STATEMENT, ["https://a.example/ b"], "invalid_links"),
        (STATEMENT, [f"https://a.example/{i}" for i in range(11)], "invalid_links"),
        (STATEMENT, ["https://user:pw@a.example/"], "invalid_links"),
    ],
)
def test_bad_evidence_is_refused_with_nothing_written(maintainer, removals, statement, links, code):
    with pytest.raises(services.DisputeRefused) as refused:
        file_by(maintainer, removals[0], statement=statement, links=links)
    assert refused.value.code == code and refused.value.message
    assert not Dispute.objects.exists() and not DisputeMessage.objects.exists()


def test_plain_prose_with_a_less_than_sign_is_fine(maintainer, removals):
    dispute = file_by(
        maintainer, removals[0], statement="Its size is < 200 px & it is my own drawing of 2018."
    )
    assert dispute.state == DisputeState.OPEN


def test_an_unknown_reason_is_refused(maintainer, removals):
    with pytest.raises(services.DisputeRefused) as refused:
        file_by(maintainer, removals[0], reason="because")
    assert refused.value.code == "invalid_reason"


def test_the_answer_is_taken_until_the_deadline(maintainer, removals, clock_back):
    dispute = file_by(maintainer, removals[0])
    message = services.dispute_answer(
        dispute=dispute, body="It is mine: here is the RAW file.", links=[], actor=None
    )
    assert message.author == "requester" and Dispute.objects.get().state == DisputeState.ANSWERED
    other = file_by(maintainer, removals[1])
    clock.travel(timedelta(days=15))
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_answer(dispute=other, body="Too late but here it is anyway.", links=[], actor=None)
    assert refused.value.code == "answer_too_late"
    assert Dispute.objects.get(pk=other.pk).state == DisputeState.OPEN


def test_the_sweep_flags_disputes_whose_clock_ran_out_and_expires_unconfirmed_ones(
    maintainer, removals, clock_back
):
    waiting = file_by(maintainer, removals[0])
    answered = file_by(maintainer, removals[1])
    services.dispute_answer(
        dispute=answered, body="My answer, with the original attached.", links=[], actor=None
    )
    unconfirmed = file_publicly(removals[2])
    assert services.disputes_sweep() == {"due": 0, "expired": 0}
    clock.travel(timedelta(days=15))
    assert services.disputes_sweep() == {"due": 1, "expired": 1}
    assert services.disputes_sweep() == {"due": 0, "expired": 0}
    states = dict(Dispute.objects.values_list("pk", "state"))
    assert states == {waiting.pk: "due", answered.pk: "answered", unconfirmed.pk: "expired"}
    assert Dispute.objects.get(pk=waiting.pk).messages.filter(kind="due").count() == 1
    # An expired dispute does not count against a new one by the same address.
    assert file_publicly(removals[2]).state == DisputeState.UNCONFIRMED


def test_revoking_waits_for_the_answer_or_the_deadline(maintainer, moderator, removals, clock_back):
    dispute = file_by(maintainer, removals[0])
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_decide(dispute=dispute, moderator=moderator, outcome="revoke", reason="Not theirs.")
    assert refused.value.code == "answer_pending"
    assert Removal.objects.get(pk=removals[0].pk).state == RemovalState.DELIVERED
    clock.travel(timedelta(days=15))
    services.disputes_sweep()
    decided = services.dispute_decide(
        dispute=dispute,
        moderator=moderator,
        outcome="revoke",
        reason="The maintainer showed the item differs.",
    )
    assert decided.state == DisputeState.REVOKED and decided.outcome == "revoked"
    removal = Removal.objects.get(pk=removals[0].pk)
    assert removal.state == RemovalState.REVOKED
    assert removal.revoked_reason == f"Dispute {dispute.public_id}: The maintainer showed the item differs."
    event = WebhookEvent.objects.get(event_type="removal.revoked")
    assert [r["id"] for r in event.payload["data"]["removals"]] == [removal.public_id]


def test_upholding_keeps_the_removal_and_may_be_done_at_once(maintainer, moderator, removals):
    dispute = file_by(maintainer, removals[0])
    decided = services.dispute_decide(
        dispute=dispute, moderator=moderator, outcome="uphold", reason="It is a copy."
    )
    assert decided.state == DisputeState.UPHELD
    assert Removal.objects.get(pk=removals[0].pk).state == RemovalState.DELIVERED
    assert not WebhookEvent.objects.filter(event_type="removal.revoked").exists()
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_decide(
            dispute=dispute, moderator=moderator, outcome="revoke", reason="Changed my mind."
        )
    assert refused.value.code == "dispute_closed"


def test_a_decision_raced_with_a_revocation_is_clear_and_revokes_nothing_twice(
    maintainer, moderator, removals
):
    dispute = file_by(maintainer, removals[0])
    services.dispute_answer(dispute=dispute, body="I lift it myself, it was a mistake.", links=[], actor=None)
    services.removals_revoke(
        removals=services.RemovalQuery.of_ids([removals[0].pk]), why="The artist lifted it."
    )
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_decide(
            dispute=dispute, moderator=moderator, outcome="uphold", reason="It is a copy."
        )
    assert (refused.value.code, refused.value.status) == ("removal_revoked", 409)
    assert Dispute.objects.get().state == DisputeState.ANSWERED
    services.dispute_decide(dispute=dispute, moderator=moderator, outcome="revoke", reason="Lifted already.")
    assert WebhookEvent.objects.filter(event_type="removal.revoked").count() == 1
    assert Removal.objects.get(pk=removals[0].pk).revoked_reason == "The artist lifted it."


def test_revoking_closes_the_other_open_disputes_of_the_removal(maintainer, moderator, removals):
    first = file_by(maintainer, removals[0])
    public = file_publicly(removals[0])
    services.dispute_confirm(token=services.dispute_confirm_token(public))
    services.dispute_answer(dispute=first, body="Here is my answer with the original.", links=[], actor=None)
    services.dispute_decide(
        dispute=first, moderator=moderator, outcome="revoke", reason="Not the artist's work."
    )
    assert set(Dispute.objects.values_list("state", flat=True)) == {"revoked"}


@pytest.mark.parametrize(
    ("outcome", "reason", "code"),
    [
        ("maybe", "Some reason.", "invalid_outcome"),
        ("uphold", "", "invalid_reason"),
        ("uphold", "x" * 401, "invalid_reason"),
        ("uphold", "<b>copy</b>", "invalid_reason"),
        ("uphold", "NUL \x00", "invalid_reason"),
    ],
)
def test_a_bad_decision_is_refused_with_nothing_written(
    maintainer, moderator, removals, outcome, reason, code
):
    dispute = file_by(maintainer, removals[0])
    with pytest.raises(services.DisputeRefused) as refused:
        services.dispute_decide(dispute=dispute, moderator=moderator, outcome=outcome, reason=reason)
    assert refused.value.code == code
    assert Dispute.objects.get().state == DisputeState.OPEN
    assert not DisputeMessage.objects.filter(kind="decision").exists()


def test_an_expired_disputes_document_is_deleted(
    removals, tmp_path, settings, clock_back, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    dispute = file_publicly(removals[0], evidence=SimpleUploadedFile("id.pdf", b"%PDF-1.4 an identity card"))
    stored = tmp_path / dispute.evidence.name
    assert stored.exists()
    clock.travel(timedelta(hours=49))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.disputes_sweep()["expired"] == 1
    assert not stored.exists() and not Dispute.objects.get().evidence
