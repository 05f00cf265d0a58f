"""Reads that encode who may see what."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from .models import RemovalRequest, Work


def is_moderator(user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("requests_app.moderate_removalrequest")
    )


def requests_of(user: User) -> QuerySet[RemovalRequest]:
    return RemovalRequest.objects.filter(artist__user=user).select_related("artist")


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
