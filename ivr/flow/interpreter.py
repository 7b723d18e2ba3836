"""The flow interpreter: a pure, channel-agnostic state machine over a campaign's nodes.

`FlowSession.start()` and `FlowSession.feed(event)` return the next actions (say, listen, store,
vote, redeem a code, call a webhook, notify, end). Voice and SMS channels adapt them: in voice `Say`
is audio and `Listen` collects keys or speech; in SMS `Say` is a reply and `Listen` waits for the next
message. Effects that need an answer end the returned list; the channel feeds the result back.
Every step is appended to `events` for the call timeline. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema

from . import templates
from .model import Campaign, localized
from .schema import NODE_SCHEMA

_NODE_VALIDATOR = jsonschema.Draft202012Validator(NODE_SCHEMA)

# -- input events ------------------------------------------------------------------------------


@dataclass
class Digits:
    digits: str


@dataclass
class Speech:
    text: str
    confidence: float


@dataclass
class Text:
    text: str


@dataclass
class NoInput:
    pass


@dataclass
class Hangup:
    pass


@dataclass
class VoteResult:
    accepted: bool
    previous: str | None = None
    unavailable: bool = False


@dataclass
class CodeResult:
    status: str                          # redeemed | used | invalid | unavailable


@dataclass
class WebhookResult:
    ok: bool
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class NotifyResult:
    ok: bool


@dataclass
class RecordResult:
    ok: bool
    recording_id: str | None = None
    duration: float = 0.0


@dataclass
class TransferResult:
    ok: bool


@dataclass
class RoutingResult:
    """The routing server's answer: the next node to run, or None when it could not be asked."""

    node: dict[str, Any] | None


InputEvent = (Digits | Speech | Text | NoInput | Hangup | VoteResult | CodeResult | WebhookResult
              | NotifyResult | RecordResult | TransferResult | RoutingResult)

# -- actions -----------------------------------------------------------------------------------


@dataclass
class Prompt:
    text: str | None
    audio: str | None
    language: str
    voice: str | None = None


@dataclass
class ListenSpec:
    mode: str = "dtmf"                   # dtmf | speech | both
    max_digits: int | None = None
    min_digits: int = 1
    finish_key: str | None = None
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    grammar: list[str] = field(default_factory=list)
    pattern: str | None = None
    barge_in: bool = True
    confidence: float = 0.5


@dataclass
class Say:
    parts: list[Prompt]
    barge_in: bool = True


@dataclass
class Listen:
    spec: ListenSpec


@dataclass
class StoreOutcome:
    kind: str
    name: str
    value: str


@dataclass
class CastVote:
    name: str
    choice: str
    window: str


@dataclass
class RedeemCode:
    pool: str
    code: str


@dataclass
class CallWebhook:
    url: str
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    timeout: float
    retries: int


@dataclass
class Notify:
    method: str
    target: str
    subject: str
    text: str


@dataclass
class StartRecording:
    max_seconds: float
    beep: bool
    name: str


@dataclass
class Transfer:
    target: str


@dataclass
class RouteRequest:
    """Routing mode: POST the session's state to the business's URL; the answer is the next node."""

    url: str
    state: dict[str, Any]
    timeout: float
    headers: dict[str, str]


@dataclass
class End:
    reason: str


Action = (Say | Listen | StoreOutcome | CastVote | RedeemCode | CallWebhook | Notify | StartRecording
          | Transfer | RouteRequest | End)
EFFECTS = (CastVote, RedeemCode, CallWebhook, Notify, StartRecording, Transfer, RouteRequest)
ROUTED = "__routed"          # the node the routing server sent
ASK_SERVER = "__ask_server"  # where every exit of a routed node leads: ask the server again
ROUTING_STEPS = 500          # a routed session ends after this many round trips


@dataclass
class TimelineEvent:
    kind: str
    data: dict[str, Any]


class FlowError(RuntimeError):
    """The flow reached a state the validator should have prevented."""


MAX_STEPS = 200


def _render_value(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return templates.render(value, variables)
    if isinstance(value, dict):
        return {k: _render_value(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, variables) for v in value]
    return value


class FlowSession:
    """One caller's walk through a campaign on one channel."""

    def __init__(self, campaign: Campaign, channel: str, caller: str, short_number: str = "",
                 language: str | None = None, now: datetime | None = None,
                 variables: dict[str, Any] | None = None) -> None:
        if channel not in ("voice", "sms"):
            raise ValueError(f"unknown channel {channel!r}")
        self.campaign = campaign
        self.channel = channel
        self.language = language if language in campaign.languages else campaign.default_language
        self.now = now or datetime.now(timezone.utc)
        self.variables: dict[str, Any] = {
            **campaign.variables, **(variables or {}),
            "caller": {"number": caller, **((variables or {}).get("caller") or {})},
            "channel": channel, "short_number": short_number, "campaign": {"id": campaign.id, "name": campaign.name},
        }
        self.path: list[str] = []
        self.events: list[TimelineEvent] = []
        self.finished = False
        self.end_reason: str | None = None
        self.current: str | None = None
        self.attempt = 0                  # tries of the current ask
        self.awaiting: str | None = None  # "input" | an effect's class name
        self.routed: dict[str, Any] | None = None   # routing mode: the node being run
        self.last: dict[str, Any] = {}               # routing mode: what happened since the last request

    # -- public ---------------------------------------------------------------------------------

    def start(self) -> list[Action]:
        if not self._open():
            text = localized((self.campaign.schedule or {}).get("closed_text"), self.language,
                             self.campaign.default_language)
            actions: list[Action] = [self._say_text(text, True)] if text else []
            self._emit("closed", {})
            return actions + self._end("closed")
        limit = self.campaign.limits.get("sessions_per_caller_per_day")
        if limit and int(self.variables.get("caller", {}).get("sessions_today", 0)) >= limit:
            self._emit("limit_reached", {"limit": limit})
            text = self._text(self.campaign.limits.get("text"))
            return ([self._say_text(text, True)] if text else []) + self._end("caller_limit")
        if self.campaign.routing is not None:
            return self._ask_server("start")
        return self._goto(self.campaign.start)

    def feed(self, event: InputEvent) -> list[Action]:
        if self.finished:
            return []
        if isinstance(event, RoutingResult) and self.awaiting == "RouteRequest":
            self.awaiting = None
            return self._routed(event.node)
        if isinstance(event, Hangup):
            self._emit("hangup", {"node": self.current})
            self.finished = True
            self.end_reason = "hangup"
            return []
        node = self._node()
        kind = node["type"]
        if isinstance(event, (Digits, Speech, Text, NoInput)):
            if self.awaiting != "input":
                self._emit("input_ignored", {"input": asdict(event)})
                return []
            return self._on_input(node, event)
        self.awaiting = None
        if isinstance(event, VoteResult) and kind == "vote":
            self._emit("vote_result", asdict(event))
            self.variables["vote"] = {"previous": event.previous, "accepted": event.accepted}
            if event.unavailable:
                return self._goto(node["unavailable"]) if node.get("unavailable") else self._end("store_unavailable")
            return self._goto(node["next"] if event.accepted else node["repeat"])
        if isinstance(event, CodeResult) and kind == "code":
            self._emit("code_result", {"status": event.status})
            self.variables["code_result"] = event.status
            target = {"redeemed": node["next"], "used": node["used"], "invalid": node["invalid"]}.get(
                event.status, node.get("unavailable") or node["invalid"])
            return self._goto(target)
        if isinstance(event, WebhookResult) and kind == "webhook":
            self._emit("webhook_result", {"ok": event.ok, "status": event.status})
            if event.ok:
                self.variables[node.get("save_as") or "result"] = event.data
                return self._goto(node["next"])
            return self._goto(node["failure"])
        if isinstance(event, NotifyResult) and kind == "notify":
            self._emit("notify_result", {"ok": event.ok})
            return self._goto(node["next"] if event.ok or not node.get("failure") else node["failure"])
        if isinstance(event, RecordResult) and kind == "record":
            self._emit("record_result", asdict(event))
            if event.ok:
                self.variables["recording"] = {"id": event.recording_id, "duration": event.duration}
                return self._goto(node["next"])
            return self._goto(node.get("failure") or node["next"])
        if isinstance(event, TransferResult) and kind == "transfer":
            self._emit("transfer_result", {"ok": event.ok})
            if event.ok:
                return self._end("transferred")
            return self._goto(node["failure"])
        raise FlowError(f"{type(event).__name__} does not answer node {self.current} ({kind})")

    def drain_events(self) -> list[TimelineEvent]:
        events, self.events = self.events, []
        return events

    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume later (SMS sessions live between messages)."""
        return {"channel": self.channel, "language": self.language, "variables": self.variables,
                "path": self.path, "finished": self.finished, "end_reason": self.end_reason,
                "current": self.current, "attempt": self.attempt, "awaiting": self.awaiting,
                "routed": self.routed, "last": self.last}

    @classmethod
    def from_state(cls, campaign: Campaign, state: dict[str, Any]) -> "FlowSession":
        session = cls(campaign, state["channel"], state["variables"]["caller"]["number"],
                      language=state["language"])
        session.variables = state["variables"]
        for name in ("path", "finished", "end_reason", "current", "attempt", "awaiting"):
            setattr(session, name, state[name])
        session.routed = state.get("routed")
        session.last = state.get("last") or {}
        return session

    # -- internals ------------------------------------------------------------------------------

    def _node(self) -> dict[str, Any]:
        if self.current is None:
            raise FlowError("no current node")
        return self._lookup(self.current)

    def _lookup(self, node_id: str) -> dict[str, Any]:
        if node_id == ROUTED and self.routed is not None:
            return self.routed
        return self.campaign.nodes[node_id]

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
        errors = list(_NODE_VALIDATOR.iter_errors(node)) if isinstance(node, dict) else [None]
        if errors:
            self._emit("routing_failed", {"error": errors[0].message if errors[0] else "not an object"})
            return self._end("routing_invalid_node")
        routed = dict(node)
        for name in ("next", "noinput", "nomatch", "max_retries", "repeat", "used", "invalid", "unavailable",
                     "failure", "default"):
            if name in routed or name == "next":
                routed[name] = ASK_SERVER
        routed["choices"] = [{**c, "next": ASK_SERVER} for c in routed.get("choices") or []] or None
        routed["cases"] = [{**c, "next": ASK_SERVER} for c in routed.get("cases") or []] or None
        self.routed = {k: v for k, v in routed.items() if v is not None}
        return self._goto(ROUTED)


    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        event = TimelineEvent(kind, {"node": self.current, **data})
        self.events.append(event)
        if self.campaign.routing is not None and kind != "route_request":
            self.last.setdefault("events", []).append({"kind": kind, **json_safe(event.data)})

    def _open(self) -> bool:
        schedule = self.campaign.schedule
        if not schedule:
            return True
        tz = ZoneInfo(schedule.get("timezone", "UTC"))
        local = self.now.astimezone(tz)
        for bound, test in (("start", lambda t: local >= t), ("end", lambda t: local < t)):
            if schedule.get(bound):
                moment = datetime.fromisoformat(schedule[bound])
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=tz)
                if not test(moment):
                    return False
        hours = schedule.get("hours")
        if hours:
            day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
            span = hours.get(day)
            if not span:
                return False
            start, end = span.split("-")
            return start <= local.strftime("%H:%M") < end
        return True

    def _text(self, text: Any) -> str | None:
        value = localized(text, self.language, self.campaign.default_language)
        return templates.render(value, self.variables) if value else None

    def _say_text(self, text: str | None, barge_in: bool, audio: str | None = None) -> Say:
        voice = (self.campaign.source.get("voice") or {}).get("voice")
        return Say([Prompt(text, audio, self.language, voice)], barge_in)

    def _say(self, node: dict[str, Any], field_name: str = "text") -> list[Action]:
        text = self._text(node.get(field_name))
        if not text and not node.get("audio"):
            return []
        self._emit("prompt", {"text": text})
        return [self._say_text(text, node.get("barge_in", True), node.get("audio"))]

    def _end(self, reason: str) -> list[Action]:
        self.finished = True
        self.end_reason = reason
        self._emit("end", {"reason": reason})
        return [End(reason)]

    def _goto(self, node_id: str) -> list[Action]:
        actions: list[Action] = []
        for _ in range(MAX_STEPS):
            if node_id == ASK_SERVER:
                return actions + self._ask_server("next")
            self.current = node_id
            self.path.append(node_id)
            node = self._lookup(node_id)
            self._emit("node", {"type": node["type"]})
            kind = node["type"]
            if kind == "say":
                actions += self._say(node)
                node_id = node["next"]
            elif kind == "ask":
                self.attempt = 0
                return actions + self._ask(node, node.get("prompt"))
            elif kind == "record_result":
                value = templates.render(node["value"], self.variables)
                actions.append(StoreOutcome(node.get("kind", "answer"), node["name"], value))
                self._emit("outcome", {"name": node["name"], "value": value})
                node_id = node["next"]
            elif kind == "branch":
                node_id = self._branch(node)
            elif kind == "end":
                return actions + self._say(node) + self._end(node.get("reason", "completed"))
            else:
                effect = self._effect(node)
                if effect is None:                      # voice-only node reached on SMS
                    node_id = node.get("failure") or node.get("next")
                    continue
                self.awaiting = type(effect).__name__
                return actions + self._before_effect(node) + [effect]
        raise FlowError("too many steps without input")

    def _before_effect(self, node: dict[str, Any]) -> list[Action]:
        return self._say(node, "prompt") if node["type"] in ("record", "transfer") else []

    def _effect(self, node: dict[str, Any]) -> Action | None:
        kind = node["type"]
        v = self.variables
        if kind == "vote":
            return CastVote(node["name"], templates.render(node["value"], v), node.get("window", "campaign"))
        if kind == "code":
            return RedeemCode(node["pool"], templates.render(node["value"], v))
        if kind == "webhook":
            return CallWebhook(templates.render(node["url"], v), node.get("method", "POST"),
                               _render_value(node.get("body", {}), v), _render_value(node.get("headers", {}), v),
                               float(node.get("timeout", 5)), int(node.get("retries", 1)))
        if kind == "notify":
            return Notify(node["method"], templates.render(node["target"], v),
                          templates.render(node.get("subject", self.campaign.name), v),
                          templates.render(node["text"], v))
        if self.channel != "voice":
            return None
        if kind == "record":
            return StartRecording(float(node.get("max_seconds", 60)), node.get("beep", True),
                                  node.get("name", self.current or "recording"))
        if kind == "transfer":
            return Transfer(node["target"])
        raise FlowError(f"unknown node type {kind}")

    def _branch(self, node: dict[str, Any]) -> str:
        for case in node["cases"]:
            if _condition(case["if"], self.variables):
                self._emit("branch", {"next": case["next"]})
                return case["next"]
        return node["default"]

    def _listen_spec(self, node: dict[str, Any]) -> ListenSpec:
        choices = node.get("choices") or []
        keys = [c["key"] for c in choices if c.get("key")]
        max_digits = node.get("max_length")
        if choices and not max_digits and keys:
            max_digits = max(len(k) for k in keys)
        grammar = [w for c in choices for w in (c.get("words") or [])]
        return ListenSpec(
            mode=node.get("input", "dtmf"), max_digits=max_digits, min_digits=int(node.get("min_length", 1)),
            finish_key=node.get("finish_key", "#" if not choices else None),
            timeout=float(node.get("timeout", 5 if self.channel == "voice" else 3600)),
            inter_digit_timeout=float(node.get("inter_digit_timeout", 3)), grammar=grammar,
            pattern=node.get("pattern"), barge_in=node.get("barge_in", True),
            confidence=float(node.get("confidence", 0.5)))

    def _ask(self, node: dict[str, Any], prompt: Any) -> list[Action]:
        self.awaiting = "input"
        actions: list[Action] = []
        text = self._text(prompt)
        if text or node.get("audio"):
            self._emit("prompt", {"text": text})
            actions.append(self._say_text(text, node.get("barge_in", True),
                                          node.get("audio") if prompt is node.get("prompt") else None))
        spec = self._listen_spec(node)
        self._emit("listen", {"mode": spec.mode, "timeout": spec.timeout})
        return actions + [Listen(spec)]

    def _on_input(self, node: dict[str, Any], event: Digits | Speech | Text | NoInput) -> list[Action]:
        self.awaiting = None
        if isinstance(event, NoInput):
            self._emit("noinput", {})
            return self._retry(node, "noinput")
        if isinstance(event, Speech):
            self._emit("input", {"speech": event.text, "confidence": event.confidence})
            if event.confidence < float(node.get("confidence", 0.5)):
                self._emit("nomatch", {"reason": "low confidence"})
                return self._retry(node, "nomatch")
            raw = event.text
        elif isinstance(event, Digits):
            self._emit("input", {"digits": event.digits})
            raw = event.digits
        else:
            self._emit("input", {"text": event.text})
            raw = event.text
        value, target = self._match(node, raw, digits=isinstance(event, Digits))
        if target is None:
            self._emit("nomatch", {"input": raw})
            return self._retry(node, "nomatch")
        self._emit("match", {"value": value, "next": target})
        if node.get("save_as"):
            self.variables[node["save_as"]] = value
        self.variables["input"] = value
        return self._goto(target)

    def _match(self, node: dict[str, Any], raw: str, digits: bool) -> tuple[str, str | None]:
        text = raw.strip()
        choices = node.get("choices")
        if choices:
            normalized = re.sub(r"[^\w\s*#]", "", text.lower()).strip()
            for choice in choices:
                value = str(choice.get("value", choice.get("key") or choice["words"][0]))
                if choice.get("key") and text == choice["key"]:
                    return value, choice["next"]
                if not digits:
                    words = [w.lower() for w in choice.get("words") or []]
                    if normalized in words or (choice.get("key") and normalized == choice["key"]):
                        return value, choice["next"]
            return text, None
        value = re.sub(r"\s+", "", text) if digits or node.get("pattern") else text
        if node.get("min_length") and len(value) < int(node["min_length"]):
            return value, None
        if node.get("max_length") and len(value) > int(node["max_length"]):
            return value, None
        if node.get("pattern") and not re.fullmatch(node["pattern"], value):
            return value, None
        return value, node["next"]

    def _retry(self, node: dict[str, Any], reason: str) -> list[Action]:
        self.attempt += 1
        retries = int(node.get("retries", 2))
        if self.attempt > retries:
            target = node.get("max_retries") or node.get(reason)
            self._emit("max_retries", {"reason": reason})
            if target:
                return self._goto(target)
            return self._end(f"max_retries_{reason}")
        if node.get(reason) and not node.get("max_retries"):
            return self._goto(node[reason])
        reprompts = node.get("reprompts") or []
        prompt = node.get(f"{reason}_prompt")
        if reprompts:
            prompt = reprompts[min(self.attempt, len(reprompts)) - 1]
        if self.channel == "sms" and reason == "noinput":
            prompt = node.get("reminder") or prompt or node.get("prompt")
        return self._ask(node, prompt or node.get("prompt"))


def _condition(cond: dict[str, Any], variables: dict[str, Any]) -> bool:
    value = templates.lookup(variables, cond["var"])
    if "exists" in cond:
        return (value is not None) == bool(cond["exists"])
    if "equals" in cond:
        return str(value) == str(cond["equals"])
    if "not_equals" in cond:
        return str(value) != str(cond["not_equals"])
    if "in" in cond:
        return str(value) in [str(x) for x in cond["in"]]
    if "matches" in cond:
        return value is not None and re.fullmatch(cond["matches"], str(value)) is not None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if "gt" in cond:
        return number > float(cond["gt"])
    if "lt" in cond:
        return number < float(cond["lt"])
    return False


def json_safe(value: Any) -> Any:
    """Variables as plain JSON (what a routing server receives)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
