"""Branch conditions: a tiny, safe vocabulary tested against session variables (no eval).

A condition names one variable and one test: `{var: result.status, equals: shipped}`. Tests:
`equals`, `not_equals`, `in` (a list), `gt`, `lt` (numbers), `matches` (a regular expression the
whole value must match, within `patterns.MATCH_TIMEOUT`) and `exists` (true/false). A missing variable equals nothing and is no number.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import patterns
from .templates import lookup

OPERATORS = ("equals", "not_equals", "in", "gt", "lt", "matches", "exists")


def holds(condition: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
    """Whether the condition is true for these variables."""
    value = lookup(variables, condition["var"])
    if "exists" in condition:
        return (value is not None) == bool(condition["exists"])
    if "equals" in condition:
        return value is not None and str(value) == str(condition["equals"])
    if "not_equals" in condition:
        return value is None or str(value) != str(condition["not_equals"])
    if "in" in condition:
        return value is not None and str(value) in [str(x) for x in condition["in"]]
    if "matches" in condition:
        return value is not None and patterns.fullmatch(condition["matches"], str(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if "gt" in condition:
        return number > float(condition["gt"])
    return number < float(condition["lt"])
