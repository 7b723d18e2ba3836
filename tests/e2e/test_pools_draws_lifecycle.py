"""Campaigns at scale in the browser: a business imports a file of codes into a pool and sees its problems
by line; an administrator builds a raffle for the business (turnkey); the business sees it as its own,
reads its calls, freezes the entries and draws winners with a seed, checks the draw, pauses and resumes it
while SMS come in. Works on its own tenant "promo" and numbers 7400, so other modules' results stay theirs."""

from __future__ import annotations

import hashlib
import json
import random
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import lease, make_key
from ..integration.test_sms import sms
from .conftest import Site, screenshot, sign_in

pytestmark = pytest.mark.integration

RAFFLE = """id: ui-raffle
name: Receipt raffle
numbers: {sms: ["7400"]}
schedule: {closed_text: The raffle is paused.}
draw: {entries: {code: tickets}}
start: ask
nodes:
  ask: {type: ask, prompt: Send your ticket code., save_as: code, next: redeem}
  redeem: {type: code, pool: tickets, value: "{{code}}", next: ok, used: bad, invalid: bad}
  ok: {type: end, text: You are in the draw.}
  bad: {type: end, text: Not a valid ticket.}
"""


@pytest.fixture(scope="module")
def promo(site: Site) -> str:
    key = make_key(site.engine, "promo", "business")
    lease(site.engine, "promo", "7400")                      # the number of promo's raffle
    return key


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_a_file_of_codes_is_imported_with_its_problems_by_line(page: Page, site: Site, promo: str,
                                                               tmp_path: Path) -> None:
    rnd = random.Random(5)
    codes = [f"T{n:08d}" for n in rnd.sample(range(10**8), 10_000)]
    lines = codes[:3] + [codes[1], "bad code!"] + codes[3:]
    (tmp_path / "tickets.csv").write_text("code\n" + "\n".join(lines) + "\n")
    sign_in(page, site, promo)
    menu(page, "Code pools")
    expect(page.get_by_text("No code pools yet")).to_be_visible()
    page.get_by_label("Pool name").fill("tickets")
    page.get_by_label("File of codes").set_input_files(tmp_path / "tickets.csv")
    page.get_by_role("button", name="Import the codes").click()
    expect(page.locator("main .notice")).to_have_text("Done: 10,000 codes added to tickets.")
    expect(page.get_by_text("1 duplicate and 1 malformed line were skipped.")).to_be_visible()
    problems = page.get_by_role("region", name="Problems by line").locator("tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("5")                   # the header is line 1
    expect(problems.nth(1)).to_contain_text("bad code!")
    pools = page.get_by_role("region", name="Code pools").locator("tbody tr")
    expect(pools).to_have_count(1)
    expect(pools.first).to_contain_text("10,000")
    screenshot(page, tmp_path, "imported")
    pools.first.get_by_role("link", name="tickets").click()
    expect(page.get_by_role("heading", name="tickets")).to_be_visible()
    page.get_by_role("button", name="tickets.csv").click()
    expect(page.get_by_role("region", name="Problems by line").locator("tbody tr")).to_have_count(2)


def test_turnkey_raffle_drawn_paused_and_resumed(page: Page, site: Site, promo: str, tmp_path: Path) -> None:
    codes = [f"TK{n:03d}" for n in range(20)]
    request = urllib.request.Request(f"{site.url}api/code-pools/tickets-2/imports?tenant=promo",
                                     data="\n".join(codes).encode(), headers={
                                         "Authorization": f"Bearer {site.keys['ops', 'admin']}",
                                         "Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=30).read()
    # the administrator uploads the raffle for "promo"
    sign_in(page, site, site.keys["ops", "admin"])
    menu(page, "Upload a campaign")
    page.get_by_label("For tenant").select_option(label="promo")
    page.get_by_label("Or paste the file’s text").fill(RAFFLE.replace("pool: tickets", "pool: tickets-2")
                                                       .replace("code: tickets", "code: tickets-2"))
    page.get_by_role("button", name="Upload and put in service").click()
    expect(page.locator("main .notice")).to_contain_text("Version 1 of ui-raffle is now in service.")
    page.get_by_role("button", name="Sign out").click()

    for n, (caller, code) in enumerate([("+380501230001", "TK001"), ("+380501230002", "TK002"),
                                        ("+380501230001", "TK003")]):
        assert sms(site.engine, caller, "7400", code, f"ui-raffle-{n}")[1]["replies"] == ["You are in the draw."]

    # the business sees it as its own, with its calls
    sign_in(page, site, promo)
    row = page.get_by_role("region", name="Campaigns").locator("tr", has_text="Receipt raffle")
    expect(row).to_contain_text("Live")
    menu(page, "Call log")
    expect(page.get_by_text("Showing 1–3 of 3 calls")).to_be_visible()
    menu(page, "Campaigns")
    page.get_by_role("link", name="Receipt raffle", exact=True).click()
    expect(page.get_by_text("Live since")).to_be_visible()
    expect(page.get_by_text("3 of 20 codes redeemed")).to_be_visible()

    # a draw: freeze, see the fingerprint of the entries file, draw with a seed, check it again
    page.get_by_role("link", name="Winner draws").click()
    page.get_by_role("button", name="Freeze the entries").click()
    expect(page.locator("main .notice")).to_have_text("Entries frozen: 3 from 2 callers.")
    shown = page.locator("code.fingerprint").inner_text()
    with urllib.request.urlopen(urllib.request.Request(
            f"{site.url}api/campaigns/ui-raffle/draws", headers={"Authorization": f"Bearer {promo}"})) as r:
        draw_id = json.loads(r.read())[0]["id"]
    with urllib.request.urlopen(urllib.request.Request(f"{site.url}api/campaigns/ui-raffle/draws/{draw_id}/entries.csv",
                                                       headers={"Authorization": f"Bearer {promo}"})) as r:
        assert hashlib.sha256(r.read()).hexdigest() == shown
    page.get_by_label("Number of winners").fill("2")
    page.get_by_label("Seed (given at draw time").fill("Lottery 2026-05-09: 3 17 22 40")
    page.get_by_role("button", name="Draw the winners").click()
    winners = page.get_by_role("region", name="Winners").locator("tbody tr")
    expect(winners).to_have_count(2)
    expect(page.get_by_text("Lottery 2026-05-09: 3 17 22 40")).to_be_visible()
    page.get_by_role("button", name="Check this draw again").click()
    expect(page.get_by_text("Checked: the entries still have their published fingerprint")).to_be_visible()
    screenshot(page, tmp_path, "drawn")

    # paused: the number answers with the closed text; resumed: it counts again
    page.get_by_role("link", name="Results").click()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused since")).to_be_visible()
    assert sms(site.engine, "+380501230003", "7400", "TK004", "ui-raffle-p")[1]["replies"] == ["The raffle is paused."]
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Live since")).to_be_visible()
    assert sms(site.engine, "+380501230003", "7400", "TK004", "ui-raffle-r")[1]["replies"] == ["You are in the draw."]
    expect(page.get_by_text("4 of 20 codes redeemed")).to_be_visible()
