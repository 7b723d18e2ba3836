"""The flow interpreter: a pure, channel-agnostic state machine over a campaign's nodes.

`FlowSession.start()` and `FlowSession.feed(event)` return the next actions (see `events.py`). Voice
and SMS channels adapt them: on voice `Say` is audio and `Listen` collects keys or speech; on SMS
`Say` is a reply and `Listen` waits for the next message (its timeout is the reminder delay). At most
one action that needs an answer (an effect, or `Listen`) ends each list; the channel feeds the answer
back. Every step is appended to `events` for the call timeline. Nothing here does I/O or reads a clock:
the session is given `now` (for the schedule) and the runtime's counts in `variables`.

Variables a runtime may pass: `caller.sessions_today` (sessions of this caller on this campaign today,
voice and SMS together; checked against `limits.sessions_per_caller_per_day`) and anything else the
templates should see (e.g. `caller.last_vote`); `caller.identified` false for a caller whose number is
withheld or unknown: vote and code nodes then take their `unidentified` exit, or say the campaign's
`callers.text` and end, unless the campaign allows such callers. The session adds `caller.number`, `channel`,
`short_number`, `language` and `campaign.id`/`campaign.name`. A session speaks the language it is
given, else its short number's (`numbers: {voice: [{number: "3839", language: uk}]}`), else the
campaign's first; a choice with a `language` switches it from then on (a language menu).

Answers to an ask: a choice matches by key, or (speech and SMS) when the words of one choice appear in
what was said; free input must fit `pattern`, `min_length` and `max_length`. A failed attempt
(noinput or nomatch) asks again up to `retries` times: the reason's own prompt (`noinput_prompt`,
`nomatch_prompt`) followed by the attempt's entry of `reprompts` (the last one repeats), or the
prompt again if neither is given; on SMS a silence sends the `reminder`. When the retries are used up
the flow leaves by `noinput`/`nomatch` (whichever happened last), else by `max_retries`, else ends.
Speech the recognizer could not place (empty text) is a nomatch; an answer heard with less than the
ask's `confidence` is a nomatch too, unless the ask has `confirm`: then its yes/no question is asked
(key 1 or a yes word takes the answer, anything else is a nomatch).
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from datetime import datetime, timezone
from typing import Any

import jsonschema

from . import patterns, templates
from .conditions import holds
from .events import (
    EFFECTS, Action, CallWebhook, CastVote, CodeResult, Digits, End, Hangup, InputEvent, IssueCode, IssuedSms,
    IssueResult, Listen, ListenSpec, NoInput, Notify, NotifyResult, Prompt, RecordResult, RedeemCode, RouteRequest, RoutingResult,
    Say, Speech, StartRecording, StoreOutcome, Text, TimelineEvent, Transfer, TransferResult, VoteResult,
    WebhookResult,
)
from .model import EXIT_FIELDS, IDENTIFIED_ONLY, VOICE_ONLY, Campaign, localized, unidentified_text, voice_of
from .schedule import is_open
from .schema import NODE_SCHEMA

__all__ = [
    "EFFECTS", "Action", "CallWebhook", "CastVote", "CodeResult", "Digits", "End", "FlowError", "FlowSession",
    "Hangup", "InputEvent", "IssueCode", "IssuedSms", "IssueResult", "Listen", "ListenSpec", "NoInput", "Notify", "NotifyResult",
    "Prompt", "RecordResult", "RedeemCode", "RouteRequest", "RoutingResult", "Say", "Speech", "StartRecording", "StoreOutcome", "Text",
    "TimelineEvent", "Transfer", "TransferResult", "VoteResult", "WebhookResult", "json_safe",
]

_NODE_VALIDATOR = jsonschema.Draft202012Validator(NODE_SCHEMA)
# The result event that answers each effect.
_ANSWERS = {CastVote: VoteResult, RedeemCode: CodeResult, IssueCode: IssueResult, CallWebhook: WebhookResult,
            Notify: NotifyResult,
            StartRecording: RecordResult, Transfer: TransferResult, RouteRequest: RoutingResult}
ROUTED = "__routed"          # the node the routing server sent
ASK_SERVER = "__ask_server"  # where every exit of a routed node leads: ask the server again
ROUTING_STEPS = 500          # a routed session ends after this many nodes
MAX_STEPS = 200              # nodes in a row without waiting for anyone: a loop the validator missed
SMS_REMINDER_AFTER = 3600.0  # seconds before an SMS reminder, unless the ask says `reminder_after`
CONFIRM_YES = ("yes", "yeah", "correct", "right")    # an ask's `confirm` without its own `yes`/`no` words
CONFIRM_NO = ("no", "nope", "wrong")
SPELL_SEPARATOR = ", "        # between the characters of an issued code read out on a call


class FlowError(RuntimeError):
    """The flow was fed something it cannot take, or reached a state the validator should prevent."""


def _render_value(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return templates.render(value, variables)
    if isinstance(value, dict):
        return {k: _render_value(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, variables) for v in value]
    return value


def _normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s*#]", " ", text.lower()).split())


class FlowSession:
    """One caller's walk through a campaign on one channel."""

    def __init__(self, campaign: Campaign, channel: str, caller: str, short_number: str = "",
                 language: str | None = None, now: datetime | None = None,
                 variables: dict[str, Any] | None = None) -> None:
        if channel not in ("voice", "sms"):
            raise ValueError(f"unknown channel {channel!r}")
        given = variables or {}
        self.campaign = campaign
        self.channel = channel
        self.language = language if language in campaign.languages else campaign.number_language(channel, short_number)
        self.now = now or datetime.now(timezone.utc)
        self.variables: dict[str, Any] = {
            **campaign.variables, **given,
            "caller": {**(given.get("caller") or {}), "number": caller},
            "channel": channel, "short_number": short_number, "language": self.language,
            "campaign": {"id": campaign.id, "name": campaign.name},
        }
        self.path: list[str] = []
        self.events: list[TimelineEvent] = []
        self.finished = False
        self.end_reason: str | None = None
        self.current: str | None = None
        self.attempt = 0                             # failed tries of the current ask
        self.confirming: dict[str, str] | None = None  # an answer waiting for the caller's yes (value, target)
        self.awaiting: str | None = None             # "input", or the name of the effect awaiting its result
        self.routed: dict[str, Any] | None = None    # routing mode: the node being run
        self.last: dict[str, Any] = {}               # routing mode: what happened since the last request

    # -- public ---------------------------------------------------------------------------------

    def start(self) -> list[Action]:
        """Begin the session: the closed message (outside the schedule, paused or ended), the over-the-limit
        message, or the first node."""
        closed = self.campaign.closed(self.now) or (None if is_open(self.campaign.schedule, self.now) else "closed")
        if closed is not None:
            self._emit("closed", {} if closed == "closed" else {"reason": closed})
            return self._say_fixed((self.campaign.schedule or {}).get("closed_text")) + self._end(closed)
        limit = self.campaign.limits.get("sessions_per_caller_per_day")
        if limit and int(self.variables["caller"].get("sessions_today", 0)) >= limit:
            self._emit("limit_reached", {"limit": limit})
            return self._say_fixed(self.campaign.limits.get("text")) + self._end("caller_limit")
        if self.campaign.routing is not None:
            return self._ask_server("start")
        return self._goto(self.campaign.start)

    def feed(self, event: InputEvent) -> list[Action]:
        """One input event (the caller's, or an effect's result); returns the next actions."""
        if self.finished:
            return []
        if isinstance(event, Hangup):
            self._emit("hangup", {})
            self.finished = True
            self.end_reason = "hangup"
            return []
        if isinstance(event, (Digits, Speech, Text, NoInput)):
            if self.awaiting != "input":
                self._emit("input_ignored", {"input": asdict(event)})
                return []
            self.awaiting = None
            return self._on_input(self._node(), event)
        expected = next((answer for effect, answer in _ANSWERS.items() if effect.__name__ == self.awaiting), None)
        if expected is None or not isinstance(event, expected):
            raise FlowError(f"{type(event).__name__} does not answer {self.awaiting or 'anything'} "
                            f"at node {self.current}")
        self.awaiting = None
        if isinstance(event, RoutingResult):
            return self._routed(event.node)
        return self._on_result(self._node(), event)

    def accepts(self, event: Digits | Speech | Text) -> bool:
        """Whether the session waits for input and this answer would match (nothing changes)."""
        if self.finished or self.awaiting != "input":
            return False
        node = self._node()
        if isinstance(event, Speech) and event.confidence < float(node.get("confidence", 0.5)):
            return False
        return self._match(node, event)[1] is not None

    def drain_events(self) -> list[TimelineEvent]:
        """The timeline entries since the last drain."""
        events, self.events = self.events, []
        return events

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume later, as plain JSON (SMS sessions live between messages)."""
        return json_safe({"channel": self.channel, "language": self.language, "variables": self.variables,
                          "path": self.path, "finished": self.finished, "end_reason": self.end_reason,
                          "current": self.current, "attempt": self.attempt, "awaiting": self.awaiting,
                          "routed": self.routed, "last": self.last, "confirming": self.confirming})

    @classmethod
    def from_state(cls, campaign: Campaign, state: dict[str, Any]) -> "FlowSession":
        """Resume a session saved by `to_state`; FlowError when the campaign no longer has its node."""
        current = state["current"]
        if current is not None and current != ROUTED and current not in campaign.nodes:
            raise FlowError(f'the campaign has no node "{current}" any more')
        session = cls(campaign, state["channel"], state["variables"]["caller"]["number"],
                      language=state["language"])
        session.variables = state["variables"]
        for name in ("path", "finished", "end_reason", "current", "attempt", "awaiting", "routed", "last"):
            setattr(session, name, state[name])
        session.confirming = state.get("confirming")     # absent from sessions saved before confirmations
        return session

    # -- nodes ----------------------------------------------------------------------------------

    def _node(self) -> dict[str, Any]:
        if self.current is None:
            raise FlowError("no current node")
        if self.current == ROUTED and self.routed is not None:
            return self.routed
        return self.campaign.nodes[self.current]

    def _goto(self, node_id: str) -> list[Action]:
        """Run nodes from `node_id` until one waits for the caller or for an effect, or the end."""
        actions: list[Action] = []
        for _ in range(MAX_STEPS):
            if node_id == ASK_SERVER:
                return actions + self._ask_server("next")
            self.current = node_id
            self.path.append(node_id)
            node = self._node()
            kind = node["type"]
            self._emit("node", {"type": kind})
            if kind == "say":
                actions += self._say_node(node, "text")
                node_id = node["next"]
            elif kind == "ask":
                self.attempt = 0
                if self.channel == "sms":
                    return actions + self._ask(node, [_sms_question(node)])
                return actions + self._ask(node, [node["prompt"]], node.get("audio"))
            elif kind == "record_result":
                value = templates.render(node["value"], self.variables)
                actions.append(StoreOutcome(node.get("kind", "answer"), node["name"], value))
                self._emit("outcome", {"outcome": node.get("kind", "answer"), "name": node["name"], "value": value})
                node_id = node["next"]
            elif kind == "branch":
                node_id = self._branch(node)
            elif kind == "end":
                return actions + self._say_node(node, "text") + self._end(node.get("reason", "completed"))
            elif kind in VOICE_ONLY and self.channel != "voice":
                node_id = node.get("failure") or node["next"]
                self._emit("skipped", {"reason": f"{kind} is voice-only", "next": node_id})
            elif kind in IDENTIFIED_ONLY and not self._identified():
                self._emit("unidentified", {"kind": self.variables["caller"].get("kind"),
                                            "next": node.get("unidentified")})
                if not node.get("unidentified"):
                    return actions + self._say_fixed(unidentified_text(self.campaign)) + self._end("caller_unidentified")
                node_id = node["unidentified"]
            else:
                effect = self._effect(node)
                self.awaiting = type(effect).__name__
                shown = {k: v for k, v in asdict(effect).items() if k not in ("body", "headers")}
                self._emit("effect", {"action": type(effect).__name__, **json_safe(shown)})
                return actions + self._say_node(node, "prompt") + [effect]
        raise FlowError(f"more than {MAX_STEPS} nodes without waiting for input")

    def _identified(self) -> bool:
        """Whether the caller may vote and redeem: identified by the runtime (`caller.identified`, true when
        the runtime does not tell), or the campaign allows callers who are not."""
        return self.campaign.allows_unidentified or bool(self.variables["caller"].get("identified", True))

    def _effect(self, node: dict[str, Any]) -> Action:
        kind = node["type"]
        v = self.variables
        if kind == "vote":
            return CastVote(node["name"], templates.render(node["value"], v), node.get("window", "campaign"),
                            defer=bool(node.get("pending")))
        if kind == "code":
            return RedeemCode(node["pool"], templates.render(node["value"], v).strip(),
                              self.campaign.named_pool(node["pool"]))
        if kind == "issue":
            return IssueCode(node["pool"], self._issued_sms(node))
        if kind == "webhook":
            return CallWebhook(templates.render(node["url"], v), node.get("method", "POST"),
                               _render_value(node.get("body", {}), v), _render_value(node.get("headers", {}), v),
                               float(node.get("timeout", 5)), int(node.get("retries", 1)))
        if kind == "notify":
            sender = (self.campaign.sms_numbers or [str(v.get("short_number") or "")])[0]
            return Notify(node["method"], templates.render(node["target"], v),
                          templates.render(node.get("subject", self.campaign.name), v),
                          templates.render(node["text"], v), sender if node["method"] == "sms" else "")
        if kind == "record":
            return StartRecording(float(node.get("max_seconds", 60)), node.get("beep", True),
                                  node.get("name", self.current or "recording"))
        if kind == "transfer":
            return Transfer(node["target"])
        raise FlowError(f"unknown node type {kind!r}")

    def _on_result(self, node: dict[str, Any], event: InputEvent) -> list[Action]:
        """An effect's answer: keep what it tells, take the matching exit."""
        self._emit(f"{node['type']}_result", json_safe(asdict(event)))
        if isinstance(event, VoteResult):
            choice = templates.render(node["value"], self.variables)
            self.variables["vote"] = {"accepted": event.accepted, "previous": event.previous, "choice": choice,
                                      "pending": event.pending}
            if event.unavailable:
                return self._exit(node, "unavailable", "store_unavailable")
            if event.pending and node.get("pending"):
                return self._goto(node["pending"])
            self.variables["caller"]["last_vote"] = choice if event.accepted else event.previous
            return self._goto(node["next"] if event.accepted else node["repeat"])
        if isinstance(event, CodeResult):
            self.variables["code_result"] = event.status
            if event.status == "redeemed":
                return self._goto(node["next"])
            if event.status in ("used", "invalid"):
                return self._goto(node[event.status])
            return self._exit(node, "unavailable", "store_unavailable")
        if isinstance(event, IssueResult):
            self.variables["issue_result"] = event.status
            if event.status in ("issued", "again") and event.code:
                name = node.get("name") or node["pool"]
                self.variables.setdefault("issued", {})[name] = event.code
                return self._say_issued(node, name, event.code) + self._goto(node["next"])
            if event.status == "exhausted":
                return self._goto(node["exhausted"])
            return self._exit(node, "unavailable", "store_unavailable")
        if isinstance(event, WebhookResult):
            self.variables["webhook"] = {"ok": event.ok, "status": event.status}
            self.variables[node.get("save_as") or "result"] = event.data if event.ok else {}
            return self._goto(node["next"] if event.ok else node["failure"])
        if isinstance(event, NotifyResult):
            return self._goto(node["next"] if event.ok else node.get("failure") or node["next"])
        if isinstance(event, RecordResult):
            if event.ok:
                self.variables["recording"] = {"id": event.recording_id, "duration": event.duration}
                return self._goto(node["next"])
            return self._goto(node.get("failure") or node["next"])
        if isinstance(event, TransferResult):
            return self._end("transferred") if event.ok else self._goto(node["failure"])
        raise FlowError(f"{type(event).__name__} is not an effect's result")

    def _exit(self, node: dict[str, Any], name: str, reason: str) -> list[Action]:
        """Leave by an optional exit, or end the session with `reason` when the node has none."""
        return self._goto(node[name]) if node.get(name) else self._end(reason)

    def _branch(self, node: dict[str, Any]) -> str:
        for i, case in enumerate(node["cases"]):
            if holds(case["if"], self.variables):
                self._emit("branch", {"case": i, "next": case["next"]})
                return case["next"]
        self._emit("branch", {"case": None, "next": node["default"]})
        return node["default"]

    # -- asking ---------------------------------------------------------------------------------

    def _listen_spec(self, node: dict[str, Any]) -> ListenSpec:
        choices = node.get("choices") or []
        keys = [str(c["key"]) for c in choices if "key" in c]
        max_digits = node.get("max_length") or (max(len(k) for k in keys) if keys else None)
        if self.channel == "voice":
            timeout = float(node.get("timeout", 5))
        else:
            timeout = float(node.get("reminder_after", SMS_REMINDER_AFTER))
        return ListenSpec(
            mode=node.get("input", "dtmf"), max_digits=max_digits, min_digits=int(node.get("min_length", 1)),
            finish_key=node.get("finish_key", None if choices else "#"), timeout=timeout,
            inter_digit_timeout=float(node.get("inter_digit_timeout", 3)),
            grammar=[w for c in choices for w in c.get("words") or []], pattern=node.get("pattern"),
            barge_in=node.get("barge_in", True), confidence=float(node.get("confidence", 0.5)),
            end_silence=node.get("end_silence"), max_speech=node.get("max_speech"))

    def _ask(self, node: dict[str, Any], prompts: list[Any], audio: str | None = None) -> list[Action]:
        self.awaiting = "input"
        parts = [self._prompt(text, node) for text in prompts if self._text(text)]
        actions: list[Action] = []
        if audio:
            parts = [Prompt(None, audio, self.language, **self._voice(node))] + parts
        if parts:
            self._emit("prompt", {"text": " ".join(p.text for p in parts if p.text)})
            actions.append(Say(parts, node.get("barge_in", True)))
        spec = self._listen_spec(node)
        self._emit("listen", {"mode": spec.mode, "timeout": spec.timeout})
        return actions + [Listen(spec)]

    def _on_input(self, node: dict[str, Any], event: Digits | Speech | Text | NoInput) -> list[Action]:
        pending, self.confirming = self.confirming, None
        if isinstance(event, NoInput):
            self._emit("noinput", {})
            return self._retry(node, "noinput")
        self._emit("input", json_safe(asdict(event)))
        if pending is not None:
            if self._confirmed(node, event):
                return self._accept(node, pending["value"], pending["target"], pending.get("language"))
            self._emit("nomatch", {"reason": "not confirmed", "input": pending["value"]})
            return self._retry(node, "nomatch")
        if isinstance(event, Speech) and not event.text.strip():
            self._emit("nomatch", {"reason": "not understood"})
            return self._retry(node, "nomatch")
        value, target, language = self._match(node, event)
        if target is None:
            self._emit("nomatch", {"input": value})
            return self._retry(node, "nomatch")
        if isinstance(event, Speech) and event.confidence < float(node.get("confidence", 0.5)):
            if node.get("confirm"):
                return self._confirm(node, value, target, language, event.confidence)
            self._emit("nomatch", {"reason": "low confidence", "input": value})
            return self._retry(node, "nomatch")
        return self._accept(node, value, target, language)

    def _accept(self, node: dict[str, Any], value: str, target: str, language: str | None) -> list[Action]:
        self._emit("match", {"value": value, "next": target})
        if language is not None and language != self.language:
            self.language = self.variables["language"] = language
            self._emit("language", {"language": language})
        if node.get("save_as"):
            self.variables[node["save_as"]] = value
        self.variables["input"] = value
        return self._goto(target)

    def _confirm(self, node: dict[str, Any], value: str, target: str, language: str | None,
                 confidence: float) -> list[Action]:
        """Ask the node's yes/no question about an answer heard with too little confidence."""
        self.confirming = {"value": value, "target": target, "language": language}
        self.variables["input"] = value
        self._emit("confirm", {"value": value, "confidence": confidence})
        self.awaiting = "input"
        yes, no = _yes_no_words(node)
        spec = replace(self._listen_spec(node), max_digits=1, min_digits=1, finish_key=None, pattern=None,
                       grammar=yes + no)
        prompt = self._prompt(node["confirm"]["prompt"], node)
        self._emit("prompt", {"text": prompt.text})
        return [Say([prompt], node.get("barge_in", True)), Listen(spec)]

    def _confirmed(self, node: dict[str, Any], event: Digits | Speech | Text) -> bool:
        """The caller's answer to the confirmation: key 1 or a yes word (key 2, a no word, or anything
        else is a no)."""
        if isinstance(event, Digits):
            return event.digits.strip() == "1"
        if isinstance(event, Speech) and event.confidence < float(node.get("confidence", 0.5)):
            return False
        yes, _ = _yes_no_words(node)
        return _normalize(event.text) in {_normalize(w) for w in yes}

    def _match(self, node: dict[str, Any], event: Digits | Speech | Text) -> tuple[str, str | None, str | None]:
        """(the answer's value, the exit it takes or None for a nomatch, the language it switches to)."""
        raw = (event.digits if isinstance(event, Digits) else event.text).strip()
        choices = node.get("choices")
        if not choices:
            value = re.sub(r"\s+", "", raw) if isinstance(event, Digits) or node.get("pattern") else raw
            if isinstance(event, Text) and node.get("pattern") and not patterns.fullmatch(node["pattern"], value):
                value = _extract(node["pattern"], raw) or value       # "Код 62992312": the code in a sentence
            fits = (len(value) >= int(node.get("min_length", 1)) and len(value) <= int(node.get("max_length", 10**6))
                    and (node.get("pattern") is None or patterns.fullmatch(node["pattern"], value)))
            return value, node["next"] if fits else None, None
        if isinstance(event, Digits):
            found = [c for c in choices if "key" in c and str(c["key"]) == raw]
        else:
            said = _normalize(raw)
            found = [c for c in choices if said in {_normalize(w) for w in c.get("words") or []}
                     or ("key" in c and said == str(c["key"]))]
            if not found:                    # words (or the key) inside a longer answer: "I vote for anna"
                padded = f" {said} "
                found = [c for c in choices
                         if any(f" {_normalize(w)} " in padded for w in c.get("words") or [])
                         or ("key" in c and f" {c['key']} " in padded)]
        if len(found) != 1:
            return raw, None, None
        choice = found[0]
        value = choice.get("value", choice.get("key", (choice.get("words") or [raw])[0]))
        return str(value), choice["next"], choice.get("language")

    def _retry(self, node: dict[str, Any], reason: str) -> list[Action]:
        self.attempt += 1
        if self.attempt > int(node.get("retries", 2)):
            target = node.get(reason) or node.get("max_retries")
            self._emit("max_retries", {"reason": reason, "next": target})
            return self._goto(target) if target else self._end(f"max_retries_{reason}")
        if self.channel == "sms":                    # SMS wording: never the voice prompts
            if reason == "noinput":
                return self._ask(node, [node.get("reminder") or _sms_question(node)])
            return self._ask(node, [node.get("nomatch_prompt") or _sms_question(node)])
        reprompts = node.get("reprompts") or []
        again = reprompts[min(self.attempt, len(reprompts)) - 1] if reprompts else None
        prompts = [p for p in (node.get(f"{reason}_prompt"), again) if p is not None]
        return self._ask(node, prompts or [node["prompt"]], None if prompts else node.get("audio"))

    # -- saying ---------------------------------------------------------------------------------

    def _text(self, text: Any, variables: dict[str, Any] | None = None) -> str | None:
        value = localized(text, self.language, self.campaign.default_language)
        return templates.render(value, self.variables if variables is None else variables) if value else None

    def _voice(self, node: dict[str, Any] | None = None) -> dict[str, Any]:
        return voice_of(self.campaign, node, self.language)

    def _prompt(self, text: Any, node: dict[str, Any] | None = None) -> Prompt:
        return Prompt(self._text(text), None, self.language, **self._voice(node))

    def _say_node(self, node: dict[str, Any], field_name: str,
                  variables: dict[str, Any] | None = None) -> list[Action]:
        text = self._text(node.get(field_name), variables)
        audio = node.get("audio") if field_name == "text" else None
        if not text and not audio:
            return []
        self._emit("prompt", {"text": text})
        return [Say([Prompt(text, audio, self.language, **self._voice(node))], node.get("barge_in", True))]

    def _issued_sms(self, node: dict[str, Any]) -> IssuedSms | None:
        """On calls, the issue node's `sms` to send the code in, from the campaign's SMS number (else the number
        called); none on SMS, where the code is in the reply."""
        template = localized(node.get("sms"), self.language, self.campaign.default_language)
        if self.channel != "voice" or not template:
            return None
        sender = (self.campaign.sms_numbers or [str(self.variables.get("short_number") or "")])[0]
        name = node.get("name") or node["pool"]
        return IssuedSms(sender, templates.render_around(template, self.variables, f"issued.{name}"))

    def _say_issued(self, node: dict[str, Any], name: str, code: str) -> list[Action]:
        """An issue node's text with its code; on calls the code is read out a character at a time."""
        if self.channel != "voice":
            return self._say_node(node, "text")
        spelled = {**self.variables["issued"], name: SPELL_SEPARATOR.join(code)}
        return self._say_node(node, "text", {**self.variables, "issued": spelled})

    def _say_fixed(self, text: Any) -> list[Action]:
        rendered = self._text(text)
        if not rendered:
            return []
        self._emit("prompt", {"text": rendered})
        return [Say([self._prompt(text)], False)]

    def _end(self, reason: str) -> list[Action]:
        self.finished = True
        self.end_reason = reason
        self._emit("end", {"reason": reason})
        return [End(reason)]

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        event = TimelineEvent(kind, {"node": self.current, **data})
        self.events.append(event)
        if self.campaign.routing is not None and kind != "route_request":
            self.last.setdefault("events", []).append({**json_safe(event.data), "kind": kind})

    # -- routing mode ---------------------------------------------------------------------------

    def _ask_server(self, reason: str) -> list[Action]:
        routing = self.campaign.routing or {}
        if len(self.path) >= ROUTING_STEPS:
            return self._end("routing_steps")
        state = {"campaign": self.campaign.id, "channel": self.channel, "caller": self.variables["caller"]["number"],
                 "short_number": self.variables.get("short_number"), "language": self.language,
                 "reason": reason, "last": self.last, "variables": self.variables, "path": self.path}
        self.last = {}
        self.awaiting = "RouteRequest"
        self._emit("route_request", {"reason": reason})
        return [RouteRequest(routing["url"], json_safe(state), float(routing.get("timeout", 5)),
                             dict(routing.get("headers", {})))]

    def _routed(self, node: dict[str, Any] | None) -> list[Action]:
        if node is None:
            self._emit("routing_failed", {})
            return self._end("routing_failed")
        problem = _routed_node_problem(node, self.campaign.languages)
        if problem:
            self._emit("routing_failed", {"error": problem})
            return self._end("routing_invalid_node")
        routed = {k: (ASK_SERVER if k in EXIT_FIELDS else v) for k, v in node.items()}
        for name in ("choices", "cases"):
            if node.get(name):
                routed[name] = [{**item, "next": ASK_SERVER} for item in node[name]]
        if node["type"] == "ask":            # free input and used-up retries: ask the server too
            routed.update(next=ASK_SERVER, max_retries=ASK_SERVER)
        self.routed = routed
        return self._goto(ROUTED)


def _sms_question(node: dict[str, Any]) -> Any:
    """What an ask sends by SMS: its `sms` text, else its `reminder`, else (a campaign that wrote no SMS
    wording) its prompt."""
    return node.get("sms") or node.get("reminder") or node["prompt"]


def _extract(pattern: str, text: str) -> str | None:
    """The one stretch of a text message that fits the ask's pattern, between word boundaries, with the
    spaces inside it removed ("Код 6299 2312" → "62992312"); None when there is none or more than one."""
    inner = pattern.removeprefix("^")
    inner = inner[:-1] if inner.endswith("$") and not inner.endswith("\\$") else inner
    for candidate in (text, re.sub(r"(?<=\d)\s+(?=\d)", "", text)):
        found = set(patterns.find_all(rf"(?<!\w)(?:{inner})(?!\w)", candidate))
        if len(found) == 1:
            return found.pop()
    return None


def _yes_no_words(node: dict[str, Any]) -> tuple[list[str], list[str]]:
    confirm = node.get("confirm") or {}
    return list(confirm.get("yes", CONFIRM_YES)), list(confirm.get("no", CONFIRM_NO))


def _routed_node_problem(node: Any, languages: list[str]) -> str | None:
    """Why a node sent by a routing server cannot run (None when it can)."""
    if not isinstance(node, dict):
        return "not an object"
    error = next(iter(_NODE_VALIDATOR.iter_errors(node)), None)
    if error is not None:
        return error.message
    unknown = [c["language"] for c in node.get("choices") or [] if "language" in c and c["language"] not in languages]
    if unknown:
        return f"language {unknown[0]!r} is not one of the campaign's languages"
    patterns = [node.get("pattern")] + [c["if"].get("matches") for c in node.get("cases") or []]
    for pattern in patterns:
        try:
            re.compile(pattern or "")
        except re.error as exc:
            return f"bad pattern: {exc}"
    return None


def json_safe(value: Any) -> Any:
    """Plain JSON values (what is saved, logged, or sent to a routing server)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
