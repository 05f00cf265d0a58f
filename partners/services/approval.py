"""Deciding a filing's rows: matched in chunks, approved by the partner's policy or left to the desk.

A worker claims the filing (a stale heartbeat lets another take it over), then decides its
pending rows CHUNK at a time, each chunk one transaction that records the removals, marks the
rows and moves the filing's cursor: a run that dies resumes after its last committed chunk, and
a chunk decided twice records nothing twice (removals are unique per source and item).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from core import clock
from core.stages import stage
from registry.models import RemovalSource
from registry.preferences import PREFERENCES, Consent
from registry.services import ItemQuery, licence_grants_record_items, removals_write

from ..models import (
    Filing,
    FilingPolicy,
    FilingRow,
    FilingRowItem,
    FilingRowLicence,
    FilingState,
    Partner,
    PartnerActionKind,
    RowChoice,
    RowState,
)
from .audit import partner_action_record
from .changes import changes_apply
from .conflicts import rows_conflicts
from .evidence import desk_rows_refresh, rows_evidence_store
from .filings import Served
from .images import images_prepare
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

    A filing whose policy samples is held first, until a moderator passes or fails its sample; its
    sampled rows (and, once a sample failed, all its rows) are matched meanwhile, so the desk
    shows what each names. Before each chunk, the
    images of rows that sent an image URL and no hashes are fetched and hashed (images_prepare),
    outside the chunk's transaction: the hashes are committed as they come, so a worker killed
    between the two fetches nothing twice, and a filing whose rows carry hashes fetches nothing.
    """
    if filing_sample_hold(filing=filing):
        desk_rows_refresh(filing=filing)
        return Filing.objects.get(pk=filing.pk)
    while True:
        with stage("images: rows needing one"):
            images_prepare(filing=filing, limit=chunk)
        with stage("chunk (all, with its commit)"):
            if not filing_decide_chunk(filing=filing, chunk=chunk):
                break
    return Filing.objects.get(pk=filing.pk)


def rows_removals_record(
    *,
    filing: Filing,
    partner: Partner,
    rows_items: Sequence[tuple[FilingRow, set[int]]],
    approved_at: datetime,
) -> int:
    """Record the removals of approved rows (each with the items it matched): one set-wise write
    per basis (one INSERT ... SELECT of the items, their events and outbox rows), named as the
    partner's, with the filing's id as their source reference; and which items each row removes
    (FilingRowItem: a creator who claims their account lifts them by row). The policy's chunks and
    the desk's approvals both go through here."""
    # One write per basis and choice: a search-only row's removals say search is allowed. A
    # licence row's items are granted instead (rows_grants_record), one write for its licences.
    by_basis: dict[tuple[str, str], set[int]] = defaultdict(set)
    licensed: list[tuple[FilingRow, set[int]]] = []
    for row, items in rows_items:
        if row.choice == RowChoice.LICENCE:
            licensed.append((row, items))
        else:
            by_basis[(row.basis, row.choice or RowChoice.REMOVE)] |= items
    if licensed:
        rows_grants_record(filing=filing, partner=partner, rows_items=licensed)
    recorded = 0  # removals; the grants are counted in the licences feed
    for (basis, choice), items in sorted(by_basis.items()):
        if not items:
            continue
        summary = removals_write(
            source_ref=filing.public_id,
            reason=basis,
            items=ItemQuery.of_ids(sorted(items)),
            approved_at=approved_at,
            source=RemovalSource.PARTNER,
            partner=partner.name,
            search=PREFERENCES[choice][1],
        )
        recorded += summary.count
    with stage("removals: row items"):
        # The items a row removes or grants, for a claimed creator to lift or change (readers of
        # removals skip the licence rows' links: a licence row removes nothing).
        rows_items_link([(row.pk, item) for row, items in rows_items for item in sorted(items)])
    return recorded


def rows_grants_record(
    *, filing: Filing, partner: Partner, rows_items: Sequence[tuple[FilingRow, set[int]]]
) -> int:
    """Record the licence grants of approved licence rows: each row's items under its licence,
    named as the partner's, with the filing's id as their source reference. An item granted
    already for the filing gets no second grant (a chunk decided twice grants nothing twice)."""
    by_consent: dict[Consent, set[int]] = defaultdict(set)
    terms = FilingRowLicence.objects.in_bulk([row.pk for row, _ in rows_items])
    for row, items in rows_items:
        term = terms.get(row.pk)
        if term is None:
            continue  # a licence row stored without its terms grants nothing
        by_consent[Consent(RowChoice.LICENCE, term.licence, term.licence_url, term.attribution)] |= items
    # One write for every licence of the chunk (a partner's creators each with an attribution of
    # their own made one write, and one events write, per creator); an item under two licences is
    # granted under the first, as before.
    # Items by id: the write joins them with their rows (an item deleted meanwhile is skipped).
    granted: set[int] = set()
    by_licence: list[tuple[Consent, list[int]]] = []
    for consent, items in by_consent.items():
        by_licence.append((consent, sorted(items - granted)))
        granted |= items
    with stage("grants: insert, events and outbox"):
        return licence_grants_record_items(
            source_ref=filing.public_id,
            granted=by_licence,
            source=RemovalSource.PARTNER,
            partner=partner.name,
        )


def rows_items_link(links: Sequence[tuple[int, int]]) -> None:
    """Store (row id, item id) links, those stored already skipped. On PostgreSQL one INSERT of two
    arrays: bulk_create built a model per link, a tenth of a chunk's time in this process."""
    if not links:
        return
    if connection.vendor != "postgresql":
        FilingRowItem.objects.bulk_create(
            [FilingRowItem(row_id=row, item_id=item) for row, item in links],
            ignore_conflicts=True,
            batch_size=2000,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FilingRowItem._meta.db_table} (row_id, item_id)"  # noqa: S608 (the model's table)
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
            [[row for row, _ in links], [item for _, item in links]],
        )


@transaction.atomic
def filing_decide_chunk(*, filing: Filing, chunk: int = CHUNK) -> bool:
    """One chunk of pending rows: matched, then approved by policy or left waiting. False when none was left.

    The partner's row is locked: a suspension made meanwhile waits for this chunk, and the chunks
    after it see the partner suspended and approve nothing. A row naming a work that an artist
    claims in a request of their own is never approved here: it goes to the desk in conflict.
    """
    with stage("rows: locks and read"):
        locked = Filing.objects.select_for_update().get(pk=filing.pk)
        partner = Partner.objects.select_for_update().get(pk=locked.partner_id)
        policy = FilingPolicy.objects.get(partner=partner)
        rows = list(
            FilingRow.objects.filter(filing=locked, state=RowState.PENDING, pk__gt=locked.cursor).order_by(
                "pk"
            )[:chunk]
        )
    now = clock.now()
    if not rows:
        Filing.objects.filter(pk=locked.pk).update(
            state=FilingState.COMPLETED, finished_at=now, heartbeat_at=now
        )
        return False
    served = Served.of(partner)
    # A filing whose removals a moderator revoked gets no more approvals (its rows wait).
    automatic = partner.is_active and policy.auto_approve_verified_hashed and locked.revoked_at is None
    changes = [row for row in rows if row.duplicate_of_id is not None]
    if changes:
        _changes_decide(filing=locked, rows=changes, served=served, automatic=automatic, now=now)
        rows = [row for row in rows if row.duplicate_of_id is None]
        if not rows:
            Filing.objects.filter(pk=locked.pk).update(cursor=changes[-1].pk, heartbeat_at=now)
            return True
    matches = rows_match(rows)
    with stage("conflicts with artists' requests"):
        conflicts = rows_conflicts(rows, matches)
    approved: list[tuple[FilingRow, set[int]]] = []  # rows approved, with the items they remove
    for row in rows:
        items = matches.get(row.pk, set())
        row.matched, row.decided_at = len(items), now
        row.on_verified_domain = served.covers(row.work_url)[1]
        if row.pk in conflicts:
            row.state = RowState.CONFLICT
        # A row its creator lifted (having claimed their account) is never approved by policy.
        elif automatic and row.on_verified_domain and row.has_hashes and row.lifted_at is None:
            row.state = RowState.APPROVED if items else RowState.UNMATCHED
            approved.append((row, items))
        else:
            row.state = RowState.WAITING
    # One UPDATE per outcome (a handful per chunk): Django's bulk_update writes a CASE per row and
    # cost 2.8 s a chunk of 1,000 (bench/partner_filing.py's profile), more than the matching.
    outcomes: dict[tuple[str, int, bool], list[int]] = defaultdict(list)
    for row in rows:
        outcomes[(row.state, row.matched, row.on_verified_domain)].append(row.pk)
    with stage("rows: updates"):
        for (state, count, verified), pks in outcomes.items():
            FilingRow.objects.filter(pk__in=pks).update(
                state=state, matched=count, on_verified_domain=verified, decided_at=now, matched_at=now
            )
    # What the desk shows of the rows left to it: their items and conflicts (one INSERT each).
    with stage("evidence for the desk"):
        rows_evidence_store(
            [row for row in rows if row.state in (RowState.WAITING, RowState.CONFLICT)], matches, conflicts
        )
    if approved:
        recorded = rows_removals_record(filing=locked, partner=partner, rows_items=approved, approved_at=now)
        with stage("audit row"):
            partner_action_record(
                actor=None,
                kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY,
                obj=locked,
                detail={
                    "policy": policy.pk,
                    "settings": policy.settings_dict(),
                    "rows": len(approved),
                    "rows_from": rows[0].index,
                    "rows_to": rows[-1].index,
                    "removals": recorded,
                },
            )
    last = max(rows[-1].pk, changes[-1].pk if changes else 0)
    Filing.objects.filter(pk=locked.pk).update(cursor=last, heartbeat_at=now)
    return True


def _changes_decide(
    *, filing: Filing, rows: Sequence[FilingRow], served: Served, automatic: bool, now: datetime
) -> None:
    """Rows changing the choice of a row filed before: the policy applies those it would approve
    (services.changes); the others wait for the desk, which approves (applies) or declines them.
    They name the earlier row's work, so nothing is matched for them."""
    applied: list[FilingRow] = []
    for row in rows:
        row.on_verified_domain = served.covers(row.work_url)[1]
        if automatic and row.on_verified_domain and row.has_hashes and row.lifted_at is None:
            applied.append(row)
    waiting = [row.pk for row in rows if row not in applied]
    if waiting:
        FilingRow.objects.filter(pk__in=waiting).update(
            state=RowState.WAITING, decided_at=now, matched_at=now
        )
    verified = [row.pk for row in rows if row.on_verified_domain]
    FilingRow.objects.filter(pk__in=verified).update(on_verified_domain=True)
    if applied:
        changes_apply(filing=filing, rows=applied, actor=None, by="policy", now=now)
