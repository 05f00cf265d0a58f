"""The local copy of a registry's removals: one SQLite file that `sync` and the webhook receiver
write and `filter` reads.

Every write is one transaction: a feed page lands together with the cursor just after it, and a
webhook event together with its id, so a process killed anywhere leaves either all of a page (and
the cursor past it) or none of it, and an event applied once or not at all. Removals are keyed
by their registry id, so reading a page again (a resumed sync, a full re-read, an event that the
feed brings too) changes nothing twice.

Only the standard library: the core install stays light.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REVOKED = "revoked"
# The removal object's fields as the feed, the export and the webhooks send them (docs/api.md).
FIELDS = (
    "id",
    "dataset",
    "external_id",
    "url",
    "phash",
    "pdq",
    "reason",
    "request",
    "approved_at",
    "state",
    "acknowledged_at",
    "source",
    "partner",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS removals (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    external_id TEXT,
    url TEXT,
    phash TEXT,
    pdq TEXT,
    reason TEXT,
    request TEXT,
    approved_at TEXT,
    state TEXT NOT NULL,
    acknowledged_at TEXT,
    source TEXT,
    partner TEXT,
    -- 1 once the feed has returned this removal: the feed's own count is checked against these
    -- (a webhook may bring a removal before the feed reaches it).
    in_feed INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS removals_dataset ON removals (dataset, in_feed);
CREATE TABLE IF NOT EXISTS feeds (
    dataset TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    cursor TEXT,
    recorded INTEGER,
    pages INTEGER NOT NULL DEFAULT 0,
    synced_at REAL,
    -- The revocations feed's own cursor (GET .../revocations/): it lists each revoked removal
    -- once, in the order revoked, which the removals feed (in the order recorded) cannot show.
    revocations_cursor TEXT
);
CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""


class StoreError(Exception):
    """The store cannot be used as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Feed:
    """Where a data set's sync stands: the server it follows and the cursor to go on from."""

    dataset: str
    server: str
    cursor: str | None
    recorded: int | None
    pages: int
    revocations_cursor: str | None


class Store:
    """One SQLite file holding removals of one or more data sets, their feed cursors and the ids
    of the webhook events applied."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not sqlite3's guesses.
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(feeds)")}
            if "revocations_cursor" not in columns:  # a store written by toolkit 0.1
                self.db.execute("ALTER TABLE feeds ADD COLUMN revocations_cursor TEXT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a removals store this toolkit can open ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any exception: the writer lock from the start,
        so a sync and a webhook receiver on the same file queue instead of failing mid-way."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- the feed -------------------------------------------------------------------------

    def feed(self, dataset: str) -> Feed | None:
        row = self.db.execute(
            "SELECT dataset, server, cursor, recorded, pages, revocations_cursor FROM feeds "
            "WHERE dataset = ?",
            (dataset,),
        ).fetchone()
        return Feed(*row) if row else None

    def feed_start(self, *, dataset: str, server: str, restart: bool) -> Feed:
        """The feed of `dataset` on `server`, created when new; `restart` forgets its cursor.

        A store follows each data set on one server: the cursor of one server means nothing to
        another, so syncing the same data set from a second server is refused."""
        with self.transaction() as db:
            feed = self.feed(dataset)
            if feed is not None and feed.server != server:
                raise StoreError(
                    f"this store follows {dataset!r} on {feed.server}, not {server}; "
                    "use another --store file for another server"
                )
            if feed is None:
                db.execute("INSERT INTO feeds (dataset, server) VALUES (?, ?)", (dataset, server))
            elif restart:
                db.execute(
                    "UPDATE feeds SET cursor = NULL, pages = 0, revocations_cursor = NULL WHERE dataset = ?",
                    (dataset,),
                )
        started = self.feed(dataset)
        assert started is not None
        return started

    def feed_page(
        self, *, dataset: str, removals: Sequence[Mapping[str, Any]], cursor: str, recorded: int | None
    ) -> None:
        """A page of the feed and the cursor just after it, in one transaction."""
        with self.transaction() as db:
            self._upsert(db, dataset, removals, in_feed=True, keep_revoked=False)
            db.execute(
                "UPDATE feeds SET cursor = ?, recorded = ?, pages = pages + 1, synced_at = ? "
                "WHERE dataset = ?",
                (cursor, recorded, time.time(), dataset),
            )

    def revocations_page(self, *, dataset: str, removals: Sequence[Mapping[str, Any]], cursor: str) -> None:
        """A page of the revocations feed and the cursor just after it, in one transaction: each
        removal held as revoked (a revocation is final on the server), new ones added."""
        with self.transaction() as db:
            self._upsert(
                db, dataset, [{**r, "state": REVOKED} for r in removals], in_feed=False, keep_revoked=True
            )
            db.execute(
                "UPDATE feeds SET revocations_cursor = ?, synced_at = ? WHERE dataset = ?",
                (cursor, time.time(), dataset),
            )

    def in_feed_count(self, dataset: str) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM removals WHERE dataset = ? AND in_feed = 1", (dataset,)
            ).fetchone()[0]
        )

    # --- webhook events -------------------------------------------------------------------

    def event_apply(self, *, event_id: str, event_type: str, payload: Mapping[str, Any]) -> bool:
        """Apply one verified webhook event; False (and nothing changed) when its id was applied
        before: Standard Webhooks delivers at least once, with the same id on every retry."""
        with self.transaction() as db:
            seen = db.execute("SELECT 1 FROM webhook_events WHERE id = ?", (event_id,)).fetchone()
            if seen:
                return False
            db.execute(
                "INSERT INTO webhook_events (id, type, received_at) VALUES (?, ?, ?)",
                (event_id, event_type, time.time()),
            )
            data = payload.get("data") or {}
            removals = list(data.get("removals") or [])
            if event_type == "removal.revoked":
                removals = [{**r, "state": REVOKED} for r in removals]
            if event_type in ("removal.approved", "removal.revoked"):
                by_dataset: dict[str, list[Mapping[str, Any]]] = {}
                for removal in removals:
                    by_dataset.setdefault(str(removal.get("dataset") or data.get("dataset")), []).append(
                        removal
                    )
                for dataset, rows in by_dataset.items():
                    # An approval retried after the revocation must not bring the removal back.
                    self._upsert(db, dataset, rows, in_feed=False, keep_revoked=True)
            return True

    # --- writing and reading removals -----------------------------------------------------

    @staticmethod
    def _upsert(
        db: sqlite3.Connection,
        dataset: str,
        removals: Iterable[Mapping[str, Any]],
        *,
        in_feed: bool,
        keep_revoked: bool,
    ) -> None:
        now = time.time()
        rows = []
        for removal in removals:
            if not isinstance(removal, Mapping) or not isinstance(removal.get("id"), str):
                raise StoreError(f"a removal without an id in the server's answer: {removal!r:.200}")
            values = [removal.get(name) for name in FIELDS]
            values[1] = dataset
            if not isinstance(values[9], str):
                raise StoreError(f"removal {removal['id']} has no state in the server's answer")
            rows.append((*values, int(in_feed), now))
        state = (
            "CASE WHEN removals.state = 'revoked' THEN 'revoked' ELSE excluded.state END"
            if keep_revoked
            else ("excluded.state")
        )
        updates = ", ".join(f"{name} = excluded.{name}" for name in FIELDS if name not in ("id", "state"))
        db.executemany(
            f"INSERT INTO removals ({', '.join(FIELDS)}, in_feed, updated_at) "  # noqa: S608 (our names)
            f"VALUES ({', '.join('?' * (len(FIELDS) + 2))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}, state = {state}, "
            "in_feed = max(removals.in_feed, excluded.in_feed), updated_at = excluded.updated_at",
            rows,
        )

    def live(self, datasets: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every removal in force (not revoked), of these data sets or all, in id order."""
        query = "SELECT id, dataset, url, phash, pdq FROM removals WHERE state != 'revoked'"
        params: list[str] = []
        if datasets is not None:
            wanted = list(datasets)
            query += f" AND dataset IN ({', '.join('?' * len(wanted))})"
            params = wanted
        for row in self.db.execute(query + " ORDER BY id", params):
            yield {"id": row[0], "dataset": row[1], "url": row[2], "phash": row[3], "pdq": row[4]}

    def counts(self) -> dict[str, dict[str, int]]:
        """Per data set: removals held, live (not revoked), revoked."""
        out: dict[str, dict[str, int]] = {}
        for dataset, state, n in self.db.execute(
            "SELECT dataset, state = 'revoked', count(*) FROM removals GROUP BY 1, 2"
        ):
            entry = out.setdefault(dataset, {"held": 0, "live": 0, "revoked": 0})
            entry["held"] += n
            entry["revoked" if state else "live"] += n
        return out

    def state_of(self, removal_id: str) -> str | None:
        row = self.db.execute("SELECT state FROM removals WHERE id = ?", (removal_id,)).fetchone()
        return row[0] if row else None
