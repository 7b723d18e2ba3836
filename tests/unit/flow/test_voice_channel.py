"""The voice channel's key collection on a real (sans-I/O) MediaSession driven tick by tick, as the
engine's media clock does: the inter-digit timeout ends a partial entry, keys are ignored by a
speech-only ask, and a silence is a no-input."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.channels.effects import EffectContext, InMemoryServices
from ivr.channels.voice import VoiceConversation
from ivr.flow.interpreter import FlowSession, Prompt
from ivr.flow.loader import load_campaign, load_file
from ivr.flow_cli import stub_http
from ivr.media.session import MediaSession, PlaybackFinished

ROOT = Path(__file__).resolve().parents[3]
TICK = 0.02


class ShortPrompts:
    """Prompt audio: 0.1 s of silence for every text (the call's timing, not its sound, is under test)."""

    def lookup(self, prompt: Prompt) -> bytes:
        return b"\0\0" * 800

    async def render(self, prompt: Prompt) -> bytes:
        return self.lookup(prompt)


class Call:
    """A conversation on a MediaSession, advanced 20 ms at a time like the engine's clock."""

    def __init__(self, campaign, services: InMemoryServices | None = None) -> None:
        self.now = 0.0
        self.media = MediaSession(0, 101)
        self.ended = False
        self.session = FlowSession(campaign, "voice", "+15550001", campaign.voice_numbers[0])
        self.conversation = VoiceConversation(
            self.session, self.media, ShortPrompts(), services or InMemoryServices(),
            EffectContext("call-1", campaign.id, "+15550001", "voice"), hangup=self._hangup,
            clock=lambda: self.now)

    def _hangup(self) -> None:
        self.ended = True

    async def run_until(self, moment: float) -> None:
        while self.now + TICK <= moment + 1e-9:
            self.now = round(self.now + TICK, 6)
            self.media.on_tick(self.now)
            for event in self.media.poll(self.now):
                if isinstance(event, PlaybackFinished):
                    self.conversation.on_playback_finished(self.now)
            self.conversation.on_tick(self.now)
            await asyncio.sleep(0)                      # effects (webhooks, votes) run as tasks

    def press(self, keys: str) -> None:
        for key in keys:
            self.conversation.on_digit(key, self.now)

    def kinds(self) -> list[tuple[str, dict]]:
        return [(e.kind, e.data) for e in self.session.drain_events()]


def test_a_partial_entry_ends_after_the_inter_digit_timeout() -> None:
    async def run() -> tuple[list, list, Call]:
        call = Call(load_file(ROOT / "dialplans" / "order.yaml"),
                    InMemoryServices(http=stub_http('{"status": "shipped"}')))
        call.conversation.start()
        await call.run_until(1.0)
        call.press("12")                                  # too short for an order number...
        await call.run_until(1.0 + 2.9)                   # ...and nothing more within the 3 s: still waiting
        before = call.kinds()
        await call.run_until(1.0 + 3.1)
        after = call.kinds()
        call.press("4242")                                 # the reprompt; then silence again
        await call.run_until(call.now + 3.5)               # look-up, the status said, hung up
        return before, after, call
    before, after, call = asyncio.run(run())
    assert not [k for k, _ in before if k in ("input", "nomatch")]
    assert ("input", {"node": "ask_order", "digits": "12"}) in after
    assert any(k == "prompt" and d["text"] == "An order number has four to ten digits." for k, d in after)
    assert call.session.path == ["ask_order", "lookup", "keep_status", "status"] and call.ended


def test_the_finish_key_ends_the_entry_at_once() -> None:
    async def run() -> Call:
        call = Call(load_file(ROOT / "dialplans" / "order.yaml"),
                    InMemoryServices(http=stub_http('{"status": "packed"}')))
        call.conversation.start()
        await call.run_until(0.5)
        call.press("98765#")
        await call.run_until(1.0)                          # well before any inter-digit timeout
        return call
    call = asyncio.run(run())
    assert call.session.variables["order"] == "98765" and call.session.path[-1] == "status" and call.ended


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


def test_a_speech_only_ask_ignores_keys_and_times_out() -> None:
    async def run() -> tuple[list, Call]:
        call = Call(load_campaign(SPEECH_ONLY))
        call.conversation.start()
        await call.run_until(0.5)
        call.press("1")                                   # not an answer to a speech-only question
        await call.run_until(0.5 + 2.2)                   # the prompt's end + 2 s of silence: no input
        first = call.kinds()
        await call.run_until(call.now + 2.5)
        return first, call
    first, call = asyncio.run(run())
    assert not [k for k, _ in first if k == "input"]
    assert ("noinput", {"node": "q"}) in first
    assert any(k == "prompt" and d["text"] == "Please say yes or no." for k, d in first)
    assert call.session.path[-1] == "silent" and call.session.end_reason == "silent" and call.ended


def test_a_speech_only_ask_takes_speech_and_sms_text() -> None:
    from ivr.flow.interpreter import Speech, Text

    campaign = load_campaign(SPEECH_ONLY)
    voice = FlowSession(campaign, "voice", "+1555")
    listen = voice.start()[-1]
    assert listen.spec.mode == "speech" and listen.spec.grammar == ["yes", "no"] and listen.spec.max_digits is None
    assert voice.feed(Speech("no", 0.9))[0].parts[0].text == "You said no."
    sms = FlowSession(campaign, "sms", "+1555")
    sms.start()
    assert sms.feed(Text("Yes"))[0].parts[0].text == "You said yes."
