"""The SSRF guard refuses addresses that are not public."""

from __future__ import annotations

import socket
import time

import pytest
import urllib3

from core.outbound import OutboundRefused, get, post, vet_url
from tests.helpers import web_server


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://2130706433/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_it_refuses_addresses_that_are_not_public(url, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(OutboundRefused):
        vet_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http://user:pw@example.com/", "http:///nohost"])
def test_it_refuses_urls_it_cannot_call(url):
    with pytest.raises(OutboundRefused):
        vet_url(url)


def test_it_allows_loopback_only_with_the_setting(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert vet_url("http://127.0.0.1:8080/x")[3] == "127.0.0.1"
    with pytest.raises(OutboundRefused):
        vet_url("http://10.0.0.1/")


# --- names, and which address is actually called --------------------------------


def resolving(monkeypatch, table: dict[str, list[str]]) -> list[str]:
    """Make the OS resolver answer `table` for those names (the OS, not our code, is replaced).

    Returns the list of names looked up, in order, so a test can count look-ups."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        if host in table:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["169.254.169.254"], ["10.1.2.3"], ["::1"], ["93.184.216.34", "192.168.0.10"]],
)
def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch, settings, addresses):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    resolving(monkeypatch, {"hooks.example.org": addresses})
    with pytest.raises(OutboundRefused, match="not a public address"):
        vet_url("https://hooks.example.org/removals")


def test_a_name_with_only_public_addresses_is_allowed(monkeypatch, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    resolving(monkeypatch, {"hooks.example.org": ["93.184.216.34"]})
    vetted = vet_url("https://hooks.example.org/removals")
    assert vetted == ("https", "hooks.example.org", 443, "93.184.216.34")


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(OutboundRefused, match="does not resolve"):
        vet_url("http://no-such-host.invalid/")


def test_the_connection_goes_to_the_vetted_address_without_a_second_look_up(monkeypatch, settings, servers):
    """A DNS answer that changes after the check (rebinding) cannot redirect the request: the name is
    resolved once, and the connection is made to that address with the original Host header."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    target = servers(204)
    looked_up = resolving(monkeypatch, {"hooks.example.org": ["127.0.0.1"]})
    response = post(f"http://hooks.example.org:{target.port}/removals?x=1", body=b"{}", headers={}, timeout=5)
    assert response.status == 204
    assert looked_up.count("hooks.example.org") == 1
    [(path, headers)] = target.requests
    assert path == "/removals?x=1" and headers["host"] == f"hooks.example.org:{target.port}"


def test_a_redirect_is_returned_not_followed(settings, servers):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    elsewhere = servers(200)
    for location in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.1:{elsewhere.port}/x"):
        redirecting = servers(302, {"Location": location})
        response = post(f"http://127.0.0.1:{redirecting.port}/hooks", body=b"{}", headers={}, timeout=5)
        assert response.status == 302 and response.headers["location"] == location
        assert len(redirecting.requests) == 1
    assert elsewhere.requests == []  # the Location was never called


def test_a_server_that_drips_its_answer_is_cut_off_at_the_deadline(settings):
    """Each byte comes well within the socket timeout; the whole answer would take 20 s."""
    with web_server() as site:
        site.pages["/slow"] = (200, {"Content-Type": "text/plain"}, b"x" * 100)
        site.slow["/slow"] = 0.2
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            get(site.url("/slow"), timeout=1, max_bytes=1024)
        assert time.monotonic() - started < 2
