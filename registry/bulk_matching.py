"""Matching opt-out rows (a partner's file: URLs and hashes) against every registered data set.

A read, in batches: for each batch of rows, one query joins their URLs to the items by
url_key (the same URL, compared exactly), and the pHashes and dHashes go through the
per-data-set Hamming indexes in one batch search per index (registry.index.search_many);
each hash candidate is verified by registry.matching.verify, the rule that an artist's work
meets (a second hash must agree, or an item registered with a pHash alone within the
stricter distance). Memory grows with a batch, not with the file.

`want="high"` (partners' automatic approval) asks only for URL matches and hash matches that
verify rates high, and searches only what can be: verify's high needs two hashes within
their strict distances (or all three within agreement, one strict), so

- a row's pHash and dHash both strict: found by the dHash search alone (radius
  MATCH_DHASH_MAX_DISTANCE, 8: about ten times cheaper than the pHash's 10 at 10 million items);
- anything else needs a PDQ on both sides (the row's of enough quality, the item's present);
  of those, the ones `want="any"` finds are within the strict pHash distance or the strict
  dHash distance of the row (a match whose only strict hash is the PDQ is found by neither
  mode: there is no PDQ index), so rows with an informative PDQ are also searched by pHash,
  in the data sets that hold an item with a PDQ (checked once per MATCH_INDEX_CHECK_SECONDS
  per data set); a data set registered with pHash and dHash only costs no pHash search;
- a row with neither an informative dHash nor an informative PDQ cannot be rated high by
  hashes at all (only its pHash would be compared) and is matched by its URL only.

These are exactly the high matches of `want="any"`, whose candidates are the pHash and dHash
searches of every row (tests/registry/test_bulk_matching.py holds the two to each other).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Literal

from django.conf import settings
from django.db import connection

from core.stages import stage

from .matching import HIGH, Probe, dhash_informative, indexes, pdq_informative, phash_informative, verify
from .models import Dataset, DatasetItem, url_key

# Rows per batch: one URL join and one index join per hash kind each. The join's passes cost
# about the same per row from a few thousand rows on (bench/bulk_match.py); the batch's
# candidate arrays are cut to a fixed size inside the index, so memory does not grow with it.
BATCH = 10_000

Want = Literal["any", "high"]


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


def optout_rows_match(
    rows: Iterable[OptOutRow], *, batch: int = BATCH, want: Want = "any"
) -> Iterator[RowMatch]:
    """Every (row, item) pair the rows name, batch by batch; a pair found by URL is not repeated
    for its hashes. `want="high"`: only URL matches and hash matches of high confidence, found
    by the narrower searches described above."""
    if want not in ("any", "high"):
        raise ValueError(f"want must be 'any' or 'high', not {want!r}")
    iterator = iter(rows)
    while chunk := list(islice(iterator, batch)):
        with stage("match: URL join"):
            found = {(m.row_id, m.item_id): m for m in _by_url(chunk)}
        for match in _by_hash(chunk) if want == "any" else _by_hash_high(chunk):
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
        _search(field, radius, chosen, candidates)
    return _verified(rows, candidates)


def _by_hash_high(rows: list[OptOutRow]) -> list[RowMatch]:
    """The high-confidence hash matches only: the dHash search for every row with an informative
    dHash, the pHash search for rows with an informative PDQ in data sets with PDQs (see above)."""
    candidates: set[tuple[int, int]] = set()
    chosen = [(n, r.dhash) for n, r in enumerate(rows) if dhash_informative(r.dhash)]
    _search("dhash", settings.MATCH_DHASH_MAX_DISTANCE, chosen, candidates)
    with_pdq = [
        (n, r.phash)
        for n, r in enumerate(rows)
        if phash_informative(r.phash) and pdq_informative(r.pdq, r.pdq_quality)
    ]
    if with_pdq and (holders := _datasets_with_pdq()):
        _search("phash", settings.MATCH_PHASH_MAX_DISTANCE, with_pdq, candidates, dataset_ids=holders)
    return [m for m in _verified(rows, candidates) if m.confidence == HIGH]


def _search(
    field: str,
    radius: int,
    chosen: list[tuple[int, int]],
    candidates: set[tuple[int, int]],
    *,
    dataset_ids: list[int] | None = None,
) -> None:
    """Add (position in rows, item id) for every item within `radius` of a chosen row's code."""
    if not chosen:
        return
    with stage(f"match: {field} index search"):
        hits = indexes(field).search_all_many([code for _, code in chosen], radius, dataset_ids=dataset_ids)
    for (n, _), found in zip(chosen, hits, strict=True):
        candidates.update((n, item_id) for item_id, _ in found)


_pdq_lock = threading.Lock()
_pdq_holders: dict[int, tuple[float, bool]] = {}  # data set -> (checked at, holds an item with a PDQ)


def _datasets_with_pdq() -> list[int]:
    """The data sets holding at least one item with a PDQ, each re-checked once per
    MATCH_INDEX_CHECK_SECONDS (there is no index on pdq: the check reads the data set's rows
    when it has none, seconds at 10 million, so not per batch)."""
    now = time.monotonic()
    held = []
    with _pdq_lock:
        for dataset_id in Dataset.objects.order_by("pk").values_list("pk", flat=True):
            checked = _pdq_holders.get(dataset_id)
            if checked is None or now - checked[0] >= settings.MATCH_INDEX_CHECK_SECONDS:
                has = DatasetItem.objects.filter(dataset_id=dataset_id, pdq__isnull=False).exists()
                checked = _pdq_holders[dataset_id] = (now, has)
            if checked[1]:
                held.append(dataset_id)
    return held


def _verified(rows: list[OptOutRow], candidates: set[tuple[int, int]]) -> list[RowMatch]:
    """The candidates that verify agrees with, against the items' hashes read in one query."""
    if not candidates:
        return []
    with stage("match: hash candidates verified"):
        return _verified_read(rows, candidates)


def _verified_read(rows: list[OptOutRow], candidates: set[tuple[int, int]]) -> list[RowMatch]:
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
