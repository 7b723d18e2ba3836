"""Operators in the UI: calls in progress, the call log with filters and pages, one call's timeline, and
a survey's answers per question, after real SIP calls (and SMS sessions) to the shared engine. Only this
module calls the survey (5050) and writes to the branch alert (2525)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import Background, wait_for
from ..integration.conftest import SIPP_DIR, run_sipp
from ..integration.sipp_keys import key_scenario
from ..integration.test_sms import sms
from .conftest import Site, sign_in
from .test_dashboard import bar

pytestmark = pytest.mark.integration

CALLER = "+15554001"


def survey_call(site: Site, workdir: Path) -> None:
    """A real call answering the survey 4, 2, then 1 (yes), the first key late enough to be seen live."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = key_scenario(workdir / "survey.xml", [(6.0, "4"), (1.5, "2"), (1.5, "1")], caller=CALLER)
    result = run_sipp(site.engine.sip, scenario, service="5050", timeout=60, workdir=workdir)
    assert result.successful == 1, result.output


def test_a_call_seen_live_then_in_the_log_with_its_timeline(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "operator"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls now").click()
    expect(page.get_by_text("No calls in progress right now.")).to_be_visible()
    call = Background(survey_call, site, tmp_path)
    call.start()
    row = page.locator("tbody tr").filter(has_text=CALLER)
    expect(row).to_contain_text("Satisfaction survey")          # while the call goes on
    expect(row).to_contain_text("Answered")
    expect(page.get_by_role("status").filter(has_text="1 call in progress")).to_be_visible()
    call.join()
    expect(page.get_by_text("No calls in progress right now.")).to_be_visible()
    wait_for(lambda: site.api(f"/api/calls?caller=%2B{CALLER[1:]}&disposition=completed",
                              site.keys["demo", "operator"])["total"], timeout=20)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Call log").click()
    page.get_by_label("Caller’s number").fill(CALLER)
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("Showing 1–1 of 1 call")).to_be_visible()
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    for text in (CALLER, "5050", "Satisfaction survey", "Call", "Completed"):
        expect(row).to_contain_text(text)
    expect(page).to_have_url(re.compile(r"#/calls\?caller=%2B15554001$"))        # the filter is in the address
    page.reload()
    expect(page.get_by_label("Caller’s number")).to_have_value(CALLER)
    expect(page.get_by_text("Showing 1–1 of 1 call")).to_be_visible()

    page.get_by_label("How it ended").select_option(label="Line went silent")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.get_by_label("How it ended").select_option(label="Completed")
    page.get_by_label("From").fill("2099-01-01T00:00:00")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.get_by_label("From").fill("2000-01-01T00:00:00")
    page.get_by_label("Until").fill("2099-01-01T00:00:00")
    page.get_by_label("Campaign").select_option(label="Satisfaction survey")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("Showing 1–1 of 1 call")).to_be_visible()

    page.get_by_role("link", name=re.compile(f"Details of the call from \\{CALLER}")).click()
    expect(page.get_by_role("heading", name=f"Call from {CALLER} to 5050")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Completed (flow_end)")
    timeline = page.locator(".timeline li")
    expect(timeline.first).to_contain_text("The call was answered")
    for text in ("Said: “Thank you for taking our three question survey.”", "The caller pressed 4",
                 "The caller’s answer: 4", "Counted answer satisfaction: “4”", "The caller pressed 2",
                 "Counted answer recommend: “2”", "The campaign ended"):
        expect(timeline.filter(has_text=text)).not_to_have_count(0)
    expect(page.get_by_role("heading", name="What the caller chose").locator("xpath=..")).to_contain_text(
        "Answer satisfaction: 4")

    page.get_by_role("link", name="Results of satisfaction-survey").click()
    expect(page.get_by_role("heading", name="Answers: satisfaction")).to_be_visible()
    expect(bar(page, "4")).to_have_text("1")


def test_a_caller_who_hangs_up_before_the_end_is_found_as_abandoned(page: Page, site: Site, tmp_path: Path) -> None:
    """A real call to the survey hung up during its first prompt: the log's "how it ended" filter finds it."""
    result = run_sipp(site.engine.sip, SIPP_DIR / "uac_hangup_during_prompt.xml", service="5050", timeout=20,
                      workdir=tmp_path)
    assert result.successful == 1, result.output
    caller = "+15601"                                          # the scenario's +1560 and SIPp's call number
    wait_for(lambda: site.api(f"/api/calls?caller=%2B{caller[1:]}", site.keys["demo", "operator"])["total"])
    sign_in(page, site, site.keys["demo", "operator"])
    page.goto(site.url + f"#/calls?caller=%2B{caller[1:]}")
    page.get_by_label("How it ended").select_option(label="Completed")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("No calls match these filters.")).to_be_visible()
    page.get_by_label("How it ended").select_option(label="Caller hung up before the end")
    page.get_by_role("button", name="Show calls").click()
    expect(page.get_by_text("Showing 1–1 of 1 call")).to_be_visible()
    expect(page.locator("tbody tr")).to_contain_text("Caller hung up before the end")


def test_the_log_pages_through_many_sessions(page: Page, site: Site) -> None:
    for i in range(27):
        status, _ = sms(site.engine, f"+1555700{i:04d}", "2525", "hello", f"page-{i}")
        assert status == 200
    sign_in(page, site, site.keys["demo", "operator"])
    page.goto(site.url + "#/calls?campaign=branch-alert&channel=sms")
    expect(page.get_by_text("Showing 1–25 of 27 calls")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(25)
    expect(page.locator("tbody tr").first).to_contain_text("+15557000026")        # newest first
    page.get_by_role("link", name="Older calls →").click()
    expect(page.get_by_text("Showing 26–27 of 27 calls")).to_be_visible()
    expect(page.locator("tbody tr").last).to_contain_text("+15557000000")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_role("link", name="Older calls →")).to_have_count(0)
    page.get_by_role("link", name="← Newer calls").click()
    expect(page.get_by_text("Showing 1–25 of 27 calls")).to_be_visible()


def test_a_failed_call_to_the_business_says_why_in_the_timeline(page: Page, site: Site) -> None:
    """The order line's API is on a loopback address, which the engine refuses to call: the operator
    reads why the look-up failed."""
    caller = "+15554002"
    for n, text in enumerate(("status?", "12345")):
        status, _ = sms(site.engine, caller, "1414", text, f"order-{n}")
        assert status == 200
    sign_in(page, site, site.keys["demo", "operator"])
    page.goto(site.url + f"#/calls?caller=%2B{caller[1:]}")
    page.get_by_role("link", name=re.compile(f"Details of the call from \\{caller}")).click()
    failed = page.locator(".timeline li").filter(has_text="The call to the business’s system failed")
    expect(failed).to_contain_text("refused")
    expect(failed).to_contain_text("127.0.0.1")
    sent = page.locator("table.messages tbody tr")              # the SMS the session sent, and their state
    expect(sent.first).to_contain_text(caller)
    expect(sent.first).to_contain_text("Given back to the SMS gateway")
