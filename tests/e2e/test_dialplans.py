"""Uploading campaign files through the UI: problems are shown next to their line and nothing is stored;
a good file becomes the new version in service (a real call gets it, and its vote is seen on the open
results page, in screenshots too), and a roll back puts the old one back. Works on its own campaign,
"ui-poll" on 4242, so other modules' results stay theirs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import vote_call
from ..integration.conftest import ROOT
from .conftest import ACCENT, BAD, Site, box_of, changed, colour_share, screenshot, sign_in
from .test_dashboard import bar, track

pytestmark = pytest.mark.integration

POLL = (ROOT / "dialplans" / "vote.yaml").read_text().replace("id: talent-vote", "id: ui-poll").replace(
    "name: Talent show vote", "name: Lunch poll").replace('"3838"', '"4242"')
V2 = POLL.replace("value: chloe", "value: zoe")                 # key 3 now votes for zoe


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problem_under(page: Page, line: int):
    """The problem written right under line `line` of the shown file."""
    return page.locator(f"#src-{line} + tr.line-issue")


def upload(page: Page, text: str, button: str) -> None:
    page.get_by_label("Or paste the file’s text").fill(text)
    page.get_by_role("button", name=button).click()


def test_problems_are_shown_next_to_their_line_and_nothing_is_stored(page: Page, site: Site,
                                                                     tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload a campaign").click()
    broken = POLL.replace("timeout: 6", "timeout: soon")
    (tmp_path / "poll.yaml").write_text(broken)
    page.get_by_label("Campaign file (YAML or JSON)").set_input_files(tmp_path / "poll.yaml")
    expect(page.get_by_text("Loaded poll.yaml")).to_be_visible()
    page.get_by_role("button", name="Upload and put in service").click()

    line = line_of(broken, "timeout: soon")
    expect(page.get_by_role("heading", name="The file has 1 problem")).to_be_visible()
    expect(page.locator(".issues li")).to_have_text([f"Line {line} — nodes.choose.timeout: 'soon' is not of "
                                                     "type 'number'"])
    expect(page.locator(f"#src-{line}")).to_have_text(f"{line}    timeout: soon")
    expect(problem_under(page, line)).to_contain_text("nodes.choose.timeout: 'soon' is not of type 'number'")
    expect(page.locator("tr.line-issue")).to_have_count(1)
    problem_under(page, line).scroll_into_view_if_needed()
    shown = screenshot(page, tmp_path, "problem-under-its-line")
    assert colour_share(shown, box_of(problem_under(page, line)), BAD) > 0.01      # written in red
    assert colour_share(shown, box_of(page.locator(f"#src-{line}")), BAD) == 0     # under the line, not on it

    # corrected in the page, with another mistake: the unknown node is shown under its own line
    wrong_target = POLL.replace("value: chloe, next: cast}", "value: chloe, next: cats}")
    upload(page, wrong_target, "Only check the file")
    line = line_of(wrong_target, "next: cats")
    expect(problem_under(page, line)).to_have_text(re.compile(
        r'nodes\.choose\.choices\[2\]\.next: unknown node "cats"'))
    expect(page.locator(f"#src-{line}")).to_contain_text("value: chloe, next: cats}")

    upload(page, POLL, "Only check the file")
    expect(page.get_by_text("The file has no problems. It is the campaign “ui-poll”.")).to_be_visible()
    expect(page.locator("tr.line-issue")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Talent show vote", exact=True)).to_be_visible()
    expect(page.get_by_text("Lunch poll")).to_have_count(0)                     # nothing was stored


def test_a_good_file_goes_in_service_and_rolls_back(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload a campaign").click()
    upload(page, POLL, "Upload and put in service")
    expect(page.get_by_text("Version 1 of ui-poll is now in service.")).to_be_visible()
    page.get_by_role("link", name="See the results").click()
    expect(page.get_by_role("heading", name="Lunch poll")).to_be_visible()
    expect(page.get_by_text("ui-poll · short number 4242 · version 1 in service")).to_be_visible()

    page.get_by_role("link", name="Upload a new version").click()
    expect(page.get_by_role("heading", name="Upload a new version of ui-poll")).to_be_visible()
    upload(page, V2, "Upload and put in service")
    expect(page.get_by_text("Version 2 of ui-poll is now in service.")).to_be_visible()
    page.get_by_role("link", name="See the results").click()
    expect(page.get_by_text("Nothing counted yet")).to_be_visible()
    before = screenshot(page, tmp_path, "1-version-2-in-service")
    vote_call(site.engine, tmp_path / "v2", "+15556001", "3", service="4242")      # a new call gets version 2
    expect(bar(page, "zoe")).to_have_text("1")
    after = screenshot(page, tmp_path, "2-after-the-call")
    card = page.locator("section.card").filter(has=page.get_by_role("heading", name="Votes: talent"))
    assert changed(before, after, box_of(card)) > 0.3
    strip = box_of(track(page, "zoe"))
    assert colour_share(before, strip, ACCENT) == 0 and colour_share(after, strip, ACCENT) > 0.8

    page.get_by_role("link", name="Versions").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Version 2")
    expect(rows.nth(0)).to_contain_text("In service")
    expect(rows.nth(1)).to_contain_text("Not in service")
    page.get_by_role("button", name="View the file of version 2").click()
    expect(page.get_by_role("heading", name="File of version 2")).to_be_visible()
    expect(page.locator(f"#v-{line_of(V2, 'value: zoe')}")).to_contain_text("value: zoe")

    page.get_by_role("button", name="Roll back to version 1").click()
    expect(page.get_by_text("Version 1 is now in service.")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("In service")
    expect(rows.nth(0)).to_contain_text("Not in service")
    assert [(v["version"], v["active"]) for v in site.api("/api/campaigns/ui-poll/versions",
                                                          site.keys["demo", "business"])] == [(1, True), (2, False)]
    vote_call(site.engine, tmp_path / "v1", "+15556002", "3", service="4242")      # and new calls get version 1
    page.get_by_role("link", name="Results").click()
    expect(bar(page, "chloe")).to_have_text("1")
    expect(bar(page, "zoe")).to_have_text("1")
