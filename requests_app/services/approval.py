"""Approval at size: which works a decision covers, and their removals written as a stream.

A request may hold thousands of works matching tens of thousands of items. Nothing here
loads them as model objects: confirmed matches are read as tuples from a streamed query
and handed to registry.services.removals_record_many, which writes removals and events in
chunks; the matches and works are then marked with one UPDATE each.

Conflicts hold only the works they touch (RequestConflict.pairs): approving a request
with an open conflict approves every other work, and the touched ones stay HELD until the
conflict is resolved (released: their removals are recorded then; or DROPPED when another
artist owns them; or released as well when the other request is withdrawn or rejected).
Callers are services that hold the ticket's lock in their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet

from registry import services as registry_services
from registry.models import Dataset
from registry.preferences import Consent

from .. import selectors
from ..models import (
    EventKind,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
    RequestConflict,
    Work,
    WorkDecision,
)
from ..workflow import REACHES_REGISTRY
from ._ticket import _event
from .completion import _dataset_labels, request_complete_if_acknowledged


def _approvable(works: QuerySet[Work]) -> QuerySet[Work]:
    """The works whose hashes can be sent: hashed, not failed."""
    return works.filter(phash__isnull=False).exclude(hash_state=HashState.FAILED)


def _has_removals(ticket: RemovalRequest, works: QuerySet[Work]) -> bool:
    confirmed = Match.objects.filter(work__in=works, state=MatchState.CONFIRMED)
    return confirmed.exists() or _approvable(works).exists()


def _works_approve(ticket: RemovalRequest, works: QuerySet[Work]) -> registry_services.RecordSummary:
    """Send every work's choice to the registry, and mark the matches and works approved.

    A work whose choice disallows training (remove, search only) gets a removal of every
    confirmed match and a bare hash removal in every data set where none of its copies was
    confirmed; a licensed work gets licence grants of the same entries instead (never a
    removal: registry.preferences). Returns what was removed; the grants get their own row.

    Idempotent for item removals (one per request and item); run once per work for bare hashes:
    the works' decision says which were approved already, and callers pass only undecided or held ones.
    """
    reference = ticket.reference or ""
    summary = registry_services.RecordSummary()
    granted = 0
    for consent, group in works_by_consent(ticket, works):
        if consent.is_removal:
            summary.add(
                registry_services.removals_record_many(
                    source_ref=reference,
                    reason=ticket.basis,
                    entries=work_entries(group),
                    approved_at=ticket.decided_at,
                    search=consent.search,
                )
            )
        else:
            granted += len(
                registry_services.licence_grants_record(
                    source_ref=reference, consent=consent, entries=work_entries(group)
                )
            )
    if granted:
        _event(
            ticket, kind=EventKind.REMOVALS, actor=None, params={"text": "licences_sent", "count": granted}
        )
    Match.objects.filter(work__in=works, state=MatchState.CONFIRMED).update(state=MatchState.APPROVED)
    works.update(decision=WorkDecision.APPROVED)
    return summary


def works_by_consent(
    ticket: RemovalRequest, works: QuerySet[Work]
) -> Iterator[tuple[Consent, QuerySet[Work]]]:
    """`works` grouped by the choice that holds for each: the request's default for those that
    make none, then each distinct choice of their own (a few groups, whatever the count)."""
    follow = works.filter(choice="")
    if follow.exists():
        yield Consent(ticket.choice, ticket.licence, ticket.licence_url, ticket.attribution), follow
    own = works.exclude(choice="")
    fields = ("choice", "licence", "licence_url", "attribution")
    for values in own.order_by(*fields).values_list(*fields).distinct():
        yield Consent(*values), own.filter(**dict(zip(fields, values, strict=True)))


def work_entries(
    works: QuerySet[Work], *, state: str = MatchState.CONFIRMED
) -> Iterator[registry_services.RemovalEntry]:
    """The registry entries of `works`, streamed: item entries of their matches in `state` first,
    then the bare hashes per data set.

    A work with no copy today must still be removed tomorrow: the hash removal puts it in every
    maintainer's feed, the lookup's hash search and re-matching, so a copy that arrives later (a
    new version of a data set, a repost at another URL) becomes a removal of the same request.
    """
    datasets = {d.pk: d for d in Dataset.objects.order_by("pk")}
    confirmed = Match.objects.filter(work__in=works, state=state)
    rows = (
        confirmed.order_by("item__dataset_id", "item_id")
        .values_list(
            "item_id",
            "item__dataset_id",
            "item__external_id",
            "item__url",
            "item__phash",
            "item__dhash",
            "item__pdq",
        )
        .iterator(chunk_size=2000)
    )
    for item_id, dataset_id, external_id, url, phash, dhash, pdq in rows:
        yield registry_services.RemovalEntry(
            dataset=datasets[dataset_id],
            item_id=item_id,
            external_id=external_id,
            url=url,
            phash=phash,
            dhash=dhash,
            pdq=bytes(pdq) if pdq is not None else None,
        )
    for dataset in datasets.values():
        covered = Match.objects.filter(work=OuterRef("pk"), state=state, item__dataset=dataset)
        bare = (
            _approvable(works)
            .exclude(Exists(covered))
            .order_by("pk")
            .values_list("phash", "dhash", "pdq")
            .iterator(chunk_size=2000)
        )
        for phash, dhash, pdq in bare:
            yield registry_services.RemovalEntry(
                dataset=dataset, phash=phash, dhash=dhash, pdq=bytes(pdq) if pdq is not None else None
            )


def _removals_event(
    ticket: RemovalRequest,
    summary: registry_services.RecordSummary,
    actor: User | None,
    *,
    count: int = 0,
    dataset_ids: Iterable[int] = (),
) -> None:
    """The "N removals sent" row: the works' removals, plus `count` more in `dataset_ids`
    (a domain request's lines, recorded by the registry's rules)."""
    _event(
        ticket,
        kind=EventKind.REMOVALS,
        actor=actor,
        params={
            "text": "removals_sent",
            "count": summary.count + count,
            # Every data set that got one: hash removals go to data sets without a copy too.
            "datasets": _dataset_labels(set(summary.dataset_ids) | set(dataset_ids)),
        },
    )


def _held_works_settle(
    *, ticket: RemovalRequest, conflict: RequestConflict, owner: bool, moderator: User
) -> tuple[int, int]:
    """After `conflict` is resolved: release (approve) the works of an approved `ticket` it held,
    unless another open conflict still holds them, or drop them when the other artist owns them.

    Returns (released, dropped) work counts; writes the public timeline rows saying so.
    """
    touched = ticket.works.filter(
        pk__in=selectors.conflict_works(conflict, ticket), decision=WorkDecision.HELD
    )
    return held_works_settle(ticket=ticket, touched=touched, owner=owner, moderator=moderator)


def held_works_settle(
    *, ticket: RemovalRequest, touched: QuerySet[Work], owner: bool, moderator: User | None
) -> tuple[int, int]:
    """Settle `touched`, works of `ticket` a resolved conflict held (another artist's request's,
    or a partner's filing: services.partner_conflicts): released (approved) when `owner`, unless
    another open conflict still holds them, else dropped. Returns (released, dropped); writes the
    public timeline rows saying so."""
    if not touched.exists():
        return 0, 0
    if not owner:
        dropped = touched.update(decision=WorkDecision.DROPPED)
        _event(
            ticket,
            kind=EventKind.REMOVALS,
            actor=moderator,
            params={"text": "works_dropped", "count": dropped},
        )
        # The acknowledgements may all be in already: nothing else would complete the request.
        request_complete_if_acknowledged(reference=ticket.reference or "")
        return 0, dropped
    still_held = selectors.approval_holds(ticket).held
    release = touched.exclude(pk__in=still_held)
    count = release.count()
    if count:
        _removals_event(ticket, _works_approve(ticket, release), moderator)
        _event(
            ticket,
            kind=EventKind.REMOVALS,
            actor=moderator,
            params={"text": "works_released", "count": count},
        )
    return count, 0


def _held_works_free(*, ticket: RemovalRequest, conflict: RequestConflict, leaving: RemovalRequest) -> int:
    """`leaving`, the other side of `conflict`, was withdrawn or rejected: the works of `ticket` the
    conflict held go back to what they would have been without it, unless another open conflict
    still holds them: approved (their removals recorded) if `ticket` was approved, undecided
    otherwise. Returns how many; writes the public timeline row saying so (the audit: which
    request left, and how)."""
    touched = ticket.works.filter(
        pk__in=selectors.conflict_works(conflict, ticket), decision=WorkDecision.HELD
    )
    if not touched.exists():
        return 0
    free = touched.exclude(pk__in=selectors.approval_holds(ticket).held)
    count = free.count()
    if not count:
        return 0
    approved = ticket.status in REACHES_REGISTRY
    if approved:
        _removals_event(ticket, _works_approve(ticket, free), None)
    else:
        free.update(decision=WorkDecision.UNDECIDED)
    _event(
        ticket,
        kind=EventKind.REMOVALS,  # public: the artist's timeline says it, the desk shows it too
        actor=None,
        params={
            "text": "works_freed",
            "count": count,
            "reference": leaving.reference,
            "left": leaving.status,
            "approved": approved,
        },
    )
    return count
