"""What the desk shows of a partner's row: the items it matched and its conflicts with artists.

Stored when a row is left to the desk (waiting, in conflict, or drawn for a sample), because the
matching runs on a worker that holds the Hamming indexes, and the admin does not. Read back for a
page of rows at once (`desk_evidence`), with the hash distances computed from both sides' hashes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction

from core import clock
from registry.hashing import hamming64, pdq_distance
from registry.models import DatasetItem

from ..models import Filing, FilingRow, FilingRowConflict, FilingRowMatch, FilingState, RowState
from .conflicts import rows_conflicts
from .images import images_fetch_rows
from .matching import rows_match

STALE_AFTER_EVIDENCE = timedelta(minutes=5)


def rows_evidence_store(
    rows: Sequence[FilingRow],
    matches: dict[int, set[int]],
    conflicts: dict[int, list[FilingRowConflict]],
) -> None:
    """Keep the matched items and conflicts of rows left to the desk: one INSERT of each, whatever
    the count (a row decided twice adds nothing twice)."""
    wanted = {row.pk for row in rows}
    FilingRowMatch.objects.bulk_create(
        [
            FilingRowMatch(row_id=row_id, item_id=item_id)
            for row_id in sorted(wanted)
            for item_id in sorted(matches.get(row_id, ()))
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    kept = [c for row_id in sorted(wanted) for c in conflicts.get(row_id, [])]
    if kept:
        FilingRowConflict.objects.bulk_create(kept, batch_size=2000, ignore_conflicts=True)


def rows_evidence_refresh(*, filing: Filing, rows: Sequence[FilingRow]) -> int:
    """Fetch the images these desk rows need, match them and keep what the desk shows of them.

    A waiting row found in conflict now is put in conflict; a sampled one stays sampled (the
    sample is judged as drawn), its conflict shown.
    """
    images_fetch_rows(filing=filing, rows=rows)
    batch = list(FilingRow.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    matches = rows_match(batch)
    conflicts = rows_conflicts(batch, matches)
    with transaction.atomic():
        rows_evidence_store(batch, matches, conflicts)
        now = clock.now()
        counts: dict[int, list[int]] = defaultdict(list)
        for row in batch:
            counts[len(matches.get(row.pk, ()))].append(row.pk)
        for count, pks in counts.items():
            FilingRow.objects.filter(pk__in=pks).update(matched=count, matched_at=now)
        FilingRow.objects.filter(pk__in=list(conflicts), state=RowState.WAITING).update(
            state=RowState.CONFLICT
        )
    return len(batch)


def desk_rows_refresh(*, filing: Filing) -> int:
    """Match a filing's rows on the desk not matched yet and keep what the desk shows of them: a
    held filing's sample (drawn before any matching: without this the moderator would judge rows
    blind), every row of a failed sample (the sample held them), a row whose image a moderator
    asked to fetch again, rows left to the desk before their evidence was kept."""
    todo = FilingRow.objects.filter(
        filing=filing, state__in=[RowState.SAMPLED, RowState.WAITING], matched_at__isnull=True
    )
    done = 0
    while batch := list(todo.order_by("pk")[:1000]):
        done += rows_evidence_refresh(filing=filing, rows=batch)
    return done


def filings_evidence_missing() -> list[int]:
    """Filings with rows on the desk never matched (a lost message, a killed worker, an image to
    fetch again), idle for a while: the beat sweep queues their matching for the desk."""
    stale = clock.now() - STALE_AFTER_EVIDENCE
    return list(
        Filing.objects.filter(
            state__in=[FilingState.HELD, FilingState.COMPLETED],
            rows__state__in=[RowState.SAMPLED, RowState.WAITING],
            rows__matched_at__isnull=True,
            heartbeat_at__lt=stale,
        )
        .values_list("pk", flat=True)
        .distinct()[:100]
    )


@dataclass(frozen=True)
class ItemShown:
    item: DatasetItem
    by_url: bool
    phash_distance: int | None
    dhash_distance: int | None
    pdq_distance: int | None

    @property
    def summary(self) -> str:
        if self.by_url:
            return "same URL"
        parts = [
            f"{name} {value}"
            for name, value in (
                ("pHash", self.phash_distance),
                ("dHash", self.dhash_distance),
                ("PDQ", self.pdq_distance),
            )
            if value is not None
        ]
        return ", ".join(parts) or "hash"


@dataclass
class RowEvidence:
    items: list[ItemShown] = field(default_factory=list)
    conflicts: list[FilingRowConflict] = field(default_factory=list)


def _distance(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else hamming64(a, b)


def desk_evidence(rows: Iterable[FilingRow]) -> dict[int, RowEvidence]:
    """Row pk -> its matched items (with distances) and conflicts: three queries for a page."""
    by_pk = {row.pk: row for row in rows}
    found: dict[int, RowEvidence] = {pk: RowEvidence() for pk in by_pk}
    for match in (
        FilingRowMatch.objects.filter(row_id__in=list(by_pk))
        .select_related("item__dataset")
        .order_by("row_id", "item_id")
    ):
        row, item = by_pk[match.row_id], match.item
        pdq = pdq_distance(row.pdq, item.pdq) if row.pdq is not None and item.pdq is not None else None
        found[row.pk].items.append(
            ItemShown(
                item=item,
                by_url=item.url == row.work_url,
                phash_distance=_distance(row.phash, item.phash),
                dhash_distance=_distance(row.dhash, item.dhash),
                pdq_distance=pdq,
            )
        )
    for conflict in (
        FilingRowConflict.objects.filter(row_id__in=list(by_pk))
        .select_related("request__artist", "work", "item")
        .order_by("row_id", "request_id", "pk")
    ):
        found[conflict.row_id].conflicts.append(conflict)
    return found
