"""Calls that come in: what is taken from the INVITE, and the dialog handle of a call we answer.

`UasDialog` is the `CallDialog` of a call whose INVITE we received: our answers go out as responses to
it through the node's user agent, and every action wakes the transport to write them. Ringing and the
200 (with our answer, or with our offer when the INVITE had no SDP) belong to this side only: the engine
uses `ring` and `answer`, the `VoiceCall` never does.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.channels.caller_id import CallerId, IdentitySettings, voice_caller
from ivr.sip.message import Response
from ivr.sip.ua import Call, UserAgent

from .call import ReferResult


def caller_of(call: Call, identity: IdentitySettings, region: str | None) -> CallerId:
    """The caller as the call records it: the one place a call's caller identity is taken from its INVITE
    (From, or P-Asserted-Identity from a network the node trusts, normalised in the campaign's `region` or
    the node's; see `caller_id.voice_caller`)."""
    return voice_caller(call.identity, call.source.host, identity, region)


class UasDialog:
    """The dialog of a call we received, acted on through `ua`; `wake()` asks for what it queued to be
    written (soon, not in the middle of handling another message)."""

    def __init__(self, ua: UserAgent, call: Call, wake: Callable[[], None]) -> None:
        self.ua = ua
        self.call = call
        self._wake = wake

    def ring(self, now: float) -> None:
        """180 Ringing."""
        self.ua.ring(self.call, now)
        self._wake()

    def answer(self, sdp: bytes, now: float) -> None:
        """200 OK with our session description (answer, or offer for an INVITE without SDP)."""
        self.ua.answer(self.call, sdp, now)
        self._wake()

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
