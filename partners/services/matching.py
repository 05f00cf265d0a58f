"""Which registered items a filing's rows name: registry's bulk matcher, over a chunk at once.

URLs match exactly (one join by url_key per batch, the URL itself compared), hashes through one
batch search per data set's Hamming index, each candidate verified as an artist's work is
(registry.bulk_matching); of the hash matches, only those of high confidence count, and only
what can be rated high is searched (`want="high"`: the dHash search, and the pHash search for
rows with a PDQ; see registry.bulk_matching).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from registry.bulk_matching import OptOutRow, optout_rows_match

from ..models import FilingRow


def rows_match(rows: Sequence[FilingRow]) -> dict[int, set[int]]:
    """Row pk -> the ids of the registered items it matches (by its work URL or its hashes)."""
    found: dict[int, set[int]] = defaultdict(set)
    wanted = (
        OptOutRow(
            row_id=row.pk,
            url=row.work_url,
            phash=row.phash,
            dhash=row.dhash,
            pdq=bytes(row.pdq) if row.pdq is not None else None,
            pdq_quality=row.pdq_quality,
        )
        for row in rows
    )
    # Rows are approved without a person looking: only exact URLs and hash matches the verifier
    # is sure of. A medium one (a pHash within 10 and a second hash merely close) happens by
    # chance about once per 125,000 rows against a million random items (bench/partner_filing.py
    # saw one in 150,000): enough to remove someone else's image.
    for match in optout_rows_match(wanted, want="high"):
        found[match.row_id].add(match.item_id)
    return dict(found)
