"""Outbound campaigns in the browser: a business makes one, gives it an audience from a CSV file (a line that
is no phone number is named), and starts, pauses, resumes and cancels it while the page follows its
progress. Its own tenant "callout" and number 7500, so other modules' results stay theirs. The node has no
trunk: the campaign is driven, not dialled (the calls themselves are tests/integration/test_outbound_calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import lease, make_key
from .conftest import Site, screenshot, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.outbound]

REMIND = """id: ui-remind
name: Delivery reminder
numbers: {voice: ["7500"]}
start: say
nodes:
  say: {type: end, text: Your parcel arrives tomorrow.}
"""


def test_a_business_runs_an_outbound_campaign_from_the_page(page: Page, site: Site, tmp_path: Path) -> None:
    key = make_key(site.engine, "callout", "business")
    lease(site.engine, "callout", "7500")
    site.api("/api/campaigns/ui-remind/versions?activate=1", key, REMIND)
    (tmp_path / "people.csv").write_text("phone,name\n0501112233,Anna\n+380671112233,Borys\n0931112233,Olena\n"
                                         "nobody,X\n")
    sign_in(page, site, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outbound").click()
    expect(page.get_by_text("No outbound campaigns yet.")).to_be_visible()
    page.get_by_label("Name").fill("Parcels tomorrow")
    page.get_by_label("Campaign flow").select_option("ui-remind")
    page.get_by_label("From the short number").select_option("7500")
    page.get_by_label("Calls or messages per second").fill("2")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Parcels tomorrow")).to_be_visible()
    expect(page.get_by_text("Calls from 7500, draft")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(tmp_path / "people.csv")
    page.get_by_role("button", name="Add these numbers").click()
    expect(page.locator("main .notice")).to_have_text("Added 3 numbers. Lines not taken (not a phone number): 5.")
    expect(page.locator("#ob-progress")).to_have_text("0 of 3 numbers done.")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Calls from 7500, running")).to_be_visible()
    expect(page.locator("#ob-progress")).to_contain_text("About")          # the time left, from the pace
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Calls from 7500, paused")).to_be_visible()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Calls from 7500, running")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Calls from 7500, cancelled")).to_be_visible()
    counts = page.get_by_role("table", name="Numbers by result")
    expect(counts.get_by_role("row", name="Cancelled")).to_contain_text("3")
    expect(page.get_by_role("button", name="Start")).to_have_count(0)
    screenshot(page, tmp_path, "outbound")
    page.get_by_role("link", name="← Outbound campaigns").click()
    expect(page.get_by_role("link", name="Parcels tomorrow")).to_be_visible()
