"""The voice channel: runs a campaign flow on a call.

`VoiceConversation` turns the interpreter's actions into prompt playback and key collection, and the
caller's keys, speech, silences and hang-up into interpreter input. It is driven by the call's events and
the shared media clock's ticks (for timeouts), so no task or timer exists per call; only effects that
wait for the outside (store, webhooks, speech synthesis of a new value) run as short asyncio tasks.

Where it is is one `Phase`; `_MOVES` lists every move a phase allows (h11's style) and any other move is
a `ConversationStateError`. What it asks of the call comes out as typed requests (`EndCall`,
`TransferCall`) through one callback; a transfer's outcome comes back with `on_transfer_result`.

Keys: a key stops a prompt that allows barge-in; keys pressed before an ask listens are kept for it
(type-ahead). The finish key pressed after an entry already completed at its maximum length belongs to
that entry and is dropped, not taken as the next answer. The closing prompt (the `end` node's text) is
never barged into, and a short silence follows it before the call ends, so the caller's jitter buffer
plays its last word before the BYE.

On asks that take speech (`input: speech|both`) the caller's audio goes to a speech listener while the
ask waits: the caller starting to speak stops a prompt that allows barge-in and holds the no-input
timeout until the recognizer's result, which comes back as the answer. Keys and speech race on
`input: both`: the first key ends the listening.

On hold (`hold`/`resume`) the conversation's timers stop: no no-input, inter-digit or recording timeout
runs out while the caller cannot hear; the media holds the prompt where it was.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Awaitable, Callable, Protocol

from ivr.flow.interpreter import (
    Action, Digits, End, FlowSession, Hangup, InputEvent, Listen, ListenSpec, NoInput, Prompt, RecordResult, Say,
    Speech, StartRecording, StoreOutcome, Transfer, TransferResult,
)
from ivr.speech.recognizer import Result
from ivr.speech.service import SpeechListener, SpeechService
from ivr.speech.vad import SpeechStarted
from ivr.channels.recording import Recording, beep
from ivr.channels.effects import CampaignServices, EffectContext, run_effect

log = logging.getLogger(__name__)

END_TAIL_SECONDS = 0.2          # silence after the closing prompt: the caller's jitter buffer plays it out
_SILENCE_FRAME = b"\0\0" * 160


class PromptSource(Protocol):
    """Where prompt audio (16-bit linear PCM, 8 kHz mono) comes from."""

    def lookup(self, prompt: Prompt) -> bytes | None:
        """Cached audio, or None when it has to be made first (never synthesises)."""

    async def render(self, prompt: Prompt) -> bytes:
        """Make the audio off the event loop (a templated value heard for the first time)."""


class CallMedia(Protocol):
    """What the conversation needs of the call's media."""

    def play(self, prompt_id: str, pcm: bytes, barge_in: bool = True) -> None: ...

    audio_sink: Callable[[bytes], None] | None

    def barge_in(self) -> bool:
        """Stop the prompts a key may stop; False when a must-hear prompt plays (or nothing)."""

    @property
    def playing(self) -> bool: ...

    @property
    def interruptible(self) -> bool:
        """Whether a prompt plays that the caller may stop."""


# -- what the conversation asks of its call ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndCall:
    """The flow has ended and the caller has heard its last prompt: end the call."""

    reason: str


@dataclass(frozen=True, slots=True)
class TransferCall:
    """Transfer the caller to `target` (a number or SIP URI); answer with `on_transfer_result`."""

    target: str


CallRequest = EndCall | TransferCall


# -- state ---------------------------------------------------------------------------------------------


class Phase(Enum):
    """Where a conversation is."""

    IDLE = "idle"                  # not started
    RUNNING = "running"            # carrying out the flow's actions in order
    RENDERING = "rendering"        # a prompt heard for the first time is being synthesised; what follows waits
    PLAYING = "playing"            # the prompts play out before a transfer or a recording starts
    EFFECT = "effect"              # an effect (vote, code, webhook, notify, routing, outcome) or transfer is on
    COLLECTING = "collecting"      # an ask waits for the caller's keys or speech
    RECORDING = "recording"        # the caller leaves a voice message
    ENDING = "ending"              # the flow has ended: its last prompts play, then the call ends
    CLOSED = "closed"              # the call has ended (either side)


_MOVES: dict[Phase, frozenset[Phase]] = {
    Phase.IDLE: frozenset({Phase.RUNNING, Phase.CLOSED}),
    Phase.RUNNING: frozenset({Phase.RENDERING, Phase.PLAYING, Phase.EFFECT, Phase.COLLECTING, Phase.ENDING,
                              Phase.CLOSED}),
    Phase.RENDERING: frozenset({Phase.RUNNING, Phase.CLOSED}),
    Phase.PLAYING: frozenset({Phase.EFFECT, Phase.RECORDING, Phase.CLOSED}),
    Phase.EFFECT: frozenset({Phase.RUNNING, Phase.CLOSED}),
    Phase.COLLECTING: frozenset({Phase.RUNNING, Phase.CLOSED}),
    Phase.RECORDING: frozenset({Phase.RUNNING, Phase.CLOSED}),
    Phase.ENDING: frozenset({Phase.CLOSED}),
    Phase.CLOSED: frozenset(),
}


class ConversationStateError(RuntimeError):
    """A move its phase does not allow (a bug in the channel, never the caller's doing)."""


@dataclass
class Collect:
    """Keys gathered, and the speech listener, for the current `Listen`."""

    spec: ListenSpec
    digits: str = ""
    deadline: float | None = None      # set when the prompts have finished
    listener: SpeechListener | None = None

    @property
    def hearing(self) -> bool:
        """The caller is speaking or the recognizer is on it: no no-input timeout now."""
        return self.listener is not None and self.listener.hearing


@dataclass(frozen=True, slots=True)
class TrailingKey:
    """The finish key of an entry that completed at its maximum length, expected until `until`."""

    key: str
    until: float


@dataclass
class ConversationStats:
    digits: list[str] = field(default_factory=list)
    prompts: int = 0
    barge_ins: int = 0                 # prompts stopped by the caller's speech
    answers: list[Result] = field(default_factory=list)   # what the recognizer heard, answer by answer


_prompt_ids = itertools.count(1)


class VoiceConversation:
    """One call's flow on the voice channel."""

    def __init__(self, session: FlowSession, media: CallMedia, prompts: PromptSource,
                 services: CampaignServices, context: EffectContext,
                 request: Callable[[CallRequest], None], clock: Callable[[], float],
                 recordings_dir: Path | None = None, speech: SpeechService | None = None) -> None:
        self.session = session
        self.media = media
        self.prompts = prompts
        self.services = services
        self.context = context
        self._request = request
        self._clock = clock
        self._recordings_dir = recordings_dir
        self._speech = speech
        self.phase = Phase.IDLE
        self._pending: deque[Action] = deque()
        self._deferred: Transfer | StartRecording | None = None     # waits for the prompts (PLAYING)
        self._collect: Collect | None = None                        # COLLECTING
        self._recording: Recording | None = None                    # RECORDING
        self._typeahead = ""
        self._trailing: TrailingKey | None = None
        self._held_since: float | None = None
        self._end_reason = ""
        self._tasks: set[asyncio.Task] = set()
        self.stats = ConversationStats()

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    @property
    def held(self) -> bool:
        return self._held_since is not None

    def _is_trailing(self, digit: str, now: float) -> bool:
        return self._trailing is not None and digit == self._trailing.key and now <= self._trailing.until

    def _move(self, phase: Phase) -> None:
        if phase is not self.phase and phase not in _MOVES[self.phase]:
            raise ConversationStateError(f"call {self.context.call_id}: {self.phase.value} -> {phase.value}")
        self.phase = phase

    # -- inputs ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._move(Phase.RUNNING)
        self._run(self.session.start())

    def on_key_down(self, digit: str, now: float) -> None:
        """A key went down (RFC 4733; its digit comes with `on_digit` when released): barge-in at once,
        unless it is the finish key that belongs to the entry before."""
        if self.phase in (Phase.CLOSED, Phase.RECORDING) or self._is_trailing(digit, now):
            return
        self.media.barge_in()

    def on_digit(self, digit: str, now: float) -> None:
        """A key from RFC 4733, SIP INFO or in-band detection."""
        if self.closed:
            return
        self.stats.digits.append(digit)
        if self.phase is Phase.RECORDING:
            if digit in "#*":
                self._finish_recording()
            return
        trailing = self._is_trailing(digit, now)
        self._trailing = None
        if trailing:
            return                                     # "...then press hash" after a complete entry
        if self.media.playing and not self.media.barge_in():
            return                                     # a must-hear prompt: keys are ignored
        collect = self._collect
        if collect is None or collect.spec.mode == "speech":
            if collect is None and self.phase is not Phase.ENDING:
                self._typeahead += digit
            return
        self._stop_listening(collect)
        self._add_digit(collect, digit, now)

    def on_playback_finished(self, now: float) -> None:
        """The player has gone quiet (the queue played out or was stopped)."""
        if self.closed or self.media.playing:
            return
        if self.phase is Phase.ENDING:
            self._finish()
        elif self.phase is Phase.PLAYING:
            action, self._deferred = self._deferred, None
            if isinstance(action, StartRecording):
                self._start_recording(action, now)
            elif isinstance(action, Transfer):
                self._transfer(action)
        elif self._collect is not None and self._collect.deadline is None and not self._collect.hearing:
            self._collect.deadline = now + self._collect.spec.timeout

    def on_tick(self, now: float) -> None:
        """Called every media clock tick: fires key-collection timeouts and ends recordings (not on hold)."""
        if self.held or self.closed:
            return
        if self._recording is not None and self._recording.done(now):
            self._finish_recording()
        collect = self._collect
        if collect is None:
            return
        if collect.listener is not None and (self.media.interruptible or not self.media.playing):
            collect.listener.poll(now)             # not while a must-hear prompt keeps the caller's audio from it
        if collect is not self._collect or collect.deadline is None or now < collect.deadline or collect.hearing:
            return
        self._end_collect(collect)
        self._feed(Digits(collect.digits) if collect.digits else NoInput())

    def on_transfer_result(self, ok: bool) -> None:
        """The outcome of the `TransferCall` asked for: the caller's side took the transfer or not."""
        if self.phase is Phase.EFFECT:
            self._feed(TransferResult(ok))

    def hold(self, now: float) -> None:
        """The call is on hold: timers stop (the media holds the prompt)."""
        if self._held_since is None:
            self._held_since = now

    def resume(self, now: float) -> None:
        """Off hold: every timer runs on from where it stopped."""
        if self._held_since is None:
            return
        paused, self._held_since = now - self._held_since, None
        if self._collect is not None and self._collect.deadline is not None:
            self._collect.deadline += paused
        if self._recording is not None:
            self._recording.started += paused
        if self._trailing is not None:
            self._trailing = replace(self._trailing, until=self._trailing.until + paused)

    def on_hangup(self) -> None:
        """The caller hung up (or the call was ended by the engine)."""
        if self.closed:
            return
        waiting_for_effect = self.phase is Phase.EFFECT
        self._move(Phase.CLOSED)
        if self._collect is not None:
            self._end_collect(self._collect)
        actions: list[Action] = []
        if self._recording is not None:            # hung up while recording: keep the message
            recording, self._recording = self._recording, None
            self.media.audio_sink = None
            try:
                recording.save()
                actions += self.session.feed(RecordResult(recording.duration > 0.3, recording.path.name,
                                                          round(recording.duration, 2)))
            except OSError:
                log.exception("call %s: recording not saved", self.context.call_id)
        if not self.session.finished:
            actions += self.session.feed(Hangup())
        for action in actions:
            if isinstance(action, StoreOutcome):
                self._spawn(self._effect_only(action))
        if not waiting_for_effect:                 # an effect under way (a vote) completes; the rest stops
            for task in list(self._tasks):
                if not task.done():
                    task.cancel()

    # -- running actions ------------------------------------------------------------------------

    def _feed(self, event: InputEvent) -> None:
        if self.closed or self.session.finished:
            return
        self._move(Phase.RUNNING)
        self._run(self.session.feed(event))

    def _run(self, actions: list[Action]) -> None:
        actions = list(actions)
        for i, action in enumerate(actions):
            if isinstance(action, End) and i and isinstance(actions[i - 1], Say):
                actions[i - 1] = replace(actions[i - 1], barge_in=False)     # the closing prompt is heard whole
        self._pending.extend(actions)
        self._pump()

    def _pump(self) -> None:
        while self._pending and self.phase is Phase.RUNNING:
            action = self._pending.popleft()
            match action:
                case Say():
                    self._say(action)
                case Listen(spec=spec):
                    self._listen(spec)
                case End(reason=reason):
                    self._end(reason)
                case Transfer() if self.media.playing:
                    self._deferred = action            # the caller hears the prompt before the transfer
                    self._move(Phase.PLAYING)
                case Transfer():
                    self._transfer(action)
                case StartRecording() if self._recordings_dir is not None:
                    self.media.play("beep", beep())
                    self._deferred = action            # prompt and beep first, then the caller speaks
                    self._move(Phase.PLAYING)
                case _:
                    self._move(Phase.EFFECT)
                    self._spawn(self._effect(action))

    def _end(self, reason: str) -> None:
        self._end_reason = reason
        self._typeahead = ""
        self._move(Phase.ENDING)
        if self.media.playing:
            self.media.play("tail", _SILENCE_FRAME * round(END_TAIL_SECONDS / 0.02), barge_in=False)
        else:
            self._finish()

    def _transfer(self, action: Transfer) -> None:
        self._move(Phase.EFFECT)
        self._request(TransferCall(action.target))

    def _start_recording(self, action: StartRecording, now: float) -> None:
        assert self._recordings_dir is not None
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{self.context.call_id}-{action.name}")
        recording = Recording(self._recordings_dir / f"{safe}.wav", action.max_seconds, now)
        self._recording = recording
        self._move(Phase.RECORDING)
        self.media.audio_sink = lambda pcm: recording.add(pcm, self._clock())

    def _finish_recording(self) -> None:
        recording, self._recording = self._recording, None
        if recording is None:
            return
        self.media.audio_sink = None
        try:
            recording.save()
            result = RecordResult(recording.duration > 0.3, recording.path.name, round(recording.duration, 2))
        except OSError:
            log.exception("call %s: recording not saved", self.context.call_id)
            result = RecordResult(False)
        self._feed(result)

    def _say(self, action: Say) -> None:
        audio: list[bytes | None] = [self.prompts.lookup(part) for part in action.parts]
        if all(a is not None for a in audio):
            self._play(audio, action.barge_in)
            return
        self._move(Phase.RENDERING)
        self._spawn(self._render_then_play(action.parts, audio, action.barge_in))

    def _play(self, audio: list, barge_in: bool) -> None:
        for pcm in audio:
            self.stats.prompts += 1
            self.media.play(f"p{next(_prompt_ids)}", pcm, barge_in)

    async def _render_then_play(self, parts: list[Prompt], audio: list[bytes | None], barge_in: bool) -> None:
        try:
            for i, part in enumerate(parts):
                if audio[i] is None:
                    audio[i] = await self.prompts.render(part)
        except Exception:
            log.exception("call %s: prompt synthesis failed", self.context.call_id)
            audio = [a for a in audio if a is not None]
        if self.closed:
            return
        self._move(Phase.RUNNING)
        self._play(audio, barge_in)
        self._pump()

    def _listen(self, spec: ListenSpec) -> None:
        collect = Collect(spec)
        self._collect = collect
        self._move(Phase.COLLECTING)
        now = self._clock()
        if not self.media.playing:
            collect.deadline = now + spec.timeout
        typed, self._typeahead = self._typeahead, ""
        if spec.mode != "speech":
            for digit in typed:
                if self._collect is not collect:
                    return
                self._add_digit(collect, digit, now)
        if spec.mode != "dtmf" and self._speech is not None and not collect.digits:
            collect.listener = self._speech.listen(spec, self.session.language,
                                                   lambda result: self._on_speech(collect, result))
            if collect.listener is None:
                log.warning("call %s: no speech recognition for %r; keys only", self.context.call_id,
                            self.session.language)
            else:
                self.media.audio_sink = lambda pcm: self._hear(collect, pcm)

    def _hear(self, collect: Collect, pcm: bytes) -> None:
        """The caller's audio while an ask listens for speech."""
        if collect is not self._collect or collect.listener is None:
            return
        if self.media.playing and not self.media.interruptible:
            return                                 # must-hear prompt: not listening yet
        for event in collect.listener.feed(pcm, self._clock()):
            if isinstance(event, SpeechStarted):
                collect.deadline = None
                if self.media.barge_in():
                    self.stats.barge_ins += 1

    def _on_speech(self, collect: Collect, result: Result) -> None:
        """The recognizer's answer (empty text: speech that is none of the answers)."""
        if self.closed or collect is not self._collect:
            return
        self.stats.answers.append(result)
        self._end_collect(collect)
        self._feed(Speech(result.text, result.confidence))

    def _stop_listening(self, collect: Collect) -> None:
        if collect.listener is not None:
            collect.listener.cancel()
            collect.listener = None
            self.media.audio_sink = None

    def _end_collect(self, collect: Collect) -> None:
        self._stop_listening(collect)
        if self._collect is collect:
            self._collect = None

    def _add_digit(self, collect: Collect, digit: str, now: float) -> None:
        spec = collect.spec
        if spec.finish_key and digit == spec.finish_key and (collect.digits or spec.min_digits == 0):
            self._complete(collect)
            return
        collect.digits += digit
        if spec.max_digits and len(collect.digits) >= spec.max_digits:
            if spec.finish_key:
                self._trailing = TrailingKey(spec.finish_key, now + spec.inter_digit_timeout)
            self._complete(collect)
            return
        collect.deadline = now + spec.inter_digit_timeout

    def _complete(self, collect: Collect) -> None:
        self._end_collect(collect)
        self._feed(Digits(collect.digits))

    async def _effect(self, action: Action) -> None:
        try:
            result = await run_effect(action, self.services, self.context)
        except Exception:
            log.exception("call %s: effect %s failed", self.context.call_id, type(action).__name__)
            result = None
        if self.closed:
            return
        if result is not None:
            self._feed(result)
        else:
            self._move(Phase.RUNNING)
            self._pump()

    async def _effect_only(self, action: Action) -> None:
        await run_effect(action, self.services, self.context)

    def _spawn(self, coro: Awaitable) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self) -> None:
        self._move(Phase.CLOSED)
        self._request(EndCall(self._end_reason))
