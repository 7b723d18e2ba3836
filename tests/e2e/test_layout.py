"""The UI on a phone-sized screen: no page scrolls sideways (table rows become cards, a campaign file
scrolls inside its box); the page is served with a Content Security Policy that keeps every script,
style and request on this origin. Only this module writes to the order line (1414)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from ..integration.conftest import ROOT
from ..integration.test_sms import sms
from .conftest import Site, sign_in

pytestmark = pytest.mark.integration

# address → (heading, a text shown once the page's data is in)
PAGES = {
    "#/campaigns": ("Campaigns", "Talent show vote"),
    "#/campaigns/talent-vote": ("Talent show vote", "Live"),
    "#/campaigns/talent-vote/versions": ("Versions of talent-vote", "Version 1"),
    "#/calls": ("Call log", "Showing"),                 # the widest table
    "#/active": ("Calls now", "Calls in progress on this server"),
    "#/tenants": ("Tenants and keys", "Created"),
}
BROKEN = (ROOT / "dialplans" / "vote.yaml").read_text().replace("timeout: 6", "timeout: soon")


def test_every_page_fits_a_narrow_screen(browser: Browser, site: Site) -> None:
    assert sms(site.engine, "+15558000001", "1414", "hello", "layout-1")[0] == 200      # a row for the call log
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    errors: list[str] = []

    def fits(address: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{address} is {overflow}px wider than the screen"
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, site, site.keys["ops", "admin"])
        for address, (heading, loaded) in PAGES.items():
            page.goto(site.url + address)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            expect(page.get_by_text(loaded).first).to_be_visible()
            fits(address)
        page.goto(site.url + "#/upload")
        page.get_by_label("Or paste the file’s text").fill(BROKEN)
        page.get_by_role("button", name="Only check the file").click()
        expect(page.locator("tr.line-issue")).to_contain_text("nodes.choose.timeout")
        fits("#/upload with a problem shown")
    finally:
        context.close()
    assert not errors, errors


def test_the_page_is_served_with_a_strict_policy(browser: Browser, site: Site) -> None:
    context = browser.new_context()
    try:
        response = context.new_page().goto(site.url)
        assert response is not None and response.status == 200
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        context.close()
