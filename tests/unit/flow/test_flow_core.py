"""The campaign model, its validation with exact error paths, and the interpreter on both channels."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from ivr.channels.effects import InMemoryServices
from ivr.channels.dry_run import dry_run
from ivr.flow import templates
from ivr.flow.interpreter import (
    CastVote, CodeResult, Digits, End, FlowSession, Hangup, Listen, NoInput, RedeemCode, Say, Speech, StoreOutcome,
    Text, VoteResult, WebhookResult,
)
from ivr.flow.loader import load_campaign, load_file
from ivr.flow.validate import DialplanError
from ivr.flow_cli import simulate_command, stub_http, validate_command

ROOT = Path(__file__).resolve().parents[3]
DEMOS = sorted((ROOT / "dialplans").glob("*.yaml"))


def vote_source() -> dict:
    return yaml.safe_load((ROOT / "dialplans" / "vote.yaml").read_text())


def broken(mutate) -> str:
    data = vote_source()
    mutate(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("path", DEMOS, ids=lambda p: p.name)
def test_demo_campaigns_are_valid_and_run_on_both_channels(path: Path) -> None:
    campaign = load_file(path)
    assert campaign.voice_numbers and campaign.sms_numbers
    for channel in ("voice", "sms"):
        actions = FlowSession(campaign, channel, "+1555").start()
        assert isinstance(actions[-1], Listen) and any(isinstance(a, Say) for a in actions)


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["nodes"]["choose"]["choices"][2].update(next="end2"), "nodes.choose.choices[2].next",
     'unknown node "end2"'),
    (lambda d: d.update(start="nowhere"), "start", 'unknown node "nowhere"'),
    (lambda d: d.update(report={"email": ["ops@brand.test", "nope"], "every": "daily"}), "report.email[1]",
     "does not match"),
    (lambda d: d.update(report={"email": ["ops@brand.test"], "every": "monthly"}), "report.every", "monthly"),
    (lambda d: d["nodes"].update(orphan={"type": "end", "text": "x"}), "nodes.orphan", "unreachable node"),
    (lambda d: d["nodes"]["choose"].update(colour="red"), "nodes.choose.colour", "unknown field"),
    (lambda d: d["nodes"]["cast"].pop("repeat"), "nodes.cast", 'missing field "repeat"'),
    (lambda d: d.update(languages=["en", "uk"]) or d["nodes"]["welcome"].update(text={"en": "Hi"}),
     "nodes.welcome.text", 'missing translation "uk"'),
    (lambda d: d["nodes"]["choose"]["choices"][1].update(key="1"), "nodes.choose.choices[1].key",
     'key "1" used twice'),
    (lambda d: d["nodes"].update(loop_a={"type": "say", "text": "a", "next": "loop_b"},
                                 loop_b={"type": "say", "text": "b", "next": "loop_a"})
     or d["nodes"]["welcome"].update(next="loop_a"), "nodes.loop_a", "loop without input"),
    (lambda d: d["nodes"].update(welcome={"type": "transfer", "target": "100", "failure": "choose"}),
     "nodes.welcome", "voice-only"),
])
def test_invalid_dialplans_name_the_path(mutate, path: str, message: str) -> None:
    with pytest.raises(DialplanError) as info:
        load_campaign(broken(mutate), "vote.yaml")
    found = [(i.path, i.message) for i in info.value.issues]
    assert any(p == path and message in m for p, m in found), found


def test_error_carries_the_yaml_line() -> None:
    text = (ROOT / "dialplans" / "vote.yaml").read_text().replace("next: cast}", "next: end2}", 1)
    with pytest.raises(DialplanError) as info:
        load_campaign(text, "vote.yaml")
    issue = info.value.issues[0]
    assert issue.path == "nodes.choose.choices[0].next"
    assert "end2" in text.splitlines()[issue.line - 1]


def test_bad_pattern_and_bad_yaml() -> None:
    text = (ROOT / "dialplans" / "raffle.yaml").read_text().replace('"[0-9]{6}"', '"[0-9"')
    with pytest.raises(DialplanError) as info:
        load_campaign(text, "raffle.yaml")
    assert info.value.issues[0].path == "nodes.ask_code.pattern"
    with pytest.raises(DialplanError) as info:
        load_campaign("id: x\n  nodes: [", "x.yaml")
    assert info.value.issues[0].line is not None


@pytest.mark.parametrize("text, message", [
    ("[" * 2000 + "]" * 2000, "nest"),            # libyaml stops at its own depth limit, PyYAML's parser at ours
    ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 100)), "nested more than 64 levels deep"),
    ("id: x\nnodes: {²: {type: say}}\n", "nodes"),                     # not an index: no int("²")
])
def test_hostile_yaml_is_a_dialplan_error(text: str, message: str) -> None:
    with pytest.raises(DialplanError) as info:
        load_campaign(text, "x.yaml")
    assert any(message in str(issue) for issue in info.value.issues), info.value.issues


def test_vote_flow_on_voice_with_repeat_exit() -> None:
    campaign = load_file(ROOT / "dialplans" / "vote.yaml")
    session = FlowSession(campaign, "voice", "+1555")
    listen = session.start()[-1]
    assert listen.spec.max_digits == 1 and listen.spec.mode == "both" and "anna" in listen.spec.grammar
    assert session.feed(Digits("9"))[-1].spec                     # nomatch: asked again
    assert session.feed(Speech("Boris", 0.9)) == [CastVote("talent", "boris", "campaign")]
    actions = session.feed(VoteResult(False, "anna"))
    assert "already voted, for anna" in actions[0].parts[0].text and isinstance(actions[-1], End)
    kinds = [e.kind for e in session.drain_events()]
    assert "nomatch" in kinds and "vote_result" in kinds and kinds[-1] == "end"


def test_noinput_retries_then_max_retries_exit() -> None:
    session = FlowSession(load_file(ROOT / "dialplans" / "vote.yaml"), "voice", "+1555")
    session.start()
    assert "did not hear" in session.feed(NoInput())[0].parts[0].text
    session.feed(NoInput())
    actions = session.feed(NoInput())
    assert isinstance(actions[-1], End) and session.path[-1] == "goodbye"


def test_hangup_finishes_quietly() -> None:
    session = FlowSession(load_file(ROOT / "dialplans" / "vote.yaml"), "voice", "+1555")
    session.start()
    assert session.feed(Hangup()) == [] and session.finished and session.end_reason == "hangup"


def test_code_exits_and_survey_outcomes() -> None:
    raffle = load_file(ROOT / "dialplans" / "raffle.yaml")
    for status, node in (("redeemed", "entered"), ("used", "used"), ("invalid", "invalid"),
                         ("unavailable", "later")):
        session = FlowSession(raffle, "voice", "+1555")
        session.start()
        assert session.feed(Digits("12")) and session.path[-1] == "ask_code"        # too short: nomatch
        assert session.feed(Digits("104729")) == [RedeemCode("receipts", "104729")]
        session.feed(CodeResult(status))
        assert session.path[-1] == node
    survey = FlowSession(load_file(ROOT / "dialplans" / "survey.yaml"), "sms", "+1555")
    survey.start()
    assert StoreOutcome("answer", "satisfaction", "4") in survey.feed(Text("4"))
    assert StoreOutcome("answer", "recommend", "5") in survey.feed(Text("five"))
    assert StoreOutcome("answer", "solved", "no") in survey.feed(Text("No"))


def test_webhook_results_become_variables_and_failure_takes_fallback() -> None:
    order = load_file(ROOT / "dialplans" / "order.yaml")
    session = FlowSession(order, "voice", "+1555")
    session.start()
    call = session.feed(Digits("12345"))[-1]
    assert call.url == "http://demo.ivr.invalid/orders/12345" and call.method == "GET"
    stored, said, end = session.feed(WebhookResult(True, 200, {"status": "shipped"}))
    assert stored == StoreOutcome("answer", "order_status", "shipped")
    assert said.parts[0].text == "Order 12345 is shipped." and end == End("completed")
    session = FlowSession(order, "voice", "+1555")
    session.start()
    session.feed(Digits("12345"))
    session.feed(WebhookResult(False, 500))
    assert session.path[-1] == "unavailable"


def test_sms_session_state_survives_serialisation() -> None:
    campaign = load_file(ROOT / "dialplans" / "survey.yaml")
    session = FlowSession(campaign, "sms", "+1555")
    session.start()
    session.feed(Text("3"))
    restored = FlowSession.from_state(campaign, json.loads(json.dumps(session.to_state())))
    assert StoreOutcome("answer", "recommend", "2") in restored.feed(Text("2"))


def test_schedule_closed_message() -> None:
    data = vote_source()
    data["schedule"] = {"timezone": "UTC", "end": "2020-01-01T00:00:00", "closed_text": "The vote has closed."}
    campaign = load_campaign(yaml.safe_dump(data), "vote.yaml")
    actions = FlowSession(campaign, "voice", "+1555").start()
    assert actions[0].parts[0].text == "The vote has closed." and actions[-1] == End("closed")


def test_templates_are_logic_less() -> None:
    variables = {"caller": {"last_vote": "anna"}, "x": {"__class__": "no"}}
    assert templates.render("{{caller.last_vote}} / {{missing|nothing yet}}", variables) == "anna / nothing yet"
    assert templates.render("{{ x.__class__.__mro__ }}", variables) == ""
    assert templates.render("{{ ''.join }}", variables) == "{{ ''.join }}"


SHIPPED = '{"status": "shipped"}'
# Every demo on each channel: the caller's inputs, the webhook stub's answer, the outcomes, the last node.
DEMO_RUNS = {
    ("vote.yaml", "voice"): (["3"], None, [("vote", "talent", "chloe")], "thanks"),
    ("vote.yaml", "sms"): (["3"], None, [("vote", "talent", "chloe")], "thanks"),
    ("raffle.yaml", "voice"): (["104729", "#"], None, [("code", "receipts", "104729")], "entered"),
    ("raffle.yaml", "sms"): (["104729"], None, [("code", "receipts", "104729")], "entered"),
    ("survey.yaml", "voice"): (["5", "4", "speech:yes:0.9"], None,
                               [("answer", "satisfaction", "5"), ("answer", "recommend", "4"),
                                ("answer", "solved", "yes")], "thanks"),
    ("survey.yaml", "sms"): (["hello", "5", "four", "Yes"], None,
                             [("answer", "satisfaction", "5"), ("answer", "recommend", "4"),
                              ("answer", "solved", "yes")], "thanks"),
    ("order.yaml", "voice"): (["12345", "#"], SHIPPED, [("answer", "order_status", "shipped")], "status"),
    ("order.yaml", "sms"): (["12345"], SHIPPED, [("answer", "order_status", "shipped")], "status"),
    ("alert.yaml", "voice"): (["012#"], "{}", [("answer", "branch_alerted", "012")], "done"),
    ("alert.yaml", "sms"): (["012"], "{}", [("answer", "branch_alerted", "012")], "done"),
}


def test_every_demo_has_an_end_to_end_run_on_both_channels() -> None:
    assert set(DEMO_RUNS) == {(path.name, channel) for path in DEMOS for channel in ("voice", "sms")}


@pytest.mark.parametrize("name, channel", sorted(DEMO_RUNS), ids=lambda v: str(v))
def test_simulator_runs_each_demo_end_to_end(name: str, channel: str) -> None:
    inputs, stub, expected, last = DEMO_RUNS[(name, channel)]
    http = stub_http(stub) if stub is not None else None
    transcript = asyncio.run(dry_run(load_file(ROOT / "dialplans" / name), channel, inputs, http=http))
    assert [(o["kind"], o["name"], o["value"]) for o in transcript.outcomes] == expected
    assert transcript.path[-1] == last and transcript.end_reason == "completed"


def test_one_vote_per_caller_across_channels_in_memory() -> None:
    services = InMemoryServices()
    campaign = load_file(ROOT / "dialplans" / "vote.yaml")
    first = asyncio.run(dry_run(campaign, "voice", ["2"], services=services))
    second = asyncio.run(dry_run(campaign, "sms", ["4"], services=services))
    assert first.path[-1] == "thanks" and second.path[-1] == "already"


def test_cli_validate_and_simulate(tmp_path: Path, capsys) -> None:
    assert validate_command([str(p) for p in DEMOS]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(broken(lambda d: d["nodes"]["choose"]["choices"][2].update(next="end2")))
    assert validate_command([str(DEMOS[0]), str(bad)]) == 1
    assert 'nodes.choose.choices[2].next: unknown node "end2"' in capsys.readouterr().err
    assert simulate_command(str(ROOT / "dialplans" / "vote.yaml"), "voice", ["1"], as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcomes"] == [{"kind": "vote", "name": "talent", "value": "anna"}]


BRANCHY = """
id: branchy
numbers: {voice: ["1111"], sms: ["1111"]}
start: route
nodes:
  route:
    type: branch
    cases:
      - {if: {var: channel, equals: voice}, next: operator}
      - {if: {var: caller.number, matches: "\\\\+44.*"}, next: uk}
    default: alert
  operator: {type: transfer, target: "100", prompt: Connecting you., failure: alert}
  uk: {type: end, text: Hello UK.}
  alert: {type: notify, method: email, target: ops@brand.test, text: "Call from {{caller.number}}", next: ok,
          failure: failed}
  ok: {type: end, text: Sent.}
  failed: {type: end, text: Not sent.}
"""


def test_branch_transfer_and_notify_exits_on_both_channels() -> None:
    from ivr.flow.interpreter import Notify, NotifyResult, Transfer, TransferResult

    flow = load_campaign(BRANCHY, "branchy.yaml")
    voice = FlowSession(flow, "voice", "+15550001")
    actions = voice.start()
    assert actions[0].parts[0].text == "Connecting you." and actions[-1] == Transfer("100")
    assert voice.feed(TransferResult(True)) == [End("transferred")]
    voice = FlowSession(flow, "voice", "+15550001")
    voice.start()
    assert isinstance(voice.feed(TransferResult(False))[-1], Notify)           # transfer failed: alert
    assert voice.feed(NotifyResult(False))[0].parts[0].text == "Not sent."
    assert FlowSession(flow, "sms", "+447700900").start()[0].parts[0].text == "Hello UK."
    sms = FlowSession(flow, "sms", "+15550001")
    notify = sms.start()[-1]
    assert isinstance(notify, Notify) and notify.text == "Call from +15550001" and notify.target == "ops@brand.test"
    assert sms.feed(NotifyResult(True))[0].parts[0].text == "Sent."
