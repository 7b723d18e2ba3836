"""The JSON Schema (draft 2020-12) of a campaign file, published by the API for editors and tools.

`SCHEMA` checks the shape of a file (every field, its type, no unknown fields); `NODE_SCHEMA` is one
node as a routing server may return it. What a schema cannot say (targets exist, texts are
translated, patterns compile, ...) is checked by `validate.py`.
"""

from __future__ import annotations

from typing import Any

LANGUAGE = "^[a-z]{2,3}(-[A-Za-z]{2,4})?$"
TEXT: dict[str, Any] = {
    "description": "a string, or one string per language: {en: Hello, uk: Привіт}",
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "minProperties": 1,
         "patternProperties": {LANGUAGE: {"type": "string", "minLength": 1}},
         "additionalProperties": False},
    ],
}
NODE_ID = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"}
NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
SECONDS = {"type": "number", "exclusiveMinimum": 0, "maximum": 600}
SHORT_NUMBER = {"type": ["string", "integer"], "pattern": "^[0-9]{3,15}$", "minimum": 100}
KEYWORD = {"type": "string", "pattern": "^[^\\s]{1,32}$"}
NUMBER_ENTRY = {
    "description": 'a short number, or one with the language its sessions start in and (SMS) the first words that '
                   'pick this campaign among others on the number: {number: "3839", language: uk, keywords: [VOTE]}',
    "if": {"type": "object"},
    "then": {"type": "object", "required": ["number"], "additionalProperties": False,
             "anyOf": [{"required": ["language"]}, {"required": ["keywords"]}],
             "properties": {"number": SHORT_NUMBER, "language": {"type": "string", "pattern": LANGUAGE},
                            "keywords": {"type": "array", "items": KEYWORD, "minItems": 1, "uniqueItems": True}}},
    "else": SHORT_NUMBER,
}
SPANS = "^ *[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}( *, *[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2})* *$"

_COMMON = {"type": {}, "description": {"type": "string"}, "label": {"type": "string"}}
VOICE_SETTINGS = {
    "engine": {"type": "string", "minLength": 1}, "voice": {"type": "string", "minLength": 1},
    "rate": {"type": "number", "minimum": 0.5, "maximum": 2.0},        # ivr.media.tts MIN_RATE..MAX_RATE
}
VOICE = {
    "description": "how prompts are spoken: TTS engine (flite, festival, espeak-ng, piper, voice-pack ...), the "
                   "engine's voice (for voice-pack: the pack's name) and a speed factor (see docs/prompts.md), with settings of its own for a language under that "
                   "language's code (e.g. uk: {engine: espeak-ng}); on a node, over the campaign's",
    "type": "object",
    "properties": VOICE_SETTINGS,
    "patternProperties": {LANGUAGE: {"type": "object", "properties": VOICE_SETTINGS, "additionalProperties": False}},
    "additionalProperties": False,
}
POOL = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
        "description": "a code pool of the tenant, imported beforehand (POST /api/code-pools/NAME/imports)"}
DURATION = "^[1-9][0-9]*(m|h)$"
ENTRIES = {
    "description": "what one entry of a draw is: a code redeemed from a pool, a code handed out from a pool, a "
                   "vote (for one choice), or a stored answer (of one value)",
    "type": "object",
    "oneOf": [
        {"properties": {"code": {"type": "string", "minLength": 1}}, "required": ["code"], "additionalProperties": False},
        {"properties": {"issued": POOL}, "required": ["issued"], "additionalProperties": False},
        {"properties": {"vote": {"type": "string", "minLength": 1}, "choice": {"type": "string", "minLength": 1}},
         "required": ["vote"], "additionalProperties": False},
        {"properties": {"answer": {"type": "string", "minLength": 1}, "value": {"type": "string"}},
         "required": ["answer"], "additionalProperties": False},
    ],
}
AUDIO = {"type": "string", "minLength": 1,
         "description": "a recording played instead of the text on calls: the name of one uploaded for the campaign "
                        "(PUT /api/campaigns/{id}/recordings/{name}) or a file in the campaign's folder"}


def _node(kind: str, summary: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "title": kind,
        "description": summary,
        "type": "object",
        "properties": {**_COMMON, **properties, "type": {"const": kind}},
        "required": ["type", *required],
        "additionalProperties": False,
    }


CHOICE = {
    "type": "object",
    "properties": {
        "key": {"type": ["string", "integer"], "pattern": "^[0-9*#]{1,8}$", "minimum": 0},
        "words": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "value": {"type": ["string", "number"]},
        "language": {"type": "string", "pattern": LANGUAGE,
                     "description": "choosing this answer switches the session to this language"},
        "next": NODE_ID,
    },
    "required": ["next"],
    "anyOf": [{"required": ["key"]}, {"required": ["words"]}],
    "additionalProperties": False,
}

CONFIRM = {
    "description": "speech heard with less than `confidence`: ask this yes/no question instead of a nomatch",
    "type": "object",
    "properties": {
        "prompt": TEXT,
        "yes": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "no": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    },
    "required": ["prompt"],
    "additionalProperties": False,
}

CONDITION = {
    "description": "one variable and exactly one test",
    "type": "object",
    "properties": {
        "var": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.]*$"},
        "equals": {"type": ["string", "number", "boolean"]},
        "not_equals": {"type": ["string", "number", "boolean"]},
        "in": {"type": "array", "items": {"type": ["string", "number"]}},
        "gt": {"type": "number"}, "lt": {"type": "number"},
        "matches": {"type": "string"}, "exists": {"type": "boolean"},
    },
    "required": ["var"],
    "minProperties": 2,
    "maxProperties": 2,
    "additionalProperties": False,
}

NODES = [
    _node("say", "say a text (SMS: send it)",
          {"text": TEXT, "audio": AUDIO, "voice": VOICE, "barge_in": {"type": "boolean"}, "next": NODE_ID},
          ("next",)),
    _node("ask", "ask and wait for an answer: choices, or free input checked by pattern and length", {
        "prompt": TEXT, "audio": AUDIO, "voice": VOICE, "input": {"enum": ["dtmf", "speech", "both"]},
        "choices": {"type": "array", "items": CHOICE, "minItems": 1},
        "pattern": {"type": "string"}, "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 64},
        "timeout": SECONDS, "inter_digit_timeout": SECONDS,
        "finish_key": {"type": "string", "pattern": "^[0-9*#]$"},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "reprompts": {"type": "array", "items": TEXT},
        "noinput_prompt": TEXT, "nomatch_prompt": TEXT, "reminder": TEXT,
        "sms": {**TEXT, "description": "the question as sent by SMS (else the reminder, else the prompt)"},
        "reminder_after": {"type": "number", "minimum": 60, "maximum": 604800},
        "barge_in": {"type": "boolean"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "end_silence": {"type": "number", "minimum": 0.2, "maximum": 5},
        "max_speech": {"type": "number", "minimum": 1, "maximum": 60},
        "confirm": CONFIRM,
        "save_as": NAME,
        "next": NODE_ID, "noinput": NODE_ID, "nomatch": NODE_ID, "max_retries": NODE_ID,
    }, ("prompt",)),
    _node("record_result", "store a named result", {
        "name": {"type": "string", "minLength": 1}, "value": {"type": "string"}, "kind": NAME, "next": NODE_ID},
        ("name", "value", "next")),
    _node("vote", "one vote per caller per window, voice and SMS together", {
        "name": {"type": "string", "minLength": 1}, "value": {"type": "string", "minLength": 1},
        "window": {"enum": ["campaign", "day", "hour"]}, "next": NODE_ID, "repeat": NODE_ID,
        "unavailable": NODE_ID, "pending": {**NODE_ID, "description": (
            "accept now, de-duplicate later: while the store cannot check the vote it is kept and the flow goes "
            "here (say it will count if it is the caller's first); without it such a vote takes `unavailable`")},
        "unidentified": {**NODE_ID, "description": "where callers whose number is withheld or unknown go "
                                                   "(unless callers.unidentified is allow)"}},
        ("name", "value", "next", "repeat")),
    _node("code", "redeem a promo code from a pool, once", {
        "pool": {"type": "string", "minLength": 1}, "value": {"type": "string", "minLength": 1}, "next": NODE_ID,
        "used": NODE_ID, "invalid": NODE_ID, "unavailable": NODE_ID, "unidentified": NODE_ID},
        ("pool", "value", "next", "used", "invalid")),
    _node("issue", "hand the caller a code of an imported pool, the same one if they come again; {{issued.NAME}}", {
        "pool": POOL, "name": {**NAME, "description": "the code is {{issued.NAME}} (default: the pool's name)"},
        "text": {**TEXT, "description": "said (calls: the code read out a character at a time) or sent after it"},
        "sms": {**TEXT, "description": ("on calls, also sent to the caller by SMS from the campaign's SMS number, "
                                        "once per caller, e.g. \"Your code: {{issued.NAME}}\" (not to callers "
                                        "who opted out)")},
        "audio": AUDIO, "voice": VOICE, "next": NODE_ID, "exhausted": NODE_ID, "unavailable": NODE_ID},
        ("pool", "next", "exhausted")),
    _node("webhook", "call the business's API; its JSON answer becomes {{result.*}}", {
        "url": {"type": "string", "minLength": 1}, "method": {"enum": ["GET", "POST", "PUT"]},
        "body": {"type": "object"}, "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": SECONDS, "retries": {"type": "integer", "minimum": 0, "maximum": 5},
        "save_as": NAME, "next": NODE_ID, "failure": NODE_ID}, ("url", "next", "failure")),
    _node("notify", "alert someone by webhook, e-mail or SMS (target: caller, or a number)", {
        "method": {"enum": ["webhook", "email", "sms"]}, "target": {"type": "string", "minLength": 1},
        "subject": {"type": "string"}, "text": {"type": "string", "minLength": 1}, "next": NODE_ID,
        "failure": NODE_ID}, ("method", "target", "text", "next")),
    _node("branch", "go where the first true condition says", {
        "cases": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {"if": CONDITION, "next": NODE_ID},
            "required": ["if", "next"], "additionalProperties": False}},
        "default": NODE_ID}, ("cases", "default")),
    _node("record", "record a voice message after a beep (voice only)", {
        "prompt": TEXT, "max_seconds": SECONDS, "beep": {"type": "boolean"}, "name": NAME,
        "next": NODE_ID, "failure": NODE_ID}, ("next",)),
    _node("transfer", "blind transfer by SIP REFER (voice only)", {
        "target": {"type": "string", "pattern": "^([+0-9*#]{2,20}|sips?:[^\\s]+)$"}, "prompt": TEXT,
        "failure": NODE_ID}, ("target", "failure")),
    _node("end", "say goodbye (optional) and end", {
        "text": TEXT, "audio": AUDIO, "voice": VOICE, "reason": NAME}),
]

_NODE = {
    "type": "object", "required": ["type"],
    "properties": {"type": {"enum": [n["title"] for n in NODES]}},
    "allOf": [{"if": {"properties": {"type": {"const": n["title"]}}, "required": ["type"]}, "then": n}
              for n in NODES],
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ivr campaign",
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "numbers": {"type": "object", "properties": {
            "voice": {"type": "array", "items": NUMBER_ENTRY},
            "sms": {"type": "array", "items": NUMBER_ENTRY}},
            "additionalProperties": False},
        "region": {"type": "string", "pattern": "^[A-Z]{2}$",
                   "description": "country whose national numbers callers use without a country code (ISO 3166, "
                                  "e.g. UA); default: the node's --region"},
        "callers": {"type": "object", "description": "who may take part in votes and codes", "properties": {
            "unidentified": {"enum": ["refuse", "allow"],
                             "description": "callers whose number is withheld, unknown or a name (SMS): refused "
                                            "at votes and codes by default"},
            "text": TEXT}, "additionalProperties": False},
        "languages": {"type": "array", "items": {"type": "string", "pattern": LANGUAGE},
                      "minItems": 1, "uniqueItems": True},
        "voice": VOICE,
        "schedule": {"type": "object", "properties": {
            "timezone": {"type": "string"},
            "start": {"type": "string", "description": "ISO date-time, local to timezone"},
            "end": {"type": "string", "description": "ISO date-time, local to timezone"},
            "hours": {"type": "object", "patternProperties": {
                "^(mon|tue|wed|thu|fri|sat|sun)$": {"type": "string", "pattern": SPANS}},
                "additionalProperties": False},
            "closed_text": TEXT}, "additionalProperties": False},
        "limits": {"type": "object", "properties": {
            "sessions_per_caller_per_day": {"type": "integer", "minimum": 1}, "text": TEXT},
            "additionalProperties": False},
        "code_pools": {"type": "object", "propertyNames": {"minLength": 1}, "additionalProperties": {"oneOf": [
            {"type": "array", "items": {"type": ["string", "integer"]}},
            {"type": "object", "properties": {"file": {"type": "string", "minLength": 1}},
             "required": ["file"], "additionalProperties": False}]}},
        "variables": {"type": "object"},
        "sms": {"type": "object", "description": "opt-out on the campaign's SMS numbers (docs/sms.md)", "properties": {
            "stop_words": {"type": "array", "items": KEYWORD, "minItems": 1,
                           "description": "first words that opt the sender out, besides STOP and СТОП"},
            "start_words": {"type": "array", "items": KEYWORD, "minItems": 1,
                            "description": "first words that opt the sender back in, besides START and СТАРТ"},
            "stop_text": TEXT, "start_text": TEXT}, "additionalProperties": False},
        "webhook_secret": {"type": "string", "minLength": 16,
                           "description": "HMAC-SHA256 key signing this campaign's webhooks (X-Ivr-Signature)"},
        "draw": {"type": "object", "description": "what the campaign's winner draws draw among (docs/dialplans.md)",
                 "properties": {"entries": ENTRIES, "prizes_per_caller": {"type": "integer", "minimum": 1}},
                 "required": ["entries"], "additionalProperties": False},
        "report": {"type": "object", "description": "results e-mailed a while after going live, then every period "
                                                    "(needs the engine's --smtp)",
                   "properties": {
                       "email": {"type": "array", "items": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$"},
                                 "minItems": 1, "maxItems": 20},
                       "first_after": {"type": "string", "pattern": DURATION,
                                       "description": "the first report this long after the campaign goes live "
                                                      "(default 10m): minutes (m) or hours (h)"},
                       "every": {"anyOf": [{"enum": ["hourly", "daily", "weekly"]},
                                           {"type": "string", "pattern": DURATION}],
                                 "description": "then one every period: hourly, daily, weekly or a length of at "
                                                "least 10m (30m, 2h)"},
                       "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                              "description": "local time (schedule.timezone) of daily and weekly reports"},
                       "language": {"enum": ["uk", "ru", "en"],
                                    "description": "language of the mail (default: the campaign's first language "
                                                   "when it is uk, ru or en, else en)"}},
                   "required": ["email"], "additionalProperties": False},
        "routing": {"type": "object", "properties": {
            "url": {"type": "string", "pattern": "^https?://"}, "timeout": SECONDS,
            "headers": {"type": "object", "additionalProperties": {"type": "string"}}},
            "required": ["url"], "additionalProperties": False},
        "start": NODE_ID,
        "nodes": {"type": "object", "minProperties": 1, "propertyNames": NODE_ID, "additionalProperties": _NODE},
    },
    "required": ["id"],
    "if": {"required": ["routing"]},
    "then": {"properties": {"start": False, "nodes": False}},
    "else": {"required": ["start", "nodes"]},
    "additionalProperties": False,
}

# One node as a routing server may return it (its exits are ignored: the server is asked again).
NODE_SCHEMA: dict[str, Any] = {"$schema": SCHEMA["$schema"], **_NODE}
