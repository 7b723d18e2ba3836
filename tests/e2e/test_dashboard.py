"""The campaign dashboard follows real SIP calls live: votes and calls per minute change on the open page,
without a reload, as calls are counted; screenshots show the bars drawn, to scale. Only this module calls
the vote line (3838) and the raffle (7777) of the shared engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from ..integration.api.conftest import vote_call
from ..integration.test_sms import sms
from .conftest import ACCENT, Site, box_of, changed, colour_share, screenshot, sign_in

pytestmark = pytest.mark.integration


def bar(page: Page, label: str) -> Locator:
    """The count shown on the bar of `label`."""
    return page.locator("li.bar").filter(has=page.locator(".label", has_text=label)).locator(".count")


def track(page: Page, label: str) -> Locator:
    """The strip the bar of `label` is drawn in."""
    return page.locator("li.bar").filter(has=page.locator(".label", has_text=label)).locator("svg.track")


def drawn_length(image: Image.Image, strip: Locator) -> int:
    """Pixels of bar colour across the middle of a bar's strip in a screenshot."""
    left, top, right, bottom = box_of(strip)
    middle = (top + bottom) // 2
    return round(colour_share(image, (left, middle, right, middle + 1), ACCENT) * (right - left))


def test_votes_of_real_calls_appear_live(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.get_by_role("link", name="Talent show vote", exact=True).click()
    expect(page.get_by_role("heading", name="Talent show vote")).to_be_visible()
    expect(page.locator(".live").first).to_have_text("Live")
    votes_before = page.locator("li.bar").count()
    page.evaluate("window.notReloaded = true")
    before = screenshot(page, tmp_path, "1-before-the-first-call")

    vote_call(site.engine, tmp_path / "a", "+15553001", "3")
    expect(bar(page, "chloe")).to_have_text("1")
    expect(page.get_by_role("heading", name="Votes: talent")).to_be_visible()
    expect(page.get_by_text("Nothing counted yet")).to_be_hidden()
    expect(page.locator(".minute-chart .summary")).to_contain_text("1 call in the last hour")
    first = screenshot(page, tmp_path, "2-after-the-first-vote")
    card = page.locator("section.card").filter(has=page.get_by_role("heading", name="Votes: talent"))
    assert changed(before, first, box_of(card)) > 0.3                  # a chart where there was none
    strip = box_of(track(page, "chloe"))
    assert colour_share(before, strip, ACCENT) == 0
    assert colour_share(first, strip, ACCENT) > 0.8                    # chloe's bar, all the way: the only vote

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
    # and so they look: in the picture chloe's bar spans its strip, elena's half of hers
    third = screenshot(page, tmp_path, "3-after-three-votes")
    drawn = {label: drawn_length(third, track(page, label)) for label in ("chloe", "elena")}
    left, _, right, _ = box_of(track(page, "chloe"))
    assert drawn["chloe"] >= 0.95 * (right - left) and abs(drawn["chloe"] - 2 * drawn["elena"]) <= 4, drawn


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
