"""registry.models.disputes: the database itself refuses a second live dispute of one removal by
the same party (the service checks first; the constraint holds under a race), and an expired
dispute does not count."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from registry import services
from registry.models import Dispute, DisputeFiler, DisputeState
from tests.helpers import published_removals


@pytest.fixture
def removal(dataset):
    return published_removals(dataset, 1)[0]


def row(removal, **fields):
    base = {"removal": removal, "reason": "own_work", "statement": "Mine, and here is why.", "state": "open"}
    return Dispute.objects.create(**{**base, **fields})


def test_one_live_dispute_per_removal_per_email_and_per_maintainer(removal, maintainer):
    row(removal, filer=DisputeFiler.PUBLIC, email="a@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        row(removal, filer=DisputeFiler.PUBLIC, email="a@example.org")
    row(removal, filer=DisputeFiler.MAINTAINER, maintainer=maintainer.maintainer)
    with pytest.raises(IntegrityError), transaction.atomic():
        row(removal, filer=DisputeFiler.MAINTAINER, maintainer=maintainer.maintainer)
    assert Dispute.objects.count() == 2


def test_an_expired_dispute_leaves_room_for_a_new_one(removal):
    row(removal, filer=DisputeFiler.PUBLIC, email="a@example.org", state=DisputeState.EXPIRED)
    assert row(removal, filer=DisputeFiler.PUBLIC, email="a@example.org").state == "open"


def test_the_outcome_is_known_only_once_decided(removal):
    dispute = row(removal, filer=DisputeFiler.PUBLIC, email="b@example.org")
    assert dispute.outcome is None and dispute.public_id.startswith("dp_")
    dispute.state = DisputeState.REVOKED
    assert dispute.outcome == "revoked"
    assert services.DISPUTABLE_STATES == ("delivered", "acknowledged")
