"""The dispute objects of the maintainer API (docs/api.md "Disputes")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..dispute_checks import LINK_MAX_LENGTH, MAX_LINKS, STATEMENT_MAX_LENGTH
from ..models import Dispute, DisputeReason, DisputeState
from .fields import OutsideChoiceField, OutsideTextField

# The states a maintainer's dispute can be in (it never waits for an email confirmation).
MAINTAINER_STATES = [
    DisputeState.OPEN,
    DisputeState.ANSWERED,
    DisputeState.DUE,
    DisputeState.UPHELD,
    DisputeState.REVOKED,
]


class DisputeCreateSerializer(serializers.Serializer[Any]):
    removal = OutsideTextField(max_length=40, help_text="The removal's id (rm_...), one of this data set's.")
    reason = OutsideChoiceField(choices=DisputeReason.values)
    statement = OutsideTextField(
        max_length=STATEMENT_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Why the removal is wrong, as plain text (no markup): at least 20 characters.",
    )
    links = serializers.ListField(
        child=OutsideTextField(max_length=LINK_MAX_LENGTH),
        max_length=MAX_LINKS,
        required=False,
        default=list,
        help_text="Up to 10 http(s) addresses of evidence.",
    )


class DisputeSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="dp_...")
    dataset = serializers.CharField()
    removal = serializers.CharField(help_text="The disputed removal's id (rm_...).")
    reason = serializers.ChoiceField(choices=DisputeReason.values)
    statement = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=MAINTAINER_STATES)
    outcome = serializers.ChoiceField(
        choices=["upheld", "revoked"], allow_null=True, help_text="null until a moderator decided."
    )
    filed_at = serializers.DateTimeField()
    response_due_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the side that asked for the removal may answer."
    )
    answered = serializers.BooleanField(help_text="Whether that side answered (what it said is not shown).")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField(
        allow_blank=True, help_text='The moderator\'s reason ("" until decided).'
    )


class DisputePageSerializer(serializers.Serializer[Any]):
    results = DisputeSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's cursor; null on the last page.")


def dispute_to_dict(dispute: Dispute, *, dataset_slug: str) -> dict[str, Any]:
    return {
        "id": dispute.public_id,
        "dataset": dataset_slug,
        "removal": dispute.removal.public_id,
        "reason": dispute.reason,
        "statement": dispute.statement,
        "links": list(dispute.links),
        "state": dispute.state,
        "outcome": dispute.outcome,
        "filed_at": dispute.created_at,
        "response_due_at": dispute.response_due_at,
        "answered": dispute.answered_at is not None,
        "decided_at": dispute.decided_at,
        "decision_reason": dispute.decision_reason,
    }
