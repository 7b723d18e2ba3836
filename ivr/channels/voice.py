"""The voice channel: runs a campaign flow on a call.

`VoiceConversation` turns the interpreter's actions into prompt playback and key collection, and the
caller's keys, speech, silences and hang-up into interpreter input. It is driven by the call's events and
the shared media clock's ticks (for timeouts), so no task or timer exists per call; only effects that
wait for the outside (store, webhooks, speech synthesis of a new value) run as short asyncio tasks.

On asks that take speech (`input: speech|both`) the caller's audio goes to a speech listener while the
ask waits: the caller starting to speak stops a prompt that allows barge-in and holds the no-input
timeout until the recognizer's result, which comes back as the answer. Keys and speech race on
`input: both`: the first key ends the listening.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from ivr.flow.interpreter import (
    Digits, End, FlowSession, Hangup, Listen, ListenSpec, NoInput, Prompt, RecordResult, Say, Speech,
    StartRecording, StoreOutcome, Transfer, TransferResult,
)
from ivr.speech.recognizer import Result
from ivr.speech.service import SpeechListener, SpeechService
from ivr.speech.vad import SpeechStarted
from ivr.channels.recording import Recording, beep
from ivr.channels.effects import CampaignServices, EffectContext, run_effect

log = logging.getLogger(__name__)


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


@dataclass
class CollectState:
    """Keys gathered, and the speech listener, for the current `Listen`."""

    spec: ListenSpec
    digits: str = ""
    deadline: float | None = None      # set when the prompts have finished
    listener: SpeechListener | None = None

    @property
    def hearing(self) -> bool:
        """The caller is speaking or the recognizer is on it: no no-input timeout now."""
        return self.listener is not None and self.listener.hearing


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
                 hangup: Callable[[], None], clock: Callable[[], float],
                 transfer: Callable[[str], Awaitable[bool]] | None = None,
                 recordings_dir: Path | None = None, speech: SpeechService | None = None) -> None:
        self.session = session
        self.media = media
        self.prompts = prompts
        self.services = services
        self.context = context
        self._hangup = hangup
        self._clock = clock
        self._transfer = transfer
        self._deferred: object | None = None    # an action waiting for the prompts to finish
        self._recordings_dir = recordings_dir
        self._speech = speech
        self._recording: Recording | None = None
        self._pending: list[object] = []
        self._waiting: str | None = None       # "effect" | "audio" | None
        self._collect: CollectState | None = None
        self._typeahead = ""
        self._ending = False
        self._tasks: set[asyncio.Task] = set()
        self.closed = False
        self.stats = ConversationStats()

    # -- inputs ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._run(self.session.start())

    def on_key_down(self) -> None:
        """A key went down (RFC 4733; its digit comes with `on_digit` when released): barge-in at once."""
        if not self.closed and self._recording is None:
            self.media.barge_in()

    def on_digit(self, digit: str, now: float) -> None:
        """A key from RFC 4733, SIP INFO or in-band detection."""
        if self.closed:
            return
        self.stats.digits.append(digit)
        if self._recording is not None:
            if digit in "#*":
                self._finish_recording()
            return
        collect = self._collect
        if self.media.playing and not self.media.barge_in():
            return                                     # a must-hear prompt: keys are ignored
        if collect is None or collect.spec.mode == "speech":
            if collect is None and not self._ending:
                self._typeahead += digit
            return
        self._stop_listening(collect)
        self._add_digit(collect, digit, now)

    def on_playback_finished(self, now: float) -> None:
        """The player has gone quiet (the queue played out or was stopped)."""
        if self.closed or self.media.playing:
            return
        if self._ending and not self._pending and self._waiting is None:
            self._finish()
            return
        if self._waiting == "playback" and self._deferred is not None:
            action, self._deferred = self._deferred, None
            if isinstance(action, StartRecording):
                self._start_recording(action, now)
                return
            self._waiting = "effect"
            self._spawn(self._effect(action))
            return
        if self._collect is not None and self._collect.deadline is None and not self._collect.hearing:
            self._collect.deadline = now + self._collect.spec.timeout

    def on_tick(self, now: float) -> None:
        """Called every media clock tick: fires key-collection timeouts and ends recordings."""
        if self._recording is not None and self._recording.done(now):
            self._finish_recording()
        collect = self._collect
        if collect is not None and collect.listener is not None and (self.media.interruptible or not self.media.playing):
            collect.listener.poll(now)             # not while a must-hear prompt keeps the caller's audio from it
        if self.closed or collect is None or collect.deadline is None or now < collect.deadline or collect.hearing:
            return
        self._end_collect(collect)
        if collect.digits:
            self._feed(Digits(collect.digits))
        else:
            self._feed(NoInput())

    def on_hangup(self) -> None:
        """The caller hung up (or the call was ended by the engine)."""
        if self.closed:
            return
        self.closed = True
        if self._collect is not None:
            self._end_collect(self._collect)
        actions: list = []
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
        for task in list(self._tasks):
            if not task.done() and self._waiting != "effect":
                task.cancel()

    # -- running actions ------------------------------------------------------------------------

    def _feed(self, event: object) -> None:
        if self.closed or self.session.finished:
            return
        self._run(self.session.feed(event))

    def _run(self, actions: list) -> None:
        self._pending.extend(actions)
        self._pump()

    def _pump(self) -> None:
        while self._pending and self._waiting is None and not self.closed:
            action = self._pending.pop(0)
            if isinstance(action, Say):
                self._say(action)
            elif isinstance(action, Listen):
                self._listen(action.spec)
            elif isinstance(action, End):
                self._ending = True
                if self._collect is not None:
                    self._end_collect(self._collect)
                if not self.media.playing:
                    self._finish()
            elif isinstance(action, Transfer) and self.media.playing:
                self._waiting = "playback"          # the caller hears the prompt before the transfer
                self._deferred = action
            elif isinstance(action, StartRecording) and self._recordings_dir is not None:
                self.media.play("beep", beep())
                self._waiting = "playback"          # prompt and beep first, then the caller speaks
                self._deferred = action
            else:
                self._waiting = "effect"
                self._spawn(self._effect(action))

    def _start_recording(self, action: StartRecording, now: float) -> None:
        assert self._recordings_dir is not None
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{self.context.call_id}-{action.name}")
        recording = Recording(self._recordings_dir / f"{safe}.wav", action.max_seconds, now)
        self._recording = recording
        self._waiting = "recording"
        self.media.audio_sink = lambda pcm: recording.add(pcm, self._clock())

    def _finish_recording(self) -> None:
        recording, self._recording = self._recording, None
        if recording is None:
            return
        self.media.audio_sink = None
        self._waiting = None
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
        self._waiting = "audio"
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
        self._waiting = None
        self._play(audio, barge_in)
        self._pump()

    def _listen(self, spec: ListenSpec) -> None:
        collect = CollectState(spec)
        self._collect = collect
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

    def _hear(self, collect: CollectState, pcm: bytes) -> None:
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

    def _on_speech(self, collect: CollectState, result: Result) -> None:
        """The recognizer's answer (empty text: speech that is none of the answers)."""
        if self.closed or collect is not self._collect:
            return
        self.stats.answers.append(result)
        self._end_collect(collect)
        self._feed(Speech(result.text, result.confidence))

    def _stop_listening(self, collect: CollectState) -> None:
        if collect.listener is not None:
            collect.listener.cancel()
            collect.listener = None
            self.media.audio_sink = None

    def _end_collect(self, collect: CollectState) -> None:
        self._stop_listening(collect)
        if self._collect is collect:
            self._collect = None

    def _add_digit(self, collect: CollectState, digit: str, now: float) -> None:
        spec = collect.spec
        if spec.finish_key and digit == spec.finish_key and (collect.digits or spec.min_digits == 0):
            self._complete(collect)
            return
        collect.digits += digit
        if spec.max_digits and len(collect.digits) >= spec.max_digits:
            self._complete(collect)
            return
        collect.deadline = now + spec.inter_digit_timeout

    def _complete(self, collect: CollectState) -> None:
        self._end_collect(collect)
        self._feed(Digits(collect.digits))

    async def _effect(self, action: object) -> None:
        try:
            if isinstance(action, Transfer) and self._transfer is not None:
                result: object | None = TransferResult(await self._transfer(action.target))
            else:
                result = await run_effect(action, self.services, self.context)
        except Exception:
            log.exception("call %s: effect %s failed", self.context.call_id, type(action).__name__)
            result = None
        self._waiting = None
        if result is not None:
            self._feed(result)
        else:
            self._pump()

    async def _effect_only(self, action: object) -> None:
        await run_effect(action, self.services, self.context)

    def _spawn(self, coro: Awaitable) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self) -> None:
        if not self.closed:
            self.closed = True
            self._hangup()
