"""requests_app.services.approval: approving a big request streams its removals (events of at most
500, nothing lost, nothing twice), and conflicts hold only the works they touch until resolved."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import translation

from registry import services as registry_services
from registry.models import Removal, WebhookDelivery, WebhookEvent
from requests_app import selectors, services
from requests_app import timeline as timeline_text
from requests_app.models import (
    EventKind,
    Match,
    MatchState,
    RequestConflict,
    TicketEvent,
    Work,
    WorkDecision,
)
from requests_app.services import approval
from requests_app.workflow import Status
from tests.helpers import big_request, make_artist


@pytest.fixture
def three_sets(maintainer):
    org = maintainer.maintainer
    sets = [registry_services.dataset_create(maintainer=org, slug=s, name=s.title()) for s in ("a", "b", "c")]
    registry_services.webhook_endpoint_create(
        maintainer=org, url="https://hooks.example/r", event_types=["removal.approved"]
    )
    return sets


def _event_sizes(reference):
    through = WebhookEvent.removals.through
    return dict(
        through.objects.filter(removal__source_ref=reference)
        .values_list("webhookevent_id")
        .annotate(n=Count("id"))
        .order_by()
    )


def test_a_600_work_request_with_6000_matches_is_approved_in_events_of_at_most_500(
    artist, moderator, three_sets
):
    a, b, c = three_sets
    # Ten copies per work in a and b only (5 + 5): every work gets a bare hash removal in c.
    ticket = big_request(artist, [a, b], works=600, per_work=10)
    assert Match.objects.filter(work__request=ticket, state=MatchState.CONFIRMED).count() == 6000
    services.request_approve(ticket=ticket, moderator=moderator)

    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    removals = Removal.objects.filter(source_ref=ticket.reference)
    confirmed_items = set(Match.objects.filter(work__request=ticket).values_list("item_id", flat=True))
    assert set(removals.filter(item__isnull=False).values_list("item_id", flat=True)) == confirmed_items
    assert removals.filter(item__isnull=False).count() == 6000  # one per item, none twice
    assert removals.filter(item__isnull=True, dataset=c).count() == 600  # the bare hashes, in c only
    assert removals.filter(item__isnull=True).exclude(dataset=c).count() == 0
    sizes = _event_sizes(ticket.reference)
    assert max(sizes.values()) == 500 and sum(sizes.values()) == removals.count() == 6600
    # Each event's payload lists exactly its linked removals, all of one data set.
    for event in WebhookEvent.objects.filter(pk__in=list(sizes)):
        listed = {r["id"] for r in event.payload["data"]["removals"]}
        assert listed == set(event.removals.values_list("public_id", flat=True))
        assert set(event.removals.values_list("dataset_id", flat=True)) == {event.dataset_id}
    assert WebhookDelivery.objects.filter(event_id__in=list(sizes)).count() == len(sizes)
    assert not Match.objects.filter(work__request=ticket).exclude(state=MatchState.APPROVED).exists()
    assert set(ticket.works.values_list("decision", flat=True)) == {WorkDecision.APPROVED}
    [sent] = TicketEvent.objects.filter(request=ticket, params__text="removals_sent")
    assert sent.params["count"] == 6600 and len(sent.params["datasets"]) == 3


def test_recording_the_same_items_again_adds_nothing(artist, moderator, three_sets):
    a, b, _c = three_sets
    ticket = big_request(artist, [a, b], works=60, per_work=4)
    services.request_approve(ticket=ticket, moderator=moderator)
    before = Removal.objects.count(), WebhookEvent.objects.count()
    entries = [
        registry_services.RemovalEntry(dataset=m.item.dataset, item_id=m.item_id, url=m.item.url)
        for m in Match.objects.filter(work__request=ticket).select_related("item__dataset")
    ]
    summary = registry_services.removals_record_many(
        source_ref=ticket.reference, reason="copyright", entries=iter(entries + entries)
    )
    assert summary.count == 0 and summary.events == 0
    assert (Removal.objects.count(), WebhookEvent.objects.count()) == before
    with pytest.raises(services.ActionRefused, match="only submitted or in-review"):
        services.request_approve(ticket=ticket, moderator=moderator)
    assert (Removal.objects.count(), WebhookEvent.objects.count()) == before


def shared_work(big, other_artist, index=0):
    """`other_artist` submits a request holding the same file as work `index` of `big`."""
    work = big.works.order_by("pk")[index]
    rival = services.request_create(artist=other_artist, basis="copyright")
    Work.objects.create(
        artist=other_artist,
        request=rival,
        file="works/big/rival.png",
        original_name="rival.png",
        sha256=work.sha256,
        size_bytes=1,
        format="PNG",
        width=10,
        height=10,
        phash=work.phash,
        hash_state="done",
    )
    services.request_submit(ticket=rival, actor=other_artist.user, signed_name=other_artist.display_name)
    rival.refresh_from_db()
    return work, rival


def test_an_open_conflict_holds_only_its_works_and_resolving_it_sends_them(
    artist, other_artist, moderator, three_sets
):
    a, b, _c = three_sets
    big = big_request(artist, [a, b], works=80, per_work=3)
    # The held work's first copy is also a copy of another work: already removed when it is released.
    shared_item = Match.objects.filter(work=big.works.order_by("pk")[0]).order_by("item_id").first().item
    Match.objects.create(
        work=big.works.order_by("pk")[1], item=shared_item, distance=3, state=MatchState.CONFIRMED
    )
    held_work, rival = shared_work(big, other_artist)
    conflict = RequestConflict.objects.get()
    assert approval.selectors.approval_holds(big).held == {held_work.pk}

    services.request_approve(ticket=big, moderator=moderator)
    big.refresh_from_db()
    assert big.status == Status.APPROVED
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.HELD
    assert big.works.filter(decision=WorkDecision.APPROVED).count() == 79
    held_items = set(
        Match.objects.filter(work=held_work).exclude(item=shared_item).values_list("item_id", flat=True)
    )
    removed = Removal.objects.filter(source_ref=big.reference)
    assert not removed.filter(item_id__in=held_items).exists()
    assert Match.objects.filter(work=held_work, state=MatchState.CONFIRMED).count() == 3
    assert TicketEvent.objects.get(request=big, params__text="works_held").params["count"] == 1
    # Still held: the rival stays held as a whole (its only work is in the conflict).
    with pytest.raises(services.ActionRefused, match="held"):
        services.request_approve(ticket=rival, moderator=moderator)
    # Not complete while a work is held, even if every removal so far is acknowledged.
    for dataset in (a, b, _c):
        ids = list(removed.filter(dataset=dataset).values_list("public_id", flat=True))
        registry_services.removals_acknowledge(dataset=dataset, ids=ids)
    assert services.request_complete_if_acknowledged(reference=big.reference) is False

    count_before = removed.count()
    services.conflict_resolve(
        conflict=conflict, moderator=moderator, resolution="first", note="Her originals."
    )
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.APPROVED
    assert set(removed.filter(item_id__in=held_items).values_list("item_id", flat=True)) == held_items
    # The shared item was removed once, with the first work; the held work's bare hash goes to c.
    assert removed.filter(item=shared_item).count() == 1
    assert removed.count() == count_before + len(held_items) + 1
    assert not Match.objects.filter(work=held_work, state=MatchState.CONFIRMED).exists()
    assert TicketEvent.objects.get(request=big, params__text="works_released").params["count"] == 1
    rival.refresh_from_db()
    assert rival.status == Status.SUBMITTED  # lost: the desk rejects it, nothing is sent for it


def test_a_conflict_resolved_for_the_other_artist_drops_the_held_work_and_completes(
    artist, other_artist, moderator, three_sets
):
    a, b, c = three_sets
    big = big_request(artist, [a, b], works=60, per_work=2)
    held_work, rival = shared_work(big, other_artist, index=5)
    conflict = RequestConflict.objects.get()
    services.request_approve(ticket=big, moderator=moderator)
    removed = Removal.objects.filter(source_ref=big.reference)
    for dataset in (a, b, c):
        ids = list(removed.filter(dataset=dataset).values_list("public_id", flat=True))
        registry_services.removals_acknowledge(dataset=dataset, ids=ids)
    before = removed.count()

    services.conflict_resolve(conflict=conflict, moderator=moderator, resolution="second", note="His RAW.")
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.DROPPED
    assert removed.count() == before
    assert TicketEvent.objects.get(request=big, params__text="works_dropped").params["count"] == 1
    big.refresh_from_db()
    assert big.status == Status.COMPLETED  # nothing is held any more and everything is acknowledged
    services.request_approve(ticket=rival, moderator=moderator)  # the rival owns its one work
    assert Removal.objects.filter(source_ref=rival.reference).exists()
    assert TicketEvent.objects.filter(request=big, kind=EventKind.REMOVALS).count() >= 3


def _leave(rival, how, moderator):
    if how == "withdraw":
        services.request_withdraw(ticket=rival, actor=rival.artist.user)
    else:
        services.request_reject(ticket=rival, moderator=moderator, reason="Not theirs.")


@pytest.mark.parametrize("how", ["withdraw", "reject"])
def test_held_works_are_approved_when_the_other_request_leaves_after_the_approval(
    artist, other_artist, moderator, three_sets, how
):
    a, b, _c = three_sets
    big = big_request(artist, [a, b], works=60, per_work=2)
    held_work, rival = shared_work(big, other_artist, index=3)
    services.request_approve(ticket=big, moderator=moderator)
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.HELD
    removed = Removal.objects.filter(source_ref=big.reference)
    held_items = set(Match.objects.filter(work=held_work).values_list("item_id", flat=True))
    assert len(held_items) == 2 and not removed.filter(item_id__in=held_items).exists()
    before = removed.count()

    _leave(rival, how, moderator)
    rival.refresh_from_db()
    assert rival.status == (Status.WITHDRAWN if how == "withdraw" else Status.REJECTED)
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.APPROVED
    # Through the approval path: its two copies and its bare hash in c, in the feed's events.
    assert set(removed.filter(item_id__in=held_items).values_list("item_id", flat=True)) == held_items
    assert removed.count() == before + 3
    assert WebhookDelivery.objects.filter(event__removals__item_id__in=held_items).exists()
    assert not Match.objects.filter(work=held_work, state=MatchState.CONFIRMED).exists()
    [freed] = TicketEvent.objects.filter(request=big, params__text="works_freed")
    assert freed.kind == EventKind.REMOVALS and freed.is_public
    assert freed.params == {
        "text": "works_freed",
        "count": 1,
        "reference": rival.reference,
        "left": rival.status,
        "approved": True,
    }
    timeline = [entry.message for entry in selectors.public_timeline(big)]
    verb = "withdrawn" if how == "withdraw" else "rejected"
    assert f"The other claim ({rival.reference}) was {verb}: 1 held work was approved and sent." in timeline
    assert TicketEvent.objects.filter(request=big, params__text="removals_sent").count() == 2
    with translation.override("fr"):
        french = timeline_text.render(freed.params)
    assert f"autre demande ({rival.reference}) a été" in french and "approuvée et envoyée" in french
    big.refresh_from_db()
    assert big.status == Status.APPROVED  # the new removals wait for their acknowledgements
    assert selectors.approval_holds(big).held == set()


@pytest.mark.parametrize("how", ["withdraw", "reject"])
def test_a_request_whose_rival_left_before_the_approval_is_approved_whole(
    artist, other_artist, moderator, three_sets, how
):
    a, b, _c = three_sets
    big = big_request(artist, [a, b], works=40, per_work=1)
    held_work, rival = shared_work(big, other_artist, index=0)
    assert selectors.approval_holds(big).held == {held_work.pk}
    _leave(rival, how, moderator)
    assert not TicketEvent.objects.filter(request=big, params__text="works_freed").exists()
    services.request_approve(ticket=big, moderator=moderator)
    assert set(big.works.values_list("decision", flat=True)) == {WorkDecision.APPROVED}
    assert not TicketEvent.objects.filter(request=big, params__text="works_held").exists()
    items = Match.objects.filter(work=held_work).values_list("item_id", flat=True)
    assert Removal.objects.filter(source_ref=big.reference, item_id__in=list(items)).count() == 1


def test_a_work_another_open_conflict_holds_stays_held_until_that_one_leaves_too(
    artist, other_artist, moderator, three_sets
):
    a, b, _c = three_sets
    big = big_request(artist, [a, b], works=30, per_work=1)
    held_work, first_rival = shared_work(big, other_artist, index=2)
    third = make_artist("third@example.com", name="Third Artist")
    _same_work, second_rival = shared_work(big, third, index=2)
    assert RequestConflict.objects.count() == 3  # the two rivals conflict with each other too
    services.request_approve(ticket=big, moderator=moderator)

    services.request_withdraw(ticket=first_rival, actor=other_artist.user)
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.HELD  # the third artist still claims it
    assert not TicketEvent.objects.filter(request=big, params__text="works_freed").exists()

    services.request_reject(ticket=second_rival, moderator=moderator, reason="A copy of hers.")
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.APPROVED
    [freed] = TicketEvent.objects.filter(request=big, params__text="works_freed")
    assert (freed.params["reference"], freed.params["left"]) == (second_rival.reference, Status.REJECTED)


def test_held_works_of_a_request_not_approved_go_back_to_undecided(
    artist, other_artist, moderator, three_sets
):
    # No path holds works of an undecided request today (approval does the holding); the release
    # still puts them back where they would be, should one appear.
    a, b, _c = three_sets
    big = big_request(artist, [a, b], works=10, per_work=1)
    held_work, rival = shared_work(big, other_artist, index=1)
    Work.objects.filter(pk=held_work.pk).update(decision=WorkDecision.HELD)
    _leave(rival, "withdraw", moderator)
    held_work.refresh_from_db()
    assert held_work.decision == WorkDecision.UNDECIDED
    assert not Removal.objects.filter(source_ref=big.reference).exists()
    [freed] = TicketEvent.objects.filter(request=big, params__text="works_freed")
    assert freed.params["approved"] is False
    assert f"The other claim ({rival.reference}) was withdrawn: 1 work is no longer held." in [
        entry.message for entry in selectors.public_timeline(big)
    ]
