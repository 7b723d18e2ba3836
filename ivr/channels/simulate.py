"""The simulator: runs a campaign offline on either channel from scripted caller inputs.

Inputs: keys ("1", "123#"), "speech:yes:0.82", "timeout", "hangup"; on SMS any text (or "text:...").
Keys are collected as a phone would: up to the ask's max digits or its finish key, the rest typed
ahead for the next question. Votes, codes and outcomes are kept in memory; webhooks are real HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.flow.interpreter import (
    EFFECTS, Digits, End, FlowSession, Hangup, Listen, NoInput, Say, Speech, StoreOutcome, Text,
)
from ivr.flow.model import Campaign

from .effects import EffectContext, InMemoryServices, run_effect


@dataclass
class Transcript:
    lines: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    end_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"transcript": self.lines, "outcomes": self.outcomes, "path": self.path,
                "end_reason": self.end_reason}


def parse_input(raw: str, channel: str) -> object:
    if raw == "timeout":
        return NoInput()
    if raw == "hangup":
        return Hangup()
    if raw.startswith("speech:"):
        _, text, confidence = (raw.split(":", 2) + ["1.0"])[:3]
        return Speech(text, float(confidence))
    if raw.startswith("text:"):
        return Text(raw[5:])
    if channel == "sms":
        return Text(raw)
    return Digits(raw)


async def simulate(campaign: Campaign, channel: str, inputs: list[str], caller: str = "+15550001",
                   language: str | None = None, services: InMemoryServices | None = None) -> Transcript:
    services = services or InMemoryServices()
    await services.prepare([campaign])
    session = FlowSession(campaign, channel, caller, (campaign.voice_numbers or campaign.sms_numbers or [""])[0],
                          language=language)
    ctx = EffectContext("simulated", campaign.id, caller, channel)
    out = Transcript()
    pending = list(session.start())
    queue = [parse_input(raw, channel) for raw in inputs]
    typed = ""
    while pending:
        action = pending.pop(0)
        if isinstance(action, Say):
            for part in action.parts:
                out.lines.append({"engine": part.text})
        elif isinstance(action, End):
            break
        elif isinstance(action, StoreOutcome):
            await run_effect(action, services, ctx)
        elif isinstance(action, EFFECTS):
            result = await run_effect(action, services, ctx)
            if result is not None:
                pending = list(session.feed(result))
        elif isinstance(action, Listen):
            event, typed = _next_entry(action, queue, typed)
            if event is None:
                out.lines.append({"waiting": "for input"})
                break
            out.lines.append({"caller": _describe(event)})
            pending = list(session.feed(event))
            if isinstance(event, Hangup):
                break
    out.outcomes = services.outcomes
    out.path = session.path
    out.end_reason = session.end_reason
    return out


def _next_entry(listen: Listen, queue: list[object], typed: str) -> tuple[object | None, str]:
    spec = listen.spec
    while True:
        if typed:
            digits = ""
            for i, key in enumerate(typed):
                if spec.finish_key and key == spec.finish_key:
                    return Digits(digits), typed[i + 1:]
                digits += key
                if spec.max_digits and len(digits) >= spec.max_digits:
                    return Digits(digits), typed[i + 1:]
            if not queue or not isinstance(queue[0], Digits):
                return Digits(digits), ""           # the inter-digit timeout ends the entry
            typed = digits
        if not queue:
            return None, typed
        event = queue.pop(0)
        if isinstance(event, Digits):
            typed += event.digits
            continue
        if isinstance(event, NoInput) and typed:
            return Digits(typed), ""
        return event, typed


def _describe(event: object) -> str:
    if isinstance(event, Digits):
        return f"keys {event.digits}"
    if isinstance(event, Speech):
        return f"says {event.text!r} ({event.confidence:.2f})"
    if isinstance(event, Text):
        return f"sends {event.text!r}"
    return type(event).__name__.lower()
