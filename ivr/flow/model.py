"""The campaign model: one file describes a campaign for both voice and SMS.

A campaign has a header (id, name, short numbers per channel, languages, schedule, limits, code
pools, variables) and either a graph of nodes keyed by id, entered at `start`, or `routing` (the
business's server names each next node). Nodes stay plain mappings checked by the schema
(`schema.py`) and the semantic checks (`validate.py`); the helpers here read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import templates

NODE_TYPES = ("say", "ask", "record_result", "vote", "code", "issue", "webhook", "notify", "branch",
              "record", "transfer", "end")
VOICE_ONLY = ("record", "transfer")
# Every field of a node that names another node (the node's exits).
EXIT_FIELDS = ("next", "noinput", "nomatch", "max_retries", "repeat", "used", "invalid", "exhausted",
               "unavailable", "pending", "unidentified", "failure", "default")
# Nodes whose result counts for one caller: callers that cannot be identified are refused there unless the
# campaign allows them (`callers.unidentified: allow`).
IDENTIFIED_ONLY = ("vote", "code")
# What such a caller hears or reads at a vote or code without an `unidentified` exit, unless `callers.text`.
UNIDENTIFIED_TEXT = {
    "uk": "Вибачте, ваш номер прихований або не визначений, тому взяти участь неможливо. "
          "Будь ласка, зателефонуйте або напишіть з номера, який не прихований.",
    "ru": "Извините, ваш номер скрыт или не определён, поэтому принять участие нельзя. "
          "Пожалуйста, позвоните или напишите с номера, который не скрыт.",
    "en": "Sorry, your number is withheld or unknown, so you cannot take part. "
          "Please call or text from a number that is not withheld.",
}
# Fields the caller hears or reads, per node type: a string or one text per language.
SPOKEN_FIELDS = {
    "say": ("text",),
    "issue": ("text",),
    "ask": ("prompt", "reprompts", "noinput_prompt", "nomatch_prompt", "reminder", "sms"),
    "record": ("prompt",),
    "transfer": ("prompt",),
    "end": ("text",),
}
# Fields only SMS sends (never synthesized for calls).
SMS_ONLY_FIELDS = ("sms",)
# Fields rendered as templates that only the runtime sees (values, URLs, messages to staff).
TEMPLATE_FIELDS = ("value", "url", "body", "headers", "target", "subject")
# `audio: NAME` names a recording uploaded for the campaign; anything else is a file in the campaign's folder.
RECORDING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass
class Campaign:
    id: str
    name: str
    start: str
    nodes: dict[str, dict[str, Any]]
    languages: list[str] = field(default_factory=lambda: ["en"])
    voice_numbers: list[str] = field(default_factory=list)
    sms_numbers: list[str] = field(default_factory=list)
    number_languages: dict[str, dict[str, str]] = field(default_factory=dict)   # channel -> number -> language
    sms_keywords: dict[str, list[str]] = field(default_factory=dict)   # SMS number -> first words picking this campaign
    schedule: dict[str, Any] | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    code_pools: dict[str, list[str]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] | None = None      # routing mode: the business's server says each next node
    report: dict[str, Any] | None = None       # e-mailed results: {email: [...], first_after, every, at}
    draw: dict[str, Any] | None = None         # what its winner draws draw among: {entries, prizes_per_caller}
    webhook_secret: str | None = None          # signs the campaign's webhooks (X-Ivr-Signature)
    region: str | None = None                  # how national caller numbers are read (None: the node's)
    callers: dict[str, Any] = field(default_factory=dict)   # {unidentified: refuse|allow, text}
    folder: Path | None = None                 # where its files (code pools, recordings) are read from
    # Its lifecycle, given by the runtime (the store), not the file: paused, or ending at a time, a session
    # gets the closed text; `live_at`: when it went live (reports count from then).
    paused: bool = False
    ends_at: datetime | None = None
    live_at: datetime | None = None

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def number_language(self, channel: str, number: str) -> str:
        """The language a session on this short number starts in (the number's own, else the default)."""
        return self.number_languages.get(channel, {}).get(number, self.default_language)

    def closed(self, now: datetime) -> str | None:
        """Why new sessions get the closed text now: "paused", "ended", or None (see also the schedule)."""
        if self.paused:
            return "paused"
        if self.ends_at is not None and now >= self.ends_at:
            return "ended"
        return None

    def named_pool(self, pool: str) -> bool:
        """True for a pool of the tenant (imported into the store), False for one the campaign file lists."""
        return pool not in self.code_pools

    @property
    def claimed_numbers(self) -> tuple[str, ...]:
        """The short numbers the campaign answers on alone (a number listed with keywords is shared)."""
        return (*self.voice_numbers, *(n for n in self.sms_numbers if n not in self.sms_keywords))

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels with a short number."""
        return tuple(name for name, numbers in (("voice", self.voice_numbers), ("sms", self.sms_numbers)) if numbers)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Campaign":
        """Build from a document the schema has accepted (code pools already read from their files)."""
        numbers = data.get("numbers", {})
        return cls(
            id=data["id"], name=data.get("name", data["id"]), start=data.get("start", ""),
            nodes=data.get("nodes", {}), routing=data.get("routing"), report=data.get("report"), draw=data.get("draw"),
            languages=list(data.get("languages") or ["en"]),
            voice_numbers=[_number(n) for n in numbers.get("voice", [])],
            sms_numbers=[_number(n) for n in numbers.get("sms", [])],
            number_languages={channel: {_number(n): n["language"] for n in items
                                        if isinstance(n, dict) and "language" in n}
                              for channel, items in numbers.items()},
            sms_keywords={_number(n): list(n["keywords"]) for n in numbers.get("sms", [])
                          if isinstance(n, dict) and n.get("keywords")},
            schedule=data.get("schedule"), limits=data.get("limits", {}),
            code_pools={k: [str(c) for c in v] for k, v in data.get("code_pools", {}).items()},
            variables=dict(data.get("variables", {})), webhook_secret=data.get("webhook_secret"),
            region=data.get("region"), callers=dict(data.get("callers") or {}), source=data)

    @property
    def allows_unidentified(self) -> bool:
        """Whether callers with a withheld, unknown or alphanumeric number may vote and redeem codes."""
        return self.callers.get("unidentified", "refuse") == "allow"


def _number(entry: Any) -> str:
    """A short number as listed: `"3838"`, `3838` or `{number: "3839", language: uk}`."""
    return str(entry["number"] if isinstance(entry, dict) else entry)


def exits(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, target node id) for every exit of a node."""
    out: list[tuple[str, str]] = []
    for name in EXIT_FIELDS:
        target = node.get(name)
        if isinstance(target, str):
            out.append((name, target))
    for list_name in ("choices", "cases"):
        for i, item in enumerate(node.get(list_name) or []):
            if isinstance(item, dict) and isinstance(item.get("next"), str):
                out.append((f"{list_name}[{i}].next", item["next"]))
    return out


def texts(node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field path, string or per-language mapping) for everything a node says or sends the caller."""
    out: list[tuple[str, Any]] = []
    for name in SPOKEN_FIELDS.get(node.get("type", ""), ()):
        value = node.get(name)
        if isinstance(value, list):
            out += [(f"{name}[{i}]", text) for i, text in enumerate(value)]
        elif value is not None:
            out.append((name, value))
    if node.get("type") == "ask" and isinstance(node.get("confirm"), dict) and "prompt" in node["confirm"]:
        out.append(("confirm.prompt", node["confirm"]["prompt"]))
    return out


def templated(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, template) for every runtime-only template of a node (values, URLs, bodies, ...)."""
    out: list[tuple[str, str]] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, str):
            out.append((path, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}", item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(f"{path}[{i}]", item)
    for name in TEMPLATE_FIELDS:
        if name in node:
            walk(name, node[name])
    if node.get("type") == "notify" and isinstance(node.get("text"), str):
        out.append(("text", node["text"]))
    return out


def localized(text: Any, language: str, default: str) -> str | None:
    """The text for `language` (falling back to the campaign's default language)."""
    if isinstance(text, str):
        return text
    if isinstance(text, dict):
        value = text.get(language, text.get(default))
        return value if isinstance(value, str) else None
    return None


def campaign_texts(campaign: Campaign) -> list[tuple[str, Any]]:
    """(path, text) of the campaign's own messages: closed and over-the-limit texts."""
    out: list[tuple[str, Any]] = []
    if campaign.schedule and campaign.schedule.get("closed_text") is not None:
        out.append(("schedule.closed_text", campaign.schedule["closed_text"]))
    if campaign.limits.get("text") is not None:
        out.append(("limits.text", campaign.limits["text"]))
    refusal = unidentified_text(campaign)
    if refusal is not None:
        out.append(("callers.text", refusal))
    return out


def unidentified_text(campaign: Campaign) -> Any | None:
    """What a caller who cannot be identified hears at a vote or code without an `unidentified` exit: the
    campaign's `callers.text`, else UNIDENTIFIED_TEXT in each of its languages (English for the others);
    None when no node can refuse such a caller."""
    if campaign.allows_unidentified or not any(node.get("type") in IDENTIFIED_ONLY and not node.get("unidentified")
                                               for node in campaign.nodes.values()):
        return None
    if campaign.callers.get("text") is not None:
        return campaign.callers["text"]
    return {language: UNIDENTIFIED_TEXT.get(language.split("-")[0], UNIDENTIFIED_TEXT["en"])
            for language in campaign.languages}


@dataclass(frozen=True)
class Spoken:
    """One prompt the campaign can say: where it is (`nodes.ask.prompt`), its node (None for the campaign's
    own texts), language and text."""

    path: str
    node: dict[str, Any] | None
    language: str
    text: str


def spoken_texts(campaign: Campaign) -> list[Spoken]:
    """Every prompt the campaign can say, in each of its languages, for generating audio ahead of calls."""
    every = [(f"nodes.{node_id}.{path}", node, text) for node_id, node in campaign.nodes.items()
             for path, text in texts(node) if path.split("[")[0] not in SMS_ONLY_FIELDS]
    every += [(path, None, text) for path, text in campaign_texts(campaign)]
    out: list[Spoken] = []
    for path, node, text in every:
        for language in campaign.languages:
            value = localized(text, language, campaign.default_language)
            if value:
                out.append(Spoken(path, node, language, value))
    return out


@dataclass(frozen=True)
class PlayedAudio:
    """A recording a node plays (`audio: NAME` or a file of the campaign's folder), and where it is named."""

    path: str                   # nodes.welcome.audio
    audio: str


def played_audio(campaign: Campaign) -> list[PlayedAudio]:
    """Every recording the campaign's nodes play, in node order."""
    return [PlayedAudio(f"nodes.{node_id}.audio", node["audio"]) for node_id, node in campaign.nodes.items()
            if node.get("audio")]


def voice_of(campaign: Campaign, node: dict[str, Any] | None, language: str) -> dict[str, Any]:
    """The voice settings a node speaks in, in `language`: {voice, engine, rate}. Layers, each field over
    the one before: the campaign's `voice`, its settings for the language, the node's, the node's for the
    language; a layer naming another engine but no voice gets that engine's default voice."""
    settings: dict[str, Any] = {}
    for layer in (campaign.source.get("voice") or {}, (node or {}).get("voice") or {}):
        for own in (layer, layer.get(language) or {}):
            own = {key: own[key] for key in ("engine", "voice", "rate") if key in own}
            if "engine" in own and "voice" not in own:
                settings.pop("voice", None)
            settings.update(own)
    return {"voice": settings.get("voice"), "engine": settings.get("engine"),
            "rate": float(settings.get("rate", 1.0))}


def variables_used(campaign: Campaign) -> set[str]:
    """Every variable a text, template or branch condition of the campaign names (`caller.last_vote`, ...)."""
    every = [text for node in campaign.nodes.values() for _, text in texts(node) + templated(node)]
    every += [text for _, text in campaign_texts(campaign)]
    used = {name for text in every for value in (text.values() if isinstance(text, dict) else [text])
            for name in templates.names(value)}
    return used | {case["if"]["var"] for node in campaign.nodes.values() for case in node.get("cases") or []}


@dataclass(frozen=True)
class SpeechAsk:
    """An ask that takes spoken answers (`input: speech` or `both`), and the words its choices take."""

    node_id: str
    words: tuple[str, ...]


def speech_asks(campaign: Campaign) -> list[SpeechAsk]:
    """The campaign's asks that hear speech, in node order."""
    return [SpeechAsk(node_id, tuple(w for choice in node.get("choices") or [] for w in choice.get("words") or []))
            for node_id, node in campaign.nodes.items()
            if node.get("type") == "ask" and node.get("input", "dtmf") != "dtmf"]


def speech_languages(campaigns: list[Campaign]) -> list[str]:
    """The languages of the campaigns that have asks taking speech (what recognizers must hear)."""
    return sorted({language for campaign in campaigns if speech_asks(campaign) for language in campaign.languages})


def vote_names(campaign: Campaign) -> list[str]:
    """The names the campaign's vote nodes count votes under."""
    return sorted({node["name"] for node in campaign.nodes.values() if node.get("type") == "vote"})


def caller_facts(campaign: Campaign) -> list[str]:
    """What a runtime looks up about the caller before a session starts (as `caller.*`):
    `sessions_today` for a per-caller limit, `last_vote` when the campaign has votes and names
    `caller.last_vote`. Campaigns needing neither start without waiting for the store."""
    facts = ["sessions_today"] if campaign.limits.get("sessions_per_caller_per_day") else []
    if vote_names(campaign) and "caller.last_vote" in variables_used(campaign):
        facts.append("last_vote")
    return facts


def named_pools(campaign: Campaign) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(pools it redeems codes from, pools it hands codes out from): the tenant's named pools it uses."""
    nodes = campaign.nodes.values()
    redeem = sorted({n["pool"] for n in nodes if n.get("type") == "code" and campaign.named_pool(n["pool"])})
    issue = sorted({n["pool"] for n in nodes if n.get("type") == "issue"})
    return tuple(redeem), tuple(issue)
