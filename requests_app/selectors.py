"""Reads that encode who may see what."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from .models import (
    ConflictResolution,
    IdentityProof,
    ProofMethod,
    RemovalRequest,
    RequestConflict,
    Work,
)
from .workflow import Status

# Requests whose claims still count: a rejected or withdrawn claim conflicts with nobody.
OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO})
CLAIMING_STATUSES = OPEN_STATUSES | {Status.APPROVED, Status.COMPLETED}


def is_moderator(user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("requests_app.moderate_removalrequest")
    )


def requests_of(user: User) -> QuerySet[RemovalRequest]:
    """The artist's requests, newest first. Explicit: Meta.ordering is dropped from any query
    that groups (the list counts works per request), which listed them oldest first."""
    return (
        RemovalRequest.objects.filter(artist__user=user)
        .select_related("artist")
        .order_by("-created_at", "-id")
    )


def request_for_artist(user: User, reference: str) -> RemovalRequest:
    """The artist's own request, or 404 (never 403: another's request must not be confirmed to exist)."""
    request = requests_of(user).filter(reference=reference).first()
    if request is None:
        raise Http404("No such request.")
    return request


def work_for_viewer(user: User | AnonymousUser, work_id: int) -> Work:
    work = Work.objects.select_related("artist__user").filter(pk=work_id).first()
    if work is None or not (is_moderator(user) or work.artist.user_id == user.pk):
        raise Http404("No such work.")
    return work


def conflicts_of(request: RemovalRequest) -> list[RequestConflict]:
    """Conflicts with other artists' requests that still claim the works (not rejected or withdrawn)."""
    rows = RequestConflict.objects.filter(Q(first=request) | Q(second=request)).select_related(
        "first__artist__user", "second__artist__user", "resolved_by"
    )
    return [c for c in rows if c.other(request).status in CLAIMING_STATUSES]


def open_conflict_exists() -> Exists:
    """For annotating a RemovalRequest queryset: an unresolved conflict with a claiming request."""
    claiming = list(CLAIMING_STATUSES)
    return Exists(
        RequestConflict.objects.filter(resolution=ConflictResolution.OPEN).filter(
            Q(first=OuterRef("pk"), second__status__in=claiming)
            | Q(second=OuterRef("pk"), first__status__in=claiming)
        )
    )


def proof_for_artist(user: User, proof_id: int) -> IdentityProof:
    proof = IdentityProof.objects.filter(pk=proof_id, artist__user=user).select_related("artist").first()
    if proof is None:
        raise Http404("No such proof.")
    return proof


def document_for_moderator(user: User | AnonymousUser, proof_id: int) -> IdentityProof:
    """Identity documents are for moderators only: not even their artist reads them back."""
    if not is_moderator(user):
        raise Http404("No such document.")
    proof = IdentityProof.objects.filter(pk=proof_id, method=ProofMethod.DOCUMENT).first()
    if proof is None or not proof.document:
        raise Http404("No such document.")
    return proof
