"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Every page a test visits goes through `Pages.check`: axe-core (from
node_modules, installed by `npm ci --prefix tests/browser`) must find no
serious or critical violation, the page must not scroll sideways at 375 px,
and a screenshot is written at desktop (1280) and phone (375) width to
tests/browser/screenshots/. Any console error or uncaught page error fails
the test. If chromium cannot start, the tests fail; they never skip.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are ordinary synchronous calls, so Django's async guard is lifted.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.helpers import PHONE

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
BLOCKING_IMPACTS = {"serious", "critical"}
SCREENSHOT_TIMEOUT_MS = 90_000


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/browser` first")
    return AXE.read_text()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # a browser that cannot start is a failure, not a skip
            pytest.fail(f"chromium could not start from {CHROMIUM}: {exc}")
        yield launched
        launched.close()


class Pages:
    """One browser context (one visitor) with the checks every page goes through."""

    def __init__(self, context: BrowserContext, base_url: str, problems: list[str]) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.base = base_url
        self.problems = problems
        self.watch(self.page)

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                source = (message.location or {}).get("url", "")
                self.problems.append(f"console error on {page.url} ({source}): {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error on {page.url}: {error}"))

    def goto(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        return self.page

    def check(self, name: str) -> None:
        """axe-core, no sideways scrolling on a phone, and screenshots at both widths.

        A full-page screenshot of a long page (a request's 100 works) takes seconds on a busy
        machine: it gets SCREENSHOT_TIMEOUT_MS rather than the 15 s every other step has."""
        page = self.page
        page.wait_for_load_state("load")
        violations = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))
                }));
            }"""
        )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe-core on {name} ({page.url}): {blocking}"
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS
        )
        page.set_viewport_size(PHONE)
        try:
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                wide = page.evaluate(
                    """() => [...document.querySelectorAll("body *")]
                        .filter(e => !e.closest(".table-wrap"))
                        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                        .slice(0, 8).map(e => e.tagName + "." + e.className)"""
                )
                raise AssertionError(f"{name} scrolls sideways by {overflow}px at 375px: {wide}")
            page.screenshot(
                path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS
            )
        finally:
            page.set_viewport_size(DESKTOP)

    def text(self, selector: str = "main") -> str:
        return self.page.inner_text(selector)


@pytest.fixture
def visitor(browser: Browser, live_server: Any, axe_source: str) -> Iterator[Any]:
    """Opens visitors (browser contexts); at the end, fails on any console or page error."""
    problems: list[str] = []
    contexts: list[BrowserContext] = []

    def open_visitor(*, javascript: bool = True, locale: str = "en-GB") -> Pages:
        context = browser.new_context(
            viewport=DESKTOP, java_script_enabled=javascript, locale=locale, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        context.add_init_script(axe_source)
        contexts.append(context)
        return Pages(context, live_server.url, problems)

    yield open_visitor
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


def _demo_admin_login(visitor: Any, settings: Any, tmp_path: Any, username: str, password: str) -> Any:
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path  # seed_demo keeps its demo API key there
    call_command("seed_demo", stdout=io.StringIO())
    desk = visitor()
    page = desk.page
    page.set_viewport_size(DESKTOP)
    desk.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    return desk


@pytest.fixture
def demo_desk(visitor: Any, settings: Any, tmp_path: Any) -> Any:
    """The demo data (seed_demo), and a visitor logged in to the desk as its moderator at 1280 px."""
    return _demo_admin_login(visitor, settings, tmp_path, "moderator@demo.example", "demo-moderator-pass")


@pytest.fixture
def demo_operator(visitor: Any, settings: Any, tmp_path: Any) -> Any:
    """The demo data, and a visitor logged in to the admin as its operator (a superuser) at 1280 px."""
    return _demo_admin_login(visitor, settings, tmp_path, "admin@demo.example", "demo-admin-pass")
