"""Validation of a campaign: the schema, then the checks a schema cannot express.

Every problem is an `Issue` whose path names its place exactly, e.g.
`nodes.ask_name.choices[2].next: unknown node "end2"`; the loader adds the source line. Semantic
checks: unknown targets, unreachable nodes, loops that never wait for the caller, missing
translations, malformed templates, bad regular expressions, keys or words used twice in one ask,
code pools that are neither the file's own nor a pool name (an issue node's must be imported), reports
more often than every 10 minutes, schedules that cannot be read, voice-only nodes reachable by SMS (unless a branch
on `channel` keeps SMS away), short numbers listed twice, and languages (of a short number, or of a
choice that switches the session's language) the campaign does not have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jsonschema
import phonenumbers

from ivr.i18n import Message, message_of, t, verbatim

from . import schedule as schedules
from . import templates
from .model import VOICE_ONLY, Campaign, campaign_texts, exits, templated, texts
from .schema import NAME, POOL, SCHEMA

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
POOL_NAME = re.compile(POOL["pattern"])
VARIABLE = re.compile(NAME["pattern"])
REPORT_PERIODS = ("hourly", "daily", "weekly")
MIN_REPORT_EVERY = timedelta(minutes=10)
MAX_FIRST_REPORT = timedelta(hours=24)


@dataclass
class Issue:
    path: str
    message: str                     # a Message (ivr.i18n): English here, the reader's language in API answers
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DialplanError(ValueError):
    """A campaign file that must not be activated; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue], filename: str = "") -> None:
        self.issues = issues
        self.filename = filename
        where = f"{filename}:{issues[0].line}: " if filename and issues and issues[0].line else (
            f"{filename}: " if filename else "")
        super().__init__(f"{where}{issues[0]}" if issues else f"{where}invalid dialplan")


def format_path(parts: list[Any] | tuple[Any, ...]) -> str:
    """("nodes", "ask", "choices", 2, "next") → "nodes.ask.choices[2].next"."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def parse_path(path: str) -> tuple[str | int, ...]:
    """The inverse of `format_path`."""
    return tuple(int(p) if p.isascii() and p.isdigit() else p for p in re.split(r"\.|\[|\]", path) if p != "")


# -- schema ------------------------------------------------------------------------------------


def schema_issues(data: Any) -> list[Issue]:
    """Schema errors, each on the deepest path that explains it."""
    issues: list[Issue] = []
    for error in _VALIDATOR.iter_errors(data):
        best = error
        while best.context:
            best = jsonschema.exceptions.best_match(best.context)
        path = list(best.absolute_path)
        if best.validator == "additionalProperties":
            known = best.schema.get("properties", {})
            patterns = best.schema.get("patternProperties", {})
            extra = [k for k in best.instance if k not in known and not any(re.search(p, k) for p in patterns)]
            issues += [Issue(format_path(path + [name]), t("unknown field")) for name in extra]
            continue
        if best.validator == "required":
            missing = re.findall(r"^'([^']+)'", best.message)
            message = t('missing field "{field}"', field=missing[0]) if missing else verbatim(best.message)
        elif best.validator is None or best.schema is False:
            message = (t("not allowed here (a routed campaign has no start or nodes)")
                       if path and path[0] in ("start", "nodes") else t("not allowed here"))
        else:
            message = _schema_message(best)
        issues.append(Issue(format_path(path), message))
    return issues


def _shown(value: Any) -> str:
    return repr(value)


def _schema_message(error: jsonschema.ValidationError) -> Message:
    """A schema error in words we translate (the same English as jsonschema's own for these checks)."""
    rule, limit, value = error.validator, error.validator_value, _shown(error.instance)
    if rule == "type":
        return t("{value} is not of type {expected}", value=value,
                 expected=", ".join(repr(kind) for kind in (limit if isinstance(limit, list) else [limit])))
    if rule == "enum":
        return t("{value} is not one of {allowed}", value=value, allowed=repr(limit))
    if rule == "const":
        return t("{expected} was expected", expected=repr(limit))
    if rule == "pattern":
        return t("{value} does not match {pattern}", value=value, pattern=repr(limit))
    if rule == "minimum":
        return t("{value} is less than the minimum of {limit}", value=value, limit=repr(limit))
    if rule == "maximum":
        return t("{value} is greater than the maximum of {limit}", value=value, limit=repr(limit))
    if rule == "exclusiveMinimum":
        return t("{value} is less than or equal to the minimum of {limit}", value=value, limit=repr(limit))
    if rule in ("minLength", "minItems", "minProperties"):
        return t("{value} should be non-empty", value=value) if limit == 1 else t("{value} is too short", value=value)
    if rule in ("maxLength", "maxItems", "maxProperties"):
        return t("{value} is too long", value=value)
    if rule in ("anyOf", "oneOf"):
        return t("{value} is not valid under any of the given schemas", value=value)
    if rule == "uniqueItems":
        return t("{value} has non-unique elements", value=value)
    return verbatim(error.message)


# -- semantic checks ---------------------------------------------------------------------------


def semantic_issues(campaign: Campaign) -> list[Issue]:
    """Checks the schema cannot express, in document order."""
    issues = _header_issues(campaign)
    if campaign.routing is not None:
        return issues
    nodes = campaign.nodes
    if campaign.start not in nodes:
        issues.append(Issue("start", t('unknown node "{node}"', node=campaign.start)))
    for node_id, node in nodes.items():
        issues += [Issue(f"nodes.{node_id}{'.' if path else ''}{path}", message)
                   for path, message in _node_issues(campaign, node)]
    if issues:
        return issues                       # the graph checks need sound nodes and targets
    reachable = _reachable(campaign, channel=None)
    issues += [Issue(f"nodes.{node_id}", t("unreachable node")) for node_id in nodes if node_id not in reachable]
    issues += _loops_without_input(campaign)
    if "sms" in campaign.channels:
        for node_id in sorted(_reachable(campaign, channel="sms"), key=list(nodes).index):
            kind = nodes[node_id]["type"]
            if kind in VOICE_ONLY:
                issues.append(Issue(f"nodes.{node_id}", t("{kind} is voice-only but reachable by SMS "
                                                          "(put a branch on channel before it)", kind=kind)))
    return issues


def _header_issues(campaign: Campaign) -> list[Issue]:
    issues: list[Issue] = []
    for channel, numbers in (("voice", campaign.voice_numbers), ("sms", campaign.sms_numbers)):
        for i, number in enumerate(numbers):
            if number in numbers[:i]:
                issues.append(Issue(f"numbers.{channel}[{i}]", t('short number "{number}" listed twice',
                                                                 number=number)))
        for i, entry in enumerate(campaign.source.get("numbers", {}).get(channel, [])):
            language = entry.get("language") if isinstance(entry, dict) else None
            issues += [Issue(f"numbers.{channel}[{i}].language", m) for m in _language_issues(campaign, language)]
    if campaign.region is not None and campaign.region not in phonenumbers.SUPPORTED_REGIONS:
        issues.append(Issue("region", t('unknown region "{region}": a country code such as UA, PL or GB',
                                        region=campaign.region)))
    schedule = campaign.schedule or {}
    try:
        tz = schedules.zone(schedule.get("timezone", "UTC"))
    except schedules.ScheduleError as exc:
        issues.append(Issue("schedule.timezone", message_of(exc)))
        tz = schedules.zone("UTC")
    bounds = {}
    for name in ("start", "end"):
        if schedule.get(name):
            try:
                bounds[name] = schedules.moment(schedule[name], tz)
            except schedules.ScheduleError as exc:
                issues.append(Issue(f"schedule.{name}", message_of(exc)))
    if len(bounds) == 2 and bounds["end"] <= bounds["start"]:
        issues.append(Issue("schedule.end", t("ends before it starts")))
    for day, text in (schedule.get("hours") or {}).items():
        try:
            if any(start == end for start, end in schedules.spans(text)):
                issues.append(Issue(f"schedule.hours.{day}", t("a span must not start and end at the same time")))
        except schedules.ScheduleError as exc:
            issues.append(Issue(f"schedule.hours.{day}", message_of(exc)))
    sms = campaign.source.get("sms") or {}
    for name in ("stop_text", "start_text"):
        if name in sms:
            issues += [Issue(f"sms.{name}{'.' if sub else ''}{sub}", message)
                       for sub, message in _text_issues(campaign, "", sms[name])]
    issues += _report_issues(campaign.report or {})
    for path, text in campaign_texts(campaign):
        issues += [Issue(f"{path}{'.' if sub else ''}{sub}", message)
                   for sub, message in _text_issues(campaign, "", text)]
    issues += [Issue(path, message) for path, message in _voice_issues(campaign, "voice", campaign.source.get("voice"))]
    return issues


def _report_issues(report: dict[str, Any]) -> list[Issue]:
    """Reports come at most every 10 minutes, the first within a day of going live."""
    issues = []
    every = report.get("every")
    if isinstance(every, str) and every not in REPORT_PERIODS and schedules.duration(every) < MIN_REPORT_EVERY:
        issues.append(Issue("report.every", t("at least {minutes}m between reports",
                                              minutes=MIN_REPORT_EVERY.seconds // 60)))
    first = report.get("first_after")
    if isinstance(first, str) and schedules.duration(first) > MAX_FIRST_REPORT:
        issues.append(Issue("report.first_after", t("the first report comes within a day (24h)")))
    return issues


def _voice_issues(campaign: Campaign, path: str, voice: Any) -> list[tuple[str, Message]]:
    """Voice settings given for a language the campaign does not have."""
    languages = [key for key in (voice or {}) if key not in ("engine", "voice", "rate")]
    return [(f"{path}.{language}", message) for language in languages
            for message in _language_issues(campaign, language)]


def _language_issues(campaign: Campaign, language: Any) -> list[Message]:
    """A language (of a text, a short number, a choice) that is none of the campaign's languages."""
    if language is None or language in campaign.languages:
        return []
    return [t('language "{language}" is not one of the campaign\'s languages', language=language)]


def _text_issues(campaign: Campaign, path: str, text: Any) -> list[tuple[str, Message]]:
    out: list[tuple[str, Message]] = []
    if isinstance(text, dict):
        out += [(path, t('missing translation "{language}"', language=language))
                for language in campaign.languages if language not in text]
        out += [(path, message) for language in text for message in _language_issues(campaign, language)]
    for value in (text.values() if isinstance(text, dict) else [text]):
        out += [(path, message) for message in _template_issues(value)]
    return out


def _template_issues(text: str) -> list[Message]:
    try:
        templates.check(text)
    except templates.TemplateError as exc:
        return [message_of(exc)]
    return []


def _node_issues(campaign: Campaign, node: dict[str, Any]) -> list[tuple[str, Message]]:
    """(path inside the node, message) for one node."""
    out: list[tuple[str, Message]] = []
    for field_path, target in exits(node):
        if target not in campaign.nodes:
            out.append((field_path, t('unknown node "{node}"', node=target)))
    for field_path, text in texts(node):
        out += _text_issues(campaign, field_path, text)
    for field_path, text in templated(node):
        out += [(field_path, message) for message in _template_issues(text)]
    out += _voice_issues(campaign, "voice", node.get("voice"))
    kind = node["type"]
    if kind == "ask":
        out += _ask_issues(node)
    elif kind == "say" and not (node.get("text") or node.get("audio")):
        out.append(("", t("a say needs a text or an audio recording")))
    elif kind == "code" and campaign.named_pool(node["pool"]) and not POOL_NAME.fullmatch(node["pool"]):
        out.append(("pool", t('unknown code pool "{pool}" (neither in code_pools nor a pool name)', pool=node["pool"])))
    elif kind == "issue" and not campaign.named_pool(node["pool"]):
        out.append(("pool", t('"{pool}" is one of code_pools: codes are handed out from an imported pool',
                              pool=node["pool"])))
    elif kind == "issue" and "name" not in node and not VARIABLE.fullmatch(node["pool"]):
        out.append(("pool", t('"{pool}" cannot be a variable ({{{{issued.NAME}}}}): give the node a name',
                              pool=node["pool"])))
    elif kind in ("webhook", "notify"):
        out += _target_issues(node)
    for i, choice in enumerate(node.get("choices") or []):
        out += [(f"choices[{i}].language", m) for m in _language_issues(campaign, choice.get("language"))]
    for i, case in enumerate(node.get("cases") or []):
        if "matches" in case["if"]:
            out += [(f"cases[{i}].if.matches", m) for m in _pattern_issues(case["if"]["matches"])]
    return out


def _ask_issues(node: dict[str, Any]) -> list[tuple[str, Message]]:
    out: list[tuple[str, Message]] = []
    choices = node.get("choices") or []
    if choices and node.get("next"):
        out.append(("next", t("an ask with choices leaves by the choices' next")))
    if not choices and not node.get("next"):
        out.append(("", t("an ask needs choices, or a next for free input")))
    if choices and any(node.get(name) is not None for name in ("pattern", "min_length", "max_length")):
        out.append(("", t("pattern, min_length and max_length are for free input, not choices")))
    keys: list[str] = []
    words: list[str] = []
    for i, choice in enumerate(choices):
        if "key" in choice:
            key = str(choice["key"])
            if key in keys:
                out.append((f"choices[{i}].key", t('key "{key}" used twice', key=key)))
            keys.append(key)
        for j, word in enumerate(choice.get("words") or []):
            if word.lower() in words:
                out.append((f"choices[{i}].words[{j}]", t('word "{word}" used twice', word=word)))
            words.append(word.lower())
    if node.get("pattern") is not None:
        out += [("pattern", message) for message in _pattern_issues(node["pattern"])]
    low, high = node.get("min_length"), node.get("max_length")
    if low is not None and high is not None and low > high:
        out.append(("min_length", t("is more than max_length")))
    return out


def _pattern_issues(pattern: str) -> list[Message]:
    try:
        re.compile(pattern)
    except re.error as exc:
        return [t("bad pattern: {why}", why=str(exc))]
    return []


def _target_issues(node: dict[str, Any]) -> list[tuple[str, Message]]:
    name = "url" if node["type"] == "webhook" else "target"
    value = node[name]
    if value.startswith("{{"):
        return []                           # a variable: checked when the session renders it
    if node.get("method") == "email":
        return [] if "@" in value else [(name, t("not an e-mail address"))]
    if node.get("method") == "sms":
        return [] if re.fullmatch(r"caller|\+?[0-9]{3,15}", value) else [
            (name, t('an SMS goes to "caller" or to a number (digits, + first for E.164)'))]
    return [] if re.match(r"^https?://", value) else [(name, t("must start with http:// or https://"))]


# -- the graph ---------------------------------------------------------------------------------


def _case_on_channel(condition: dict[str, Any], channel: str) -> bool | None:
    """Whether a condition on `channel` is surely true (True) or false (False) on that channel."""
    if condition.get("var") != "channel":
        return None
    if "equals" in condition:
        return condition["equals"] == channel
    if "not_equals" in condition:
        return condition["not_equals"] != channel
    if "in" in condition:
        return channel in condition["in"]
    return None


def _branch_targets(node: dict[str, Any], channel: str | None) -> list[str]:
    targets = []
    for case in node["cases"]:
        known = _case_on_channel(case["if"], channel) if channel else None
        if known is False:
            continue
        targets.append(case["next"])
        if known is True:
            return targets                  # later cases and the default are never reached
    return targets + [node["default"]]


def _successors(node: dict[str, Any], channel: str | None) -> list[str]:
    if node["type"] == "branch":
        return _branch_targets(node, channel)
    return [target for _, target in exits(node)]


def _reachable(campaign: Campaign, channel: str | None) -> set[str]:
    """Nodes a session can enter; with a channel, branches on `channel` are followed as that channel."""
    seen: set[str] = set()
    stack = [campaign.start]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack += _successors(campaign.nodes[node_id], channel)
    return seen


def _loops_without_input(campaign: Campaign) -> list[Issue]:
    """Cycles of nodes none of which waits for the caller (an ask) would spin forever."""
    graph = {node_id: [t for t in _successors(node, None) if campaign.nodes[t]["type"] != "ask"]
             for node_id, node in campaign.nodes.items() if node["type"] != "ask"}
    issues: list[Issue] = []
    done: set[str] = set()

    def visit(node_id: str, trail: list[str]) -> None:
        for target in graph[node_id]:
            if target in trail:
                cycle = trail[trail.index(target):] + [target]
                issues.append(Issue(f"nodes.{target}", t("loop without input: {cycle}", cycle=" -> ".join(cycle))))
            elif target not in done:
                visit(target, trail + [target])
        done.add(node_id)

    for node_id in graph:
        if node_id not in done:
            visit(node_id, [node_id])
    return issues

