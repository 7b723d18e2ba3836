"""End-to-end fixtures: a real `ivr serve` on loopback and Debian's Chromium, headless, driven by Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium (installed by scripts/bootstrap).
Every test gets a fresh browser context (its own sessionStorage) and fails on any uncaught error in the
page's scripts. `screenshot` saves what the page looks like and checks it is a real picture of it;
`changed` and `colour_share` compare regions of such pictures.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from ..integration.api.conftest import make_key
from ..integration.conftest import EngineProcess, start_engine

EXPECT_SECONDS = 30          # generous: the machine is shared and calls take seconds
LEASED = {"4242": "demo", "4343": "other", "6060": "other", "5151": "demo", "5252": "demo",   # the tests' own
          "6363": "demo"}
VIEWPORT = {"width": 1200, "height": 900}
Box = tuple[int, int, int, int]                   # left, top, right, bottom in screenshot pixels
Colour = tuple[int, int, int]
ACCENT: Colour = (0x1F, 0x5F, 0xBF)              # app.css --accent: the bars' fill
BAD: Colour = (0xB3, 0x26, 0x1E)                 # app.css --bad: problems in a campaign file


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
    engine = start_engine(tmp_path_factory.mktemp("webui"),     # the order line's API on loopback: refused
                          "--var", "orders_api=http://127.0.0.1:9/orders")
    try:
        keys = {(tenant, role): make_key(engine, tenant, role)
                for tenant in ("demo", "other") for role in ("business", "operator")}
        keys["ops", "admin"] = make_key(engine, "ops", "admin")
        site = Site(engine, f"http://127.0.0.1:{engine.http_port}/", keys)
        tenants = {t["name"]: t["id"] for t in site.api("/api/tenants", keys["ops", "admin"])}
        for number, tenant in LEASED.items():           # what the modules' campaigns of their own claim
            site.api("/api/inventory", keys["ops", "admin"], json.dumps({"number": number}), "application/json")
            site.api(f"/api/inventory/{number}/leases", keys["ops", "admin"], json.dumps(
                {"tenant_id": tenants[tenant], "starts_on": "2025-01-01"}), "application/json")
        yield site
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


@contextmanager
def browser_page(browser: Browser, locale: str = "en-US", timezone_id: str = "UTC") -> Iterator[Page]:
    """A page in a fresh context whose browser speaks `locale` (navigator.languages) in `timezone_id`; fails on
    any uncaught error in the page's scripts."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale, timezone_id=timezone_id)
    context.set_default_timeout(EXPECT_SECONDS * 1000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Page:
    with browser_page(browser) as page:
        yield page


def sign_in(page: Page, site: Site, key: str) -> None:
    """Open the UI and sign in as a person would; waits for the menu."""
    page.goto(site.url)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def screenshot(page: Page, folder: Path, name: str) -> Image.Image:
    """The viewport as the person sees it now (transitions finished), saved as `folder`/NAME.png and
    checked to be a picture of the page: a PNG of the viewport's size, neither blank nor one colour."""
    path = folder / f"{name}.png"
    page.screenshot(path=path, animations="disabled")
    with Image.open(path) as png:
        assert (png.format, png.size) == ("PNG", (VIEWPORT["width"], VIEWPORT["height"])), (path, png.format, png.size)
        image = png.convert("RGB")
    pixels = image.width * image.height
    colours = image.getcolors(maxcolors=pixels)
    assert colours is not None and len(colours) >= 32, f"{path}: {len(colours or [])} colours, a blank page?"
    assert max(colours)[0] < 0.95 * pixels, f"{path}: one colour covers almost every pixel"
    return image


def box_of(locator: Locator) -> Box:
    """Where an element is drawn in a viewport screenshot (it must be in view)."""
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not drawn"
    left, top = round(box["x"]), round(box["y"])
    right, bottom = round(box["x"] + box["width"]), round(box["y"] + box["height"])
    assert 0 <= left < right <= VIEWPORT["width"] and 0 <= top < bottom <= VIEWPORT["height"], (locator, box)
    return left, top, right, bottom


def changed(before: Image.Image, after: Image.Image, box: Box) -> float:
    """The fraction of the pixels in `box` that differ between two screenshots."""
    difference = ImageChops.difference(before.crop(box), after.crop(box)).convert("L")
    same = difference.histogram()[0]
    return 1 - same / (difference.width * difference.height)


def colour_share(image: Image.Image, box: Box, colour: Colour, tolerance: int = 24) -> float:
    """The fraction of the pixels in `box` within `tolerance` (per channel) of `colour`."""
    region = image.crop(box)
    difference = ImageChops.difference(region, Image.new("RGB", region.size, colour))
    near = [channel.point(lambda v: 255 if v <= tolerance else 0) for channel in difference.split()]
    everywhere = ImageChops.logical_and(ImageChops.logical_and(near[0].convert("1"), near[1].convert("1")),
                                        near[2].convert("1"))
    return everywhere.convert("L").histogram()[255] / (region.width * region.height)
