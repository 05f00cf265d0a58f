"""Deciding a filing's rows: matched in chunks, approved by the partner's policy or left to the desk.

A worker claims the filing (a stale heartbeat lets another take it over), then decides its
pending rows CHUNK at a time, each chunk one transaction that records the removals, marks the
rows and moves the filing's cursor: a run that dies resumes after its last committed chunk, and
a chunk decided twice records nothing twice (removals are unique per source and item).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from core import clock
from registry.models import RemovalSource
from registry.services import ItemQuery, removals_write

from ..models import Filing, FilingPolicy, FilingRow, FilingState, Partner, PartnerActionKind, RowState
from .audit import partner_action_record
from .filings import Served
from .matching import rows_match
from .sampling import filing_sample_hold

# Rows decided per transaction. The matcher's index join costs about the same per row from a few
# hundred rows a batch on (140-150 us at 10 million items, bench/bulk_match.py), and a chunk of
# 5,000 or 10,000 decided no faster than 1,000 (bench/partner_filing.py), while holding the
# partner's lock longer: 1,000 stays.
CHUNK = 1000
STALE_AFTER = timedelta(minutes=5)


def filing_claim(filing_id: int) -> Filing | None:
    """Take a queued filing, or one whose worker stopped beating. None if someone else has it."""
    now = clock.now()
    claimed = Filing.objects.filter(
        Q(state=FilingState.QUEUED) | Q(state=FilingState.MATCHING, heartbeat_at__lt=now - STALE_AFTER),
        pk=filing_id,
    ).update(state=FilingState.MATCHING, heartbeat_at=now)
    return Filing.objects.select_related("partner").get(pk=filing_id) if claimed else None


def filings_stale() -> list[int]:
    """Filings whose message was lost (queued a while) or whose worker died (no heartbeat)."""
    now = clock.now()
    return list(
        Filing.objects.filter(
            Q(state=FilingState.QUEUED, created_at__lt=now - STALE_AFTER)
            | Q(state=FilingState.MATCHING, heartbeat_at__lt=now - STALE_AFTER)
        ).values_list("pk", flat=True)[:100]
    )


def filing_run(filing: Filing, *, chunk: int = CHUNK) -> Filing:
    """Decide every pending row after the filing's cursor, a chunk per transaction; then complete it.

    A filing whose policy samples is held first, until a moderator passes or fails its sample.
    """
    if filing_sample_hold(filing=filing):
        return Filing.objects.get(pk=filing.pk)
    while filing_decide_chunk(filing=filing, chunk=chunk):
        pass
    return Filing.objects.get(pk=filing.pk)


@transaction.atomic
def filing_decide_chunk(*, filing: Filing, chunk: int = CHUNK) -> bool:
    """One chunk of pending rows: matched, then approved by policy or left waiting. False when none was left.

    The partner's row is locked: a suspension made meanwhile waits for this chunk, and the chunks
    after it see the partner suspended and approve nothing.
    """
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    partner = Partner.objects.select_for_update().get(pk=locked.partner_id)
    policy = FilingPolicy.objects.get(partner=partner)
    rows = list(
        FilingRow.objects.filter(filing=locked, state=RowState.PENDING, pk__gt=locked.cursor).order_by("pk")[
            :chunk
        ]
    )
    now = clock.now()
    if not rows:
        Filing.objects.filter(pk=locked.pk).update(
            state=FilingState.COMPLETED, finished_at=now, heartbeat_at=now
        )
        return False
    matches = rows_match(rows)
    served = Served.of(partner)
    automatic = partner.is_active and policy.auto_approve_verified_hashed
    approved: dict[str, set[int]] = defaultdict(set)  # basis -> items
    approved_rows = 0
    for row in rows:
        items = matches.get(row.pk, set())
        row.matched, row.decided_at = len(items), now
        row.on_verified_domain = served.covers(row.work_url)[1]
        has_hashes = row.phash is not None or row.pdq is not None
        if automatic and row.on_verified_domain and has_hashes:
            row.state = RowState.APPROVED if items else RowState.UNMATCHED
            approved[row.basis] |= items
            approved_rows += 1
        else:
            row.state = RowState.WAITING
    # One UPDATE per outcome (a handful per chunk): Django's bulk_update writes a CASE per row and
    # cost 2.8 s a chunk of 1,000 (bench/partner_filing.py's profile), more than the matching.
    outcomes: dict[tuple[str, int, bool], list[int]] = defaultdict(list)
    for row in rows:
        outcomes[(row.state, row.matched, row.on_verified_domain)].append(row.pk)
    for (state, matched, verified), pks in outcomes.items():
        FilingRow.objects.filter(pk__in=pks).update(
            state=state, matched=matched, on_verified_domain=verified, decided_at=now
        )
    recorded = 0
    if approved_rows:
        for basis, items in sorted(approved.items()):
            # Set-wise: one INSERT ... SELECT of the items, their events and outbox rows.
            summary = removals_write(
                source_ref=locked.public_id,
                reason=basis,
                items=ItemQuery.of_ids(sorted(items)),
                approved_at=now,
                source=RemovalSource.PARTNER,
                partner=partner.name,
            )
            recorded += summary.count
        partner_action_record(
            actor=None,
            kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY,
            obj=locked,
            detail={
                "policy": policy.pk,
                "settings": policy.settings_dict(),
                "rows": approved_rows,
                "rows_from": rows[0].index,
                "rows_to": rows[-1].index,
                "removals": recorded,
            },
        )
    Filing.objects.filter(pk=locked.pk).update(cursor=rows[-1].pk, heartbeat_at=now)
    return True
