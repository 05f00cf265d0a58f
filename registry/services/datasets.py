"""Data sets and their items (the index rows matched against)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from core import clock
from core.queueing import enqueue
from core.text import parse_id, text_problem

from ..hashing import hex_to_code, hex_to_pdq
from ..hosts import url_host_path
from ..models import Dataset, DatasetItem, Maintainer, url_key
from .domains import optouts_match_written

MAX_ITEMS_PER_BATCH = 10_000
# A scheme, a host and no white space: enough for an index row, and 20x faster than
# Django's URLValidator, which matters at millions of rows per import.
_ITEM_URL = re.compile(r"^https?://[^\s/?#@:]+(?::\d{1,5})?(?:[/?#]\S*)?$", re.IGNORECASE)
MAX_URL_LENGTH = 4096


def dataset_create(
    *, maintainer: Maintainer, slug: str, name: str, homepage: str = "", description: str = ""
) -> Dataset:
    return Dataset.objects.create(
        maintainer=maintainer, slug=slug, name=name, homepage=homepage, description=description
    )


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def clean_item_row(row: Any) -> dict[str, Any]:
    """Validate one index row; raise ValueError with a message naming the field."""
    if not isinstance(row, dict):
        raise ValueError("each item must be an object")
    external_id = row.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise ValueError("external_id is required and must be a non-empty string")
    if len(external_id) > 200:
        raise ValueError("external_id is longer than 200 characters")
    if problem := text_problem(external_id):
        raise ValueError(f"external_id {problem}")
    url = row.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError("url is required and must be a string")
    if problem := text_problem(url):
        raise ValueError(f"url {problem}")
    if len(url) > MAX_URL_LENGTH or not _ITEM_URL.match(url):
        raise ValueError(f"url {url[:100]!r} is not a valid http(s) URL")
    cleaned: dict[str, Any] = {"external_id": external_id, "url": url}
    for name in ("phash", "dhash"):
        value = row.get(name)
        if value is None or value == "":
            cleaned[name] = None
            continue
        try:
            cleaned[name] = hex_to_code(value)
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") from None
    pdq = row.get("pdq")
    if pdq is None or pdq == "":
        cleaned["pdq"] = None
    else:
        try:
            cleaned["pdq"] = hex_to_pdq(pdq)
        except ValueError as exc:
            raise ValueError(f"pdq {exc}") from None
    cleaned["pdq_quality"] = _pdq_quality(row.get("pdq_quality"), has_pdq=cleaned["pdq"] is not None)
    return cleaned


def _pdq_quality(value: Any, *, has_pdq: bool) -> int | None:
    """PDQ's quality score (0-100) as the hasher prints it: an integer, or its digits in a CSV cell."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and (digits := parse_id(value.strip())) is not None:
        value = digits  # ASCII digits only: "²" and "٣" stay text and are refused below
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        shown = str(value)[:20] if isinstance(value, (str, int, float)) else type(value).__name__
        raise ValueError(f"pdq_quality must be a whole number from 0 to 100, not {shown!r}")
    if not has_pdq:
        raise ValueError("pdq_quality is PDQ's quality score: send it with the pdq it belongs to")
    return value


@transaction.atomic
def items_upsert(*, dataset: Dataset, rows: Sequence[Any]) -> UpsertResult:
    """Insert or update items by external_id. A bad row is rejected alone, never the batch."""
    if len(rows) > MAX_ITEMS_PER_BATCH:
        raise ValueError(f"at most {MAX_ITEMS_PER_BATCH:,} items per call; use the imports endpoint")
    result = UpsertResult()
    valid: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        try:
            cleaned = clean_item_row(row)
        except ValueError as exc:
            result.rejected.append({"index": index, "error": str(exc)})
            continue
        if cleaned["external_id"] in valid:
            result.rejected.append({"index": index, "error": "external_id appears earlier in this batch"})
            continue
        valid[cleaned["external_id"]] = cleaned
    existing = {
        item.external_id: item
        for item in DatasetItem.objects.select_for_update().filter(
            dataset=dataset, external_id__in=list(valid)
        )
    }
    to_create, to_update = [], []
    for external_id, cleaned in valid.items():
        item = existing.get(external_id)
        host, path = url_host_path(cleaned["url"])
        if item is None:
            to_create.append(
                DatasetItem(dataset=dataset, url_key=url_key(cleaned["url"]), host=host, path=path, **cleaned)
            )
        else:
            for name in ("url", "phash", "dhash", "pdq", "pdq_quality"):
                setattr(item, name, cleaned[name])
            item.url_key = url_key(cleaned["url"])
            item.host, item.path = host, path
            to_update.append(item)
    DatasetItem.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        now = clock.now()
        for item in to_update:
            item.updated_at = now
        fields = ["url", "url_key", "host", "path", "phash", "dhash", "pdq", "pdq_quality", "updated_at"]
        DatasetItem.objects.bulk_update(to_update, fields, batch_size=1000)
    result.created, result.updated = len(to_create), len(to_update)
    if valid:  # items under a domain opt-out become its removals, in this transaction
        optouts_match_written(dataset_id=dataset.pk, rows=list(valid.values()))
    changed = [item.pk for item in (*to_create, *to_update) if item.phash is not None]
    if changed:
        transaction.on_commit(lambda: _enqueue_rematch(changed))
    return result


def _enqueue_rematch(item_ids: list[int]) -> None:
    enqueue(
        "registry.tasks.items_rematch",
        item_ids,
        fallback="these items are re-matched when they are next imported or changed",
    )
