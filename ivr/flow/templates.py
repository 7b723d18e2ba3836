"""A safe, logic-less template renderer: `{{ a.b }}` and `{{ a.b | default }}`, dict look-ups only.

Nothing in a dialplan can run code: names are looked up in plain dictionaries, never as attributes.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ivr.i18n import t

_TAG = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([^}]*?)\s*)?\}\}")


class TemplateError(ValueError):
    """A template that cannot be parsed."""


def lookup(variables: Mapping[str, Any], name: str) -> Any:
    """`a.b.c` in nested mappings; None when any part is missing."""
    value: Any = variables
    for part in name.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    return value


def render(text: str, variables: Mapping[str, Any]) -> str:
    """Replace every tag with its value (or its default, or nothing)."""
    def replace(match: re.Match) -> str:
        value = lookup(variables, match.group(1))
        if value is None or value == "":
            return match.group(2) or ""
        if isinstance(value, (dict, list)):
            return ""
        return str(value)
    return _TAG.sub(replace, text)


def render_around(text: str, variables: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The template rendered in pieces around each tag of `name`, for a value known only later (`value.join`)."""
    pieces, start = [], 0
    for match in _TAG.finditer(text):
        if match.group(1) == name:
            pieces.append(render(text[start:match.start()], variables))
            start = match.end()
    pieces.append(render(text[start:], variables))
    return tuple(pieces)


def names(text: str) -> list[str]:
    """The variable names a template uses."""
    return [m.group(1) for m in _TAG.finditer(text)]


def check(text: str) -> None:
    """Raise TemplateError for unbalanced or malformed tags."""
    stripped = _TAG.sub("", text)
    if "{{" in stripped or "}}" in stripped:
        raise TemplateError(t("malformed template tag"))
