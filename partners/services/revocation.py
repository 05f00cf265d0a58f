"""Moderators take back what a partner filed: a filing's removals, or (with the partner suspended)
every filing's, revoked in one action through registry's set-based revocation, audited.

Maintainers read a fixed reason with each revoked removal; the moderator's own words stay in
the partner's audit trail (they may name what only the desk should read).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from core import clock
from registry.services import GrantSelection, RemovalQuery, licence_grants_revoke, removals_revoke
from requests_app import services as request_services

from ..models import Filing, Partner, PartnerActionKind
from .audit import partner_action_record
from .partners import PartnerError, partner_suspend

# What maintainers read (Removal.revoked_reason): a partner's filing withdrawn by the desk.
REVOKED_BY_DESK = "Revoked by Removal Desk's moderators: the partner's filing was withdrawn."


@dataclass(frozen=True)
class Revoked:
    """What a revocation did: filings newly revoked, removals revoked, events written."""

    filings: int
    removals: int
    events: int


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise PartnerError("Say why: the reason is kept in the partner's audit trail.")
    return reason


@transaction.atomic
def filing_revoke(*, filing: Filing, reason: str, actor: User | None = None) -> Revoked:
    """Revoke every removal of the filing and stop its policy approving more of its rows.

    The filing's row is locked first, as a chunk being decided locks it: a chunk in progress
    finishes before, and the chunks after it approve nothing. Revoking a filing again changes
    nothing and writes no audit row. The artists' requests its conflicts held are locked before it
    (a submission locks its request, then the filings) and their held works released.
    """
    reason = _reason(reason)
    if Filing.objects.filter(pk=filing.pk, revoked_at__isnull=False).exists():
        return Revoked(filings=0, removals=0, events=0)
    released = request_services.partner_filings_revoked(filing_refs=[filing.public_id], actor=actor)
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    if locked.revoked_at is not None:
        return Revoked(filings=0, removals=0, events=0)
    locked.revoked_at, locked.revoked_reason = clock.now(), reason
    locked.save(update_fields=["revoked_at", "revoked_reason"])
    summary = removals_revoke(removals=RemovalQuery.of_sources([locked.public_id]), why=REVOKED_BY_DESK)
    # What the filing's licence rows granted is taken back with its removals.
    grants = licence_grants_revoke(
        grants=GrantSelection(source_ref=locked.public_id, whole_source=True), why=REVOKED_BY_DESK
    )
    partner_action_record(
        actor=actor,
        kind=PartnerActionKind.FILING_REVOKED,
        obj=locked,
        detail={
            "reason": reason,
            "removals": summary.count,
            "events": summary.events,
            **({"grants": grants} if grants else {}),
            **({"artists_conflicts_withdrawn": released} if released else {}),
        },
    )
    return Revoked(filings=1, removals=summary.count, events=summary.events)


@transaction.atomic
def partner_suspend_and_revoke(*, partner: Partner, reason: str, actor: User | None = None) -> Revoked:
    """Suspend the partner and revoke the removals of all its filings, in one transaction and one
    UPDATE of the removals. The filings are locked before the partner, in the order a chunk being
    decided takes them (filing, then partner), so the two never wait on each other."""
    reason = _reason(reason)
    refs = Filing.objects.filter(partner=partner, revoked_at__isnull=True).values_list("public_id", flat=True)
    released = request_services.partner_filings_revoked(filing_refs=list(refs), actor=actor)
    filings = list(
        Filing.objects.select_for_update().filter(partner=partner, revoked_at__isnull=True).order_by("pk")
    )
    partner_suspend(partner=partner, reason=reason, actor=actor)
    if filings:
        Filing.objects.filter(pk__in=[f.pk for f in filings]).update(
            revoked_at=clock.now(), revoked_reason=reason
        )
    summary = removals_revoke(
        removals=RemovalQuery.of_sources([f.public_id for f in filings]), why=REVOKED_BY_DESK
    )
    partner_action_record(
        actor=actor,
        kind=PartnerActionKind.PARTNER_REVOKED,
        obj=partner,
        detail={
            "reason": reason,
            "filings": [f.public_id for f in filings][:1000],
            "filing_count": len(filings),
            "removals": summary.count,
            "events": summary.events,
        }
        | ({"artists_conflicts_withdrawn": released} if released else {}),
    )
    return Revoked(filings=len(filings), removals=summary.count, events=summary.events)
