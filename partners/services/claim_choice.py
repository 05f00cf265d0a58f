"""A claimed creator changes the choice a partner filed for one of their works (remove, search
only, licence), as an artist changes a work's choice on their own request
(requests_app.services.consent).

A row not decided yet only stores the new choice: it is decided with it. An approved row has its
statement restated at the registry in one transaction: what it said is revoked (its removals,
through registry's revocation writer, or its licence grants; signed `removal.revoked` /
`licence.revoked` events) and what it says now is recorded through the policy's own writer
(approval.rows_removals_record: new removals or grants, `removal.approved` / `licence.granted`),
so the events follow in the order things happened. Each change is a PartnerAction row (the
claim's history, beside the lifts) with the old and new choice and the counts.

A change of choice the partner sent for the row and that is not decided yet (services.changes)
is set aside by the creator's choice, even one that keeps what the row says: the creator chose
after the partner, so their choice stands and the partner's change, decided later, is not
applied. The audit row names the changes set aside (`set_aside`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from registry.models import Removal, RemovalState
from registry.preferences import Choice, Consent, ConsentError, consent_clean
from registry.services import RemovalQuery, removals_revoke

from ..models import (
    CreatorClaim,
    FilingRow,
    FilingRowItem,
    FilingRowLicence,
    PartnerActionKind,
    RowChoice,
    RowState,
)
from .approval import rows_grants_record, rows_removals_record
from .audit import partner_action_record
from .changes import changes_pending
from .claims import ClaimError, claim_rows, rows_grants_revoke

CHANGED_BY_CREATOR = "The creator, who claimed their account on Removal Desk, changed their choice."


@dataclass(frozen=True)
class RowChoiceResult:
    changed: bool
    revoked: int = 0
    removed: int = 0
    granted: int = 0
    set_aside: int = 0  # the partner's changes not decided yet that will not be applied


def row_consent(row: FilingRow) -> Consent:
    """What the row says now (a row stored before choices existed is a removal)."""
    choice = row.choice or RowChoice.REMOVE
    if choice != RowChoice.LICENCE:
        return Consent(choice=choice)
    term = FilingRowLicence.objects.filter(row=row).first()
    if term is None:
        return Consent(choice=choice)
    return Consent(choice, term.licence, term.licence_url, term.attribution)


def _store(row: FilingRow, consent: Consent) -> None:
    row.choice = consent.choice
    row.save(update_fields=["choice"])
    if consent.choice == Choice.LICENCE:
        FilingRowLicence.objects.update_or_create(
            row=row,
            defaults={
                "licence": consent.licence,
                "licence_url": consent.licence_url,
                "attribution": consent.attribution,
            },
        )
    else:
        FilingRowLicence.objects.filter(row=row).delete()


def _removals_revoke(row: FilingRow, items: list[int], why: str) -> int:
    """Revoke the row's live removals: of its items under its filing, unless another row of the
    filing that is not lifted removes the same item."""
    others = FilingRowItem.objects.filter(
        item_id__in=items, row__filing_id=row.filing_id, row__lifted_at__isnull=True
    ).exclude(row_id=row.pk)
    still = set(others.exclude(row__choice=RowChoice.LICENCE).values_list("item_id", flat=True))
    ids = list(
        Removal.objects.filter(source_ref=row.filing.public_id, item_id__in=sorted(set(items) - still))
        .exclude(state=RemovalState.REVOKED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    return removals_revoke(removals=RemovalQuery.of_ids(ids), why=why).count


def row_choice_restate(*, row: FilingRow, consent: Consent, why: str) -> RowChoiceResult:
    """Give `row` the choice `consent` (a change: the caller compared, and holds the row's lock).

    An approved row's statement is restated at the registry: its removals or grants revoked (told
    with `why`), then the new ones recorded; a row not decided yet only stores it."""
    old = row_consent(row)
    if row.state != RowState.APPROVED:
        _store(row, consent)
        return RowChoiceResult(changed=True)
    items = sorted(FilingRowItem.objects.filter(row=row).values_list("item_id", flat=True))
    if old.is_removal:
        revoked = _removals_revoke(row, items, why)
    else:
        revoked = rows_grants_revoke(row_ids=[row.pk], why=why)
    _store(row, consent)
    # The row's item links stand (they were written at approval): only the statement is new.
    rows_items = [(row, set(items))]
    if consent.is_removal:
        removed = rows_removals_record(
            filing=row.filing, partner=row.partner, rows_items=rows_items, approved_at=clock.now()
        )
        return RowChoiceResult(changed=True, revoked=revoked, removed=removed)
    granted = rows_grants_record(filing=row.filing, partner=row.partner, rows_items=rows_items)
    return RowChoiceResult(changed=True, revoked=revoked, granted=granted)


@transaction.atomic
def claim_row_choice_set(
    *,
    claim: CreatorClaim,
    user: User,
    row_id: int,
    choice: str,
    licence: str = "",
    licence_url: str = "",
    attribution: str = "",
) -> RowChoiceResult:
    """Set the choice of one row of the claim (ClaimError with a message a person can act on)."""
    try:
        consent = consent_clean(
            choice=choice, licence=licence, licence_url=licence_url, attribution=attribution
        )
    except ConsentError as exc:
        raise ClaimError(exc.message) from None
    locked = CreatorClaim.objects.select_for_update().get(pk=claim.pk)
    if not locked.verified or locked.user_id != user.pk:
        raise ClaimError(_("Only the account that claimed this creator can change what was filed."))
    row = (
        claim_rows(locked)
        .filter(pk=row_id)
        .select_related("filing", "partner")
        .select_for_update(of=("self",))
        .first()
    )
    if row is None:
        raise ClaimError(_("This work is not among those filed for you."))
    if row.lifted_at is not None:
        raise ClaimError(_("This work was lifted: nothing filed for it stands any more."))
    if row.state in (RowState.REJECTED, RowState.DUPLICATE, RowState.DECLINED):
        raise ClaimError(_("Nothing was recorded for this row, so there is no choice to change."))
    old = row_consent(row)
    # Read under the row's lock, which services.changes takes before applying a change.
    pending = [change.row_id for change in changes_pending(locked, [row.pk]).get(row.pk, [])]
    if old == consent and not pending:
        return RowChoiceResult(changed=False)
    if old == consent:
        result = RowChoiceResult(changed=False, set_aside=len(pending))
    else:
        done = row_choice_restate(row=row, consent=consent, why=CHANGED_BY_CREATOR)
        result = RowChoiceResult(True, done.revoked, done.removed, done.granted, len(pending))
    detail = {
        "creator_id": locked.creator_id,
        "row": row.pk,
        "filing": row.filing.public_id,
        "old": old.choice,
        "old_licence": old.licence,
        "new": consent.choice,
        "new_licence": consent.licence,
        "revoked": result.revoked,
        "removed": result.removed,
        "granted": result.granted,
    }
    if pending:
        detail["set_aside"] = pending
    partner_action_record(actor=user, kind=PartnerActionKind.ROW_CHOICE_CHANGED, obj=locked, detail=detail)
    return result
