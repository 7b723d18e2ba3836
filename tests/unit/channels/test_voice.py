"""The voice channel's state machine (`VoiceConversation`) on a scripted media: its phases and the moves
between them, the typed requests it makes of its call, keys and type-ahead, the closing prompt, hold."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.channels.effects import EffectContext, InMemoryServices
from ivr.channels.voice import (
    _MOVES, ConversationStateError, EndCall, Phase, TransferCall, VoiceConversation,
)
from ivr.flow.interpreter import FlowSession, Prompt
from ivr.flow.loader import load_campaign, load_file
from ivr.flow_cli import stub_http

ROOT = Path(__file__).resolve().parents[3]


class ScriptedMedia:
    """A player the test plays out by hand: `finish()` ends what plays, as the media clock would."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, bool]] = []       # (prompt id, barge-in allowed)
        self.audio_sink = None
        self.stopped: list[str] = []

    def play(self, prompt_id: str, pcm: bytes, barge_in: bool = True) -> None:
        self.queue.append((prompt_id, barge_in))

    def barge_in(self) -> bool:
        if not self.interruptible:
            return False
        while self.queue and self.queue[0][1]:
            self.stopped.append(self.queue.pop(0)[0])
        return True

    @property
    def playing(self) -> bool:
        return bool(self.queue)

    @property
    def interruptible(self) -> bool:
        return bool(self.queue) and self.queue[0][1]


class Prompts:
    def lookup(self, prompt: Prompt) -> bytes:
        return b"\0\0" * 160

    async def render(self, prompt: Prompt) -> bytes:
        return self.lookup(prompt)


class Conversation:
    def __init__(self, campaign, services: InMemoryServices | None = None) -> None:
        self.now = 0.0
        self.media = ScriptedMedia()
        self.requests: list[object] = []
        self.session = FlowSession(campaign, "voice", "+15550001", campaign.voice_numbers[0])
        self.voice = VoiceConversation(self.session, self.media, Prompts(), services or InMemoryServices(),
                                       EffectContext("call-1", campaign.id, "+15550001", "voice"),
                                       request=self.requests.append, clock=lambda: self.now)

    def finish_playing(self) -> None:
        """Every queued prompt plays out."""
        self.media.queue.clear()
        self.voice.on_playback_finished(self.now)

    def press(self, keys: str) -> None:
        for key in keys:
            self.voice.on_key_down(key, self.now)
            self.voice.on_digit(key, self.now)

    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.voice.on_tick(self.now)


VOTE = load_file(ROOT / "dialplans" / "vote.yaml")
RAFFLE = load_file(ROOT / "dialplans" / "raffle.yaml")


def test_every_phase_lists_its_moves_and_closed_is_final() -> None:
    assert set(_MOVES) == set(Phase)
    assert _MOVES[Phase.CLOSED] == frozenset()
    assert all(Phase.CLOSED in moves for phase, moves in _MOVES.items() if phase is not Phase.CLOSED)


def test_a_move_the_phase_does_not_allow_is_refused() -> None:
    c = Conversation(VOTE)
    with pytest.raises(ConversationStateError):
        c.voice._move(Phase.ENDING)                    # not started: it cannot be ending


def test_a_vote_runs_through_its_phases_and_asks_to_end_the_call_once_heard() -> None:
    async def run() -> list[Phase]:
        c = Conversation(VOTE)
        seen = [c.voice.phase]
        c.voice.start()
        seen.append(c.voice.phase)                     # welcome + menu queued, waiting for a key
        c.press("3")
        seen.append(c.voice.phase)                     # the vote is being cast
        await asyncio.sleep(0)
        seen.append(c.voice.phase)                     # the thanks plays
        assert c.requests == []
        c.finish_playing()
        seen.append(c.voice.phase)
        assert c.requests == [EndCall("completed")]
        return seen
    assert asyncio.run(run()) == [Phase.IDLE, Phase.COLLECTING, Phase.EFFECT, Phase.ENDING, Phase.CLOSED]


def test_the_closing_prompt_cannot_be_barged_into_and_a_silence_follows_it() -> None:
    async def run() -> Conversation:
        c = Conversation(VOTE)
        c.voice.start()
        c.press("1")
        await asyncio.sleep(0)
        return c
    c = asyncio.run(run())
    assert [barge for _, barge in c.media.queue] == [False, False]    # the thanks, then the tail
    c.press("9")
    assert len(c.media.queue) == 2 and c.requests == [] and c.voice.phase is Phase.ENDING


def test_the_finish_key_after_a_complete_entry_is_not_the_next_answer() -> None:
    async def run() -> Conversation:
        c = Conversation(RAFFLE, InMemoryServices())
        await c.voice.services.prepare([RAFFLE])
        c.voice.start()
        c.finish_playing()
        c.press("104729")                              # complete at six digits
        c.press("#")                                   # the hash the prompt asked for
        await asyncio.sleep(0)
        return c
    c = asyncio.run(run())
    assert c.session.path == ["ask_code", "redeem", "entered"]
    assert c.voice._typeahead == ""
    assert [barge for _, barge in c.media.queue] == [False, False]


def test_a_finish_key_long_after_the_entry_is_a_key_again() -> None:
    c = Conversation(load_campaign(TWO_CODES))
    c.voice.start()
    c.finish_playing()
    c.press("12")                                      # complete at two digits: the next ask plays
    c.tick(5.0)                                        # longer than the inter-digit timeout
    c.press("#")                                       # an empty entry for the second ask (min 0)
    assert c.session.path == ["first", "second", "done"]


TWO_CODES = """
id: two-codes
numbers: {voice: ["1212"]}
start: first
nodes:
  first: {type: ask, prompt: First code then hash., max_length: 2, finish_key: "#", next: second,
          inter_digit_timeout: 2}
  second: {type: ask, prompt: Second code or hash., min_length: 0, max_length: 4, finish_key: "#", next: done}
  done: {type: end, text: Thanks.}
"""


def test_keys_while_an_effect_runs_are_kept_for_the_next_ask_and_must_hear_prompts_ignore_keys() -> None:
    async def run() -> Conversation:
        c = Conversation(load_campaign(LOOKUP), InMemoryServices(http=stub_http('{"ok": true}')))
        c.voice.start()
        c.finish_playing()
        c.press("1")                                   # the look-up starts
        assert c.voice.phase is Phase.EFFECT
        c.press("2")                                   # typed ahead for the next question
        await asyncio.sleep(0)
        return c
    c = asyncio.run(run())
    assert c.session.path == ["first", "lookup", "second", "done"]
    assert [e.data["digits"] for e in c.session.events if e.kind == "input"] == ["1", "2"]


LOOKUP = """
id: lookup-line
numbers: {voice: ["1313"]}
start: first
nodes:
  first: {type: ask, prompt: Press 1., choices: [{key: "1", next: lookup}]}
  lookup: {type: webhook, url: "https://api.example/x", next: second, failure: second}
  second: {type: ask, prompt: Press 2., barge_in: false, choices: [{key: "2", next: done}]}
  done: {type: end, text: Thanks.}
"""


def test_a_must_hear_prompt_ignores_keys() -> None:
    async def run() -> Conversation:
        c = Conversation(load_campaign(LOOKUP), InMemoryServices(http=stub_http('{"ok": true}')))
        c.voice.start()
        c.finish_playing()
        c.press("1")
        await asyncio.sleep(0)                         # the look-up done, the must-hear question plays
        c.press("2")                                   # not an answer while it plays
        assert c.session.path == ["first", "lookup", "second"] and c.voice._typeahead == ""
        c.finish_playing()
        c.press("2")
        return c
    assert asyncio.run(run()).session.path == ["first", "lookup", "second", "done"]


def test_a_transfer_waits_for_its_prompt_then_asks_the_call_and_takes_its_result() -> None:
    c = Conversation(load_campaign(TRANSFER))
    c.voice.start()
    assert c.voice.phase is Phase.PLAYING and c.requests == []
    c.finish_playing()
    assert c.voice.phase is Phase.EFFECT and c.requests == [TransferCall("sip:sales@pbx.example")]
    c.voice.on_transfer_result(False)
    assert c.session.path == ["operator", "sorry"] and c.voice.phase is Phase.ENDING


TRANSFER = """
id: sales-line
numbers: {voice: ["4545"]}
start: operator
nodes:
  operator: {type: transfer, target: "sip:sales@pbx.example", prompt: One moment., failure: sorry}
  sorry: {type: end, text: Sales is closed.}
"""


def test_hold_stops_the_no_input_timeout_and_resume_moves_it_on() -> None:
    c = Conversation(load_campaign(TWO_CODES.replace("inter_digit_timeout: 2", "timeout: 3")))
    c.voice.start()
    c.finish_playing()                                 # 3 s to answer from now
    c.tick(1.0)
    c.voice.hold(c.now)
    c.tick(10.0)
    assert c.session.path == ["first"]
    c.voice.resume(c.now)
    c.tick(1.9)
    assert not [e for e in c.session.events if e.kind == "noinput"]
    c.tick(0.2)
    assert [e.kind for e in c.session.events if e.kind == "noinput"] == ["noinput"]


def test_a_hang_up_closes_it_and_nothing_moves_after() -> None:
    c = Conversation(VOTE)
    c.voice.start()
    c.voice.on_hangup()
    assert c.voice.phase is Phase.CLOSED and c.session.end_reason == "hangup"
    c.press("1")
    c.finish_playing()
    assert c.voice.phase is Phase.CLOSED and c.requests == []
