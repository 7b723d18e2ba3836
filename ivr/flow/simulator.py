"""The simulator: runs a campaign offline on either channel from scripted caller inputs.

Inputs: keys (`"1"`, `"123#"`), `"speech:yes:0.82"`, `"timeout"`, `"hangup"`; on SMS any text (or
`"text:..."`). Voice keys are collected as a phone would: up to the ask's longest key or `max_length`,
or its finish key; keys beyond that are typed ahead for the next question, and an entry followed by
something else than keys ends as by the inter-digit timeout. On SMS the first message opens the
conversation and, when it already answers the first question, is taken as that answer (as the SMS
channel does). Effects are performed by the runner the caller of `simulate` gives (the CLI uses the
channels' in-memory services and real HTTP), so this module stays free of I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from .events import (
    EFFECTS, Action, CallWebhook, CastVote, CodeResult, Digits, End, Hangup, InputEvent, IssueCode, IssueResult,
    Listen, ListenSpec, NoInput,
    Notify, NotifyResult, RecordResult, RedeemCode, RouteRequest, RoutingResult, Say, Speech, StartRecording,
    StoreOutcome, Text, Transfer, TransferResult, VoteResult, WebhookResult,
)
from .interpreter import FlowError, FlowSession
from .model import Campaign

EffectRunner = Callable[[Action], Awaitable[InputEvent | None]]
CallerInput = Digits | Speech | Text | NoInput | Hangup


class ScriptError(ValueError):
    """A scripted input the simulator cannot understand."""


def parse_input(raw: str, channel: str) -> CallerInput:
    """One scripted input → the event a channel would feed."""
    if raw == "timeout":
        return NoInput()
    if raw == "hangup":
        return Hangup()
    if raw.startswith("speech:"):
        text, _, confidence = raw[len("speech:"):].rpartition(":")
        if not text:
            return Speech(confidence, 1.0)
        try:
            return Speech(text, float(confidence))
        except ValueError:
            raise ScriptError(f'bad confidence in "{raw}" (expected speech:TEXT:0.0-1.0)') from None
    if raw.startswith("text:"):
        return Text(raw[len("text:"):])
    if channel == "sms":
        return Text(raw)
    if not re.fullmatch(r"[0-9*#]+", raw):
        raise ScriptError(f'"{raw}" is not keys; on voice use digits, * and #, speech:TEXT:CONFIDENCE, '
                          'timeout or hangup')
    return Digits(raw)


def describe_input(event: CallerInput) -> str:
    if isinstance(event, Digits):
        return f"keys {event.digits}"
    if isinstance(event, Speech):
        return f"says {event.text!r} ({event.confidence:.2f})"
    if isinstance(event, Text):
        return f"sends {event.text!r}"
    return "timeout" if isinstance(event, NoInput) else "hangs up"


def describe_effect(action: Action, result: InputEvent | None) -> str:
    """What an effect did, for the transcript."""
    if isinstance(action, StoreOutcome):
        return f"stored {action.kind} {action.name} = {action.value}"
    if isinstance(action, CastVote) and isinstance(result, VoteResult):
        verdict = ("accepted" if result.accepted else "store unavailable" if result.unavailable
                   else f"already voted ({result.previous})")
        return f"vote {action.name} = {action.choice} ({action.window}): {verdict}"
    if isinstance(action, RedeemCode) and isinstance(result, CodeResult):
        return f"code {action.code} from pool {action.pool}: {result.status}"
    if isinstance(action, IssueCode) and isinstance(result, IssueResult):
        return f"code from pool {action.pool}: {result.status}" + (f" {result.code}" if result.code else "")
    if isinstance(action, CallWebhook) and isinstance(result, WebhookResult):
        answer = json.dumps(result.data, ensure_ascii=False) if result.ok else "failed"
        return f"webhook {action.method} {action.url}: {result.status or 'no answer'} {answer}"
    if isinstance(action, Notify) and isinstance(result, NotifyResult):
        return f"notify by {action.method} {action.target}: {action.text!r} ({'sent' if result.ok else 'failed'})"
    if isinstance(action, StartRecording) and isinstance(result, RecordResult):
        return f"record up to {action.max_seconds:g} s: {'saved ' + str(result.recording_id) if result.ok else 'nothing'}"
    if isinstance(action, Transfer) and isinstance(result, TransferResult):
        return f"transfer to {action.target}: {'done' if result.ok else 'failed'}"
    if isinstance(action, RouteRequest) and isinstance(result, RoutingResult):
        answer = f"run a {result.node.get('type')} node" if result.node else "no node"
        return f"routing server {action.url} ({action.state.get('reason')}): {answer}"
    return f"{type(action).__name__}: {result}"


@dataclass
class Transcript:
    """What happened: entries (who, text, node), outcomes, the node path and why it ended."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    end_reason: str | None = None

    def add(self, who: str, text: str, node: str | None) -> None:
        self.entries.append({"who": who, "text": text, "node": node})

    def as_dict(self) -> dict[str, Any]:
        return {"transcript": self.entries, "outcomes": self.outcomes, "path": self.path,
                "end_reason": self.end_reason}

    def lines(self) -> list[str]:
        """The transcript for people."""
        out = [f"{entry['who']:>7}: {entry['text']}" for entry in self.entries]
        out.append(f"   path: {' -> '.join(self.path)}")
        out += [f"outcome: {o['kind']} {o['name']} = {o['value']}" for o in self.outcomes]
        out.append(f"    end: {self.end_reason or 'waiting for the caller'}")
        return out


@dataclass
class _Keypad:
    """Keys typed ahead of the questions, handed out one entry at a time like a phone's keypad."""

    script: list[CallerInput]
    typed: str = ""

    def next_entry(self, spec: ListenSpec) -> CallerInput | None:
        while True:
            digits = ""
            for i, key in enumerate(self.typed):
                if spec.finish_key and key == spec.finish_key and (digits or spec.min_digits == 0):
                    self.typed = self.typed[i + 1:]
                    return Digits(digits)
                digits += key
                if spec.max_digits and len(digits) >= spec.max_digits:
                    self.typed = self.typed[i + 1:]
                    return Digits(digits)
            if self.script and isinstance(self.script[0], Digits):
                self.typed += self.script.pop(0).digits
                continue
            if digits:                                   # the inter-digit timeout ends the entry
                self.typed = ""
                if self.script and isinstance(self.script[0], NoInput):
                    self.script.pop(0)
                return Digits(digits)
            return self.script.pop(0) if self.script else None


class _Run:
    def __init__(self, session: FlowSession, effects: EffectRunner) -> None:
        self.session = session
        self.effects = effects
        self.transcript = Transcript()
        self._seen = 0                    # timeline entries already looked at

    def _prompt_nodes(self) -> list[str | None]:
        """The nodes of the prompts said since the last call, in order (one per `Say`)."""
        new, self._seen = self.session.events[self._seen:], len(self.session.events)
        return [event.data.get("node") for event in new if event.kind == "prompt"]

    async def perform(self, actions: list[Action]) -> ListenSpec | None:
        """Carry out actions until the session listens (its spec) or ends (None)."""
        pending = list(actions)
        said = self._prompt_nodes()
        while pending:
            action = pending.pop(0)
            node = self.session.current
            if isinstance(action, Say):
                node = said.pop(0) if said else node
                for part in action.parts:
                    self.transcript.add("ivr", part.text or f"[audio {part.audio}]", node)
            elif isinstance(action, Listen):
                return action.spec
            elif isinstance(action, End):
                return None
            elif isinstance(action, StoreOutcome):
                await self.effects(action)
                self._outcome(action.kind, action.name, action.value)
                self.transcript.add("system", describe_effect(action, None), node)
            elif isinstance(action, EFFECTS):
                result = await self.effects(action)
                if result is None:
                    raise FlowError(f"no result for {type(action).__name__}")
                self.transcript.add("system", describe_effect(action, result), node)
                if isinstance(result, VoteResult) and result.accepted and isinstance(action, CastVote):
                    self._outcome("vote", action.name, action.choice)
                if isinstance(result, CodeResult) and result.status == "redeemed" and isinstance(action, RedeemCode):
                    self._outcome("code", action.pool, action.code)
                pending = list(self.session.feed(result))
                said = self._prompt_nodes()
        return None

    def _outcome(self, kind: str, name: str, value: str) -> None:
        self.transcript.outcomes.append({"kind": kind, "name": name, "value": value})

    def heard(self, event: CallerInput) -> None:
        self.transcript.add("caller", describe_input(event), self.session.current)
        self._prompt_nodes()

    async def answer(self, event: CallerInput) -> ListenSpec | None:
        self.heard(event)
        return await self.perform(self.session.feed(event))


async def simulate(campaign: Campaign, channel: str, inputs: list[str], effects: EffectRunner,
                   caller: str = "+15550001", language: str | None = None, now: datetime | None = None,
                   variables: dict[str, Any] | None = None) -> Transcript:
    """Run the campaign with these inputs; stops at the end or when the script runs out."""
    script = [parse_input(raw, channel) for raw in inputs]
    number = (campaign.voice_numbers if channel == "voice" else campaign.sms_numbers) or [""]
    session = FlowSession(campaign, channel, caller, number[0], language=language, now=now, variables=variables)
    run = _Run(session, effects)
    if channel == "sms" and script and isinstance(script[0], Text):
        opening = script.pop(0)
        run.heard(opening)
        said = len(run.transcript.entries)
        spec = await run.perform(session.start())
        if spec is not None and session.accepts(opening):
            run.transcript.entries[said:] = [e for e in run.transcript.entries[said:] if e["who"] != "ivr"]
            spec = await run.perform(session.feed(opening))
    else:
        spec = await run.perform(session.start())
    keypad = _Keypad(script)
    while spec is not None and not session.finished:
        event = keypad.next_entry(spec) if channel == "voice" else (script.pop(0) if script else None)
        if event is None:
            break
        spec = await run.answer(event)
    run.transcript.path = list(session.path)
    run.transcript.end_reason = session.end_reason
    return run.transcript
