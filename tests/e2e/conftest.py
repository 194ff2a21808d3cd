"""Browser fixtures: the test app under waitress on a free port, and Debian's Chromium
driven by Playwright (never a downloaded browser).

The app, database and data fixtures (``app``, ``make_staff``...) come from tests/conftest.py;
every table is emptied after each test, so each journey starts from an empty database.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import waitress
from playwright.sync_api import Page, expect, sync_playwright
from waitress import wasyncore

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "no Chromium: install Debian's chromium package (or set CHROMIUM_PATH)"

# htmx swaps and form posts against a real database: allow a slow CI machine some slack.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    path = find_chromium()
    if path is None:
        if _on_ci():  # .ci/run installs Chromium: its absence there is a broken CI, not a skip
            pytest.fail(NO_CHROMIUM + " (CI is set: the browser journeys must run)", pytrace=False)
        pytest.skip(NO_CHROMIUM)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


# ----------------------------------------------------------------------------- server


@dataclass(frozen=True)
class LiveServer:
    url: str


@contextmanager
def serving(app) -> Iterator[LiveServer]:
    """The app served over HTTP by waitress, as in production, on 127.0.0.1:<free port>."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="e2e-waitress", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.effective_port}")
    finally:
        # Close the listener and keep-alive connections from inside the server's own loop (woken by
        # its trigger), which then ends because its map is empty; then let requests in flight finish
        # before the tables are emptied.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=10)
        server.task_dispatcher.shutdown(timeout=10)
    assert not thread.is_alive(), "waitress did not stop"


@pytest.fixture
def live_server(app):
    """The test app on a live server for one test; the app fixture empties the tables afterwards."""
    with serving(app) as server:
        yield server


# ----------------------------------------------------------------------------- pages

# Statuses the app answers on purpose (wrong PIN, refused role, form errors); Chromium logs each
# page load with such a status as a console error. Any other failed load is a real problem.
DELIBERATE_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (401|403|422) ")


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions of every page a test opened."""

    errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"))
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]

    @property
    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not DELIBERATE_STATUS.match(e.split(": ", 1)[1])]

    def assert_clean(self) -> None:
        assert self.csp_violations == [], "the Content-Security-Policy blocked something"
        assert self.page_errors == [], "uncaught JavaScript errors"
        assert self.unexpected == [], "console errors"


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def new_page(browser, live_server, console, request, tmp_path):
    """Open a page in a fresh browser context (own cookies) on the live server: new_page(viewport=...)."""
    contexts, pages = [], []

    def open_page(**context_options) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="en-IN", timezone_id="Asia/Kolkata",
                                      **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        console.watch(page)
        pages.append(page)
        return page

    yield open_page
    call = request.node.stash.get(_REPORTS, {}).get("call")
    if call is not None and call.failed:  # leave evidence for whoever reads the CI log
        for n, page in enumerate(pages):
            try:
                shot = tmp_path / f"page{n}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"page {n} at {page.url}: screenshot {shot}")
            except Exception as exc:  # a crashed page must not hide the real failure
                print(f"page {n}: no screenshot ({exc})")
        if console.errors or console.page_errors:
            print("console errors:", *console.errors, *console.page_errors, sep="\n  ")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()
