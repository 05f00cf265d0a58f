"""The portfolio and requests: a selection of the artist's works starts a request, joins an
editable one, or goes back to the portfolio.

A selection is a queryset of works (the boxes ticked, or every work matching a filter, built by
requests_app.portfolio); each service narrows it to the request's artist again, so ids forged
into a form never reach another artist's works. The moves are set-based: the free works of the
selection are locked and moved by one UPDATE, whatever their number, and each change writes one
timeline row with its count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from .. import timeline
from ..models import ArtistProfile, EventKind, RemovalRequest, Work
from ..workflow import EDITABLE, RELEASED
from ._ticket import ActionRefused, _event, _locked, _owned
from .submission import request_create


@dataclass
class SelectionMoved:
    """What a selection did: the request, how many works moved, and those left where they are."""

    ticket: RemovalRequest
    moved: int = 0
    # reference -> how many selected works stay in that (other, not closed) request
    left_out: dict[str, int] = field(default_factory=dict)
    already: int = 0  # selected works already in this request (adding) or not in it (removing)

    @property
    def left_out_count(self) -> int:
        return sum(self.left_out.values())


def _free() -> Q:
    """Works that may join a request: in none, or in one closed without effect (withdrawn, rejected)."""
    return Q(request__isnull=True) | Q(request__status__in=list(RELEASED))


def _lock_ids(works: QuerySet[Work]) -> list[int]:
    """Lock the rows (in id order, so two selections never deadlock) and return their ids."""
    return list(works.order_by("pk").select_for_update(of=("self",)).values_list("pk", flat=True))


# Ids per UPDATE: a whole portfolio moves in a few statements, under SQLite's limit of variables.
UPDATE_CHUNK = 5000


def _update(ids: list[int], *, request: RemovalRequest | None) -> int:
    """Move the (locked) works `ids` to `request`, a few thousand per statement."""
    return sum(
        Work.objects.filter(pk__in=ids[start : start + UPDATE_CHUNK]).update(request=request)
        for start in range(0, len(ids), UPDATE_CHUNK)
    )


def _names(ids: list[int]) -> list[str]:
    return list(
        Work.objects.filter(pk__in=ids[: timeline.NAMES_SHOWN])
        .order_by("pk")
        .values_list("original_name", flat=True)
    )


def _move_in(ticket: RemovalRequest, *, actor: User, works: QuerySet[Work]) -> SelectionMoved:
    selected = Work.objects.filter(artist_id=ticket.artist_id, pk__in=works.values("pk"))
    result = SelectionMoved(ticket=ticket)
    ids = _lock_ids(selected.filter(_free()).exclude(request_id=ticket.pk))
    result.already = selected.filter(request_id=ticket.pk).count()
    released = list(
        selected.filter(request__status__in=list(RELEASED))
        .values("request_id")
        .annotate(n=Count("pk"))
        .order_by("request_id")
        .values_list("request_id", "n")
    )
    result.moved = _update(ids, request=ticket)
    result.left_out = {
        str(ref): int(n)
        for ref, n in selected.exclude(_free())
        .exclude(request_id=ticket.pk)
        .values("request__reference")
        .annotate(n=Count("pk"))
        .order_by("request__reference")
        .values_list("request__reference", "n")
    }
    if result.moved:
        _event(
            ticket,
            kind=EventKind.WORKS,
            actor=actor,
            params={"text": "works_added", "count": result.moved, "names": _names(ids)},
        )
    # A closed request that gave works to this one says so on its own timeline.
    for request_id, n in released:
        _event(
            RemovalRequest(pk=request_id),
            kind=EventKind.WORKS,
            actor=actor,
            params={"text": "works_moved", "count": int(n), "reference": ticket.reference or ""},
        )
    return result


def _editable(ticket: RemovalRequest, actor: User) -> RemovalRequest:
    ticket = _locked(ticket)
    _owned(ticket, actor)
    if ticket.status not in EDITABLE:
        raise ActionRefused(
            _(
                "%(reference)s is %(status)s: works can be added or removed only while a request "
                "is a draft or needs information."
            )
            % {"reference": ticket.reference, "status": str(ticket.get_status_display()).lower()}
        )
    return ticket


def _nothing_moved(result: SelectionMoved) -> ActionRefused:
    if result.left_out:
        return ActionRefused(
            _("None of these works can join a request: they are all in other requests (%(references)s).")
            % {"references": ", ".join(result.left_out)}
        )
    if result.already:
        return ActionRefused(_("These works are already in this request."))
    return ActionRefused(_("Select at least one of your works."))


@transaction.atomic
def portfolio_request_start(
    *, artist: ArtistProfile, actor: User, works: QuerySet[Work], basis: str, description: str = ""
) -> SelectionMoved:
    """A new draft holding the selected works that are in no other request; the rest are reported.

    Refused, with no draft left behind, when not one selected work can join it.
    """
    if artist.user_id != actor.pk:
        raise ActionRefused(_("This portfolio belongs to another account."))
    ticket = request_create(artist=artist, basis=basis, description=description)
    result = _move_in(ticket, actor=actor, works=works)
    if not result.moved:
        raise _nothing_moved(result)
    return result


@transaction.atomic
def portfolio_works_add(*, ticket: RemovalRequest, actor: User, works: QuerySet[Work]) -> SelectionMoved:
    """The selected works join the artist's draft or needs-information request (no cap)."""
    ticket = _editable(ticket, actor)
    result = _move_in(ticket, actor=actor, works=works)
    if not result.moved:
        raise _nothing_moved(result)
    return result


@transaction.atomic
def portfolio_works_remove(*, ticket: RemovalRequest, actor: User, works: QuerySet[Work]) -> SelectionMoved:
    """The selected works of this request go back to the portfolio (in no request); nothing is deleted."""
    ticket = _editable(ticket, actor)
    selected = Work.objects.filter(artist_id=ticket.artist_id, pk__in=works.values("pk"))
    ids = _lock_ids(selected.filter(request_id=ticket.pk))
    result = SelectionMoved(ticket=ticket)
    result.already = selected.exclude(request_id=ticket.pk).count()
    if not ids:
        raise ActionRefused(
            _("None of the selected works is in %(reference)s.") % {"reference": ticket.reference}
        )
    names = _names(ids)
    result.moved = _update(ids, request=None)
    _event(
        ticket,
        kind=EventKind.WORKS,
        actor=actor,
        params={"text": "works_removed", "count": result.moved, "names": names},
    )
    return result
