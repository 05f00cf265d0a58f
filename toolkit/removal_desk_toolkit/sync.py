"""`removal-desk sync`: keep a local copy of a data set's removals up to date from the feed.

    removal-desk sync --server https://desk.example --dataset photos-v1 --store removals.sqlite3
    (the key in REMOVAL_DESK_KEY, never on the command line, where `ps` shows it)

The feed (`GET /api/v1/datasets/{slug}/removals/`) lists every removal of the data set in the
order recorded, a page at a time, with `next` (the following page) and `poll` (the cursor just
after the page). Each page is written with its `poll` in one SQLite transaction, so a sync
killed at any point goes on from the last page written: nothing skipped, nothing twice.

What is checked: the feed's last page says how many removals the data set holds up to it
(`recorded`); when the copy holds fewer of them, one was committed late, below a cursor already
passed, and the whole feed is read again (idempotent: removals are keyed by id). When it still
disagrees, the sync fails saying so.

What the removals feed cannot show: a removal revoked later keeps its place in it, so a poll from
the cursor does not see the change. So each sync then polls the revocations feed
(`GET /api/v1/datasets/{slug}/revocations/`, every revoked removal once, in the order revoked)
from its own cursor, kept in the store the same way: together the two feeds are the whole record,
without webhooks. (The `removal.revoked` webhook brings the same news sooner: see
removal_desk_toolkit.webhooks.) `--full` forgets both cursors and reads both feeds again.

Standard library only (urllib): the sync needs nothing a maintainer has to install.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from . import __version__
from .store import Store, StoreError

KEY_VARIABLE = "REMOVAL_DESK_KEY"
PAGE_LIMIT = 1000  # the feed's largest page
RETRIES = 6
MAX_BACKOFF = 60.0


class SyncError(Exception):
    """The sync stopped; the message says why and what to do. What was written stays written."""


@dataclass(frozen=True)
class Page:
    removals: list[dict[str, Any]]
    next: str | None
    poll: str
    recorded: int | None


@dataclass(frozen=True)
class SyncResult:
    pages: int
    removals: int
    recorded: int | None
    held: int
    reread: bool
    revocations: int = 0  # entries read from the revocations feed


class FeedClient:
    """The maintainer API's feed over urllib: retries what is transient, explains what is not."""

    def __init__(
        self,
        server: str,
        key: str,
        *,
        timeout: float = 60,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncError(f"--server {server!r} is not an http(s) URL, e.g. https://desk.example")
        if not key:
            raise SyncError(f"no API key: put the maintainer key in the {KEY_VARIABLE} environment variable")
        self.server = server.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.sleep = sleep

    def page(
        self, dataset: str, cursor: str | None, limit: int = PAGE_LIMIT, *, feed: str = "removals"
    ) -> Page:
        """A page of the data set's `removals` feed or of its `revocations` feed."""
        query: dict[str, Any] = {"limit": limit}
        if cursor:
            query["cursor"] = cursor
        body = self._get(f"/api/v1/datasets/{quote(dataset, safe='')}/{feed}/?{urlencode(query)}")
        try:
            results = body["results"]
            if not isinstance(results, list) or not isinstance(body["poll"], str):
                raise TypeError
            recorded = body.get("recorded")
            return Page(
                results, body.get("next"), body["poll"], recorded if isinstance(recorded, int) else None
            )
        except (KeyError, TypeError):
            raise SyncError(
                f"{self.server} answered the feed with something that is not a feed page"
            ) from None

    def _get(self, path: str) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.server + path,
            headers={
                "Authorization": f"Bearer {self.key}",
                "Accept": "application/json",
                "User-Agent": f"removal-desk-toolkit/{__version__}",
            },
        )
        for attempt in range(self.retries + 1):
            wait: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                status, error = exc.code, _error_of(exc)
                if status == 429 or status >= 500:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                    problem = f"{status} {error.get('message') or exc.reason}"
                else:
                    raise SyncError(_explain(status, error, path)) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
                problem = f"{getattr(exc, 'reason', None) or exc}"
            if attempt == self.retries:
                raise SyncError(
                    f"{self.server} did not answer after {self.retries + 1} tries ({problem}); "
                    "run the sync again later: it goes on from the last page written"
                )
            backoff = wait if wait is not None else min(MAX_BACKOFF, 2**attempt) * (0.5 + random.random() / 2)
            self.sleep(backoff)
        raise AssertionError("unreachable")


def _error_of(exc: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        error = json.loads(exc.read()).get("error")
        return error if isinstance(error, dict) else {}
    except (ValueError, AttributeError, OSError):
        return {}


def _retry_after(value: str | None) -> float | None:
    try:
        return min(MAX_BACKOFF, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


def _explain(status: int, error: Mapping[str, Any], path: str) -> str:
    code, message = error.get("code", ""), error.get("message", "")
    if code == "invalid_cursor":
        return (
            "the server refused the saved cursor (it did not give it out, or no longer knows it): "
            f"{message} Run `removal-desk sync --full` to read the feed again from the start "
            "(removals already held are kept and updated, none doubled)."
        )
    if status == 401:
        return f"the server refused the API key ({message or 'unauthorized'}); check {KEY_VARIABLE}"
    if status == 403:
        return f"this key may not read the feed ({code}: {message}); use a maintainer key"
    if status == 404:
        return (
            f"no such data set for this key ({message or path}); check --dataset and the key's organisation"
        )
    return f"the server answered {status} {code}: {message or 'no explanation given'}"


def sync(
    store: Store,
    client: FeedClient,
    dataset: str,
    *,
    full: bool = False,
    limit: int = PAGE_LIMIT,
    progress: Callable[[str], None] = lambda text: None,
) -> SyncResult:
    """Bring `store`'s copy of `dataset` up to date; see the module's docstring."""
    try:
        feed = store.feed_start(dataset=dataset, server=client.server, restart=full)
    except StoreError as exc:
        raise SyncError(str(exc)) from None
    cursor = feed.cursor
    pages = removals = 0
    reread = False
    while True:
        page = client.page(dataset, cursor, limit)
        store.feed_page(dataset=dataset, removals=page.removals, cursor=page.poll, recorded=page.recorded)
        pages += 1
        removals += len(page.removals)
        progress(f"{dataset}: page {pages}, {removals} removals read")
        if page.next is not None:
            cursor = page.next
            continue
        held = store.in_feed_count(dataset)
        if page.recorded is None or held == page.recorded:
            revocations = _revocations(store, client, dataset, limit=limit, progress=progress)
            return SyncResult(pages, removals, page.recorded, held, reread, revocations)
        if held > page.recorded:
            raise SyncError(
                f"the store holds {held} removals of {dataset!r} from the feed but the server "
                f"counts {page.recorded}: removals were deleted on the server, or the store was "
                "copied between servers; sync into a new --store file"
            )
        if reread:
            raise SyncError(
                f"the feed of {dataset!r} still lacks {page.recorded - held} of the {page.recorded} "
                "removals the server counts after reading it again from the start; run the sync "
                "again, and tell the registry's operators if this repeats"
            )
        progress(
            f"{dataset}: {page.recorded - held} removal(s) were recorded below a cursor already "
            "passed; reading the feed again from the start"
        )
        reread, cursor = True, None


def _revocations(
    store: Store, client: FeedClient, dataset: str, *, limit: int, progress: Callable[[str], None]
) -> int:
    """Poll the revocations feed from the store's cursor to its end; the entries read."""
    feed = store.feed(dataset)
    cursor = feed.revocations_cursor if feed is not None else None
    read = pages = 0
    while True:
        page = client.page(dataset, cursor, limit, feed="revocations")
        store.revocations_page(dataset=dataset, removals=page.removals, cursor=page.poll)
        pages += 1
        read += len(page.removals)
        progress(f"{dataset}: revocations page {pages}, {read} revocations read")
        if page.next is None:
            return read
        cursor = page.next


def add_arguments(parser: Any) -> None:
    parser.add_argument("--server", required=True, help="the registry's address, e.g. https://desk.example")
    parser.add_argument("--dataset", required=True, action="append", help="a data set's slug (repeatable)")
    parser.add_argument("--store", required=True, help="the SQLite file holding the copy (created when new)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="read the removals and revocations feeds again from the start and take every state as "
        "the server holds it now",
    )
    parser.add_argument("--limit", type=int, default=PAGE_LIMIT, help="removals per page (1 to 1000)")
    parser.epilog = (
        f"The maintainer API key is read from {KEY_VARIABLE}. Exit status: 0 when up to date, "
        "1 when the sync stopped (the message says why; what was written stays), 2 for a usage error."
    )


def run(args: Any, *, stderr: Any = sys.stderr) -> int:
    if not 1 <= args.limit <= PAGE_LIMIT:
        stderr.write(f"removal-desk sync: --limit must be from 1 to {PAGE_LIMIT}\n")
        return 2
    try:
        client = FeedClient(args.server, os.environ.get(KEY_VARIABLE, ""))
        with Store(args.store) as store:
            for dataset in args.dataset:
                started = time.monotonic()
                line = _Line(stderr)
                result = sync(store, client, dataset, full=args.full, limit=args.limit, progress=line)
                counts = store.counts().get(dataset, {"live": 0, "revoked": 0})
                if line.tty:
                    stderr.write("\n")  # past the line redrawn in place
                stderr.write(
                    f"{dataset}: up to date: {result.removals} removals read in {result.pages} page(s) "
                    f"and {result.revocations} revocations, "
                    f"{counts['live']} in force and {counts['revoked']} revoked held"
                    + (f", {result.recorded} recorded on the server" if result.recorded is not None else "")
                    + f", in {time.monotonic() - started:.1f} s\n"
                )
    except (SyncError, StoreError) as exc:
        stderr.write(f"removal-desk sync: {exc}\n")
        return 1
    return 0


class _Line:
    """Progress on stderr: redrawn in place on a terminal, else a line every 10 seconds."""

    def __init__(self, out: Any) -> None:
        self.out = out
        isatty = getattr(out, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.last = 0.0

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if self.tty:
            self.out.write(f"\r\x1b[K{text}")
        elif now - self.last >= 10 or "again" in text:
            self.last = now
            self.out.write(text + "\n")
        self.out.flush()
