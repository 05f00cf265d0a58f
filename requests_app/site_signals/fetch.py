"""Fetching the three files from an artist's verified domain, through the SSRF-guarded client.

Each file is one GET through core.outbound (every hop's address vetted, the answer capped at
SITE_SIGNALS_MAX_BYTES + 1 so an oversized file is seen as such). A redirect is followed only
within the domain (the same host, or one of its subdomains such as www.), at most MAX_HOPS
times and never from https down to http; any other redirect is refused and said so. The three
files are fetched side by side and share one deadline, so the artist waits at most about
SITE_SIGNALS_TIMEOUT_SECONDS. Nothing here touches the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from core import outbound

from ._text import Reading
from .robots import parse_ai_txt, parse_robots
from .tdmrep import parse_tdmrep

MAX_HOPS = 3


@dataclass(frozen=True)
class SiteFile:
    key: str
    label: str
    path: str
    parse: Callable[..., Reading]
    json: bool = False


FILES: tuple[SiteFile, ...] = (
    SiteFile("robots", "robots.txt", "/robots.txt", parse_robots),
    SiteFile("ai_txt", "ai.txt", "/ai.txt", parse_ai_txt),
    SiteFile("tdmrep", "tdmrep.json", "/.well-known/tdmrep.json", parse_tdmrep, json=True),
)
FILE_LABELS = {f.key: f.label for f in FILES}

# What a file's fetch and reading came to.
FOUND, NOT_FOUND, MALFORMED, UNREACHABLE = "found", "not_found", "malformed", "unreachable"


@dataclass
class FileResult:
    status: str
    url: str
    http_status: int | None = None
    size: int = 0
    reading: Reading = field(default_factory=Reading)
    error: dict[str, Any] = field(default_factory=dict)  # why it was not found or not reached

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "url": self.url,
            "http_status": self.http_status,
            "bytes": self.size,
            "error": self.error,
            **self.reading.as_json(),
        }


def _within(site: str, url: str) -> bool:
    """Is `url` on the site itself (same host and port) or on one of its subdomains?"""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    site_host, _sep, site_port = site.partition(":")
    try:
        port = parts.port
    except ValueError:
        return False
    if host == site_host:
        return str(port or "") == site_port or (not site_port and port in (None, 80, 443))
    return host.endswith("." + site_host) and port in (None, 80, 443)


def _failure(
    status: str, url: str, code: str, http_status: int | None = None, /, **params: Any
) -> FileResult:
    return FileResult(status, url, http_status, error={"code": code, "params": params})


def fetch_one(site: str, file: SiteFile, *, deadline: float) -> FileResult:
    """GET the file (following redirects within the site), then read it; never raises."""
    scheme = settings.PROOF_FETCH_SCHEME
    limit = settings.SITE_SIGNALS_MAX_BYTES
    url = f"{scheme}://{site}{file.path}"
    for _hop in range(MAX_HOPS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _failure(UNREACHABLE, url, "timeout", seconds=settings.SITE_SIGNALS_TIMEOUT_SECONDS)
        try:
            response = outbound.get(url, timeout=remaining, max_bytes=limit + 1)
        except outbound.OutboundRefused as exc:
            return _failure(UNREACHABLE, url, "refused", error=str(exc))
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            return _failure(UNREACHABLE, url, "timeout", seconds=settings.SITE_SIGNALS_TIMEOUT_SECONDS)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return _failure(UNREACHABLE, url, "connect", error=exc.__class__.__name__)
        if 300 <= response.status < 400:
            location = response.headers.get("location", "")
            target = urljoin(url, location) if location else ""
            if not target or not _within(site, target):
                return _failure(
                    UNREACHABLE, url, "redirect_away", response.status, where=(target or "?")[:300]
                )
            if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                return _failure(UNREACHABLE, url, "redirect_insecure", response.status, where=target[:300])
            url = target
            continue
        return _read(file, url, response)
    return _failure(UNREACHABLE, url, "redirect_loop", hops=MAX_HOPS)


def _read(file: SiteFile, url: str, response: outbound.OutboundResponse) -> FileResult:
    if 400 <= response.status < 500:
        return _failure(NOT_FOUND, url, "http_missing", response.status, status=response.status)
    if response.status != 200:
        return _failure(UNREACHABLE, url, "http_error", response.status, status=response.status)
    result = FileResult(FOUND, url, response.status, size=len(response.body))
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "text/html":
        return _failure(NOT_FOUND, url, "html_page", response.status)
    allowed = content_type in ("", "text/plain") or (
        file.json and (content_type == "application/json" or content_type.endswith("+json"))
    )
    if not allowed:
        result.status = MALFORMED
        result.reading.refuse("json_type" if file.json else "content_type", type=content_type[:80])
        return result
    host = (urlsplit(url).hostname or "").lower()
    result.reading = file.parse(response.body, host=host, max_bytes=settings.SITE_SIGNALS_MAX_BYTES)
    if result.reading.fatal:
        result.status = MALFORMED
    return result


def fetch_site(site: str) -> dict[str, FileResult]:
    """The three files of `site` (host[:port]), fetched side by side under one deadline."""
    deadline = time.monotonic() + settings.SITE_SIGNALS_TIMEOUT_SECONDS
    with ThreadPoolExecutor(max_workers=len(FILES), thread_name_prefix="site-signals") as pool:
        futures = {f.key: pool.submit(fetch_one, site, f, deadline=deadline) for f in FILES}
        return {key: future.result() for key, future in futures.items()}
