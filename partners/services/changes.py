"""A partner's change of choice, applied when the row that states it is decided.

A row naming a row the partner filed before (the same creator, work and hashes) with another
choice is stored pending, pointing at that row (`duplicate_of`). It is decided as any row of its
filing: after the filing's sample, by the policy when it would approve the row (the partner
active, the policy on, the work URL on a verified domain, hashes present), or else by the desk.
Only then is the earlier row restated (its removals or grants revoked, the new ones recorded), so
a filing held by its sample, failed, refused or revoked changes nothing that was approved.

Meanwhile the creator, having claimed their account, may choose for the earlier row themselves
(services.claim_choice). Their choice names the changes then pending (`set_aside` in its audit
row) and those are never applied: the creator spoke after the partner did, and the partner's
change deciding later must not undo what the creator chose.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet

from registry.preferences import Consent

from ..models import (
    CreatorClaim,
    Filing,
    FilingRow,
    FilingRowLicence,
    PartnerAction,
    PartnerActionKind,
    RowChoice,
    RowState,
)
from .audit import partner_action_record

PARTNER_CHANGED_CHOICE = "The partner filed another choice for this work."
# A change row not decided yet: stored, in its filing's sample, or waiting for the desk.
CHANGE_UNDECIDED = (RowState.PENDING, RowState.SAMPLED, RowState.WAITING, RowState.CONFLICT)


@dataclass(frozen=True)
class PendingChange:
    """A partner's change of a row's choice that is not decided yet, as its creator reads it."""

    row_id: int
    consent: Consent
    sent_at: datetime  # when its filing was sent


def change_consent(row: FilingRow) -> Consent:
    """What a change row says: its choice, and a licence's terms stored beside it."""
    if row.choice == RowChoice.LICENCE:
        terms = FilingRowLicence.objects.filter(row=row).first()
        if terms is not None:
            return Consent(RowChoice.LICENCE, terms.licence, terms.licence_url, terms.attribution)
    return Consent(row.choice or RowChoice.REMOVE)


def _choices_of(claim_ids: Sequence[int]) -> QuerySet[PartnerAction]:
    """The creator's own choices made on these claims that set changes aside: the claim's audit
    rows, read by their object (an index), a few per claim, never the partner's whole trail."""
    return PartnerAction.objects.filter(
        object_type="claim",
        object_id__in=claim_ids,
        kind=PartnerActionKind.ROW_CHOICE_CHANGED,
        detail__has_key="set_aside",
    )


def change_set_aside(change: FilingRow) -> bool:
    """Whether the creator set the change row `change` aside: chose for the row it changes while
    it was not decided yet.

    The change row names the same partner and creator as the row it changes. Any claim of that
    creator counts (claims.creator_key: the id in lower case), the verified one or an earlier one."""
    return change.pk in changes_set_aside([change])


def changes_set_aside(changes: Sequence[FilingRow]) -> set[int]:
    """The pks of `changes` (change rows) their creator set aside (see change_set_aside), in two
    reads for the whole batch: the creators' claims, then those claims' choices."""
    if not changes:
        return set()
    creators = {(row.partner_id, row.creator_id.lower()) for row in changes}
    claim_of: dict[int, tuple[int, str]] = {}
    for partner_id in {partner for partner, _ in creators}:
        keys = [key for partner, key in creators if partner == partner_id]
        claims = CreatorClaim.objects.filter(partner_id=partner_id, creator_key__in=keys)
        for pk, key in claims.values_list("pk", "creator_key"):
            claim_of[pk] = (partner_id, key)
    if not claim_of:
        return set()
    said: set[tuple[int, str, int, int]] = set()  # (partner, creator, earlier row, change row)
    choices = _choices_of(list(claim_of)).values_list("object_id", "detail__row", "detail__set_aside")
    for claim_id, row_id, aside in choices:
        partner_id, key = claim_of[int(claim_id)]
        said.update((partner_id, key, int(row_id), int(change)) for change in aside or ())
    return {
        row.pk
        for row in changes
        if row.duplicate_of_id is not None
        and (row.partner_id, row.creator_id.lower(), row.duplicate_of_id, row.pk) in said
    }


def changes_pending(claim: CreatorClaim, row_ids: Iterable[int]) -> dict[int, list[PendingChange]]:
    """The partner's changes not decided yet of each of `row_ids`, rows of `claim` (keyed by the
    row they change), oldest first; those its creator set aside by choosing after them are left out."""
    row_ids = list(row_ids)
    if not row_ids:
        return {}
    rows = list(
        FilingRow.objects.filter(duplicate_of_id__in=row_ids, state__in=CHANGE_UNDECIDED)
        .select_related("filing")
        .order_by("pk")
    )
    if not rows:
        return {}
    aside: set[int] = set()
    for ids in _choices_of([claim.pk]).values_list("detail__set_aside", flat=True):
        aside.update(ids)
    terms = {t.row_id: t for t in FilingRowLicence.objects.filter(row_id__in=[row.pk for row in rows])}
    out: dict[int, list[PendingChange]] = defaultdict(list)
    for row in rows:
        if row.pk in aside or row.duplicate_of_id is None:
            continue
        term = terms.get(row.pk) if row.choice == RowChoice.LICENCE else None
        consent = (
            Consent(RowChoice.LICENCE, term.licence, term.licence_url, term.attribution)
            if term is not None
            else Consent(row.choice or RowChoice.REMOVE)
        )
        out[row.duplicate_of_id].append(PendingChange(row.pk, consent, row.filing.created_at))
    return dict(out)


def changes_apply(
    *, filing: Filing, rows: Sequence[FilingRow], actor: User | None, by: str, now: datetime
) -> int:
    """Restate the earlier row of each change row (the caller holds the filing's and partner's
    locks); each change row is then a `duplicate` naming what it did. A lifted or declined earlier
    row keeps what it is: its creator or the desk had the last word. The changes made."""
    from .claim_choice import row_choice_restate  # claim_choice -> approval -> changes

    made = 0
    earlier = FilingRow.objects.select_related("filing", "partner").select_for_update(of=("self",))
    aside = changes_set_aside(rows)  # for the batch at once, not two reads a row
    for row in rows:
        assert row.duplicate_of_id is not None  # a change row names the row it changes
        held = earlier.get(pk=row.duplicate_of_id)
        consent = change_consent(row)
        if held.lifted_at is not None or held.state == RowState.DECLINED:
            note = "; not applied: the earlier row was lifted by its creator or declined by the desk"
        elif row.pk in aside:
            note = "; not applied: the creator of the earlier row chose for it after this change was sent"
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
