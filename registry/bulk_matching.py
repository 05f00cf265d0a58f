"""Matching opt-out rows (a partner's file: URLs and hashes) against every registered data set.

A read, in batches: for each batch of rows, one query joins their URLs to the items by
url_key (the same URL, compared exactly), and the pHashes and dHashes go through the
per-data-set Hamming indexes in one batch search per index (registry.index.search_many);
each hash candidate is verified by registry.matching.verify, the rule that an artist's work
meets (a second hash must agree, or an item registered with a pHash alone within the
stricter distance). Memory grows with a batch, not with the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db import connection

from .matching import Probe, dhash_informative, indexes, phash_informative, verify
from .models import DatasetItem, url_key

BATCH = 10_000


@dataclass(frozen=True)
class OptOutRow:
    """One row to match: the caller's id for it, and what it knows of the work."""

    row_id: int
    url: str | None = None
    phash: int | None = None
    dhash: int | None = None
    pdq: bytes | None = None
    pdq_quality: int | None = None


@dataclass(frozen=True)
class RowMatch:
    """A registered item that a row names: by its URL ("url") or by its hashes ("hash")."""

    row_id: int
    dataset_id: int
    item_id: int
    signal: str  # "url" or "hash"
    confidence: str = "high"  # a URL is exact; a hash match says what verify said


def optout_rows_match(rows: Iterable[OptOutRow], *, batch: int = BATCH) -> Iterator[RowMatch]:
    """Every (row, item) pair the rows name, batch by batch; a pair found by URL is not repeated
    for its hashes."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, batch)):
        found = {(m.row_id, m.item_id): m for m in _by_url(chunk)}
        for match in _by_hash(chunk):
            found.setdefault((match.row_id, match.item_id), match)
        yield from found.values()


def _usable(url: str | None) -> bool:
    """A URL an item can have: items refuse NUL and text that is not Unicode (lone surrogates)."""
    if not url or "\x00" in url:
        return False
    try:
        url.encode()
    except UnicodeEncodeError:
        return False
    return True


def _by_url(rows: list[OptOutRow]) -> list[RowMatch]:
    wanted = [(r.row_id, url_key(r.url), r.url) for r in rows if r.url is not None and _usable(r.url)]
    if not wanted:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT w.row_id, i.dataset_id, i.id FROM unnest(%s::bigint[], %s::bigint[], %s::text[])"
                " AS w(row_id, key, url) JOIN registry_datasetitem i ON i.url_key = w.key AND i.url = w.url",
                [[w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted]],
            )
        else:
            import json

            cursor.execute(
                "SELECT json_extract(w.value, '$[0]'), i.dataset_id, i.id FROM json_each(%s) AS w"
                " JOIN registry_datasetitem i ON i.url_key = json_extract(w.value, '$[1]')"
                " AND i.url = json_extract(w.value, '$[2]')",
                [json.dumps(wanted)],
            )
        return [
            RowMatch(int(row), int(dataset), int(item), "url") for row, dataset, item in cursor.fetchall()
        ]


def _by_hash(rows: list[OptOutRow]) -> list[RowMatch]:
    """Candidates from one batch search per hash kind, verified against the items' hashes."""
    candidates: set[tuple[int, int]] = set()  # (position in rows, item id)
    for field, radius, informative in (
        ("phash", settings.MATCH_PHASH_MAX_DISTANCE, phash_informative),
        ("dhash", settings.MATCH_DHASH_MAX_DISTANCE, dhash_informative),
    ):
        chosen = [(n, getattr(r, field)) for n, r in enumerate(rows) if informative(getattr(r, field))]
        if not chosen:
            continue
        hits = indexes(field).search_all_many([code for _, code in chosen], radius)
        for (n, _), found in zip(chosen, hits, strict=True):
            candidates.update((n, item_id) for item_id, _ in found)
    if not candidates:
        return []
    items = {
        pk: (dataset_id, phash, dhash, bytes(pdq) if pdq is not None else None, quality)
        for pk, dataset_id, phash, dhash, pdq, quality in DatasetItem.objects.filter(
            pk__in={item_id for _, item_id in candidates}
        ).values_list("pk", "dataset_id", "phash", "dhash", "pdq", "pdq_quality")
    }
    matches = []
    for n, item_id in sorted(candidates):
        if item_id not in items:
            continue  # deleted since the index was read
        dataset_id, phash, dhash, pdq, quality = items[item_id]
        row = rows[n]
        probe = Probe("original", row.phash, row.dhash, row.pdq, row.pdq_quality)
        verdict = verify(probe, phash=phash, dhash=dhash, pdq=pdq, pdq_quality=quality)
        if verdict is not None:
            matches.append(RowMatch(row.row_id, dataset_id, item_id, "hash", verdict[1]))
    return matches
