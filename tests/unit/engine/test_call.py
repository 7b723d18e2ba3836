"""`VoiceCall` in memory: a phone on a wire, a manual clock, a recorded dialog (see `memory_call`).

Each test is a call as a phone lives it: what it hears frame by frame, when the call hangs up, what the
store is told, what the dialog is asked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.channels.effects import InMemoryServices
from ivr.channels.voice import END_TAIL_SECONDS
from ivr.engine.call import TRANSFER_REPORT_WAIT, CallState, CallStateError, disposition
from ivr.flow.loader import load_campaign, load_file
from ivr.flow_cli import stub_http
from ivr.sip.sdp import SessionDescription

from .memory_call import PHONE_ADDRESS, MemoryCall

ROOT = Path(__file__).resolve().parents[3]
RAFFLE = load_file(ROOT / "dialplans" / "raffle.yaml")
VOTE = load_file(ROOT / "dialplans" / "vote.yaml")


def run(coro):
    return asyncio.run(coro)


# -- keys and the closing prompt (behaviour 1) -----------------------------------------------------------


def test_the_hash_after_a_complete_code_belongs_to_it_and_the_closing_prompt_is_heard_whole(tmp_path: Path) -> None:
    """7777: six digits complete the entry; the # the prompt asked for comes after and must neither be
    taken as input nor cut "Your code is entered in the draw"; the hang-up comes after its last frame."""
    async def call() -> MemoryCall:
        services = InMemoryServices()
        await services.prepare([RAFFLE])
        c = MemoryCall(RAFFLE, tmp_path, services=services)
        await c.run_until(1.0)                                # the question is heard
        c.press("104729")
        await c.run_for(0.1)
        c.press("#")                                          # as the prompt asked
        await c.run_for(3.0)
        return c
    c = run(call())
    entered = RAFFLE.nodes["entered"]["text"]
    assert c.session.path == ["ask_code", "redeem", "entered"]
    assert c.call.digits == list("104729#")
    assert c.phone.frames_of(entered) == 25                   # 0.5 s: every frame of the closing prompt
    last_frame = max(at for (at, _), level in zip(c.phone.heard, c.phone.levels()) if level)
    assert c.dialog.hung_up_at is not None
    assert c.dialog.hung_up_at >= last_frame + END_TAIL_SECONDS - 0.021   # the BYE after the tail
    assert c.ended == {"disposition": "completed", "cause": "flow_end", "path": ["ask_code", "redeem", "entered"]}
    assert not c.recorder.kinds("input_ignored")


def test_a_key_during_the_closing_prompt_does_not_cut_it(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path, services=InMemoryServices())
        await c.run_until(0.6)
        c.press("2")
        await c.run_for(0.2)                                  # the vote is cast, the thanks begins
        c.press("5")
        await c.run_for(2.0)
        return c
    c = run(call())
    thanks = "Thank you, your vote for boris is counted. Goodbye."
    assert c.phone.frames_of(thanks) == 25
    assert c.ended["disposition"] == "completed" and c.ended["path"][-1] == "thanks"


def test_the_finish_key_ends_a_shorter_entry_at_once(tmp_path: Path) -> None:
    order = load_file(ROOT / "dialplans" / "order.yaml")

    async def call() -> MemoryCall:
        c = MemoryCall(order, tmp_path, services=InMemoryServices(http=stub_http('{"status": "packed"}')))
        await c.run_until(0.5)
        c.press("98765#")
        await c.run_for(0.5)                                  # well before any inter-digit timeout
        return c
    c = run(call())
    assert c.session.variables["order"] == "98765" and c.session.path[-1] == "status"


def test_a_partial_entry_ends_after_the_inter_digit_timeout(tmp_path: Path) -> None:
    order = load_file(ROOT / "dialplans" / "order.yaml")

    async def call() -> tuple[list, list, MemoryCall]:
        c = MemoryCall(order, tmp_path, services=InMemoryServices(http=stub_http('{"status": "shipped"}')))
        await c.run_until(1.0)
        c.press("12")                                     # too short for an order number...
        await c.run_until(1.0 + 2.9)                      # ...and nothing more within the 3 s: still waiting
        before = list(c.recorder.events)
        await c.run_until(1.0 + 3.1)
        after = c.recorder.events[len(before):]
        c.press("4242")                                   # the reprompt; then silence again
        await c.run_for(4.0)                              # look-up, the status said, hung up
        return before, after, c
    before, after, c = run(call())
    assert not [k for k, _ in before if k in ("input", "nomatch")]
    assert ("input", {"node": "ask_order", "digits": "12"}) in after
    assert any(k == "prompt" and d["text"] == "An order number has four to ten digits." for k, d in after)
    assert c.session.path == ["ask_order", "lookup", "keep_status", "status"] and c.call.ended


SPEECH_ONLY = """
id: speech-only
numbers: {voice: ["1111"], sms: ["1111"]}
start: q
nodes:
  q:
    type: ask
    prompt: Say yes or no.
    input: speech
    choices:
      - {words: ["yes"], next: yes_said}
      - {words: ["no"], next: no_said}
    timeout: 2
    retries: 1
    noinput_prompt: Please say yes or no.
    noinput: silent
  yes_said: {type: end, text: You said yes.}
  no_said: {type: end, text: You said no.}
  silent: {type: end, text: Goodbye., reason: silent}
"""


def test_a_speech_only_ask_ignores_keys_and_times_out(tmp_path: Path) -> None:
    async def call() -> tuple[list, MemoryCall]:
        c = MemoryCall(load_campaign(SPEECH_ONLY), tmp_path)
        await c.run_until(0.3)
        c.press("1")                                     # not an answer to a speech-only question
        await c.run_until(0.5 + 2.2)                     # the prompt's end + 2 s of silence: no input
        first = list(c.recorder.events)
        await c.run_for(3.5)
        return first, c
    first, c = run(call())
    assert not [k for k, _ in first if k == "input"]
    assert ("noinput", {"node": "q"}) in first
    assert any(k == "prompt" and d["text"] == "Please say yes or no." for k, d in first)
    assert c.session.path[-1] == "silent" and c.session.end_reason == "silent"
    assert c.ended["disposition"] == "completed"


# -- delayed offer (behaviour 2) -------------------------------------------------------------------------


def test_an_invite_without_sdp_gets_our_offer_and_media_follows_the_answer_in_the_ack(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path, offer=None, confirm=False)
        offer = SessionDescription.parse(c.sdp.local.serialize())
        assert [name for _, name, _ in offer.media[0].payloads()] == ["PCMU", "PCMA", "telephone-event"]
        await c.run_for(0.2)
        assert c.phone.heard == []                          # no address to send to before the answer
        c.call.confirmed(c.phone.offer(), c.now)            # the ACK's answer
        await c.run_for(1.0)
        return c
    c = run(call())
    assert c.call.state is CallState.CONFIRMED and c.call.media.remote_addr == PHONE_ADDRESS
    assert c.phone.frames_of("Welcome to the talent show vote.") == 25


@pytest.mark.parametrize("ack_body", [b"", b"v=0\r\no=x 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"],
                         ids=["no answer", "no codec we offered"])
def test_an_ack_without_a_usable_answer_to_our_offer_ends_the_call(tmp_path: Path, ack_body: bytes) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path, offer=None, confirm=False)
        c.call.confirmed(ack_body, c.now)
        await c.run_for(0.1)
        return c
    c = run(call())
    assert c.dialog.hung_up_at == 0.0 and c.call.conversation is None
    assert c.ended == {"disposition": "bad_sdp_answer", "cause": "bad_sdp_answer", "path": []}
    assert c.released == [c.call] and c.call.rtp.closed


# -- hold (behaviour 3) ----------------------------------------------------------------------------------


def test_hold_pauses_the_prompt_and_the_timers_and_unhold_resumes_where_it_stopped(tmp_path: Path) -> None:
    """Held 0.2 s into the 0.5 s welcome for 10 s (longer than the ask's 6 s timeout): nothing is sent,
    nothing times out; after unhold the welcome goes on from its 11th frame, and the menu follows."""
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path)
        await c.run_until(0.2)
        c.call.modify(("k", 2), c.phone.offer("sendonly", 2), "INVITE", c.now)
        _, status, body = c.dialog.modify_answers[-1]
        assert status == 200 and b"a=recvonly" in body
        held_at = len(c.phone.heard)
        await c.run_for(10.0)
        assert len(c.phone.heard) == held_at, "RTP sent on hold"
        c.call.modify(("k", 3), c.phone.offer("sendrecv", 3), "INVITE", c.now)
        await c.run_for(1.0)
        return c
    c = run(call())
    welcome = "Welcome to the talent show vote."
    assert c.phone.frames_of(welcome) == 25                 # 10 before the hold, the 15 after it
    assert c.phone.heard[10][1].marker                      # a new talk spurt
    assert [k for k, _ in c.recorder.events if k in ("hold", "resume")] == ["hold", "resume"]
    assert not c.recorder.kinds("noinput") and not c.call.ended


def test_the_no_input_timeout_stops_on_hold_and_runs_on_after(tmp_path: Path) -> None:
    async def call() -> tuple[float, MemoryCall]:
        c = MemoryCall(load_campaign(SPEECH_ONLY), tmp_path)
        await c.run_until(1.5)                              # prompt over at 0.5 s: 1 s of the 2 s waited
        c.call.modify(("k", 2), c.phone.offer("inactive", 2), "INVITE", c.now)
        await c.run_for(5.0)
        c.call.modify(("k", 3), c.phone.offer("sendrecv", 3), "INVITE", c.now)
        resumed = c.now
        await c.run_for(1.5)
        return resumed, c
    resumed, c = run(call())
    [noinput] = [i for i, (k, _) in enumerate(c.recorder.events) if k == "noinput"]
    assert c.recorder.events.index(("resume", {})) < noinput    # only after the hold, 1 s after unhold


def test_a_call_held_from_its_start_keeps_its_flow_waiting(tmp_path: Path) -> None:
    """The ACK answers our offer with sendonly: held before the flow begins, whose question says nothing
    (its text is an empty variable) and so waits for a key from the start: it must not time out."""
    silent = load_campaign(SPEECH_ONLY.replace("prompt: Say yes or no.", 'prompt: "{{intro}}"'))

    async def call() -> MemoryCall:
        c = MemoryCall(silent, tmp_path, offer=None, confirm=False)
        c.call.confirmed(c.phone.offer("sendonly"), c.now)
        await c.run_for(10.0)
        assert not c.recorder.kinds("noinput")
        c.call.modify(("k", 2), c.phone.offer("sendrecv", 2), "INVITE", c.now)
        await c.run_for(2.1)
        return c
    c = run(call())
    assert c.recorder.kinds("noinput") == [{"node": "q"}]


def test_no_rtp_timeout_while_held(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path, rtp_timeout=2.0)
        c.call.modify(("k", 2), c.phone.offer("inactive", 2), "INVITE", c.now)
        await c.run_for(5.0)
        assert not c.call.ended
        c.call.modify(("k", 3), c.phone.offer("sendrecv", 3), "INVITE", c.now)
        await c.run_for(2.5)
        return c
    c = run(call())
    assert c.ended["cause"] == "rtp_timeout" and c.ended["disposition"] == "rtp_timeout"


def test_a_reinvite_without_sdp_is_answered_with_our_offer_and_the_ack_holds(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path)
        await c.run_until(0.1)
        c.call.modify(("k", 2), b"", "INVITE", c.now)
        _, status, body = c.dialog.modify_answers[-1]
        offer = SessionDescription.parse(body)
        assert status == 200 and offer.media[0].direction() == "sendrecv"
        assert [name for _, name, _ in offer.media[0].payloads()] == ["PCMU", "telephone-event"]
        c.call.session_answer(c.phone.offer("sendonly", 2), c.now)
        return c
    c = run(call())
    assert c.call.media.on_hold and c.recorder.kinds("hold") == [{}]


def test_a_reinvite_offering_no_common_codec_gets_488_and_changes_nothing(tmp_path: Path) -> None:
    c = MemoryCall(VOTE, tmp_path)
    g729 = c.phone.offer().replace(b"RTP/AVP 0 101", b"RTP/AVP 18 101").replace(b"a=rtpmap:0 PCMU/8000\r\n", b"")
    c.call.modify(("k", 2), g729, "INVITE", 0.0)
    assert c.dialog.modify_answers == [(("k", 2), 488, None)] and c.call.media.codec_pt == 0


# -- how a call ended (behaviour 4) ----------------------------------------------------------------------


def test_a_caller_who_hangs_up_during_a_prompt_abandoned_the_call(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path)
        await c.run_until(0.3)
        c.call.ended_by_peer("remote_bye")
        return c
    c = run(call())
    assert c.ended == {"disposition": "abandoned", "cause": "remote_bye", "path": ["welcome", "choose"]}
    assert c.metrics.dispositions == {"abandoned": 1}
    assert c.dialog.hung_up_at is None                        # nothing to send: the caller's BYE ended it


def test_a_caller_who_hangs_up_during_the_closing_prompt_completed_the_call(tmp_path: Path) -> None:
    async def call() -> MemoryCall:
        c = MemoryCall(VOTE, tmp_path)
        await c.run_until(0.6)
        c.press("1")
        await c.run_for(0.3)
        c.call.ended_by_peer("remote_bye")
        return c
    c = run(call())
    assert c.ended == {"disposition": "completed", "cause": "remote_bye", "path": ["welcome", "choose", "cast", "thanks"]}


@pytest.mark.parametrize("cause, reached_end, expected", [
    ("flow_end", True, "completed"), ("remote_bye", True, "completed"), ("shutdown", True, "completed"),
    ("remote_bye", False, "abandoned"), ("cancelled", False, "cancelled"), ("rtp_timeout", False, "rtp_timeout"),
    ("max_duration", False, "max_duration"), ("no_ack", False, "no_ack"), ("shutdown", False, "shutdown")])
def test_dispositions(cause: str, reached_end: bool, expected: str) -> None:
    assert disposition(cause, reached_end) == expected


# -- transfer --------------------------------------------------------------------------------------------


TRANSFER = """
id: support-line
numbers: {voice: ["4444"]}
start: operator
nodes:
  operator: {type: transfer, target: "100", prompt: Connecting you., failure: sorry}
  sorry: {type: end, text: No operator is free.}
"""


def transfer_call(tmp_path: Path, then) -> MemoryCall:
    async def call() -> MemoryCall:
        c = MemoryCall(load_campaign(TRANSFER), tmp_path)
        await c.run_for(0.6)                                   # the prompt is heard before the REFER
        assert c.dialog.refers == ["100"]
        await then(c)
        return c
    return run(call())


def test_a_transfer_reported_done_by_notify_ends_the_flow(tmp_path: Path) -> None:
    async def then(c: MemoryCall) -> None:
        c.dialog.refer_result(202, c.now)
        await c.run_for(1.0)
        assert not c.call.ended                                 # waiting for the report
        c.call.transfer_progress(200, final=True)
        await c.run_for(0.1)
    c = transfer_call(tmp_path, then)
    assert c.recorder.kinds("transfer") == [{"target": "100", "accepted": True}]
    assert c.ended == {"disposition": "completed", "cause": "flow_end", "path": ["operator"]}


def test_a_refused_transfer_takes_the_failure_exit(tmp_path: Path) -> None:
    async def then(c: MemoryCall) -> None:
        c.dialog.refer_result(403, c.now)
        await c.run_for(1.0)
    c = transfer_call(tmp_path, then)
    assert c.recorder.kinds("transfer") == [{"target": "100", "accepted": False}]
    assert c.ended["path"] == ["operator", "sorry"]


def test_an_accepted_transfer_without_a_report_counts_after_the_wait(tmp_path: Path) -> None:
    async def then(c: MemoryCall) -> None:
        c.dialog.refer_result(202, c.now)
        await c.run_for(TRANSFER_REPORT_WAIT - 0.1)
        assert not c.call.ended
        await c.run_for(0.2)
    c = transfer_call(tmp_path, then)
    assert c.recorder.kinds("transfer") == [{"target": "100", "accepted": True}]
    assert c.ended["cause"] == "flow_end"


def test_a_failed_report_before_the_refers_answer_counts_when_it_comes(tmp_path: Path) -> None:
    async def then(c: MemoryCall) -> None:
        c.call.transfer_progress(486, final=True)               # the NOTIFY overtook the 202
        c.dialog.refer_result(202, c.now)
        await c.run_for(1.0)
    c = transfer_call(tmp_path, then)
    assert c.recorder.kinds("transfer") == [{"target": "100", "accepted": False}]
    assert c.ended["path"] == ["operator", "sorry"]


def test_a_caller_who_leaves_after_accepting_the_transfer_completed_it(tmp_path: Path) -> None:
    async def then(c: MemoryCall) -> None:
        c.dialog.refer_result(202, c.now)
        await c.run_for(0.5)
        c.call.ended_by_peer("remote_bye")
    c = transfer_call(tmp_path, then)
    assert c.recorder.kinds("transfer") == [{"target": "100", "accepted": True}]
    assert c.ended == {"disposition": "completed", "cause": "remote_bye", "path": ["operator"]}
    assert c.dialog.hung_up_at is None


# -- state -----------------------------------------------------------------------------------------------


def test_states_move_only_forward(tmp_path: Path) -> None:
    c = MemoryCall(VOTE, tmp_path, confirm=False)
    assert c.call.state is CallState.ANSWERED
    with pytest.raises(CallStateError):
        c.call.answered(0.0)
    c.call.hangup("shutdown")
    assert c.call.state is CallState.ENDED and c.dialog.hung_up_at == 0.0
    c.call.hangup("shutdown")
    c.call.ended_by_peer("remote_bye")                          # once ended, nothing more happens
    assert c.ended == {"disposition": "shutdown", "cause": "shutdown", "path": []} and c.released == [c.call]
