"""After approval: completion once maintainers acknowledge, re-matching, copies found
later, and the sweeps' lists of what is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from core.queueing import enqueue
from registry.models import Dataset, GrantState, RemovalState
from registry.selectors import grants_for_source, removals_for_source

from .. import notify, timeline
from ..models import (
    EventKind,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
    TicketEvent,
    Work,
    WorkDecision,
)
from ..workflow import REACHES_REGISTRY, Status
from ._ticket import _event, _transition

REMOVAL_CONFIRMED_MESSAGE = timeline.REMOVAL_CONFIRMED_MESSAGE


@transaction.atomic
def request_complete_if_acknowledged(*, reference: str) -> bool:
    """Complete an approved request once every one of its removals is acknowledged, or at once
    when what it recorded is only licence grants (a licence asks nothing of maintainers to
    acknowledge: nothing is to be removed). The receipt's last row says what was recorded."""
    ticket = RemovalRequest.objects.select_for_update().filter(reference=reference).first()
    if ticket is None or ticket.status != Status.APPROVED:
        return False
    if ticket.works.filter(decision=WorkDecision.HELD).exists():
        return False  # a conflict still holds works whose removals may yet be sent
    states = set(removals_for_source(reference).values_list("state", flat=True))
    granted = grants_for_source(reference).filter(state=GrantState.ACTIVE).count()
    if not states and not granted:
        return False  # nothing recorded yet (approval's removals are written with it)
    if not states <= {RemovalState.ACKNOWLEDGED, RemovalState.REVOKED}:
        return False
    removed = states - {RemovalState.REVOKED}
    if states:
        _event(ticket, kind=EventKind.REMOVALS, actor=None, params={"text": "removals_confirmed"})
    if granted:
        _event(
            ticket,
            kind=EventKind.REMOVALS,
            actor=None,
            params={"text": "licences_recorded", "count": granted},
        )
    _transition(ticket, Status.COMPLETED, actor=None)
    if removed or not granted:
        notify.request_changed(
            ticket=ticket,
            headline=gettext_lazy("Your works were removed"),
            message=gettext_lazy("Every data set maintainer has confirmed the removal."),
        )
    else:
        notify.request_changed(
            ticket=ticket,
            headline=gettext_lazy("Your licence was recorded"),
            message=gettext_lazy(
                "The data set maintainers were sent your licence for every copy found: they may "
                "train on them under its terms. Nothing was to be removed, so your request is complete."
            ),
        )
    return True


def request_rematch(*, reference: str) -> int:
    """Search every data set for copies of an approved request's removed items (not the excluded ones).

    Marks the request re-matched in the same transaction as the removals it records, so
    a run that dies leaves it due for the sweep (rematch_due) and nothing half-written.
    """
    from registry.services import rematch

    excluded = Match.objects.filter(
        work__request__reference=reference, state=MatchState.EXCLUDED
    ).values_list("item_id", flat=True)
    with transaction.atomic():
        # One run at a time per request (a sweep's copy may meet a retry's): the row lock serializes them.
        RemovalRequest.objects.select_for_update().filter(reference=reference).first()
        found = rematch.source_rematch(source_ref=reference, skip_item_ids=list(excluded))
        RemovalRequest.objects.filter(reference=reference).update(rematched_at=timezone.now())
    return len(found)


@transaction.atomic
def request_copies_found(*, reference: str) -> int:
    """Tell the artist that re-matching found more copies and sent them to the maintainers."""
    ticket = RemovalRequest.objects.select_for_update().filter(reference=reference).first()
    if ticket is None:
        return 0
    last = TicketEvent.objects.filter(request=ticket, kind=EventKind.REMOVALS).order_by("-created_at").first()
    since = last.created_at if last else ticket.created_at
    new = removals_for_source(reference).filter(approved_at__gt=since)
    count = new.count()
    if count:
        datasets = _dataset_labels(set(new.values_list("dataset_id", flat=True)))
        _event(
            ticket,
            kind=EventKind.REMOVALS,
            actor=None,
            params={"text": "copies_found", "count": count, "datasets": datasets},
        )
        names = ", ".join(datasets)
        notify.request_changed(
            ticket=ticket,
            headline=gettext_lazy("More copies of your works were found"),
            message=notify.later(
                lambda: (
                    ngettext(
                        "%(count)d more copy of your works found in %(datasets)s "
                        "and sent to the maintainers.",
                        "%(count)d more copies of your works found in %(datasets)s "
                        "and sent to the maintainers.",
                        count,
                    )
                    % {"count": count, "datasets": names}
                )
            ),
        )
    return count


@transaction.atomic
def request_licences_extended(*, reference: str, per_dataset: dict[int, int]) -> int:
    """Tell the artist that re-matching granted later copies of their licensed works under the
    same licence (`per_dataset`: how many grants in each data set). Returns how many; a source
    that is no request (a partner's filing) writes nothing."""
    ticket = RemovalRequest.objects.select_for_update().filter(reference=reference).first()
    count = sum(max(int(n), 0) for n in per_dataset.values())
    if ticket is None or not count:
        return 0
    datasets = _dataset_labels(per_dataset)
    _event(
        ticket,
        kind=EventKind.REMOVALS,
        actor=None,
        params={"text": "licences_extended", "count": count, "datasets": datasets},
    )
    names = ", ".join(datasets)
    notify.request_changed(
        ticket=ticket,
        headline=gettext_lazy("More copies of your works were found"),
        message=notify.later(
            lambda: (
                ngettext(
                    "%(count)d more copy of your licensed works found in %(datasets)s "
                    "and granted under the same licence.",
                    "%(count)d more copies of your licensed works found in %(datasets)s "
                    "and granted under the same licence.",
                    count,
                )
                % {"count": count, "datasets": names}
            )
        ),
    )
    return count


def _dataset_labels(dataset_ids: Iterable[int]) -> list[str]:
    """Data sets as the timeline names them: "Photos v1 (Open Images Lab)", since two
    organisations may each have a data set of the same name."""

    rows = Dataset.objects.filter(pk__in=list(dataset_ids)).select_related("maintainer")
    return sorted(f"{d.name} ({d.maintainer.name})" for d in rows)


def _enqueue_rematch(reference: str) -> None:
    enqueue(
        "requests_app.tasks.request_rematch",
        reference,
        fallback="copies are found when their items are next imported or changed",
    )


def rematch_due() -> list[str]:
    """Approved requests whose re-matching has not finished two minutes after approval."""
    cutoff = timezone.now() - timedelta(minutes=2)
    return [
        reference
        for reference in RemovalRequest.objects.filter(
            status__in=list(REACHES_REGISTRY),
            rematched_at__isnull=True,
            decided_at__lt=cutoff,
            reference__isnull=False,
        )
        .order_by("decided_at")
        .values_list("reference", flat=True)[:100]
        if reference
    ]


def hashing_due() -> list[int]:
    """Works still waiting to be hashed (a lost task message, a worker that died)."""
    cutoff = timezone.now() - timedelta(minutes=2)
    return list(
        Work.objects.filter(hash_state=HashState.PENDING, created_at__lt=cutoff).values_list("pk", flat=True)[
            :500
        ]
    )
