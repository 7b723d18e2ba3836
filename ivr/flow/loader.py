"""Reading campaign files: YAML or JSON text → a validated `Campaign`, or every issue with its line.

YAML is read the way a business means it: dates and `yes`/`no`/`on`/`off` stay strings (only
`true`/`false` are booleans), a key given twice is an error instead of silently winning, and
anchors/aliases are refused (they are rarely meant and can blow up in size). Code pools may come
from a file next to the campaign (`code_pools: {receipts: {file: receipts.txt}}`, one code a line),
read only when a folder is given (`load_file` gives the campaign's own).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ivr.i18n import Message, t

from .model import RECORDING_NAME, Campaign
from .validate import DialplanError, Issue, format_path, parse_path, schema_issues, semantic_issues

MAX_SOURCE = 2_000_000          # characters; a campaign file is far smaller
MAX_DEPTH = 64                  # nested mappings and lists; a campaign needs far fewer


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's parser when PyYAML has it: ~20x faster


class _Loader(_SAFE):                                     # type: ignore[valid-type, misc]
    """Safe YAML without timestamp and YAML 1.1 yes/no/on/off booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in _SAFE.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))

Lines = dict[tuple, int]


def _check_events(text: str) -> None:
    """Refuse aliases and deep nesting before composing (PyYAML composes recursively)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise DialplanError([Issue("", t("YAML anchors and aliases are not supported"))])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise DialplanError([Issue("", t("nested more than {levels} levels deep", levels=MAX_DEPTH),
                                           event.start_mark.line + 1)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _compose(text: str) -> tuple[Any, Lines, list[Issue]]:
    """The data, the 1-based line of every path, and structural issues (duplicate keys)."""
    _check_events(text)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    lines: Lines = {}
    issues: list[Issue] = []

    def walk(node: yaml.Node, path: tuple) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key, value in node.value:
                child = path + (key.value,)
                if key.value in seen:
                    issues.append(Issue(format_path(child), t("given twice"), key.start_mark.line + 1))
                seen.add(key.value)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))
    if root is not None:
        walk(root, ())
    return data, lines, issues


def _parse(text: str) -> tuple[Any, Lines, list[Issue]]:
    if len(text) > MAX_SOURCE:
        raise DialplanError([Issue("", t("file too large (more than {limit} characters)", limit=MAX_SOURCE))])
    try:
        return _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DialplanError([Issue("", t("not valid YAML or JSON: {problem}", problem=problem),
                                           mark.line + 1 if mark else None)]) \
            from None


def _line_of(path: str, lines: Lines) -> int | None:
    parts = parse_path(path)
    while parts and parts not in lines:
        parts = parts[:-1]
    return lines.get(parts)


def _folder_file(base_dir: Path | None, name: str, what: Message) -> Path | Message:
    """The file `name` of the campaign's folder, or why it cannot be one."""
    relative = Path(name)
    if base_dir is None:
        return what
    if relative.is_absolute() or ".." in relative.parts:
        return t("must be a file in the campaign's folder")
    return base_dir / relative


def _read_pools(data: dict[str, Any], base_dir: Path | None) -> list[Issue]:
    """Replace `{file: ...}` code pools by the codes in the file (in place)."""
    issues = []
    for name, pool in (data.get("code_pools") or {}).items():
        if not isinstance(pool, dict):
            continue
        path = f"code_pools.{name}.file"
        file = _folder_file(base_dir, pool["file"],
                            t("code pool files can only be read when the campaign is loaded from a folder"))
        if isinstance(file, Message):
            issues.append(Issue(path, file))
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            issues.append(Issue(path, t("cannot read: {why}", why=exc.strerror)))
            continue
        data["code_pools"][name] = [line.strip() for line in text.splitlines() if line.strip()]
    return issues


def _audio_file_issues(data: dict[str, Any], base_dir: Path | None) -> list[Issue]:
    """Recording files (`audio:` that is not an uploaded recording's name) must be in the campaign's folder."""
    issues = []
    for node_id, node in (data.get("nodes") or {}).items():
        audio = node.get("audio")
        if not audio or RECORDING_NAME.fullmatch(audio):
            continue
        file = _folder_file(base_dir, audio, t("recording files can only be read when the campaign is loaded from a "
                                               "folder (or upload the recording and give its name)"))
        if isinstance(file, Message):
            issues.append(Issue(f"nodes.{node_id}.audio", file))
        elif not file.is_file():
            issues.append(Issue(f"nodes.{node_id}.audio", t("no file {file!r} in the campaign's folder", file=audio)))
    return issues


def read_document(text: str) -> Any:
    """The data of a campaign file, unchecked (None when it is not YAML or JSON one can read): what the
    diagram of a file with problems is drawn from."""
    try:
        data, _, _ = _parse(text)
    except DialplanError:
        return None
    return data


def load_campaign(text: str, filename: str = "dialplan.yaml", base_dir: Path | None = None) -> Campaign:
    """Parse and validate a campaign file's text; raises DialplanError listing every issue by line."""
    try:
        data, lines, issues = _parse(text)
    except DialplanError as exc:
        raise DialplanError(exc.issues, filename) from None
    if not isinstance(data, dict):
        issues.append(Issue("", t("a campaign file must be a mapping of fields (id, name, nodes, ...)"), 1))
    else:
        issues += schema_issues(data) or _read_pools(data, base_dir) + _audio_file_issues(data, base_dir)
        if not issues:
            campaign = Campaign.from_dict(data)
            campaign.folder = base_dir
            issues += semantic_issues(campaign)
    if issues:
        for issue in issues:
            issue.line = issue.line or _line_of(issue.path, lines)
        issues.sort(key=lambda i: (i.line is None, i.line or 0))
        raise DialplanError(issues, filename)
    return campaign


def load_file(path: str | Path) -> Campaign:
    """Load a campaign file (`.yaml`, `.yml` or `.json`); code pool files are read from its folder."""
    path = Path(path)
    return load_campaign(path.read_text(encoding="utf-8"), str(path), path.parent)

