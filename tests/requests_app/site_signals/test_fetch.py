"""Fetching the three files from a real web server on loopback (the tests' OUTBOUND_ALLOW_LOOPBACK):
good, malformed, huge, redirecting within and off the domain, slow; and the SSRF guard when the
flag is off."""

from __future__ import annotations

import time

import pytest

from requests_app.site_signals import FOUND, MALFORMED, NOT_FOUND, UNREACHABLE, describe, fetch_site

ROBOTS = b"User-agent: GPTBot\nDisallow: /art/\n"
AI_TXT = b"User-Agent: *\nDisallow: *.png\n"
TDMREP = b'[{"location": "/shop/*", "tdm-reservation": 1}]'


@pytest.fixture
def files(site, signals_settings):
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain; charset=utf-8"}, ROBOTS)
    site.pages["/ai.txt"] = (200, {"Content-Type": "text/plain"}, AI_TXT)
    site.pages["/.well-known/tdmrep.json"] = (200, {"Content-Type": "application/json"}, TDMREP)
    return site


def test_three_good_files(files):
    results = fetch_site(files.domain)
    assert {key: r.status for key, r in results.items()} == {
        "robots": FOUND,
        "ai_txt": FOUND,
        "tdmrep": FOUND,
    }
    assert [s.scope for s in results["robots"].reading.scope] == ["localhost/art/"]
    assert [s.scope for s in results["ai_txt"].reading.scope] == ["localhost"]
    assert [s.scope for s in results["tdmrep"].reading.scope] == ["localhost/shop/"]
    assert results["robots"].url == files.url("/robots.txt") and results["robots"].size == len(ROBOTS)
    assert sorted(files.hits) == ["/.well-known/tdmrep.json", "/ai.txt", "/robots.txt"]


def test_missing_files_web_pages_and_server_errors(site, signals_settings):
    site.page(
        "/ai.txt", "<!doctype html><title>Home</title>"
    )  # a site that answers every path with its home page
    site.pages["/.well-known/tdmrep.json"] = (503, {}, b"down")
    results = fetch_site(site.domain)
    assert results["robots"].status == NOT_FOUND and results["robots"].http_status == 404
    assert results["ai_txt"].status == NOT_FOUND and results["ai_txt"].error["code"] == "html_page"
    assert results["tdmrep"].status == UNREACHABLE and results["tdmrep"].error["code"] == "http_error"


def test_malformed_and_huge_files_are_read_as_such(files, signals_settings):
    files.pages["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        b"User-agent: GPTBot\nDisallow: /\xff\n",
    )
    files.pages["/ai.txt"] = (200, {"Content-Type": "text/plain"}, b"# " + b"x" * (10 * 1024 * 1024))
    files.pages["/.well-known/tdmrep.json"] = (
        200,
        {"Content-Type": "application/json"},
        b'{"location": "/"}',
    )
    results = fetch_site(files.domain)
    assert {r.status for r in results.values()} == {MALFORMED}
    assert [p.code for p in results["robots"].reading.problems] == ["not_utf8"]
    assert [p.code for p in results["ai_txt"].reading.problems] == ["too_large"]
    assert results["ai_txt"].size == signals_settings.SITE_SIGNALS_MAX_BYTES + 1  # read no further than that
    assert [p.code for p in results["tdmrep"].reading.problems] == ["json_not_array"]


def test_non_text_content_types_are_refused(files):
    files.pages["/robots.txt"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n")
    files.pages["/.well-known/tdmrep.json"] = (200, {"Content-Type": "application/octet-stream"}, TDMREP)
    results = fetch_site(files.domain)
    assert results["robots"].status == MALFORMED
    assert describe(results["robots"].reading.problems[0].as_json(), file_label="robots.txt") == (
        "robots.txt: the server sends it as image/png, not as text; serve it as text/plain."
    )
    assert results["tdmrep"].status == MALFORMED and results["ai_txt"].status == FOUND


def test_redirects_are_followed_within_the_domain_only(files):
    files.pages["/robots.txt"] = (301, {"Location": "/robots-2026.txt"}, b"")
    files.pages["/robots-2026.txt"] = (200, {"Content-Type": "text/plain"}, ROBOTS)
    files.pages["/ai.txt"] = (302, {"Location": f"http://127.0.0.1:{files.port}/ai.txt"}, b"")
    files.pages["/.well-known/tdmrep.json"] = (
        302,
        {"Location": "https://elsewhere.example/tdmrep.json"},
        b"",
    )
    results = fetch_site(files.domain)
    assert results["robots"].status == FOUND and results["robots"].url == files.url("/robots-2026.txt")
    for key in ("ai_txt", "tdmrep"):
        assert results[key].status == UNREACHABLE and results[key].error["code"] == "redirect_away"
    assert "/ai.txt" in files.hits and files.hits.count("/ai.txt") == 1  # 127.0.0.1 is not the domain
    text = describe(results["tdmrep"].error, file_label="tdmrep.json")
    assert text == (
        "tdmrep.json: it redirects to https://elsewhere.example/tdmrep.json, outside your domain; "
        "we do not follow that."
    )


def test_a_redirect_loop_stops(files):
    files.pages["/robots.txt"] = (302, {"Location": "/robots.txt"}, b"")
    results = fetch_site(files.domain)
    assert results["robots"].error["code"] == "redirect_loop" and files.hits.count("/robots.txt") == 4


def test_a_slow_server_is_given_up_on_within_the_deadline(files, signals_settings):
    signals_settings.SITE_SIGNALS_TIMEOUT_SECONDS = 1
    files.slow["/robots.txt"] = 0.2
    files.slow["/ai.txt"] = 0.2
    started = time.monotonic()
    results = fetch_site(files.domain)
    elapsed = time.monotonic() - started
    assert results["robots"].status == UNREACHABLE and results["robots"].error["code"] == "timeout"
    assert results["ai_txt"].status == UNREACHABLE
    assert results["tdmrep"].status == FOUND  # the others do not wait for the slow ones
    assert elapsed < 3, elapsed  # side by side, one shared deadline


def test_the_ssrf_guard_refuses_private_addresses_when_loopback_is_not_allowed(files, signals_settings):
    signals_settings.OUTBOUND_ALLOW_LOOPBACK = False
    results = fetch_site(files.domain)
    assert {r.status for r in results.values()} == {UNREACHABLE}
    assert {r.error["code"] for r in results.values()} == {"refused"}
    assert "not a public address" in results["robots"].error["params"]["error"]
    assert files.hits == []
    for address in ("10.0.0.1", "169.254.169.254", "192.168.1.1"):
        assert fetch_site(address)["robots"].error["code"] == "refused"
