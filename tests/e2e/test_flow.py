"""A campaign's flow in the browser against a real engine: the demo survey (as "ui-survey" on 5151, so other
modules' calls stay theirs) drawn as a diagram whose counts follow real SIP calls and SMS live, with the
busiest path in its colour (asserted in the DOM and in a screenshot); a channel filter; an upload's
problem marked on its diagram; the simulator lighting its path; a 30-node survey drawn without overlaps;
the operator's node page showing a call in progress and a failed webhook, and administrators the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import Background, wait_for
from ..integration.conftest import ROOT, run_sipp
from ..integration.sipp_keys import key_scenario
from ..integration.test_sms import sms
from .conftest import BAD, Colour, Site, box_of, colour_share, screenshot, sign_in

pytestmark = pytest.mark.integration

PATH: Colour = (0xD9, 0x48, 0x0F)                 # app.css --path: the busiest path
SURVEY = (ROOT / "dialplans" / "survey.yaml").read_text().replace("id: satisfaction-survey", "id: ui-survey").replace(
    "name: Satisfaction survey", "name: UI survey").replace('"5050"', '"5151"')
LONG = (ROOT / "tests" / "dialplans" / "long-survey.yaml").read_text()
SURVEY_NODES = ["intro", "q1", "a1", "q2", "a2", "q3", "a3", "thanks", "bye"]
BUSIEST = ["intro>q1", "q1>a1", "a1>q2", "q2>a2", "a2>q3", "q3>a3", "a3>thanks"]


def survey_call(site: Site, workdir: Path, caller: str, first_key_after: float = 3.0) -> None:
    """A real call answering the survey 4, 2, then 1 (yes)."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = key_scenario(workdir / "survey.xml", [(first_key_after, "4"), (1.5, "2"), (1.5, "1")], caller=caller)
    result = run_sipp(site.engine.sip, scenario, service="5151", timeout=60, workdir=workdir)
    assert result.successful == 1, result.output


def node(page: Page, node_id: str):
    return page.locator(f'svg.flow g.node[data-node="{node_id}"]')


def edge(page: Page, edge_id: str):
    return page.locator(f'svg.flow g.edge[data-edge="{edge_id}"]')


@pytest.fixture(scope="module")
def survey(site: Site) -> str:
    key = site.keys["demo", "business"]
    site.api("/api/campaigns/ui-survey/versions?activate=1", key, SURVEY)
    site.api("/api/campaigns/long-survey/versions?activate=1", key, LONG)
    return "ui-survey"


def test_the_survey_diagram_counts_real_calls_and_sms_live(page: Page, site: Site, survey: str,
                                                           tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.goto(f"{site.url}#/campaigns/{survey}")
    expect(page.get_by_role("heading", name="Flow")).to_be_visible()
    expect(page.locator("svg.flow g.node")).to_have_count(len(SURVEY_NODES))
    assert page.locator("svg.flow g.node").evaluate_all("gs => gs.map(g => g.dataset.node)") == SURVEY_NODES
    expect(node(page, "q1")).to_contain_text("Ask · q1")
    expect(node(page, "q1")).to_contain_text("On a scale of 1 to 5")
    expect(edge(page, "q1>a1").locator(".edge-label")).to_contain_text("1 2 3 4 5")
    expect(edge(page, "q1>bye").locator(".edge-label")).to_contain_text("max retries")
    expect(page.locator(".flow-summary")).to_have_text("No sessions yet for this choice.")

    for n in (1, 2):
        survey_call(site, tmp_path / f"call{n}", f"+1555610{n}")
    for n, text in enumerate(["hi", "4", "5", "yes"]):
        assert sms(site.engine, "+15556201", "5151", text, f"flow-a{n}")[0] == 200
    assert sms(site.engine, "+15556202", "5151", "hello", "flow-b0")[0] == 200       # stays at q1

    expect(page.locator(".flow-summary")).to_have_text("4 sessions, 1 in progress.")
    expect(node(page, "intro").locator(".node-count")).to_have_text("4")
    expect(node(page, "q1").locator(".node-count")).to_have_text("4")
    expect(node(page, "thanks").locator(".node-count")).to_have_text("3")
    expect(node(page, "bye").locator(".node-count")).to_have_text("")
    expect(edge(page, "q1>a1").locator(".edge-count")).to_have_text("3")
    expect(page.locator("svg.flow g.edge.busy")).to_have_count(len(BUSIEST))
    assert page.locator("svg.flow g.edge.busy").evaluate_all("gs => gs.map(g => g.dataset.edge)") == BUSIEST
    node(page, "q1").scroll_into_view_if_needed()
    shown = screenshot(page, tmp_path, "survey-flow")
    assert colour_share(shown, box_of(edge(page, "intro>q1").locator("path.edge-line")), PATH) > 0.05
    assert colour_share(shown, box_of(node(page, "q1").locator("rect")), PATH) > 0.02        # its outline
    node(page, "bye").scroll_into_view_if_needed()
    bottom = screenshot(page, tmp_path, "survey-flow-end")
    assert colour_share(bottom, box_of(node(page, "bye").locator("rect")), PATH) == 0       # not on the path

    page.get_by_label("Channel").select_option(label="calls only")
    expect(page.locator(".flow-summary")).to_have_text("2 sessions.")
    expect(node(page, "intro").locator(".node-count")).to_have_text("2")
    page.get_by_label("Channel").select_option(label="SMS only")
    expect(page.locator(".flow-summary")).to_have_text("2 sessions, 1 in progress.")
    expect(node(page, "thanks").locator(".node-count")).to_have_text("1")


def test_a_problem_is_marked_on_the_uploaded_files_diagram(page: Page, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload a campaign").click()
    broken = SURVEY.replace("id: ui-survey", "id: ui-broken").replace('"5151"', '"5252"').replace(
        "max_retries: bye\n  a2", "max_retries: byebye\n  a2")
    page.get_by_label("Or paste the file’s text").fill(broken)
    page.get_by_role("button", name="Only check the file").click()
    expect(page.get_by_role("heading", name="The file as a diagram")).to_be_visible()
    expect(page.locator("tr.line-issue")).to_contain_text('nodes.q2.max_retries: unknown node "byebye"')
    bad = page.locator('svg.flow g.node.bad')
    expect(bad).to_have_count(1)
    expect(bad).to_have_attribute("data-node", "q2")
    expect(page.locator('svg.flow g.node[data-node="byebye"]')).to_have_class("node type-missing")
    bad.scroll_into_view_if_needed()
    shown = screenshot(page, tmp_path, "upload-diagram")
    assert colour_share(shown, box_of(bad.locator("rect")), BAD) > 0.02
    assert colour_share(shown, box_of(page.locator('svg.flow g.node[data-node="q1"] rect')), BAD) == 0


def test_the_simulator_lights_the_path_it_took(page: Page, site: Site, survey: str) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.goto(f"{site.url}#/campaigns/{survey}")
    page.get_by_role("link", name="Try it in the simulator").click()
    page.get_by_label("Caller's answers, one a line").fill("4\n5\n2")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".sim-path")).to_have_text("Path: intro → q1 → a1 → q2 → a2 → q3 → a3 → thanks")
    expect(page.locator("svg.flow g.node.lit")).to_have_count(8)
    expect(page.locator("svg.flow g.edge.lit")).to_have_count(7)
    expect(page.locator(".transcript")).to_contain_text("stored answer solved = no")
    expect(node(page, "bye")).not_to_have_class("lit")


def test_a_thirty_node_survey_is_drawn_without_overlaps(page: Page, site: Site, survey: str) -> None:
    sign_in(page, site, site.keys["demo", "business"])
    page.goto(f"{site.url}#/campaigns/long-survey")
    expect(page.locator("svg.flow g.node")).to_have_count(30)
    boxes = page.locator("svg.flow g.node rect").evaluate_all(
        "rs => rs.map(r => { const b = r.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    labels = page.locator("svg.flow .edge-label").evaluate_all(
        "ts => ts.map(t => { const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })")
    for a in labels:                       # arrow labels never sit on a box
        for b in boxes:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # readable: the boxes' text is drawn at least at 11 px on the page
    scale = page.locator("svg.flow").evaluate("s => s.getBoundingClientRect().width / s.viewBox.baseVal.width")
    assert scale * 12.5 >= 11, scale
    expect(edge(page, "check>followup").locator(".edge-label")).to_contain_text("s4 < 3")


def test_the_node_page_shows_a_call_in_progress_and_a_failed_webhook(page: Page, site: Site, survey: str,
                                                                      tmp_path: Path) -> None:
    assert sms(site.engine, "+15556301", "1414", "12345", "flow-order")[1]["replies"] == [
        "We cannot look up orders right now. Please try again later."]       # its webhook is refused
    sign_in(page, site, site.keys["demo", "operator"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="This node").click()
    expect(page.get_by_role("heading", name="This node")).to_be_visible()
    expect(page.locator(".node-state")).to_have_text("Answering calls")
    failure = page.locator("#failures tbody tr").filter(has_text="Order status").first    # newest first: this one
    expect(failure).to_contain_text("lookup")
    expect(failure).to_contain_text("refused: 127.0.0.1 is a loopback address")
    expect(page.locator('#errors [data-key="webhooks-refused"]')).not_to_have_text("0")
    expect(page.locator("#trunk")).to_contain_text("No trunk registration configured")
    expect(page.locator("#links")).to_contain_text("No SMS operator links")
    expect(page.locator("#changes")).to_have_count(0)                       # the audit log is for administrators

    call = Background(survey_call, site, tmp_path, "+15556401", 8.0)
    call.start()
    expect(page.locator("#calls-now")).to_contain_text("1 in progress")
    expect(page.locator("#calls-now tbody tr")).to_contain_text("UI survey")
    call.join()
    expect(page.locator("#calls-now")).to_contain_text("No calls in progress.")
    expect(page.locator("#per-minute tbody tr").filter(has_text="UI survey")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, site.keys["ops", "admin"])
    page.goto(f"{site.url}#/node")
    changes = page.locator("#changes tbody tr")
    expect(changes.filter(has_text="ui-survey").filter(has_text="version put in service").first).to_contain_text(
        "business key")
    wait_for(lambda: site.api("/api/audit?limit=500", site.keys["ops", "admin"]), timeout=5)
