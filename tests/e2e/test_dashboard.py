"""The campaign dashboard follows real SIP calls live: votes and calls per minute change on the open page,
without a reload, as calls are counted. Only this module calls the vote line (3838) and the raffle (7777) of the shared engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import vote_call
from ..integration.test_sms import sms
from .conftest import Site, sign_in

pytestmark = pytest.mark.integration


def bar(page: Page, label: str):
    """The count shown on the bar of `label`."""
    return page.locator("li.bar").filter(has=page.locator(".label", has_text=label)).locator(".count")


def test_votes_of_real_calls_appear_live(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.get_by_role("link", name="Talent show vote", exact=True).click()
    expect(page.get_by_role("heading", name="Talent show vote")).to_be_visible()
    expect(page.locator(".live")).to_have_text("Live")
    votes_before = page.locator("li.bar").count()
    page.evaluate("window.notReloaded = true")

    vote_call(site.engine, tmp_path / "a", "+15553001", "3")
    expect(bar(page, "chloe")).to_have_text("1")
    expect(page.get_by_role("heading", name="Votes: talent")).to_be_visible()
    expect(page.get_by_text("Nothing counted yet")).to_be_hidden()
    expect(page.locator(".minute-chart .summary")).to_contain_text("1 call in the last hour")

    vote_call(site.engine, tmp_path / "b", "+15553002", "3")
    vote_call(site.engine, tmp_path / "c", "+15553003", "5")
    expect(bar(page, "chloe")).to_have_text("2")
    expect(bar(page, "elena")).to_have_text("1")
    expect(page.locator(".bars .label")).to_have_text(["chloe", "elena"])          # biggest first
    expect(page.locator(".chart .total").first).to_have_text("Total: 3 votes")
    expect(page.locator(".minute-chart .summary")).to_contain_text("3 calls in the last hour")
    assert votes_before == 0
    assert page.evaluate("window.notReloaded") is True                              # the same page all along

    # the chart's bars are drawn to scale: chloe's is twice elena's
    widths = {label: float(page.locator("li.bar").filter(has_text=label).locator("rect").get_attribute("width")
                            .rstrip("%")) for label in ("chloe", "elena")}
    assert widths == {"chloe": 100.0, "elena": 50.0}


def test_codes_redeemed_by_sms_appear_live(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys["demo", "operator"])
    page.get_by_role("link", name="Promo code raffle", exact=True).click()
    expect(page.get_by_role("heading", name="Codes redeemed: receipts")).to_be_visible()
    expect(page.get_by_text("0 of 20 codes redeemed")).to_be_visible()
    assert sms(site.engine, "+15553101", "7777", "hello", "raffle-1")[0] == 200
    reply = sms(site.engine, "+15553101", "7777", "104729", "raffle-2")[1]
    assert reply["replies"] == ["Your code is entered in the draw. Good luck!"]
    expect(page.get_by_text("1 of 20 codes redeemed")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Codes of receipts redeemed")).to_have_attribute("value", "1")
