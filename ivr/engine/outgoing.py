"""Calls we place: the dialog handle of a call whose INVITE we sent, and what a call out's end means.

`UacDialog` is the `CallDialog` of a call we placed: hanging up before the answer CANCELs it (the user
agent sends the CANCEL once the far end has answered provisionally), after it sends a BYE. The INVITE, its
digest challenge and the ACK of the 2xx are the user agent's (`sip.ua.UserAgent.invite`); the engine
turns the answer into the `VoiceCall`'s `answered` and `confirmed`, like an inbound call's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.channels.dialer import Dialled
from ivr.sip.message import Response
from ivr.sip.ua import Call, UserAgent
from ivr.store.outbound import INTERRUPTED, Claimed, Outbound

from .call import COMPLETED, ReferResult, VoiceCall

if TYPE_CHECKING:
    from .engine import Engine


class VoiceSender:
    """The dialer's voice channel: an attempt is a call out placed by the engine (`Engine.place_call`),
    running the outbound campaign's flow with the contact's variables once answered."""

    channel = "voice"

    def __init__(self, engine: "Engine") -> None:
        self.engine = engine

    def ready(self, outbound: Outbound) -> bool:
        return self.engine.campaigns.running(outbound.campaign_id) is not None

    def send(self, outbound: Outbound, claimed: Claimed, done: Callable[[Dialled], None]) -> None:
        campaign = self.engine.campaigns.running(outbound.campaign_id)
        assert campaign is not None
        self.engine.place_call(number=outbound.number, campaign=campaign, callee=claimed.recipient,
                               variables={"contact": {"number": claimed.recipient, **claimed.variables}}, on_done=done)

    def flush(self) -> None:
        return None                     # each call is placed at once


def dialled(call: VoiceCall) -> Dialled:
    """The result of a call out that has ended."""
    if call.cause == "shutdown":                  # the node stopped mid-call: the phone may have rung, no retry
        return Dialled(call.call_id, "answered" if call.answered_at is not None else "failed", INTERRUPTED)
    if call.answered_at is None:
        cause = call.cause or "failed"
        return Dialled(call.call_id, cause if cause in ("busy", "no_answer") else "failed", None)
    session = call.conversation.session if call.conversation is not None else None
    path = list(session.path) if session is not None else []
    if session is not None and session.finished and session.end_reason != "hangup":
        return Dialled(call.call_id, COMPLETED, path[-1] if path else None)
    return Dialled(call.call_id, "answered", path[-1] if path else None)


class UacDialog:
    """The dialog of a call we placed, acted on through `ua`; `wake()` asks for what it queued to be written."""

    def __init__(self, ua: UserAgent, call: Call, wake: Callable[[], None]) -> None:
        self.ua = ua
        self.call = call
        self._wake = wake

    def hangup(self, now: float) -> None:
        self.ua.hangup(self.call, now)
        self._wake()

    def refer(self, target: str, now: float, on_result: ReferResult) -> None:
        def result(response: Response | None, at: float) -> None:
            on_result(response.status if response is not None else None, at)
        self.ua.refer(self.call, target, now, result)
        self._wake()

    def accept_modify(self, key: tuple, sdp: bytes | None, now: float) -> None:
        self.ua.accept_modify(self.call, key, sdp, now)
        self._wake()

    def reject_modify(self, key: tuple, status: int, now: float) -> None:
        self.ua.reject_modify(self.call, key, status, now)
        self._wake()
