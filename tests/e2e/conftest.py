"""End-to-end fixtures: a real `ivr serve` on loopback and Debian's Chromium, headless, driven by Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium (installed by scripts/bootstrap).
Every test gets a fresh browser context (its own sessionStorage) and fails on any uncaught error in the
page's scripts.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ..integration.api.conftest import make_key
from ..integration.conftest import EngineProcess, start_engine

EXPECT_SECONDS = 30          # generous: the machine is shared and calls take seconds
VIEWPORT = {"width": 1200, "height": 900}


@dataclass
class Site:
    """The engine under test, its web address and API keys by (tenant, role)."""

    engine: EngineProcess
    url: str
    keys: dict[tuple[str, str], str]

    def api(self, path: str, key: str, body: str | None = None, content_type: str = "application/yaml") -> Any:
        """A JSON answer of the API (for setting up and waiting, never instead of the UI's own requests)."""
        data = body.encode() if body is not None else None
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, headers={
            "Authorization": f"Bearer {key}", **({"Content-Type": content_type} if data else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{path}: {exc.code} {exc.read()[:500]!r}") from None


@pytest.fixture(scope="package")
def site(tmp_path_factory) -> Site:
    """One engine for the UI tests: tenants "demo" (the demo campaigns) and "other", and an admin."""
    engine = start_engine(tmp_path_factory.mktemp("webui"))
    try:
        keys = {(tenant, role): make_key(engine, tenant, role)
                for tenant in ("demo", "other") for role in ("business", "operator")}
        keys["ops", "admin"] = make_key(engine, "ops", "admin")
        yield Site(engine, f"http://127.0.0.1:{engine.http_port}/", keys)
    finally:
        engine.stop()


@pytest.fixture(scope="package")
def browser() -> Browser:
    """Chromium for the UI tests; package-scoped so that Playwright's event loop is gone before other tests
    (which run their own loops in this thread) start."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert shutil.which(chromium), "Debian's chromium is not installed: run scripts/bootstrap"
    expect.set_options(timeout=EXPECT_SECONDS * 1000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(EXPECT_SECONDS * 1000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: Page, site: Site, key: str) -> None:
    """Open the UI and sign in as a person would; waits for the menu."""
    page.goto(site.url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
