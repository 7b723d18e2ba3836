"""Loading and validating campaign files: the schema, then semantic checks, each error with its path.

Errors name where the problem is, e.g. `nodes.ask_name.choices[2].next: unknown node "end2"`, and,
for YAML/JSON sources, the line, so the web UI can show the message beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import templates
from .model import VOICE_ONLY, Campaign, exits, texts
from .schema import SCHEMA

_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@dataclass
class Issue:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DialplanError(ValueError):
    """A campaign file that must not be activated; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue], filename: str = "") -> None:
        self.issues = issues
        self.filename = filename
        where = f"{filename}: " if filename else ""
        line = f" (line {issues[0].line})" if issues and issues[0].line else ""
        super().__init__(f"{where}{issues[0]}{line}" if issues else f"{where}invalid dialplan")


def format_path(parts: list[Any] | tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_map(text: str) -> dict[tuple, int]:
    """Path → 1-based line of the YAML/JSON node at that path."""
    lines: dict[tuple, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines

    def walk(node: Any, path: tuple) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (key.value,)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))
    if root is not None:
        walk(root, ())
    return lines


def _parse(text: str, filename: str) -> Any:
    try:
        if filename.endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DialplanError([Issue("", f"not valid JSON: {exc.msg}", exc.lineno)], filename) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DialplanError([Issue("", f"not valid YAML: {problem}", mark.line + 1 if mark else None)],
                            filename) from None


def _schema_issues(data: Any) -> list[Issue]:
    issues: list[Issue] = []
    for error in _VALIDATOR.iter_errors(data):
        leaves = [error]
        while leaves and any(e.context for e in leaves):
            leaves = [c for e in leaves for c in (e.context or [e])]
        best = jsonschema.exceptions.best_match(leaves) if leaves else error
        path = list(best.absolute_path)
        message = best.message
        if best.validator == "additionalProperties":
            extra = re.findall(r"'([^']+)'", best.message)
            if extra:
                path = path + [extra[0]]
                message = "unknown field"
        issues.append(Issue(format_path(path), message))
    issues.sort(key=lambda i: i.path)
    return issues


def semantic_issues(campaign: Campaign) -> list[Issue]:
    """Checks the schema cannot express."""
    issues: list[Issue] = []
    nodes = campaign.nodes
    if campaign.routing is not None:
        return issues
    if campaign.start not in nodes:
        issues.append(Issue("start", f'unknown node "{campaign.start}"'))
    for node_id, node in nodes.items():
        base = f"nodes.{node_id}"
        for field_path, target in exits(node):
            if target not in nodes:
                issues.append(Issue(f"{base}.{field_path}", f'unknown node "{target}"'))
        for field_path, text in texts(node):
            if isinstance(text, dict):
                for language in campaign.languages:
                    if language not in text:
                        issues.append(Issue(f"{base}.{field_path}", f'missing translation "{language}"'))
            for value in (text.values() if isinstance(text, dict) else [text]):
                try:
                    templates.check(value)
                except templates.TemplateError as exc:
                    issues.append(Issue(f"{base}.{field_path}", str(exc)))
        if node["type"] == "ask":
            if not node.get("choices") and not (node.get("pattern") or node.get("max_length")):
                issues.append(Issue(base, "an ask needs choices, or a pattern/max_length for free input"))
            keys = [c.get("key") for c in node.get("choices") or [] if c.get("key")]
            for i, choice in enumerate(node.get("choices") or []):
                if choice.get("key") and keys.count(choice["key"]) > 1:
                    issues.append(Issue(f"{base}.choices[{i}].key", f'key "{choice["key"]}" used twice'))
            if not node.get("choices") and not node.get("next"):
                issues.append(Issue(base, "free input needs a next"))
        for field_path, pattern in _patterns(node):
            try:
                re.compile(pattern)
            except re.error as exc:
                issues.append(Issue(f"{base}.{field_path}", f"bad pattern: {exc}"))
    if issues:
        return issues
    reachable = _reachable(campaign, channel=None)
    for node_id in nodes:
        if node_id not in reachable:
            issues.append(Issue(f"nodes.{node_id}", "unreachable node"))
    issues += _loops_without_input(campaign)
    if campaign.sms_numbers:
        for node_id in _reachable(campaign, channel="sms"):
            if nodes[node_id]["type"] in VOICE_ONLY:
                issues.append(Issue(f"nodes.{node_id}",
                                    f'{nodes[node_id]["type"]} is voice-only but reachable by SMS '
                                    '(guard it with a branch on channel)'))
    seen: set[str] = set()
    for i, number in enumerate(campaign.voice_numbers):
        if number in seen:
            issues.append(Issue(f"numbers.voice[{i}]", f'number "{number}" listed twice'))
        seen.add(number)
    return issues


def _patterns(node: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if isinstance(node.get("pattern"), str):
        out.append(("pattern", node["pattern"]))
    for i, case in enumerate(node.get("cases") or []):
        cond = case.get("if") or {}
        if isinstance(cond.get("matches"), str):
            out.append((f"cases[{i}].if.matches", cond["matches"]))
    return out


def _channel_excluded(case: dict[str, Any], channel: str | None) -> bool:
    cond = case.get("if") or {}
    return (channel is not None and cond.get("var") == "channel" and "equals" in cond
            and cond["equals"] != channel)


def _reachable(campaign: Campaign, channel: str | None) -> set[str]:
    seen: set[str] = set()
    stack = [campaign.start]
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in campaign.nodes:
            continue
        seen.add(node_id)
        node = campaign.nodes[node_id]
        for field_path, target in exits(node):
            if field_path.startswith("cases["):
                index = int(field_path[6:field_path.index("]")])
                if _channel_excluded(node["cases"][index], channel):
                    continue
            stack.append(target)
    return seen


def _loops_without_input(campaign: Campaign) -> list[Issue]:
    """Cycles that never wait for the caller would spin forever."""
    waits = {"ask", "record"}
    graph = {n: [t for _, t in exits(node)] for n, node in campaign.nodes.items() if node["type"] not in waits}
    issues: list[Issue] = []
    state: dict[str, int] = {}

    def visit(node_id: str, trail: list[str]) -> None:
        state[node_id] = 1
        for target in graph.get(node_id, []):
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycle = trail[trail.index(target):] + [target] if target in trail else [node_id, target]
                issues.append(Issue(f"nodes.{target}", "loop without input: " + " -> ".join(cycle)))
            elif target not in state:
                visit(target, trail + [target])
        state[node_id] = 2

    for node_id in graph:
        if node_id not in state:
            visit(node_id, [node_id])
    return issues


def load_campaign(text: str, filename: str = "dialplan.yaml") -> Campaign:
    """Parse and validate a campaign file's text; raises DialplanError listing every issue."""
    data = _parse(text, filename)
    if not isinstance(data, dict):
        raise DialplanError([Issue("", "a campaign file must be a mapping")], filename)
    issues = _schema_issues(data)
    if not issues:
        campaign = Campaign.from_dict(data)
        issues = semantic_issues(campaign)
    if issues:
        lines = _line_map(text)
        for issue in issues:
            parts = tuple(int(p) if p.isdigit() else p
                          for p in re.split(r"\.|\[|\]", issue.path) if p != "")
            while parts and parts not in lines:
                parts = parts[:-1]
            issue.line = lines.get(parts)
        raise DialplanError(issues, filename)
    return campaign


def load_file(path: str | Path) -> Campaign:
    path = Path(path)
    return load_campaign(path.read_text(encoding="utf-8"), str(path))
