"""The API docs page renders in a real browser from this site alone (no fonts, no CDN)."""

from __future__ import annotations

from typing import Any


def test_the_api_docs_render_without_any_other_origin(browser: Any, live_server: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    console: list[str] = []
    finished: list[str] = []
    blocked: list[tuple[str, str]] = []
    failing: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda response: failing.append(response.url) if response.status >= 400 else None)
    page.on("requestfinished", lambda request: finished.append(request.url))
    page.on("requestfailed", lambda request: blocked.append((request.url, request.failure or "")))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector("h1:has-text('Removal Desk maintainer API')", timeout=30_000)
    page.wait_for_selector("text=/api/v2/query/urls/", timeout=30_000)
    context.close()
    ours = (live_server.url, "blob:", "data:")
    # Nothing reached another origin; the one attempt (Redoc's built-in Redocly logo) is blocked
    # by the page's CSP before it leaves the browser.
    assert [u for u in finished if not u.startswith(ours)] == []
    outside = [u for u in requested if not u.startswith(ours)]
    assert outside in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"]), outside
    assert all(why == "csp" for url, why in blocked if url in outside), blocked
    assert any("/api/v1/schema" in u for u in finished), requested
    # Every file loads: the page names the site's icon, so the browser guesses no /favicon.ico.
    assert failing == []
    assert not any(u.endswith("/favicon.ico") for u in requested), requested
    # Only the CSP's refusal of Redoc's built-in Redocly logo, if anything, may show up.
    assert [m for m in console if m.startswith("error") and "cdn.redoc.ly/redoc/logo-mini.svg" not in m] == []
