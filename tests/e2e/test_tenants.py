"""Tenants in the UI: a business never sees another tenant's campaign, calls or voice messages, and an
administrator makes tenants and keys (a new key signs in at once, a revoked one no longer does).
Only this module writes tenant "other"'s campaigns (4343 and the message line 6060)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ..integration.api.conftest import wait_for
from ..integration.conftest import ROOT, SIPP_DIR, run_sipp
from ..integration.test_voice_message import MESSAGES
from .conftest import VIEWPORT, Site, sign_in

pytestmark = pytest.mark.integration

OTHER_POLL = (ROOT / "dialplans" / "vote.yaml").read_text().replace("id: talent-vote", "id: other-poll").replace(
    "name: Talent show vote", "name: Rival poll").replace('"3838"', '"4343"')


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_business_key_does_not_see_another_tenants_campaign(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys["other", "business"])
    expect(page.get_by_text("No campaigns yet. Upload a campaign file to create one.")).to_be_visible()
    page.goto(site.url + "#/campaigns/talent-vote")
    expect(page.get_by_role("heading", name="Campaign not found")).to_be_visible()
    expect(page.get_by_text("Talent show vote")).to_have_count(0)
    page.goto(site.url + "#/campaigns/talent-vote/versions")
    expect(page.get_by_role("alert")).to_have_text("no campaign 'talent-vote'")
    expect(page.locator("tbody tr")).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload a campaign").click()
    page.get_by_label("Or paste the file’s text").fill(OTHER_POLL)
    page.get_by_role("button", name="Upload and put in service").click()
    expect(page.get_by_text("Version 1 of other-poll is now in service.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Rival poll", exact=True)).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)

    # the demo tenant does not see it, nor may it upload over it
    sign_out(page)
    sign_in(page, site, site.keys["demo", "business"])
    expect(page.get_by_role("link", name="Talent show vote", exact=True)).to_be_visible()
    expect(page.get_by_text("Rival poll")).to_have_count(0)
    page.goto(site.url + "#/campaigns/other-poll")
    expect(page.get_by_role("heading", name="Campaign not found")).to_be_visible()
    page.goto(site.url + "#/upload?campaign=other-poll")
    page.get_by_label("Or paste the file’s text").fill(OTHER_POLL)
    page.get_by_role("button", name="Upload and put in service").click()
    expect(page.get_by_role("alert")).to_have_text("no campaign 'other-poll'")


@pytest.fixture(scope="module")
def voice_message(site: Site, tmp_path_factory) -> str:
    """The id of a real call to tenant "other"'s message line that left a voice message."""
    site.api("/api/campaigns/message-line/versions?activate=1", site.keys["other", "business"], MESSAGES)
    workdir = tmp_path_factory.mktemp("message")
    result = run_sipp(site.engine.sip, SIPP_DIR / "uac_voice_message.xml", service="6060", timeout=40,
                      workdir=workdir)
    assert result.successful == 1, result.output
    calls = wait_for(lambda: site.api("/api/calls?number=6060&disposition=completed",
                                      site.keys["other", "operator"])["calls"], timeout=20)
    return calls[0]["call_id"]


def test_a_voice_message_plays_on_its_call_page_for_its_tenant_only(page: Page, site: Site,
                                                                    voice_message: str) -> None:
    sign_in(page, site, site.keys["other", "operator"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Call log").click()
    page.get_by_role("link", name=re.compile("Details of the call")).first.click()
    expect(page.get_by_role("heading", name=re.compile("to 6060$"))).to_be_visible()
    expect(page.get_by_role("heading", name="Voice messages")).to_be_visible()
    audio = page.locator("audio")
    expect(audio).to_have_attribute("src", re.compile("^blob:"))
    seconds = audio.evaluate("""a => new Promise((resolve, reject) => {
        if (a.readyState >= 1) resolve(a.duration);
        a.onloadedmetadata = () => resolve(a.duration);
        a.onerror = () => reject(new Error("the recording does not play"));
    })""")
    assert 2.0 < seconds <= 4.1                                  # the caller spoke past the 4 s limit
    expect(page.locator(".recordings")).to_contain_text(re.compile(r"Voice message 1 \(\d(\.\d)? s\)"))

    sign_out(page)
    sign_in(page, site, site.keys["demo", "operator"])
    page.goto(site.url + "#/calls?number=6060")
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.goto(site.url + f"#/calls/{voice_message}")
    expect(page.get_by_role("alert")).to_have_text("no such call")
    expect(page.locator("audio")).to_have_count(0)


def test_an_administrator_makes_a_tenant_and_keys(page: Page, site: Site, browser: Browser) -> None:
    sign_in(page, site, site.keys["ops", "admin"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tenants and keys").click()
    for name in ("demo", "other", "ops"):
        expect(page.get_by_role("link", name=f"Keys of {name}", exact=True)).to_be_visible()
    page.get_by_label("New tenant’s name").fill("acme")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_text("Tenant acme created.")).to_be_visible()
    page.get_by_role("link", name="Make its keys").click()
    expect(page.get_by_role("heading", name="Keys of acme")).to_be_visible()
    expect(page.get_by_text("This tenant has no keys yet.")).to_be_visible()
    page.get_by_label("Role of the new key").select_option(label="operator")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    key = page.get_by_label("The new key", exact=True).input_value()
    key_id = key.split("_")[1]
    row = page.locator("tbody tr").filter(has_text=key_id)
    expect(row).to_contain_text("operator")

    person = browser.new_context(viewport=VIEWPORT)
    try:
        theirs = person.new_page()
        sign_in(theirs, site, key)
        expect(theirs.locator("#who")).to_contain_text("acme · operator")
        expect(theirs.get_by_text("No campaigns yet.")).to_be_visible()

        page.get_by_role("button", name=f"Revoke key {key_id}").click()
        expect(page.get_by_text(f"Key {key_id} is revoked")).to_be_visible()
        expect(row).to_contain_text("Revoked")
        sign_out(theirs)
        theirs.get_by_label("API key").fill(key)
        theirs.get_by_role("button", name="Sign in").click()
        expect(theirs.get_by_role("alert")).to_contain_text("That key was not accepted")
    finally:
        person.close()
