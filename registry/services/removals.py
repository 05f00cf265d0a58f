"""Recording removals (with their webhook outbox rows) and the maintainer's acknowledgements.

Every removal is written by one set-based writer (`removals_write`): the rows to remove come as
a SQL SELECT (items under a condition, or columns sent as arrays), one INSERT ... SELECT writes
them, skipping items already removed for the source, and the new ids land in a temporary table
from which the events (at most 500 removals each, per data set) and their outbox rows are
written. On PostgreSQL the event payloads are built by the database (jsonb), so no Python object
exists per removal; on SQLite (the embedded mode) a portable path builds them in Python.

Revocation (`removals_revoke`) is the same shape the other way: one UPDATE of the removals a
condition selects, their ids into the same temporary table, and the same event writer sends
them as `removal.revoked`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction

from core import clock
from core.stages import stage

from .. import signals
from ..models import (
    Dataset,
    DatasetItem,
    Removal,
    RemovalSource,
    RemovalState,
    WebhookEventType,
    url_key,
)
from ..preferences import Preference
from .events import _NEW, RecordSummary, _events_write, _new_id_sql, _written_table
from .events import event_payload as event_payload  # the payload's shape, which tests compare
from .events import subscribed_endpoints as subscribed_endpoints

MAX_REMOVALS_PER_EVENT = 500
PARTNER_MAX_LENGTH = 200  # Removal.partner


@dataclass(frozen=True)
class RemovalEntry:
    """What to remove: an item of a data set, or a bare URL/hash in one.

    An item is given as the row (`item`) or, by callers streaming tuples from a query, by
    `item_id` with its `external_id`, `url` and hashes: no model object per entry."""

    dataset: Dataset
    item: DatasetItem | None = None
    url: str | None = None
    phash: int | None = None
    dhash: int | None = None
    pdq: bytes | None = None
    item_id: int | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class ItemQuery:
    """A set of registered items, given set-wise: a condition on `registry_datasetitem i`.

    Every item it selects becomes a removal in the item's own data set, with the item's
    external id, URL and hashes."""

    condition: str
    params: Sequence[Any] = ()

    @classmethod
    def of_ids(cls, item_ids: Sequence[int]) -> ItemQuery:
        """The items with these ids (one array parameter, whatever the count)."""
        if connection.vendor == "postgresql":
            return cls("i.id = ANY(%s::bigint[])", [list(item_ids)])
        return cls("i.id IN (SELECT value FROM json_each(%s))", [_json_ids(item_ids)])


def _json_ids(item_ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in item_ids) + "]"


@dataclass(frozen=True)
class _Source:
    """Who asked, written on every removal of one write."""

    source_ref: str
    reason: str
    approved_at: datetime
    source: str
    partner: str
    search: str = Preference.UNKNOWN


def _source(
    source_ref: str,
    reason: str,
    approved_at: datetime | None,
    source: str,
    partner: str,
    search: str = Preference.UNKNOWN,
) -> _Source:
    if source not in RemovalSource.values:
        raise ValueError(f"source must be one of {', '.join(RemovalSource.values)}, not {source!r}")
    if source == RemovalSource.ARTIST and partner:
        raise ValueError("an artist's removal names no partner")
    if source == RemovalSource.PARTNER and not partner.strip():
        raise ValueError("a partner's removal names the partner")
    if len(partner) > PARTNER_MAX_LENGTH or "\x00" in partner:
        raise ValueError(f"a partner's name is at most {PARTNER_MAX_LENGTH} characters, without NUL")
    if search not in Preference.values:
        raise ValueError(f"search must be one of {', '.join(Preference.values)}, not {search!r}")
    return _Source(source_ref, reason, approved_at or clock.now(), source, partner, search)


@transaction.atomic
def removals_record(
    *,
    source_ref: str,
    reason: str,
    entries: Iterable[RemovalEntry],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
    search: str = Preference.UNKNOWN,
) -> list[Removal]:
    """Record approved removals and their webhook outbox rows in the caller's transaction.

    Idempotent per (source_ref, item): recording the same item again for the
    same source returns nothing new while its removal stands (once revoked, it is removed anew).
    `search` is the choice's search preference (registry.preferences): "allowed" for a
    search-only choice. Deliveries are sent after commit; the
    sweeper sends anything the after-commit hook did not. For small callers: the
    rows are returned; approvals at size call removals_record_many, which keeps none.
    """
    writer = _Writer(_source(source_ref, reason, approved_at, source, partner, search))
    writer.entries(entries)
    new_ids = writer.new_ids()
    writer.finish()
    return list(Removal.objects.filter(pk__in=new_ids).select_related("dataset").order_by("pk"))


@transaction.atomic
def removals_record_many(
    *,
    source_ref: str,
    reason: str,
    entries: Iterable[RemovalEntry],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
    search: str = Preference.UNKNOWN,
) -> RecordSummary:
    """removals_record for tens of thousands of entries, in bounded memory.

    `entries` is read lazily (pass a generator over a streamed query) in chunks of
    RECORD_CHUNK, each written by one INSERT (its columns as arrays); the events are written
    once every entry is in, from the new ids. Nothing grows with the request in Python but
    the outbox ids. Same idempotency, same transaction rule as removals_record.
    """
    writer = _Writer(_source(source_ref, reason, approved_at, source, partner, search))
    writer.entries(entries)
    return writer.finish()


@transaction.atomic
def removals_write(
    *,
    source_ref: str,
    reason: str,
    items: ItemQuery,
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
    search: str = Preference.UNKNOWN,
) -> RecordSummary:
    """A removal of every item `items` selects (in its own data set), with events and outbox rows.

    One INSERT ... SELECT, whatever the count: the rows never travel through Python. An item
    already removed for `source_ref` (by any earlier write) gets no second removal.
    """
    with stage("removals: insert"):
        writer = _Writer(_source(source_ref, reason, approved_at, source, partner, search))
        writer.items(items)
    with stage("removals: events and outbox"):
        return writer.finish()


# Entries read and inserted at once: a few thousand rows per INSERT.
RECORD_CHUNK = 2000
_STAGE = "registry_removal_entries"  # SQLite: the entries of one chunk, as rows

# The columns a row source yields, with their PostgreSQL types (the array insert).
_COLUMNS = (
    ("dataset_id", "bigint"),
    ("item_id", "bigint"),
    ("external_id", "varchar"),
    ("url", "text"),
    ("url_key", "bigint"),
    ("phash", "bigint"),
    ("dhash", "bigint"),
    ("pdq", "bytea"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)


class _Writer:
    """One write: row sources inserted into removals, then their events (see removals_write)."""

    def __init__(self, who: _Source) -> None:
        self.who = who
        self.postgres = connection.vendor == "postgresql"
        self.now = clock.now()
        _written_table()

    # --- the removals

    def items(self, items: ItemQuery) -> None:
        columns = "i.dataset_id, i.id AS item_id, i.external_id, i.url, i.url_key, i.phash, i.dhash, i.pdq"
        select = f"SELECT {columns} FROM registry_datasetitem i WHERE {items.condition}"  # noqa: S608
        self._insert(select, list(items.params))

    def entries(self, entries: Iterable[RemovalEntry]) -> None:
        iterator = iter(entries)
        while chunk := list(islice(iterator, RECORD_CHUNK)):
            columns = [_entry_columns(entry) for entry in chunk]
            if self.postgres:
                arrays = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
                select = f"SELECT * FROM UNNEST({arrays}) AS s({_NAMES})"  # noqa: S608 (fixed names)
                self._insert(select, [list(values) for values in zip(*columns, strict=True)])
                continue
            with connection.cursor() as cursor:
                types = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (n integer PRIMARY KEY, {types})")
                cursor.execute(f"DELETE FROM {_STAGE}")  # noqa: S608 (fixed name)
                marks = ", ".join("%s" for _ in range(len(_COLUMNS) + 1))
                cursor.executemany(
                    f"INSERT INTO {_STAGE} (n, {_NAMES}) VALUES ({marks})",  # noqa: S608 (fixed names)
                    [(n, *row) for n, row in enumerate(columns)],
                )
            self._insert(f"SELECT {_NAMES} FROM {_STAGE} ORDER BY n", [])  # noqa: S608 (fixed names)

    def _insert(self, select: str, params: list[Any]) -> None:
        """INSERT ... SELECT of the new removals; their ids into the temporary table."""
        who = self.who
        insert = f"""
            INSERT INTO registry_removal
                (public_id, {_NAMES}, reason, source_ref, approved_at, state, source, partner, search)
            SELECT {_new_id_sql("rm")}, {", ".join("s." + name for name, _ in _COLUMNS)},
                   %s, %s, %s, 'pending', %s, %s, %s
            FROM ({select}) AS s
            WHERE s.item_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM registry_removal r
                WHERE r.source_ref = %s AND r.item_id = s.item_id AND r.state <> 'revoked'
            )
            ON CONFLICT DO NOTHING
        """  # noqa: S608 (fixed SQL and the callers' fixed conditions; every value is a parameter)
        # The placeholders read: the written columns, the select's, then the source again.
        values = [who.reason, who.source_ref, who.approved_at, who.source, who.partner, who.search, *params]
        values.append(who.source_ref)
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"WITH new AS ({insert} RETURNING id, dataset_id) INSERT INTO {_NEW} (id, dataset_id)"  # noqa: S608
                    " SELECT id, dataset_id FROM new",
                    values,
                )
                return
            # SQLite: no INSERT in a WITH; the new ids come back (RETURNING) and go in by executemany.
            cursor.execute(insert + " RETURNING id, dataset_id", values)
            new = cursor.fetchall()
            cursor.executemany(f"INSERT INTO {_NEW} (id, dataset_id) VALUES (%s, %s)", new)  # noqa: S608

    def new_ids(self) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {_NEW} ORDER BY id")  # noqa: S608 (fixed name)
            return [int(pk) for (pk,) in cursor.fetchall()]

    # --- the events

    def finish(self) -> RecordSummary:
        """The removal.approved events of everything inserted, their outbox rows, and the deliveries
        enqueued on commit (see _events_write)."""
        return _events_write(WebhookEventType.REMOVAL_APPROVED, self.now, MAX_REMOVALS_PER_EVENT)


def _entry_columns(entry: RemovalEntry) -> tuple[Any, ...]:
    """An entry as the row source's columns (the item's values where the entry gives none)."""
    item = entry.item
    url = entry.url or (item.url if item else None)
    return (
        entry.dataset.pk,
        item.pk if item is not None else entry.item_id,
        item.external_id if item else entry.external_id,
        url,
        url_key(url) if url else None,
        entry.phash if entry.phash is not None else (item.phash if item else None),
        entry.dhash if entry.dhash is not None else (item.dhash if item else None),
        entry.pdq if entry.pdq is not None else (bytes(item.pdq) if item and item.pdq else None),
    )


@dataclass
class AckResult:
    acknowledged: int
    unknown: list[str]


@transaction.atomic
def removals_acknowledge(*, dataset: Dataset, ids: Sequence[str]) -> AckResult:
    """Mark removals of `dataset` acknowledged. Idempotent; unknown ids are reported back."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    found = {
        r.public_id: r
        for r in Removal.objects.select_for_update().filter(dataset=dataset, public_id__in=wanted)
    }
    now = clock.now()
    changed = [r for r in found.values() if r.state in (RemovalState.PENDING, RemovalState.DELIVERED)]
    for removal in changed:
        removal.state = RemovalState.ACKNOWLEDGED
        removal.acknowledged_at = now
    Removal.objects.bulk_update(changed, ["state", "acknowledged_at"])
    if changed:
        refs = {r.source_ref for r in changed}
        transaction.on_commit(lambda: signals.removals_acknowledged.send(sender=Removal, source_refs=refs))
    return AckResult(acknowledged=len(found), unknown=[i for i in wanted if i not in found])


# --- revocation -----------------------------------------------------------------

REVOKED_REASON_MAX_LENGTH = 500  # Removal.revoked_reason


@dataclass(frozen=True)
class RemovalQuery:
    """A set of removals, given set-wise: a condition on `registry_removal r`."""

    condition: str
    params: Sequence[Any] = ()

    @classmethod
    def of_ids(cls, removal_ids: Sequence[int]) -> RemovalQuery:
        """The removals with these ids (one array parameter, whatever the count)."""
        if connection.vendor == "postgresql":
            return cls("r.id = ANY(%s::bigint[])", [list(removal_ids)])
        return cls("r.id IN (SELECT value FROM json_each(%s))", [_json_ids(removal_ids)])

    @classmethod
    def of_sources(cls, source_refs: Sequence[str]) -> RemovalQuery:
        """Every removal recorded for these source references (a request, a partner's filings)."""
        if connection.vendor == "postgresql":
            return cls("r.source_ref = ANY(%s::varchar[])", [list(source_refs)])
        return cls("r.source_ref IN (SELECT value FROM json_each(%s))", [json.dumps(list(source_refs))])


def revoked_reason_problem(why: str) -> str:
    """What is wrong with a revocation's reason as maintainers will read it ("" when nothing)."""
    if not why.strip():
        return "say why: maintainers read the reason with the revocation"
    if len(why) > REVOKED_REASON_MAX_LENGTH:
        return f"the reason is at most {REVOKED_REASON_MAX_LENGTH} characters"
    if "\x00" in why:
        return "the reason holds a NUL character"
    return ""


@transaction.atomic
def removals_revoke(*, removals: RemovalQuery, why: str) -> RecordSummary:
    """Revoke every live removal `removals` selects, with removal.revoked events and outbox rows.

    One UPDATE, whatever the count: pending, delivered and acknowledged removals become revoked
    with the time and `why` (a removal revoked already is left as it was, so revoking twice sends
    nothing twice). The events are written by the writer removal.approved uses, 500 removals a
    piece per data set; each removal in them reads `"state": "revoked"`. Who revoked is for the
    caller to audit. The lookup, the phash index and the receipts stop counting them at commit.

    Order: the UPDATE takes the rows' locks, so a delivery marking them delivered meanwhile
    either commits first (and is revoked over) or waits and finds them revoked; the delivery
    engine sends an event only after the earlier events carrying the same removals have reached
    that endpoint (delivery._waits_for_earlier), so a maintainer never sees the revocation
    before the approval.
    """
    problem = revoked_reason_problem(why)
    if problem:
        raise ValueError(problem)
    now = clock.now()
    _written_table()
    update = f"""
        UPDATE registry_removal AS r SET state = %s, revoked_at = %s, revoked_reason = %s
        WHERE ({removals.condition}) AND r.state <> %s
        RETURNING id, dataset_id
    """  # noqa: S608 (fixed SQL and the callers' fixed conditions; every value is a parameter)
    values = [RemovalState.REVOKED, now, why, *removals.params, RemovalState.REVOKED]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH changed AS ({update}) INSERT INTO {_NEW} (id, dataset_id)"  # noqa: S608
                " SELECT id, dataset_id FROM changed",
                values,
            )
        else:
            cursor.execute(update, values)
            changed = cursor.fetchall()
            cursor.executemany(f"INSERT INTO {_NEW} (id, dataset_id) VALUES (%s, %s)", changed)  # noqa: S608
        cursor.execute(
            f"SELECT DISTINCT r.source_ref FROM registry_removal r JOIN {_NEW} n ON n.id = r.id"  # noqa: S608
        )
        refs = {ref for (ref,) in cursor.fetchall()}
    summary = _events_write(WebhookEventType.REMOVAL_REVOKED, now, MAX_REMOVALS_PER_EVENT)
    if refs:
        transaction.on_commit(lambda: signals.removals_revoked.send(sender=Removal, source_refs=refs))
    return summary
