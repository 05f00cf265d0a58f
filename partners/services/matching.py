"""Which registered items a filing's rows name: one function, so a bulk matcher can replace it.

URLs match exactly (registry's url_key, then the URL itself: a key collision costs a row read,
never a wrong match), set-wise for the whole chunk; hashes go through registry's search, which
verifies every candidate with a second hash (registry.matching).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from registry.matching import search_work
from registry.models import DatasetItem, url_key

from ..models import FilingRow


def rows_match(rows: Sequence[FilingRow]) -> dict[int, set[int]]:
    """Row pk -> the ids of the registered items it matches (by its work URL or its hashes)."""
    found: dict[int, set[int]] = defaultdict(set)
    by_key: dict[int, list[FilingRow]] = defaultdict(list)
    for row in rows:
        by_key[url_key(row.work_url)].append(row)
    if by_key:
        items = DatasetItem.objects.filter(url_key__in=list(by_key)).values_list("pk", "url_key", "url")
        for pk, key, url in items.iterator(chunk_size=2000):
            for row in by_key.get(key, ()):
                if row.work_url == url:
                    found[row.pk].add(pk)
    for row in rows:
        if row.phash is None:
            continue
        pdq = bytes(row.pdq) if row.pdq is not None else None
        for hit in search_work(phash=row.phash, dhash=row.dhash, pdq=pdq, pdq_quality=row.pdq_quality):
            found[row.pk].add(hit.item_id)
    return dict(found)
