"""Whether a new call may start: node capacity, calls being set up per source, calls per caller.

Checked before the dialled number is looked up, so a known and an unknown number are refused alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.channels.caller_id import voice_caller
from ivr.sip.ua import Call

from .config import EngineConfig

RETRY_AFTER = "5"


@dataclass(frozen=True)
class Refusal:
    """The final response a refused INVITE gets, and the cause logged for it."""

    status: int
    cause: str
    headers: tuple[tuple[str, str], ...] = ()


def caller_key(call: Call, config: EngineConfig) -> str:
    """Whose calls count together: the caller's number normalised in the node's region (the campaign is not
    known yet; withheld numbers share one key)."""
    return voice_caller(call.identity, call.source.host, config.identity).key


def check(call: Call, active: Iterable[Call], config: EngineConfig, draining: bool) -> Refusal | None:
    """None when `call` may start next to the `active` ones; else how to refuse it."""
    calls = list(active)
    busy = (("Retry-After", RETRY_AFTER),)
    if draining or len(calls) >= config.max_calls:
        return Refusal(503, "over_capacity", busy)
    host = call.source.host
    if config.max_setup_per_source and sum(
            1 for c in calls if c.source.host == host and c.state != "confirmed") >= config.max_setup_per_source:
        return Refusal(503, "source_setup_limit", busy)
    key = caller_key(call, config)
    if config.max_calls_per_caller and sum(
            1 for c in calls if caller_key(c, config) == key) >= config.max_calls_per_caller:
        return Refusal(486, "caller_busy")
    return None
