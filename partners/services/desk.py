"""The moderators' desk for partners' rows: approve or decline rows the policy left to a person
(waiting, or in conflict with an artist's request), and mark a filing's sampled rows good or bad.

Each decision locks the rows' filings and partners (in id order, as the policy's chunks lock
them), writes what it decides in one transaction and one PartnerAction per filing naming the
moderator. Approval records the removals through the same writer as the policy's approvals
(approval.rows_removals_record), so a removal approved by a person and one approved by a policy
look the same to maintainers.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from core import clock
from core.queueing import enqueue

from ..choices import in_english
from ..models import (
    DESK_STATES,
    Filing,
    FilingRow,
    FilingRowMatch,
    Partner,
    PartnerActionKind,
    RowState,
    SampleMark,
    SampleState,
)
from .approval import rows_removals_record
from .audit import partner_action_record
from .changes import changes_apply
from .sampling import SampleError, filing_sample_fail, filing_sample_pass

DECIDABLE = (RowState.WAITING, RowState.CONFLICT)


class DeskError(ValueError):
    """A desk decision that cannot be made; the message says why, for the moderator."""


@dataclass
class DeskResult:
    decided: int = 0
    removals: int = 0
    skipped: list[str] = field(default_factory=list)  # why some selected rows were left alone
    samples: list[str] = field(default_factory=list)  # samples passed or failed by the marks


def _locked_rows(row_ids: Iterable[int]) -> tuple[dict[int, Filing], dict[int, Partner], list[FilingRow]]:
    ids = sorted(set(row_ids))
    filing_ids = sorted(set(FilingRow.objects.filter(pk__in=ids).values_list("filing_id", flat=True)))
    filings = {f.pk: f for f in Filing.objects.select_for_update().filter(pk__in=filing_ids).order_by("pk")}
    partner_ids = sorted({f.partner_id for f in filings.values()})
    partners = {
        p.pk: p for p in Partner.objects.select_for_update().filter(pk__in=partner_ids).order_by("pk")
    }
    rows = list(FilingRow.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    return filings, partners, rows


def _indices(rows: list[FilingRow]) -> list[int]:
    return sorted(row.index for row in rows)[:1000]


@transaction.atomic
def rows_approve(*, row_ids: Iterable[int], actor: User | None, note: str = "") -> DeskResult:
    """Approve rows for the partner: a removal of every item each matched (rows that matched
    nothing are `unmatched`), a conflict with an artist's request decided for the partner.

    Sampled rows are judged by their marks, never approved one by one; a suspended partner's rows
    are approved by nobody until it is reinstated.
    """
    filings, partners, rows = _locked_rows(row_ids)
    result = DeskResult()
    now = clock.now()
    chosen: dict[int, list[FilingRow]] = defaultdict(list)
    for row in rows:
        partner = partners[filings[row.filing_id].partner_id]
        if row.state not in DECIDABLE:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: {in_english(row.get_state_display)}"
            )
        elif row.matched_at is None:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: not matched yet; try again in a minute"
            )
        elif not partner.is_active:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: {partner.name} is suspended"
            )
        elif filings[row.filing_id].revoked_at is not None:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: the filing's removals were revoked"
            )
        elif row.lifted_at is not None:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: its creator lifted it"
            )
        else:
            chosen[row.filing_id].append(row)
    items: dict[int, set[int]] = defaultdict(set)
    for row_id, item_id in FilingRowMatch.objects.filter(
        row_id__in=[r.pk for group in chosen.values() for r in group]
    ).values_list("row_id", "item_id"):
        items[row_id].add(item_id)
    for filing_id, group in sorted(chosen.items()):
        filing = filings[filing_id]
        partner = partners[filing.partner_id]
        # A row changing the choice of a row filed before: approving it applies the change.
        changes = [r for r in group if r.duplicate_of_id is not None]
        if changes:
            changes_apply(filing=filing, rows=changes, actor=actor, by="desk", now=now)
            group = [r for r in group if r.duplicate_of_id is None]
            result.decided += len(changes)
            if not group:
                continue
        recorded = rows_removals_record(
            filing=filing,
            partner=partner,
            rows_items=[(row, items.get(row.pk, set())) for row in group],
            approved_at=now,
        )
        with_items = [r.pk for r in group if items.get(r.pk)]
        without = [r.pk for r in group if not items.get(r.pk)]
        for state, pks in ((RowState.APPROVED, with_items), (RowState.UNMATCHED, without)):
            if pks:
                FilingRow.objects.filter(pk__in=pks).update(
                    state=state, decided_at=now, decided_by=actor, decision_reason=note
                )
        partner_action_record(
            actor=actor,
            kind=PartnerActionKind.ROWS_APPROVED_BY_DESK,
            obj=filing,
            detail={
                "rows": len(group),
                "indices": _indices(group),
                "conflicts_overruled": sum(1 for r in group if r.state == RowState.CONFLICT),
                "removals": recorded,
                "note": note,
            },
        )
        result.decided += len(group)
        result.removals += recorded
    return result


@transaction.atomic
def rows_decline(*, row_ids: Iterable[int], actor: User | None, reason: str) -> DeskResult:
    """Decline rows: nothing is removed for them; the reason is kept on each row and in the audit."""
    reason = reason.strip()
    if not reason:
        raise DeskError("Say why the rows are declined: the reason is kept with them and in the audit trail.")
    filings, _partners, rows = _locked_rows(row_ids)
    result = DeskResult()
    now = clock.now()
    chosen: dict[int, list[FilingRow]] = defaultdict(list)
    for row in rows:
        if row.state in DECIDABLE:
            chosen[row.filing_id].append(row)
        else:
            result.skipped.append(
                f"{filings[row.filing_id].public_id} row {row.index}: {in_english(row.get_state_display)}"
            )
    for filing_id, group in sorted(chosen.items()):
        FilingRow.objects.filter(pk__in=[r.pk for r in group]).update(
            state=RowState.DECLINED, decided_at=now, decided_by=actor, decision_reason=reason
        )
        partner_action_record(
            actor=actor,
            kind=PartnerActionKind.ROWS_DECLINED_BY_DESK,
            obj=filings[filing_id],
            detail={"rows": len(group), "indices": _indices(group), "reason": reason},
        )
        result.decided += len(group)
    return result


@transaction.atomic
def rows_image_retry(*, row_ids: Iterable[int], actor: User | None) -> DeskResult:
    """Fetch again the images of desk rows whose fetch failed (a server that was down for longer
    than the worker's few tries): their error is cleared and the worker fetches, hashes and
    matches them again (partners.tasks.filing_evidence); they stay on the desk."""
    filings, _partners, rows = _locked_rows(row_ids)
    result = DeskResult()
    chosen: dict[int, list[FilingRow]] = defaultdict(list)
    for row in rows:
        if row.state in (*DECIDABLE, RowState.SAMPLED) and row.error_field == "image_url":
            chosen[row.filing_id].append(row)
        else:
            why = (
                "its image was not refused" if row.state in DESK_STATES else in_english(row.get_state_display)
            )
            result.skipped.append(f"{filings[row.filing_id].public_id} row {row.index}: {why}")
    for filing_id, group in sorted(chosen.items()):
        FilingRow.objects.filter(pk__in=[r.pk for r in group]).update(
            error_field="", error="", image_fetched_at=None, image_attempts=0, matched_at=None
        )
        partner_action_record(
            actor=actor,
            kind=PartnerActionKind.IMAGES_FETCHED_AGAIN,
            obj=filings[filing_id],
            detail={"rows": len(group), "indices": _indices(group)},
        )
        transaction.on_commit(functools.partial(filing_evidence_enqueue, filing_id))
        result.decided += len(group)
    return result


def sample_rows_mark(*, row_ids: Iterable[int], actor: User | None, mark: str, note: str = "") -> DeskResult:
    """Mark sampled rows good or bad (a bad mark needs a note). Once every sampled row of a filing
    is marked, its sample passes when all are good and fails when one is bad, as if the moderator
    had passed or failed it whole (filing_sample_pass / filing_sample_fail)."""
    if mark not in (SampleMark.GOOD, SampleMark.BAD):
        raise DeskError("Mark the sampled rows good or bad.")
    note = note.strip()
    if mark == SampleMark.BAD and not note:
        raise DeskError("Say what is wrong with the rows marked bad: the note is kept in the audit trail.")
    result = DeskResult()
    with transaction.atomic():
        filings, _partners, rows = _locked_rows(row_ids)
        chosen: dict[int, list[FilingRow]] = defaultdict(list)
        for row in rows:
            filing = filings[row.filing_id]
            if row.state != RowState.SAMPLED or filing.sample_state != SampleState.PENDING:
                result.skipped.append(
                    f"{filing.public_id} row {row.index}: not in a sample waiting for the desk"
                )
            else:
                chosen[row.filing_id].append(row)
        now = clock.now()
        for filing_id, group in sorted(chosen.items()):
            FilingRow.objects.filter(pk__in=[r.pk for r in group]).update(
                sample_mark=mark, decided_by=actor, decision_reason=note, decided_at=now
            )
            partner_action_record(
                actor=actor,
                kind=PartnerActionKind.SAMPLE_ROWS_MARKED,
                obj=filings[filing_id],
                detail={"mark": mark, "rows": len(group), "indices": _indices(group), "note": note},
            )
            result.decided += len(group)
    for filing_id in sorted(chosen):
        verdict = _sample_settle(filing=filings[filing_id], actor=actor)
        if verdict:
            result.samples.append(verdict)
    return result


def sample_fail(*, filing: Filing, actor: User | None, reason: str) -> Filing:
    """Fail a filing's sample; its rows, all waiting for the desk now, are matched by the worker so
    that the desk shows what each names (they were never matched: the sample held them)."""
    with transaction.atomic():
        failed = filing_sample_fail(filing=filing, actor=actor, reason=reason)
        filing_id = failed.pk
        transaction.on_commit(lambda: filing_evidence_enqueue(filing_id))
    return failed


def filing_evidence_enqueue(filing_id: int) -> None:
    enqueue(
        "partners.tasks.filing_evidence",
        filing_id,
        fallback="the rows are matched for the desk when the filing is resumed",
    )


def _sample_settle(*, filing: Filing, actor: User | None) -> str:
    """Pass or fail the filing's sample once every sampled row is marked; "" while some are not
    (or when another moderator's last mark settled it first)."""
    try:
        return _sample_verdict(filing=filing, actor=actor)
    except SampleError:
        return ""


def _sample_verdict(*, filing: Filing, actor: User | None) -> str:
    sampled = FilingRow.objects.filter(filing=filing, state=RowState.SAMPLED)
    marks = list(sampled.values_list("sample_mark", flat=True))
    if not marks or SampleMark.NONE in marks:
        return ""
    bad = marks.count(SampleMark.BAD)
    if bad:
        notes = sorted(
            set(
                sampled.filter(sample_mark=SampleMark.BAD)
                .exclude(decision_reason="")
                .values_list("decision_reason", flat=True)
            )
        )
        reason = f"{bad} of {len(marks)} sampled rows marked bad: " + "; ".join(notes)[:2000]
        sample_fail(filing=filing, actor=actor, reason=reason)
        return (
            f"Filing {filing.public_id}: sample failed ({bad} of {len(marks)} rows bad); every row waits for "
            "the desk."
        )
    filing_sample_pass(filing=filing, actor=actor)
    return f"Filing {filing.public_id}: sample passed ({len(marks)} rows good); the policy decides it now."
