"""The campaign model: one file describes a campaign for both voice and SMS.

A campaign has a header (id, name, short numbers per channel, languages, schedule, limits) and a
graph of nodes keyed by id, entered at `start`. Nodes stay plain mappings checked by the schema
(`schema.py`) and the semantic checks (`validate.py`); helpers here read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NODE_TYPES = ("say", "ask", "record_result", "vote", "code", "webhook", "notify", "branch",
              "record", "transfer", "end")
VOICE_ONLY = ("record", "transfer")
# Every field of a node that names another node, and what a business calls that exit.
EXIT_FIELDS = ("next", "noinput", "nomatch", "max_retries", "repeat", "used", "invalid",
               "unavailable", "failure", "default")


@dataclass
class Campaign:
    id: str
    name: str
    start: str
    nodes: dict[str, dict[str, Any]]
    languages: list[str] = field(default_factory=lambda: ["en"])
    voice_numbers: list[str] = field(default_factory=list)
    sms_numbers: list[str] = field(default_factory=list)
    schedule: dict[str, Any] | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    code_pools: dict[str, list[str]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] | None = None      # routing mode: the business's server says each next node

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Campaign":
        """Build from a document the schema has accepted."""
        numbers = data.get("numbers", {})
        return cls(
            id=data["id"], name=data.get("name", data["id"]), start=data.get("start", ""),
            nodes=data.get("nodes", {}), routing=data.get("routing"),
            languages=list(data.get("languages") or ["en"]),
            voice_numbers=[str(n) for n in numbers.get("voice", [])],
            sms_numbers=[str(n) for n in numbers.get("sms", [])],
            schedule=data.get("schedule"), limits=data.get("limits", {}),
            code_pools={k: [str(c) for c in v] for k, v in data.get("code_pools", {}).items()},
            variables=data.get("variables", {}), source=data)


def exits(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, target node id) for every exit of a node."""
    out: list[tuple[str, str]] = []
    for name in EXIT_FIELDS:
        target = node.get(name)
        if isinstance(target, str):
            out.append((name, target))
    for i, choice in enumerate(node.get("choices") or []):
        if isinstance(choice, dict) and isinstance(choice.get("next"), str):
            out.append((f"choices[{i}].next", choice["next"]))
    for i, case in enumerate(node.get("cases") or []):
        if isinstance(case, dict) and isinstance(case.get("next"), str):
            out.append((f"cases[{i}].next", case["next"]))
    return out


def texts(node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field path, text or per-language mapping) for everything a node says or sends."""
    out: list[tuple[str, Any]] = []
    for name in ("text", "prompt", "reminder"):
        if node.get(name) is not None:
            out.append((name, node[name]))
    for name in ("reprompts",):
        for i, text in enumerate(node.get(name) or []):
            out.append((f"{name}[{i}]", text))
    for name in ("noinput_prompt", "nomatch_prompt"):
        if node.get(name) is not None:
            out.append((name, node[name]))
    return out


def localized(text: Any, language: str, default: str) -> str | None:
    """The text for `language` (falling back to the campaign's default language)."""
    if text is None:
        return None
    if isinstance(text, str):
        return text
    if isinstance(text, dict):
        value = text.get(language, text.get(default))
        return value if isinstance(value, str) else None
    return None


def prompts_of(campaign: Campaign) -> list[tuple[str, str]]:
    """(language, text) of every fixed prompt, for generating audio ahead of calls."""
    out: list[tuple[str, str]] = []
    for node in campaign.nodes.values():
        for _, text in texts(node):
            for language in campaign.languages:
                value = localized(text, language, campaign.default_language)
                if value:
                    out.append((language, value))
    extra = [(campaign.schedule or {}).get("closed_text"), campaign.limits.get("text")]
    for language in campaign.languages:
        for text in extra:
            value = localized(text, language, campaign.default_language)
            if value:
                out.append((language, value))
    return out
