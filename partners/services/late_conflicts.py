"""Conflicts found late: an artist's request submitted after a partner's rows claimed the same
registered items (partners.services.conflicts finds the other order, when a row is decided).

Heard from requests_app's `ticket_submitted` signal, inside the submission's transaction:

- a row still waiting for the desk whose matched items the request claims, or whose pHash is
  within CONFLICT_PHASH_MAX_DISTANCE of one of the request's works (as a chunk being decided
  compares them, services.conflicts), moves to `conflict` (a sampled row keeps its place in the
  sample, with the conflict beside it: the policy never approves a row in conflict, and finds it
  again when the sample passes);
- a row approved already keeps its removals (recorded first, they stay in force) and the
  request's works claiming those items are held: requests_app records a PartnerConflict, shown on
  the request's desk page and in the queue, until a moderator decides who owns them.

A creator the request's artist claimed (partners.services.claims) is the same person: no conflict.
Lookups go by the request's claimed items through the item indexes of FilingRowMatch and
FilingRowItem, and by its works' pHashes through the bands' partial indexes of the undecided rows
(core.phash_bands), whatever the partners' volume. An approved row is not looked up by pHash: its
removals are of the items it matched, and a work claiming none of them holds nothing of the
partner's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, Subquery
from django.db.models.functions import Lower

from core.phash_bands import MAX_DISTANCE, jit_off, near_params, near_sql
from requests_app import services as request_services
from requests_app.evidence import CLAIMED_MATCH_STATES
from requests_app.models import Match, RemovalRequest, Work

from ..models import (
    UNDECIDED,
    ClaimStatus,
    ConflictKind,
    CreatorClaim,
    Filing,
    FilingRow,
    FilingRowConflict,
    FilingRowItem,
    FilingRowMatch,
    FilingState,
    PartnerActionKind,
    RowChoice,
    RowState,
)
from .audit import partner_action_record

# Filings whose chunks a worker may be deciding right now (services.approval, services.evidence).
IN_FLIGHT = (FilingState.QUEUED, FilingState.MATCHING, FilingState.HELD)


def ticket_partner_conflicts_record(*, ticket: RemovalRequest) -> tuple[int, int]:
    """Put in conflict the partners' rows the submitted `ticket` claims the items of; returns
    (rows moved to conflict, approved rows' conflicts recorded for the request)."""
    claimed: dict[int, list[tuple[int, int]]] = defaultdict(list)  # item -> [(work, distance)]
    for work_id, item_id, distance in Match.objects.filter(
        work__request=ticket, state__in=CLAIMED_MATCH_STATES
    ).values_list("work_id", "item_id", "distance"):
        claimed[item_id].append((work_id, distance))
    works = {
        pk: phash
        for pk, phash in Work.objects.filter(request=ticket).values_list("pk", "phash")
        if phash is not None
    }
    if not claimed and not works:
        return 0, 0
    items = sorted(claimed)
    waiting = FilingRowMatch.objects.filter(item_id__in=items, row__state__in=UNDECIDED).values(
        "row__filing_id"
    )
    # A licence row's links are its grants, not removals: no conflict (as before they were kept).
    approved = (
        FilingRowItem.objects.filter(item_id__in=items, row__state=RowState.APPROVED)
        .exclude(row__choice=RowChoice.LICENCE)
        .values("row__filing_id")
    )
    # The filings a worker may be deciding, and those of the rows found: locked in id order (as
    # the desk and the policy's chunks lock them), so a chunk in flight commits first and is seen
    # below, and one that starts later sees this request (submitted in this transaction).
    # Held until the submission commits. The rows near by pHash are looked up again once locked.
    near = {pair.filing_id for pair in _undecided_rows_near(works)}
    list(
        Filing.objects.select_for_update()
        .filter(
            Q(state__in=IN_FLIGHT)
            | Q(pk__in=Subquery(waiting))
            | Q(pk__in=Subquery(approved))
            | Q(pk__in=sorted(near))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    mine = set(
        CreatorClaim.objects.filter(user_id=ticket.artist.user_id, status=ClaimStatus.VERIFIED).values_list(
            "partner_id", "creator_key"
        )
    )
    moved = _undecided_rows_conflict(ticket, claimed, items, _undecided_rows_near(works), mine)
    recorded = _approved_rows_conflict(ticket, claimed, items, mine) if items else 0
    return moved, recorded


@dataclass(frozen=True)
class NearRow:
    """An undecided row whose pHash is near a work of the request."""

    row_id: int
    filing_id: int
    partner_id: int
    creator_key: str
    work_id: int
    distance: int


def _undecided_rows_near(works: dict[int, int]) -> list[NearRow]:
    """The rows waiting or sampled, not lifted, whose pHash is within CONFLICT_PHASH_MAX_DISTANCE of
    one of `works` (work id -> pHash): one statement of index probes (core.phash_bands) through
    the bands' partial indexes of the undecided rows; on SQLite (the embedded site) a read of them."""
    if not works:
        return []
    limit = settings.CONFLICT_PHASH_MAX_DISTANCE
    works_of_code: dict[int, list[int]] = defaultdict(list)
    for work_id, code in works.items():
        works_of_code[code].append(work_id)
    undecided = FilingRow.objects.filter(state__in=UNDECIDED, lifted_at__isnull=True, phash__isnull=False)
    found: list[tuple[int, int, int, int, int, str]] = []
    # Beyond the bands' reach (a distance only the artists' own scan takes: chunks refuse it), or
    # on SQLite: every undecided row read and compared.
    if connection.vendor != "postgresql" or limit > MAX_DISTANCE:
        rows = undecided.values_list("pk", "filing_id", "partner_id", "creator_id", "phash")
        for pk, filing_id, partner_id, creator_id, theirs in rows:
            for code in works_of_code:
                distance = ((code ^ (theirs or 0)) % (1 << 64)).bit_count()
                if distance <= limit:
                    found.append((code, distance, pk, filing_id, partner_id, creator_id))
    else:
        states = ", ".join(f"'{state}'" for state in UNDECIDED)  # the partial indexes' own predicate
        sql = near_sql(
            table=FilingRow._meta.db_table,
            columns=("id", "filing_id", "partner_id", "creator_id"),
            where=f"x.state IN ({states}) AND x.lifted_at IS NULL",
        )
        with jit_off(), connection.cursor() as cursor:
            cursor.execute(sql, near_params(sorted(works_of_code), limit))
            found = list(cursor.fetchall())
    pairs = {
        NearRow(row_id=pk, filing_id=filing_id, partner_id=partner_id, creator_key=creator.lower(),
                work_id=work_id, distance=distance)
        for code, distance, pk, filing_id, partner_id, creator in found
        for work_id in works_of_code[code]
    }  # fmt: skip
    return sorted(pairs, key=lambda p: (p.row_id, p.work_id))


def _someone_else(row: dict[str, Any], mine: set[tuple[int, str]]) -> bool:
    return (row["partner_id"], row["creator_key"]) not in mine


def _undecided_rows_conflict(
    ticket: RemovalRequest,
    claimed: dict[int, list[tuple[int, int]]],
    items: list[int],
    near: list[NearRow],
    mine: set[tuple[int, str]],
) -> int:
    pairs = list(
        FilingRowMatch.objects.filter(item_id__in=items, row__state__in=UNDECIDED)
        .annotate(creator_key=Lower("row__creator_id"))
        .values("row_id", "item_id", "row__partner_id", "creator_key")
    ) if items else []  # fmt: skip
    pairs = [p for p in pairs if _someone_else({"partner_id": p["row__partner_id"], **p}, mine)]
    near = [n for n in near if (n.partner_id, n.creator_key) not in mine]
    if not pairs and not near:
        return 0
    # The rows themselves, locked: a moderator deciding one on the desk meanwhile goes first.
    rows = {
        r.pk: r
        for r in FilingRow.objects.select_for_update(of=("self",))
        .filter(
            pk__in={p["row_id"] for p in pairs} | {n.row_id for n in near},
            state__in=UNDECIDED,
            lifted_at__isnull=True,
        )
        .order_by("pk")
    }
    conflicts = [
        FilingRowConflict(
            row_id=p["row_id"],
            request_id=ticket.pk,
            work_id=work_id,
            item_id=p["item_id"],
            kind=ConflictKind.ITEM,
            distance=distance,
        )
        for p in pairs
        if p["row_id"] in rows
        for work_id, distance in claimed[p["item_id"]]
    ]
    # After the items (the stronger signal): one conflict per (row, work), the first one kept.
    conflicts += [
        FilingRowConflict(
            row_id=n.row_id, request_id=ticket.pk, work_id=n.work_id, kind=ConflictKind.PHASH,
            distance=n.distance,
        )
        for n in near
        if n.row_id in rows
    ]  # fmt: skip
    FilingRowConflict.objects.bulk_create(conflicts, ignore_conflicts=True)  # one per (row, work)
    to_move = [pk for pk, r in rows.items() if r.state == RowState.WAITING]
    FilingRow.objects.filter(pk__in=to_move).update(state=RowState.CONFLICT)
    per_filing: dict[int, list[int]] = defaultdict(list)
    for pk, r in rows.items():
        per_filing[r.filing_id].append(pk)
    by_phash = {n.row_id for n in near} - {p["row_id"] for p in pairs}
    for filing in Filing.objects.filter(pk__in=list(per_filing)).order_by("pk"):
        ids = sorted(per_filing[filing.pk])
        detail: dict[str, Any] = {
            "request": ticket.reference,
            "rows": ids,
            "moved_to_conflict": sorted(pk for pk in ids if pk in to_move),
        }
        if by_phash.intersection(ids):  # near the request's works by pHash alone, no item shared
            detail["by_phash_only"] = sorted(by_phash.intersection(ids))
        partner_action_record(actor=None, kind=PartnerActionKind.ROWS_IN_CONFLICT, obj=filing, detail=detail)
    return len(to_move)


def _approved_rows_conflict(
    ticket: RemovalRequest,
    claimed: dict[int, list[tuple[int, int]]],
    items: list[int],
    mine: set[tuple[int, str]],
) -> int:
    links = list(
        FilingRowItem.objects.filter(
            item_id__in=items, row__state=RowState.APPROVED, row__lifted_at__isnull=True
        )
        .exclude(row__choice=RowChoice.LICENCE)
        .annotate(creator_key=Lower("row__creator_id"))
        .values(
            "row_id",
            "item_id",
            "creator_key",
            "row__creator_id",
            "row__partner_id",
            "row__partner__name",
            "row__filing__public_id",
            "row__filing__revoked_at",
        )
    )
    links = [
        link
        for link in links
        if link["row__filing__revoked_at"] is None
        and _someone_else({"partner_id": link["row__partner_id"], **link}, mine)
    ]
    if not links:
        return 0
    FilingRowConflict.objects.bulk_create(
        [
            FilingRowConflict(
                row_id=link["row_id"],
                request_id=ticket.pk,
                work_id=work_id,
                item_id=link["item_id"],
                kind=ConflictKind.ITEM,
                distance=distance,
            )
            for link in links
            for work_id, distance in claimed[link["item_id"]]
        ],
        ignore_conflicts=True,
    )
    claims = [
        request_services.PartnerClaim(
            work_id=work_id,
            item_id=link["item_id"],
            filing_ref=link["row__filing__public_id"],
            partner=link["row__partner__name"],
            creator_id=link["row__creator_id"],
        )
        for link in links
        for work_id, _distance in claimed[link["item_id"]]
    ]
    return request_services.partner_conflicts_record(ticket=ticket, claims=claims)
