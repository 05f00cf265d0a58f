"""requests_app.services.conflicts: two artists claiming the same image (or a near duplicate) hold
each other until a moderator resolves who owns it; the same artist twice is no conflict."""

from __future__ import annotations

import pytest

from registry.models import Removal
from requests_app import evidence, services
from requests_app.models import (
    ConflictResolution,
    EventKind,
    RequestConflict,
    TicketEvent,
)
from requests_app.workflow import Status
from tests.helpers import make_request


def test_the_same_image_from_two_artists_is_a_conflict_that_holds_both(
    artist,
    other_artist,
    moderator,
    dataset,
):
    first = make_request(artist, "chelsea.png")
    second = make_request(other_artist, "chelsea.png")
    conflict = RequestConflict.objects.get()
    assert (conflict.first, conflict.second) == (first, second) and conflict.is_open
    assert conflict.pairs[0]["kind"] == "sha256"
    for ticket in (first, second):
        assert TicketEvent.objects.filter(request=ticket, kind=EventKind.CONFLICT).count() == 1
        assert evidence.for_request(ticket).open_conflicts == [conflict]
        with pytest.raises(services.ActionRefused, match="held"):
            services.request_approve(ticket=ticket, moderator=moderator)
    assert not Removal.objects.exists()

    with pytest.raises(services.ActionRefused, match="why"):
        services.conflict_resolve(conflict=conflict, moderator=moderator, resolution="first", note=" ")
    services.conflict_resolve(
        conflict=conflict, moderator=moderator, resolution=ConflictResolution.FIRST, note="She has the RAW."
    )
    resolved = TicketEvent.objects.filter(kind=EventKind.CONFLICT, new_value="first", actor=moderator)
    assert resolved.count() == 2 and "She has the RAW." in resolved.first().message
    with pytest.raises(services.ActionRefused, match="in favour of the other artist"):
        services.request_approve(ticket=second, moderator=moderator)
    services.request_approve(ticket=first, moderator=moderator)
    first.refresh_from_db()
    assert first.status == Status.APPROVED
    with pytest.raises(services.ActionRefused, match="resolved already"):
        services.conflict_resolve(conflict=conflict, moderator=moderator, resolution="both", note="x")


def test_a_near_duplicate_is_a_conflict_and_a_withdrawn_claim_is_not(
    artist,
    other_artist,
    moderator,
    dataset,
    settings,
):
    settings.CONFLICT_PHASH_MAX_DISTANCE = 64  # every hashed pair is "near": the scan itself is under test
    first = make_request(artist, "chelsea.png")
    second = make_request(other_artist, "coffee.png")
    conflict = RequestConflict.objects.get()
    assert conflict.pairs[0]["kind"] == "phash"
    services.request_withdraw(ticket=second, actor=other_artist.user)
    assert evidence.for_request(first).conflicts == []
    services.request_approve(ticket=first, moderator=moderator)


def test_the_same_artist_twice_is_no_conflict(artist, dataset):
    make_request(artist, "chelsea.png")
    make_request(artist, "chelsea.png", fmt="JPEG")  # the same bytes would be one work of the portfolio
    assert not RequestConflict.objects.exists()
