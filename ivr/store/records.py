"""What the engine tells the store, as records that can wait in the spool, and what the store answers.

Every record carries a UUID (`id`); writing a record twice has the effect of writing it once (calls are
keyed by call id, events, outcomes and votes by their record id), so a record may be replayed from the
spool after it already reached the database. `encode`/`decode` turn records into the spool's JSON bytes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, NamedTuple

from ivr.i18n import t

from .errors import StoreError

WINDOWS = ("campaign", "day", "hour")

CodeStatus = Literal["redeemed", "used", "invalid", "unavailable"]
Durability = Literal["committed", "spooled"]


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class CallStarted:
    """A call (or SMS session) began."""

    call_id: str
    caller: str
    number: str
    campaign_id: str
    channel: str
    at: datetime
    version: int | None = None
    id: str = field(default_factory=new_id)
    caller_raw: str | None = None        # what the network sent; `caller` is normalised
    direction: str = "inbound"           # outbound: a call we placed (the caller is then the number called)


@dataclass(frozen=True)
class CallAnswered:
    call_id: str
    at: datetime
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class CallEnded:
    """A call ended: how, why, and the flow nodes it went through."""

    call_id: str
    at: datetime
    disposition: str
    cause: str
    path: list[str]
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class CallEvent:
    """One step of a call's timeline; `seq` orders events that share a timestamp."""

    call_id: str
    kind: str
    data: dict[str, Any]
    at: datetime
    seq: int
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class OutcomeRecord:
    """Something a caller achieved (a survey answer, ...); acknowledged once durable."""

    call_id: str
    campaign_id: str
    caller: str
    channel: str
    kind: str
    name: str
    value: str
    at: datetime
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class VoteRecord:
    """A vote: at most one per (campaign, name, caller, window_key)."""

    campaign_id: str
    name: str
    caller: str
    choice: str
    window_key: str
    channel: str
    call_id: str
    at: datetime
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class CodePoolLoad:
    """Codes of a promo-code pool; loading them again adds only the unknown ones."""

    campaign_id: str
    pool: str
    codes: list[str]
    at: datetime
    id: str = field(default_factory=new_id)


Record = CallStarted | CallAnswered | CallEnded | CallEvent | OutcomeRecord | VoteRecord | CodePoolLoad
RECORD_TYPES: dict[str, type[Record]] = {cls.__name__: cls for cls in
                                          (CallStarted, CallAnswered, CallEnded, CallEvent, OutcomeRecord,
                                           VoteRecord, CodePoolLoad)}


class VoteOutcome(NamedTuple):
    """The store's answer to a vote; `previous` is the choice already counted when it is refused;
    `deferred`: not checked yet, kept in the spool to be counted when the database is back, if first."""

    accepted: bool
    previous: str | None
    deferred: bool = False


class RecordError(StoreError):
    """Bytes that are not a record (a spool written by another version, or damaged)."""


def window_key(window: str, at: datetime) -> str:
    """The key of the voting window `at` falls in (UTC days and hours)."""
    if window == "campaign":
        return "campaign"
    if window == "day":
        return at.strftime("%Y-%m-%d")
    if window == "hour":
        return at.strftime("%Y-%m-%dT%H")
    raise StoreError(t("unknown vote window {window!r}; expected one of {windows}", window=window,
                       windows=", ".join(WINDOWS)))


def encode(record: Record) -> bytes:
    """JSON bytes of a record (`at` as ISO 8601; values JSON cannot hold become strings)."""
    body: dict[str, Any] = {f.name: getattr(record, f.name) for f in fields(record)}
    body["at"] = record.at.isoformat()
    body["type"] = type(record).__name__
    return json.dumps(body, default=str, separators=(",", ":")).encode()


def decode(data: bytes) -> Record:
    """The record `encode` made."""
    try:
        body = json.loads(data)
        cls = RECORD_TYPES[body.pop("type")]
        body["at"] = datetime.fromisoformat(body["at"])
        return cls(**body)
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"not a store record: {exc}") from exc
