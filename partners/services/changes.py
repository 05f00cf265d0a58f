"""A partner's change of choice, applied when the row that states it is decided.

A row naming a row the partner filed before (the same creator, work and hashes) with another
choice is stored pending, pointing at that row (`duplicate_of`). It is decided as any row of its
filing: after the filing's sample, by the policy when it would approve the row (the partner
active, the policy on, the work URL on a verified domain, hashes present), or else by the desk.
Only then is the earlier row restated (its removals or grants revoked, the new ones recorded), so
a filing held by its sample, failed, refused or revoked changes nothing that was approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User

from registry.preferences import Consent

from ..models import Filing, FilingRow, FilingRowLicence, PartnerActionKind, RowChoice, RowState
from .audit import partner_action_record

PARTNER_CHANGED_CHOICE = "The partner filed another choice for this work."


def change_consent(row: FilingRow) -> Consent:
    """What a change row says: its choice, and a licence's terms stored beside it."""
    if row.choice == RowChoice.LICENCE:
        terms = FilingRowLicence.objects.filter(row=row).first()
        if terms is not None:
            return Consent(RowChoice.LICENCE, terms.licence, terms.licence_url, terms.attribution)
    return Consent(row.choice or RowChoice.REMOVE)


def changes_apply(
    *, filing: Filing, rows: Sequence[FilingRow], actor: User | None, by: str, now: datetime
) -> int:
    """Restate the earlier row of each change row (the caller holds the filing's and partner's
    locks); each change row is then a `duplicate` naming what it did. A lifted or declined earlier
    row keeps what it is: its creator or the desk had the last word. The changes made."""
    from .claim_choice import row_choice_restate  # claim_choice -> approval -> changes

    made = 0
    earlier = FilingRow.objects.select_related("filing", "partner").select_for_update(of=("self",))
    for row in rows:
        assert row.duplicate_of_id is not None  # a change row names the row it changes
        held = earlier.get(pk=row.duplicate_of_id)
        consent = change_consent(row)
        if held.lifted_at is not None or held.state == RowState.DECLINED:
            note = "; not applied: the earlier row was lifted by its creator or declined by the desk"
        else:
            old = held.choice or RowChoice.REMOVE
            done = row_choice_restate(row=held, consent=consent, why=PARTNER_CHANGED_CHOICE)
            note = "; applied"
            made += 1
            partner_action_record(
                actor=actor,
                kind=PartnerActionKind.ROW_CHOICE_CHANGED,
                obj=filing,
                detail={
                    "row": held.pk,
                    "filing": held.filing.public_id,
                    "by": by,
                    "change_row": row.index,
                    "old": old,
                    "new": consent.choice,
                    "new_licence": consent.licence,
                    "revoked": done.revoked,
                    "removed": done.removed,
                    "granted": done.granted,
                },
            )
        FilingRow.objects.filter(pk=row.pk).update(
            state=RowState.DUPLICATE,
            decided_at=now,
            decided_by=actor,
            error=(row.error + note)[:2000],
        )
        row.state = RowState.DUPLICATE
    return made
