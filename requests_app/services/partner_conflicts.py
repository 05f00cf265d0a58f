"""Conflicts with partners' filings: an artist's request that claims a registered item a partner
had removed already, for a creator of its own the artist has not claimed.

The partners app finds them when a request is submitted (it hears `signals.ticket_submitted`)
and records them here; requests_app knows the filing by its public id and the partner by name,
as registry's removals name them. What is held is the later claim: the request's works that
claim those items are left out of its approval until a moderator decides who owns them; the
partner's removal, recorded first, stays in force (revoking it is the partners' desk's "Revoke
the selected filings' removals"). Resolved per filing: a request claiming a thousand items of one
filing is one decision.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import EventKind, PartnerConflict, PartnerConflictResolution, RemovalRequest, WorkDecision
from ..workflow import REACHES_REGISTRY
from . import approval
from ._ticket import ActionRefused, _event, _locked


@dataclass(frozen=True)
class PartnerClaim:
    """One work of a request claiming one item a partner's filing removed."""

    work_id: int
    item_id: int
    filing_ref: str
    partner: str
    creator_id: str = ""


def partner_conflicts_record(*, ticket: RemovalRequest, claims: Iterable[PartnerClaim]) -> int:
    """Record the conflicts not recorded yet (inside the submission's transaction, the ticket
    locked) and say so on the request's internal timeline, one row per filing. Returns how many
    were new. A request submitted again with the same claims records nothing twice."""
    wanted = {(c.work_id, c.item_id, c.filing_ref): c for c in claims}
    if not wanted:
        return 0
    known = set(
        PartnerConflict.objects.filter(
            request=ticket, filing_ref__in={c.filing_ref for c in wanted.values()}
        ).values_list("work_id", "item_id", "filing_ref")
    )
    new = [c for key, c in sorted(wanted.items()) if key not in known]
    PartnerConflict.objects.bulk_create(
        [
            PartnerConflict(
                request=ticket,
                work_id=c.work_id,
                item_id=c.item_id,
                filing_ref=c.filing_ref,
                partner=c.partner,
                creator_id=c.creator_id,
            )
            for c in new
        ],
        ignore_conflicts=True,  # a concurrent submission of the same request recorded them first
    )
    per_filing = Counter(c.filing_ref for c in new)
    partners = {c.filing_ref: c.partner for c in new}
    for filing_ref, count in sorted(per_filing.items()):
        _event(
            ticket,
            kind=EventKind.CONFLICT,
            actor=None,
            new="partner",
            params={
                "text": "partner_conflict_found",
                "count": count,
                "partner": partners[filing_ref],
                "filing": filing_ref,
            },
        )
    return len(new)


def partner_conflict_resolve(
    *, ticket: RemovalRequest, filing_ref: str, moderator: User, resolution: str, note: str
) -> int:
    """A moderator decides who owns the works the request and the partner's filing both claim.

    Every open conflict of the request with that filing is resolved. An approved request gets the
    works they held approved now (their removals recorded in this transaction) when the artist
    owns them or both may ask, unless another conflict still holds them, or dropped when the
    partner's creator owns them. Returns how many conflicts were resolved.
    """
    if resolution not in (
        PartnerConflictResolution.ARTIST,
        PartnerConflictResolution.PARTNER,
        PartnerConflictResolution.BOTH,
    ):
        raise ActionRefused(_("Choose who owns the works, or that it is not a conflict."))
    note = note.strip()
    if not note:
        raise ActionRefused(_("Write down why: the next moderator will read it."))
    with transaction.atomic():
        ticket = _locked(ticket)  # the request's lock orders two moderators (and its approval)
        conflicts = PartnerConflict.objects.select_for_update().filter(
            request=ticket, filing_ref=filing_ref, resolution=PartnerConflictResolution.OPEN
        )
        rows = list(conflicts.order_by("pk"))
        if not rows:
            raise ActionRefused(_("This conflict was resolved already; reload the page."))
        now = timezone.now()
        PartnerConflict.objects.filter(pk__in=[c.pk for c in rows]).update(
            resolution=resolution, resolved_by=moderator, resolved_at=now, note=note
        )
        _event(
            ticket,
            kind=EventKind.CONFLICT,
            actor=moderator,
            old="open",
            new=resolution,
            params={
                "text": "partner_conflict_resolved",
                "verdict": resolution,
                "partner": rows[0].partner,
                "filing": filing_ref,
                "count": len(rows),
                "note": note,
            },
        )
        if ticket.status in REACHES_REGISTRY:
            _held_settle(ticket, {c.work_id for c in rows}, resolution, moderator)
    return len(rows)


def partner_filings_revoked(*, filing_refs: Sequence[str], actor: User | None) -> int:
    """The partners' desk revoked these filings: their removals no longer stand against the works
    of artists' requests, so every open conflict with them is closed as withdrawn (who revoked,
    when, on the request's internal timeline) and an approved request gets the works they held
    approved now, unless another conflict still holds them: what a moderator resolving for the
    artist does. Called inside the revocation's transaction, before the filings are locked (the
    requests first, as a submission locks its request before the filings). Returns how many
    conflicts were closed."""
    if not filing_refs:
        return 0
    open_ones = PartnerConflict.objects.filter(
        filing_ref__in=list(filing_refs), resolution=PartnerConflictResolution.OPEN
    )
    closed = 0
    for request_id in sorted(set(open_ones.values_list("request_id", flat=True))):
        ticket = _locked(RemovalRequest(pk=request_id))
        rows = list(open_ones.filter(request=ticket).select_for_update().order_by("pk"))
        if not rows:
            continue  # closed meanwhile
        now = timezone.now()
        PartnerConflict.objects.filter(pk__in=[c.pk for c in rows]).update(
            resolution=PartnerConflictResolution.WITHDRAWN, resolved_by=actor, resolved_at=now,
            note="The partner's filing was revoked.",
        )  # fmt: skip
        per_filing: dict[str, list[PartnerConflict]] = defaultdict(list)
        for conflict in rows:
            per_filing[conflict.filing_ref].append(conflict)
        for filing_ref, conflicts in sorted(per_filing.items()):
            _event(
                ticket,
                kind=EventKind.CONFLICT,
                actor=actor,
                old="open",
                new=PartnerConflictResolution.WITHDRAWN,
                params={
                    "text": "partner_conflict_withdrawn",
                    "partner": conflicts[0].partner,
                    "filing": filing_ref,
                    "count": len(conflicts),
                },
            )
        if ticket.status in REACHES_REGISTRY:
            _held_settle(ticket, {c.work_id for c in rows}, PartnerConflictResolution.WITHDRAWN, actor)
        closed += len(rows)
    return closed


def _held_settle(ticket: RemovalRequest, work_ids: set[int], resolution: str, moderator: User | None) -> None:
    approval.held_works_settle(
        ticket=ticket,
        touched=ticket.works.filter(pk__in=work_ids, decision=WorkDecision.HELD),
        owner=resolution != PartnerConflictResolution.PARTNER,
        moderator=moderator,
    )
