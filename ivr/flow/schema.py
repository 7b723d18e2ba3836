"""The JSON Schema (draft 2020-12) of a campaign file; published by the API for editors and tools."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "minProperties": 1,
         "patternProperties": {"^[a-z]{2,3}(-[A-Za-z]{2,4})?$": {"type": "string", "minLength": 1}},
         "additionalProperties": False},
    ]
}
NODE_ID = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"}
SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": 600}

_COMMON = {"type": {}, "description": {"type": "string"}, "label": {"type": "string"}}


def _node(kind: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**_COMMON, **properties, "type": {"const": kind}},
        "required": ["type", *required],
        "additionalProperties": False,
    }


CHOICE = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "pattern": "^[0-9*#A-D]{1,8}$"},
        "words": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "value": {"type": ["string", "number"]},
        "next": NODE_ID,
    },
    "required": ["next"],
    "anyOf": [{"required": ["key"]}, {"required": ["words"]}],
    "additionalProperties": False,
}

CONDITION = {
    "type": "object",
    "properties": {
        "var": {"type": "string"},
        "equals": {}, "not_equals": {}, "in": {"type": "array"}, "gt": {"type": "number"},
        "lt": {"type": "number"}, "matches": {"type": "string"}, "exists": {"type": "boolean"},
    },
    "required": ["var"],
    "additionalProperties": False,
}

NODES = [
    _node("say", {"text": TEXT, "audio": {"type": "string"}, "barge_in": {"type": "boolean"}, "next": NODE_ID},
          ("next",)),
    _node("ask", {
        "prompt": TEXT, "audio": {"type": "string"}, "input": {"enum": ["dtmf", "speech", "both"]},
        "choices": {"type": "array", "items": CHOICE, "minItems": 1},
        "pattern": {"type": "string"}, "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 64},
        "timeout": SECONDS, "inter_digit_timeout": SECONDS,
        "finish_key": {"type": "string", "pattern": "^[0-9*#]$"},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "reprompts": {"type": "array", "items": TEXT},
        "noinput_prompt": TEXT, "nomatch_prompt": TEXT, "reminder": TEXT,
        "barge_in": {"type": "boolean"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "next": NODE_ID, "noinput": NODE_ID, "nomatch": NODE_ID, "max_retries": NODE_ID,
    }, ("prompt",)),
    _node("record_result", {"name": {"type": "string", "minLength": 1}, "value": {"type": "string"},
                            "kind": {"type": "string"}, "next": NODE_ID}, ("name", "value", "next")),
    _node("vote", {"name": {"type": "string", "minLength": 1}, "value": {"type": "string"},
                   "window": {"enum": ["campaign", "day", "hour"]}, "next": NODE_ID, "repeat": NODE_ID,
                   "unavailable": NODE_ID}, ("name", "value", "next", "repeat")),
    _node("code", {"pool": {"type": "string"}, "value": {"type": "string"}, "next": NODE_ID,
                   "used": NODE_ID, "invalid": NODE_ID, "unavailable": NODE_ID},
          ("pool", "value", "next", "used", "invalid")),
    _node("webhook", {"url": {"type": "string", "minLength": 1}, "method": {"enum": ["GET", "POST", "PUT"]},
                      "body": {"type": "object"}, "headers": {"type": "object"}, "timeout": SECONDS,
                      "retries": {"type": "integer", "minimum": 0, "maximum": 5},
                      "save_as": {"type": "string"}, "next": NODE_ID, "failure": NODE_ID},
          ("url", "next", "failure")),
    _node("notify", {"method": {"enum": ["webhook", "email"]}, "target": {"type": "string", "minLength": 1},
                     "subject": {"type": "string"}, "text": {"type": "string"}, "next": NODE_ID,
                     "failure": NODE_ID}, ("method", "target", "text", "next")),
    _node("branch", {"cases": {"type": "array", "items": {
        "type": "object", "properties": {"if": CONDITION, "next": NODE_ID},
        "required": ["if", "next"], "additionalProperties": False}}, "default": NODE_ID}, ("cases", "default")),
    _node("record", {"prompt": TEXT, "max_seconds": SECONDS, "beep": {"type": "boolean"},
                     "name": {"type": "string"}, "next": NODE_ID, "failure": NODE_ID}, ("next",)),
    _node("transfer", {"target": {"type": "string", "pattern": "^[+0-9*#]{2,20}$"}, "prompt": TEXT,
                       "next": NODE_ID, "failure": NODE_ID}, ("target", "failure")),
    _node("end", {"text": TEXT, "audio": {"type": "string"}, "reason": {"type": "string"}}),
]

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ivr campaign",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "numbers": {"type": "object", "properties": {
            "voice": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{3,15}$"}},
            "sms": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{3,15}$"}}},
            "additionalProperties": False},
        "languages": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z]{2,4})?$"},
                      "minItems": 1, "uniqueItems": True},
        "voice": {"type": "object", "properties": {"engine": {"type": "string"}, "voice": {"type": "string"},
                                                   "rate": {"type": "number"}}, "additionalProperties": False},
        "schedule": {"type": "object", "properties": {
            "timezone": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "hours": {"type": "object", "patternProperties": {
                "^(mon|tue|wed|thu|fri|sat|sun)$": {"type": "string",
                                                     "pattern": "^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$"}},
                "additionalProperties": False},
            "closed_text": TEXT}, "additionalProperties": False},
        "limits": {"type": "object", "properties": {
            "sessions_per_caller_per_day": {"type": "integer", "minimum": 1}, "text": TEXT},
            "additionalProperties": False},
        "code_pools": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "variables": {"type": "object"},
        "routing": {"type": "object", "properties": {
            "url": {"type": "string", "pattern": "^https?://"}, "timeout": SECONDS,
            "headers": {"type": "object", "additionalProperties": {"type": "string"}}},
            "required": ["url"], "additionalProperties": False},
        "start": NODE_ID,
        "nodes": {"type": "object", "minProperties": 1,
                  "propertyNames": NODE_ID,
                  "additionalProperties": {
                      "type": "object", "required": ["type"],
                      "properties": {"type": {"enum": [n["properties"]["type"]["const"] for n in NODES]}},
                      "allOf": [{"if": {"properties": {"type": {"const": n["properties"]["type"]["const"]}}},
                                 "then": n} for n in NODES]}},
    },
    "required": ["id"],
    "oneOf": [{"required": ["start", "nodes"], "not": {"required": ["routing"]}},
              {"required": ["routing"], "not": {"anyOf": [{"required": ["start"]}, {"required": ["nodes"]}]}}],
    "additionalProperties": False,
}

# One node as a routing server may return it (its exits are ignored: the server is asked again).
NODE_SCHEMA: dict[str, Any] = {"$schema": SCHEMA["$schema"], **SCHEMA["properties"]["nodes"]["additionalProperties"]}
