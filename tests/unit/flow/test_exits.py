"""Exits and ask features on each channel: a store that cannot take votes or codes, no-input and
no-match ways out on SMS, recordings that fail, webhooks and notifications that fail, used-up
retries on SMS, invalid promo codes, and the reprompt of each attempt."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.channels.effects import InMemoryServices
from ivr.channels.dry_run import dry_run
from ivr.channels.sms import SmsConversation
from ivr.channels.store_services import StoreServices
from ivr.flow.interpreter import (
    CodeResult, Digits, End, FlowSession, Listen, NoInput, RecordResult, Say, StartRecording, Text, VoteResult,
)
from ivr.flow.loader import load_campaign, load_file
from ivr.flow_cli import stub_http
from ivr.store import Store

ROOT = Path(__file__).resolve().parents[3]
PLANS = ROOT / "dialplans"


def texts(actions: list) -> list[str | None]:
    return [part.text for action in actions if isinstance(action, Say) for part in action.parts]


def sms_turns(campaign, services, messages: list[str | None]) -> tuple[list[list[str]], SmsConversation]:
    """Each message's replies (None: the reminder delay passes without one)."""
    async def run() -> tuple[list[list[str]], SmsConversation]:
        conversation = SmsConversation.open(campaign, services, "+15550001", campaign.sms_numbers[0])
        out = []
        for message in messages:
            out.append(await (conversation.on_timeout() if message is None else conversation.handle(message)))
        return out, conversation
    return asyncio.run(run())


# -- a store that cannot answer --------------------------------------------------------------------

def closed_store(tmp_path: Path) -> Store:
    async def make() -> Store:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        await store.close()
        return store
    return asyncio.run(make())


def test_vote_and_code_unavailable_exits_over_sms_with_a_store_that_cannot_answer(tmp_path: Path) -> None:
    services = StoreServices(closed_store(tmp_path))
    replies, conversation = sms_turns(load_file(PLANS / "vote.yaml"), services, ["3"])
    assert replies == [["Sorry, we cannot count votes right now. Please call again later."]]
    assert conversation.session.path[-1] == "later"
    replies, _ = sms_turns(load_file(PLANS / "raffle.yaml"), services, ["104729"])
    assert replies == [["We cannot check codes right now. Please try again later."]]


def test_without_an_unavailable_exit_the_session_ends_store_unavailable() -> None:
    vote = load_file(PLANS / "vote.yaml")
    del vote.nodes["cast"]["unavailable"]
    session = FlowSession(vote, "voice", "+1555")
    session.start()
    session.feed(Digits("1"))
    assert session.feed(VoteResult(False, None, unavailable=True)) == [End("store_unavailable")]
    raffle = load_file(PLANS / "raffle.yaml")
    del raffle.nodes["redeem"]["unavailable"]
    session = FlowSession(raffle, "sms", "+1555")
    session.start()
    session.feed(Text("104729"))
    assert session.feed(CodeResult("unavailable")) == [End("store_unavailable")]


# -- asks on SMS -----------------------------------------------------------------------------------

QUESTION = """
id: question
numbers: {voice: ["1111"], sms: ["1111"]}
start: q
nodes:
  q:
    type: ask
    prompt: Press 1 for yes or 2 for no.
    sms: Reply yes or no.
    reminder: Still there? Reply yes or no.
    choices:
      - {key: "1", words: ["yes"], next: done}
      - {key: "2", words: ["no"], next: done}
    retries: 1
    nomatch_prompt: That is neither yes nor no.
    noinput: silent
    nomatch: confused
  done: {type: end, text: Thanks.}
  silent: {type: end, text: We did not hear from you., reason: silent}
  confused: {type: end, text: We could not understand you., reason: confused}
"""


def test_sms_nomatch_exit_after_the_retries() -> None:
    replies, conversation = sms_turns(load_campaign(QUESTION), InMemoryServices(), ["hi", "maybe", "perhaps"])
    assert replies == [["Reply yes or no."], ["That is neither yes nor no."], ["We could not understand you."]]
    assert conversation.session.end_reason == "confused"


def test_sms_noinput_exit_after_the_reminder() -> None:
    replies, conversation = sms_turns(load_campaign(QUESTION), InMemoryServices(), ["hi", None, None, None])
    assert replies == [["Reply yes or no."], ["Still there? Reply yes or no."], ["We did not hear from you."], []]
    assert conversation.session.end_reason == "silent" and conversation.finished


def test_the_last_failure_decides_the_way_out() -> None:
    replies, conversation = sms_turns(load_campaign(QUESTION), InMemoryServices(), ["hi", "maybe", None])
    assert replies[-1] == ["We did not hear from you."]


def test_sms_max_retries_sends_the_goodbye_text() -> None:
    replies, conversation = sms_turns(load_file(PLANS / "raffle.yaml"), InMemoryServices(), ["hi", "12", "34", "56"])
    assert replies[0][-1] == "Send the six digit code from your receipt."     # SMS wording, not "press hash"
    assert replies[1:3] == [["A code has six digits. Please try again."]] * 2
    assert replies[3] == ["Goodbye."] and conversation.session.end_reason == "no_code"


REPROMPTS = """
id: reprompts
numbers: {voice: ["1111"]}
start: q
nodes:
  q:
    type: ask
    prompt: Press 1.
    choices: [{key: "1", next: done}]
    retries: 3
    reprompts: ["Please press 1.", "Last chance, press 1."]
    nomatch_prompt: That was not 1.
    max_retries: bye
  done: {type: end, text: Thanks.}
  bye: {type: end, text: Goodbye., reason: gave_up}
"""


def test_each_attempt_has_its_reprompt_and_the_last_one_repeats() -> None:
    session = FlowSession(load_campaign(REPROMPTS), "voice", "+1555")
    assert texts(session.start()) == ["Press 1."]
    assert texts(session.feed(Digits("2"))) == ["That was not 1.", "Please press 1."]
    assert texts(session.feed(NoInput())) == ["Last chance, press 1."]          # no noinput_prompt
    attempt = session.feed(Digits("3"))
    assert texts(attempt) == ["That was not 1.", "Last chance, press 1."] and isinstance(attempt[-1], Listen)
    assert texts(session.feed(Digits("4"))) == ["Goodbye."] and session.end_reason == "gave_up"


# -- recordings, webhooks, notifications -----------------------------------------------------------

MESSAGE = """
id: message
numbers: {voice: ["1111"]}
start: rec
nodes:
  rec: {type: record, prompt: Leave a message after the beep., next: thanks, failure: nothing}
  thanks: {type: end, text: Thank you for your message.}
  nothing: {type: end, text: We did not get a message., reason: no_message}
"""


def test_record_failure_exit_and_next_without_one() -> None:
    session = FlowSession(load_campaign(MESSAGE), "voice", "+1555")
    actions = session.start()
    assert texts(actions) == ["Leave a message after the beep."] and isinstance(actions[-1], StartRecording)
    assert texts(session.feed(RecordResult(False))) == ["We did not get a message."]
    assert session.end_reason == "no_message"
    campaign = load_campaign(MESSAGE.replace(", failure: nothing", "").replace("  nothing:", "  # nothing:"))
    session = FlowSession(campaign, "voice", "+1555")
    session.start()
    assert texts(session.feed(RecordResult(False))) == ["Thank you for your message."]


ORDER_DOWN = "We cannot look up orders right now. Please try again later."
NO_MANAGER = "Sorry, we could not reach the manager. Please call the branch directly."


@pytest.mark.parametrize("demo, channel, inputs, node, text", [
    ("order.yaml", "voice", ["4242#"], "unavailable", ORDER_DOWN),
    ("order.yaml", "sms", ["4242"], "unavailable", ORDER_DOWN),
    ("alert.yaml", "voice", ["012#"], "failed", NO_MANAGER),
    ("alert.yaml", "sms", ["012"], "failed", NO_MANAGER),
])
def test_webhook_and_notify_failures_take_the_fallback(demo: str, channel: str, inputs: list[str], node: str,
                                                       text: str) -> None:
    transcript = asyncio.run(dry_run(load_file(PLANS / demo), channel, inputs, http=stub_http("fail")))
    assert transcript.path[-1] == node and transcript.outcomes == [] and transcript.entries[-1]["text"] == text


def test_sms_webhook_failure_reply() -> None:
    replies, _ = sms_turns(load_file(PLANS / "order.yaml"), InMemoryServices(http=stub_http("fail")), ["4242"])
    assert replies == [[ORDER_DOWN]]


def test_notify_without_a_failure_exit_goes_on() -> None:
    alert = load_file(PLANS / "alert.yaml")
    del alert.nodes["alert"]["failure"]
    transcript = asyncio.run(dry_run(alert, "sms", ["012"], http=stub_http("fail")))
    assert transcript.path[-2:] == ["keep_branch", "done"]


def test_notify_by_email_without_a_mail_relay_fails(tmp_path: Path) -> None:
    alert = load_file(PLANS / "alert.yaml")
    alert.nodes["alert"].update(method="email", target="manager@branch.test")
    replies, _ = sms_turns(alert, StoreServices(closed_store(tmp_path)), ["012"])     # no --smtp
    assert replies == [[NO_MANAGER]]


# -- promo codes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("channel, code", [("voice", "123456#"), ("sms", "123456")])
def test_an_invalid_code_is_refused_end_to_end(channel: str, code: str) -> None:
    transcript = asyncio.run(dry_run(load_file(PLANS / "raffle.yaml"), channel, [code]))
    assert transcript.path == ["ask_code", "redeem", "invalid"] and transcript.outcomes == []
    assert transcript.entries[-1]["text"] == "Sorry, this code is not valid."
