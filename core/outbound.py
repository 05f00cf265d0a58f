"""Outbound HTTP that cannot be pointed at our own network (SSRF guard).

The host name is resolved once, every address is vetted, and the
connection goes to the vetted address itself (the Host header and TLS
name stay the original), so a DNS answer that changes between the check
and the connection cannot smuggle in a private address. Redirects are
never followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

USER_AGENT = "RemovalDesk/1.0 (+https://removal-desk.example/docs/webhooks)"


class OutboundRefused(Exception):
    """The URL may not be called; the message says why, for a person."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    duration_ms: int


def _address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _address_allowed(ip.ipv4_mapped)
    if ip.is_loopback:
        return bool(settings.OUTBOUND_ALLOW_LOOPBACK)
    return ip.is_global and not ip.is_multicast


def _split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we may call, or OutboundRefused saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused("Only http and https URLs can be called.")
    if parts.username or parts.password:
        raise OutboundRefused("URLs with a user name or password are not accepted.")
    host = parts.hostname
    if not host:
        raise OutboundRefused("The URL has no host name.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("The URL's port is not a number between 1 and 65535.") from None
    return parts.scheme, host, port


def _refuse_unless_public(host: str, addresses: set[str]) -> None:
    for address in sorted(addresses):
        if not _address_allowed(ipaddress.ip_address(address.split("%")[0])):
            raise OutboundRefused(
                f"{host} resolves to {address}, which is not a public address; only public "
                "addresses can be called."
            )


def vet_url(url: str) -> tuple[str, str, int, str]:
    """Return (scheme, host, port, address to connect to) or raise OutboundRefused."""
    scheme, host, port = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundRefused(f"The host name {host!r} does not resolve.") from None
    addresses = {str(info[4][0]) for info in infos}
    _refuse_unless_public(host, addresses)
    return scheme, host, port, sorted(addresses)[0]


def vet_destination(url: str) -> None:
    """Check a URL we will call later (a webhook endpoint) when it is registered.

    Refuses what `vet_url` would refuse at call time: a scheme other than
    http(s), credentials, an address that is not public (loopback only when
    OUTBOUND_ALLOW_LOOPBACK is on). A name that does not resolve now is
    accepted: DNS may not be set up yet, and every call vets it again.
    """
    _, host, port = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    _refuse_unless_public(host, {str(info[4][0]) for info in infos})


def _request(
    method: str, url: str, *, body: bytes | None, headers: dict[str, str], timeout: float, max_bytes: int
) -> OutboundResponse:
    """One request to the vetted address of `url`.

    `timeout` bounds the whole exchange, not each socket read, so a server
    that drips one byte a second cannot hold a worker (or outlive a
    delivery's claim). At most `max_bytes` of the answer are read.
    """
    scheme, host, port, address = vet_url(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    shown_host = f"[{host}]" if ":" in host else host
    host_header = shown_host if port in (80, 443) else f"{shown_host}:{port}"
    deadline = time.monotonic() + timeout
    pool_kwargs: dict[str, Any] = {
        "port": port,
        "timeout": urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, server_hostname=host, assert_hostname=host, **pool_kwargs)
    else:
        pool = urllib3.HTTPConnectionPool(address, **pool_kwargs)
    started = time.monotonic()
    chunks: list[bytes] = []
    try:
        response = pool.urlopen(
            method,
            path,
            body=body,
            redirect=False,
            preload_content=False,
            headers={**headers, "Host": host_header, "User-Agent": USER_AGENT},
            assert_same_host=False,
        )
        try:
            received = 0
            while received < max_bytes:
                if time.monotonic() > deadline:
                    raise urllib3.exceptions.ReadTimeoutError(pool, url, "the whole answer took too long")
                # read1: one socket read at most, so a server that drips bytes inside one chunk
                # meets the deadline (read(n) would wait for all n bytes).
                chunk = response.read1(min(64 * 1024, max_bytes - received))
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
        finally:
            response.release_conn()
    finally:
        pool.close()
    return OutboundResponse(
        status=response.status,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=b"".join(chunks),
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> OutboundResponse:
    """POST to a vetted address, keeping at most 64 KB of the answer (a receiver may send anything).

    Raises OutboundRefused, or urllib3's errors for network failures and timeouts.
    """
    return _request("POST", url, body=body, headers=headers, timeout=timeout, max_bytes=64 * 1024)


def get(url: str, *, timeout: float, max_bytes: int) -> OutboundResponse:
    """GET from a vetted address, reading at most max_bytes. Redirects are never followed.

    A 3xx comes back as it is (its Location header included) and the caller
    decides what to tell the person: following a redirect would need each
    hop vetted again, and no proof we check needs it.
    """
    return _request(
        "GET",
        url,
        body=None,
        headers={"Accept": "text/html, text/plain, */*"},
        timeout=timeout,
        max_bytes=max_bytes,
    )
