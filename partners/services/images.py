"""A row's image_url, fetched and hashed when the row sent no hashes.

Through core.outbound (the SSRF guard: every address vetted, loopback only when
OUTBOUND_ALLOW_LOOPBACK is on), at most UPLOAD_MAX_BYTES read, decoded with the uploads' rules
(format allow-list, UPLOAD_MAX_PIXELS checked on the header, so a decompression bomb costs
nothing) and hashed by the maintainers' toolkit, the very code `removal-desk-hash` runs, so a
fetched row matches as a row hashed by the partner would. The sha256 of what was fetched is kept
for the desk (the same file as an artist's work is found by its pHash: works are keyed by their
re-encoded file, which fetched bytes never equal, and re-encoding each fetched image to compare
cost 3 to 5 times its hashing, measured on the sample photos).

A few redirects are followed, each hop vetted again (a redirect to a private address is refused
like the address itself). A transient failure (a timeout, a dropped connection, a 5xx or 429) is
tried again, PARTNER_IMAGE_FETCH_ATTEMPTS times in all with a short backoff; a permanent one
(404, not an image, a bomb, a refused address) and the last transient one mark the row with the
error, and the row goes to the desk: without hashes the policy approves nothing.

Fetching runs outside any transaction (a chunk's locks are not held over the network), a few
rows at a time (PARTNER_IMAGE_FETCH_CONCURRENCY threads), and each batch's results are committed
at once: a worker killed meanwhile fetches again only what it had not stored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from django.conf import settings
from django.db.models import Q
from removal_desk_toolkit import hashing as toolkit

from core import clock, outbound

from ..models import Filing, FilingRow, RowState

MAX_REDIRECTS = 3
# Rows fetched between two heartbeats of the filing: twice the threads, so that a batch of dead
# hosts (each tried PARTNER_IMAGE_FETCH_ATTEMPTS times for up to PARTNER_IMAGE_TIMEOUT_SECONDS)
# takes about 1.5 minutes with the defaults, well inside approval.STALE_AFTER (5): no other
# worker takes the filing over while this one waits on the network.
ROUNDS_PER_BATCH = 2
BACKOFF_SECONDS = (0.5, 2.0, 5.0)
_REDIRECTS = {301, 302, 303, 307, 308}


class _Transient(Exception):
    """Worth trying again: the server or the network failed, not the row."""


class _Permanent(Exception):
    """The row's image cannot be hashed; the message says why, for the desk and the partner."""


@dataclass(frozen=True)
class Fetched:
    hashes: toolkit.ImageHashes | None
    sha256: str
    attempts: int
    error: str = ""


def _mb(value: int) -> str:
    return f"{value / 1024 / 1024:,.0f} MB"


def _get_once(url: str) -> bytes:
    """The image's bytes, redirects followed and vetted; or _Transient / _Permanent."""
    limit = settings.UPLOAD_MAX_BYTES
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            answer = outbound.get(url, timeout=settings.PARTNER_IMAGE_TIMEOUT_SECONDS, max_bytes=limit + 1)
        except outbound.OutboundRefused as exc:
            raise _Permanent(f"image_url {url[:200]!r} was not fetched: {exc}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Transient(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        if answer.status in _REDIRECTS and answer.headers.get("location"):
            url = urljoin(url, answer.headers["location"])
            continue
        if answer.status == 200:
            if len(answer.body) > limit:
                raise _Permanent(f"image_url's answer is larger than {_mb(limit)} (UPLOAD_MAX_BYTES)")
            return answer.body
        if answer.status in (408, 425, 429) or answer.status >= 500:
            raise _Transient(f"the server answered {answer.status}")
        raise _Permanent(
            f"image_url answered {answer.status}: no image there; file the row again with its hashes "
            "or an image URL that works"
        )
    raise _Permanent(f"image_url redirects more than {MAX_REDIRECTS} times")


def image_fetch(url: str, *, attempts: int | None = None) -> Fetched:
    """Fetch and hash one image, trying a transient failure again; never raises."""
    tries = attempts or settings.PARTNER_IMAGE_FETCH_ATTEMPTS
    last = ""
    for attempt in range(1, tries + 1):
        try:
            data = _get_once(url)
            hashes = toolkit.compute_hashes(data, max_pixels=settings.UPLOAD_MAX_PIXELS, variants=False)
        except _Permanent as exc:
            return Fetched(None, "", attempt, str(exc))
        except toolkit.ImageRejected as exc:
            return Fetched(None, "", attempt, f"image_url is not an image we hash: {exc}")
        except _Transient as exc:
            last = str(exc)
            if attempt < tries:
                time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
            continue
        return Fetched(hashes, hashlib.sha256(data).hexdigest(), attempt)
    return Fetched(
        None,
        "",
        tries,
        f"image_url could not be fetched after {tries} attempts (last: {last}); the row waits for the desk",
    )


def _needs_image() -> Q:
    return Q(phash__isnull=True, pdq__isnull=True, image_fetched_at__isnull=True, error="") & ~Q(image_url="")


def images_fetch_rows(*, filing: Filing, rows: Sequence[FilingRow]) -> int:
    """Fetch and hash the images of those of `rows` that need it; returns how many were tried."""
    wanted = [row for row in rows if row.image_url and not row.has_hashes and row.image_fetched_at is None]
    wanted = [row for row in wanted if not row.error]
    threads = settings.PARTNER_IMAGE_FETCH_CONCURRENCY
    size = threads * ROUNDS_PER_BATCH
    for start in range(0, len(wanted), size):
        batch = wanted[start : start + size]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(lambda row: image_fetch(row.image_url), batch))
        now = clock.now()
        for row, fetched in zip(batch, results, strict=True):
            row.image_fetched_at, row.image_attempts = now, fetched.attempts
            if fetched.hashes is None:
                row.error_field, row.error = "image_url", fetched.error
                continue
            row.phash, row.dhash = fetched.hashes.phash, fetched.hashes.dhash
            row.pdq, row.pdq_quality = fetched.hashes.pdq, fetched.hashes.pdq_quality
            row.image_sha256 = fetched.sha256
        # One UPDATE for the batch, committed now (autocommit): a killed worker keeps it.
        FilingRow.objects.bulk_update(
            batch,
            [
                "phash", "dhash", "pdq", "pdq_quality", "image_sha256", "image_fetched_at",
                "image_attempts", "error_field", "error",
            ],
        )  # fmt: skip
        Filing.objects.filter(pk=filing.pk).update(heartbeat_at=now)
    return len(wanted)


def images_prepare(*, filing: Filing, limit: int) -> int:
    """Before a chunk is decided: fetch the images of the next pending rows that need one.

    One indexed query when no row needs an image (the common case: rows carry hashes).
    """
    filing = Filing.objects.only("pk", "cursor").get(pk=filing.pk)
    rows = list(
        FilingRow.objects.filter(filing=filing, state=RowState.PENDING, pk__gt=filing.cursor)
        .filter(_needs_image())
        .order_by("pk")[:limit]
    )
    return images_fetch_rows(filing=filing, rows=rows) if rows else 0
