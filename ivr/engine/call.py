"""One voice call, owned by one object: `VoiceCall`.

A `VoiceCall` is made from a call's dialog handle (`CallDialog`: hang up, transfer, answer session
changes), its session descriptions (`CallSdp`), its RTP socket and `MediaSession`. It does not care
which side sent the INVITE: the inbound set-up (`inbound.py`) answers an INVITE and then tells the call
`answered` and `confirmed`; a call we place would tell it the same once the far end answers.

It owns everything of that one call: its state (`CallState`, moves listed in `_MOVES`), its media (the
20 ms frame it sends, the RTP it reads, keys by RFC 4733, SIP INFO or in-band), its session changes
(re-INVITE/UPDATE: hold, codec, address; an ACK that answers our offer), the flow on the voice channel
(`VoiceConversation`) and its timers, its timeline in the store, its transfer, and its end: one
`disposition` (`completed` when the flow reached an end node, `abandoned` when the caller hung up before,
else what cut it short) with the `cause`.

The engine drives every call from the one media clock: `send_frame` for all calls first, then `on_tick`
for each. Nothing here opens a socket or arms a timer, so tests drive a call with a manual clock and
in-memory sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from ivr.channels.caller_id import CallerId
from ivr.channels.effects import CampaignServices, EffectContext
from ivr.channels.voice import CallRequest, EndCall, PromptSource, TransferCall, VoiceConversation
from ivr.flow.interpreter import FlowSession
from ivr.flow.model import Campaign, caller_facts
from ivr.media.session import DtmfDigit, KeyDown, MediaSession, PlaybackFinished
from ivr.sip import sdp
from ivr.speech.service import SpeechService

from .call_sdp import CallSdp
from .metrics import EngineMetrics

log = logging.getLogger("ivr.engine")
call_log = logging.getLogger("ivr.calls")

TRANSFER_REPORT_WAIT = 8.0     # seconds after an accepted REFER to wait for the NOTIFY that ends it
COMPLETED = "completed"        # the flow reached an end node
ABANDONED = "abandoned"        # the caller hung up before the flow's end


class CallState(Enum):
    """Where a call is, whichever side placed it."""

    NEW = "new"                # set up, not answered: ringing (a call to us), or dialling (a call we place)
    ANSWERED = "answered"      # answered: media flows; the dialog's confirmation (ACK) is awaited
    CONFIRMED = "confirmed"    # confirmed: the flow runs
    ENDED = "ended"


_MOVES: dict[CallState, frozenset[CallState]] = {
    CallState.NEW: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.CONFIRMED, CallState.ENDED}),
    CallState.CONFIRMED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class CallStateError(RuntimeError):
    """A move the call's state does not allow."""


ReferResult = Callable[[int | None, float], None]     # the REFER's final status (None: no answer), now


class CallDialog(Protocol):
    """A call's SIP dialog as the call uses it (the UA behind it sends and retransmits)."""

    def hangup(self, now: float) -> None:
        """End the dialog from our side (BYE; before the answer, an error response)."""

    def refer(self, target: str, now: float, on_result: ReferResult) -> None:
        """Blind transfer: ask the peer to call `target`; `on_result` gets the REFER's final status."""

    def accept_modify(self, key: tuple, sdp: bytes | None, now: float) -> None:
        """200 to a re-INVITE/UPDATE with our answer, or with our offer when it carried none."""

    def reject_modify(self, key: tuple, status: int, now: float) -> None:
        """Refuse a re-INVITE/UPDATE; the session stays as it was."""


class CallRecorder(Protocol):
    """Where a call's life is written (the store's per-call records)."""

    def call_started(self, *, call_id: str, caller: str, number: str, campaign_id: str, channel: str,
                     at: datetime, version: int | None = None, caller_raw: str | None = None,
                     direction: str = "inbound") -> None: ...

    def call_answered(self, call_id: str, at: datetime) -> None: ...

    def event(self, call_id: str, kind: str, data: dict[str, Any], at: datetime) -> None: ...

    def call_ended(self, *, call_id: str, at: datetime, disposition: str, cause: str, path: list[str]) -> None: ...


class DatagramSocket(Protocol):
    """A call's RTP socket (`rtp_socket.RtpSocket`, or an in-memory one in tests)."""

    port: int

    def receive(self) -> list[tuple[bytes, tuple[str, int]]]: ...

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CallEnvironment:
    """What the calls of one node share: where they write, what they count and run the flow with, the
    node's clock and limits, and whom to tell when a call is over."""

    recorder: CallRecorder
    metrics: EngineMetrics
    services: CampaignServices
    prompts: Callable[[Campaign], PromptSource]
    clock: Callable[[], float]
    released: Callable[["VoiceCall"], None]        # the call has ended: drop it, free its RTP port
    recordings_dir: Path
    speech: SpeechService | None = None
    rtp_timeout: float = 30.0                      # seconds without RTP (off hold) before hanging up
    max_seconds: float = 600.0


@dataclass
class PendingTransfer:
    """A transfer asked of the peer: settled once, by the REFER's refusal, the final NOTIFY, the report
    wait running out after the REFER was accepted, or the caller leaving after that."""

    target: str
    accepted: bool = False              # the REFER got a 2xx
    reported: bool | None = None        # a final NOTIFY came (before the REFER's answer): its outcome
    report_by: float | None = None      # accepted: counted a success at this time without a final NOTIFY


def disposition(cause: str, reached_end: bool) -> str:
    """How a call ended, for the call log, filters and metrics: `completed` once the flow reached an end
    node whatever ended the call then, `abandoned` when the caller hung up before, else the cause
    (cancelled, rtp_timeout, max_duration, no_ack, bad_sdp_answer, shutdown)."""
    if reached_end:
        return COMPLETED
    return ABANDONED if cause == "remote_bye" else cause


class VoiceCall:
    """One call: its media, session, flow, timeline, transfer and end."""

    def __init__(self, *, call_id: str, caller: CallerId, number: str, dialog: CallDialog, sdp: CallSdp,
                 rtp: DatagramSocket, media: MediaSession, campaign: Campaign, version: int | None,
                 env: CallEnvironment, signalled_from: str = "", direction: str = "inbound",
                 variables: dict[str, Any] | None = None) -> None:
        self.call_id = call_id
        self.caller = caller           # who calls, normalised (see `inbound.caller_of`)
        self.signalled_from = signalled_from    # the From user part as the network sent it (the call log's)
        self.number = number           # the short number dialled
        self.dialog = dialog
        self.sdp = sdp
        self.rtp = rtp
        self.media = media
        self.campaign = campaign       # the version the call started on, kept until it ends
        self.version = version         # the stored dialplan version (None: a file)
        self.env = env
        self.direction = direction     # outbound: a call we placed (`caller` is then the number called)
        self.variables = variables or {}   # given to the flow (a call out: `contact.*` of its audience)
        self.state = CallState.NEW
        self.started = env.clock()
        self.answered_at: float | None = None
        self.cause: str | None = None
        self.digits: list[str] = []
        self.conversation: VoiceConversation | None = None
        self.transfer: PendingTransfer | None = None
        self._heard_from = self.started    # RTP silence is counted from here (answer, end of a hold)
        self._lookup: asyncio.Task[None] | None = None

    @property
    def campaign_id(self) -> str:
        return self.campaign.id

    @property
    def ended(self) -> bool:
        return self.state is CallState.ENDED

    def _move(self, state: CallState) -> None:
        if state not in _MOVES[self.state]:
            raise CallStateError(f"call {self.call_id}: {self.state.value} -> {state.value}")
        self.state = state

    # -- set-up ---------------------------------------------------------------------------------

    def begin(self) -> None:
        """Write the call's start (once it is in the node's table)."""
        self.env.recorder.call_started(call_id=self.call_id, caller=self.caller.key, number=self.number,
                                       campaign_id=self.campaign_id, channel="voice", at=_utcnow(),
                                       version=self.version, caller_raw=self.caller.raw, direction=self.direction)

    def answered(self, now: float) -> None:
        """The call is answered: media flows from now on."""
        self._move(CallState.ANSWERED)
        self.answered_at = self._heard_from = now
        self.env.metrics.calls_answered += 1
        self.env.recorder.call_answered(self.call_id, _utcnow())
        self._event("answered", {})

    def confirmed(self, answer: bytes, now: float) -> None:
        """The dialog is confirmed (the ACK came; `answer`: its body). When our 200 made the offer, the
        ACK must answer it: without a usable answer the call is ended (RFC 3261 13.3.1.4). The flow then
        starts, after the caller's history is read when the campaign uses it."""
        if self.state is not CallState.ANSWERED:
            return
        self._move(CallState.CONFIRMED)
        if self.sdp.awaiting_answer:
            try:
                self._apply(self.sdp.take_answer(answer), now)
            except sdp.SdpError as exc:
                log.warning("call %s: the ACK carries no usable answer to our offer (%s); hanging up",
                            self.call_id, exc)
                self.hangup("bad_sdp_answer")
                return
        if caller_facts(self.campaign):
            self._lookup = asyncio.ensure_future(self._start_flow_after_lookup())
        else:
            self.start_flow({})

    async def _start_flow_after_lookup(self) -> None:
        """Campaigns with per-caller limits or `caller.last_vote` need what the store knows of the caller
        first (the media clock sends silence meanwhile)."""
        known = await self.env.services.caller_variables(self.campaign, self.caller.key, exclude=self.call_id)
        if not self.ended:
            self.start_flow({"caller": known})

    def start_flow(self, variables: dict[str, Any]) -> None:
        """Run the campaign's flow on this call."""
        variables = {**self.variables, **variables}
        known = {**variables.get("caller", {}), **self.caller.variables()}
        session = FlowSession(self.campaign, channel="voice", caller=self.caller.key, short_number=self.number,
                              now=datetime.now(timezone.utc), variables={**variables, "caller": known})
        context = EffectContext(call_id=self.call_id, campaign_id=self.campaign_id, caller=self.caller.key,
                                channel="voice")
        env = self.env
        self.conversation = VoiceConversation(
            session, self.media, env.prompts(self.campaign), env.services, context, request=self._on_request,
            clock=env.clock, recordings_dir=env.recordings_dir, speech=env.speech)
        if self.media.on_hold:                         # held before the flow began: its timers wait too
            self.conversation.hold(env.clock())
        self.conversation.start()
        self._record_timeline()

    # -- what the flow asks -----------------------------------------------------------------------

    def _on_request(self, request: CallRequest) -> None:
        if self.ended:
            return
        match request:
            case EndCall():
                self.hangup("flow_end")
            case TransferCall(target=target):
                self._start_transfer(target)

    def _start_transfer(self, target: str) -> None:
        """Blind transfer by REFER (RFC 3515); settled by `_settle_transfer`."""
        self.transfer = PendingTransfer(target)
        self.dialog.refer(target, self.env.clock(), self._on_refer_result)

    def _on_refer_result(self, status: int | None, now: float) -> None:
        transfer = self.transfer
        if transfer is None or transfer.accepted:
            return
        if status is None or not 200 <= status < 300:
            self._settle_transfer(False)
        elif transfer.reported is not None:
            self._settle_transfer(transfer.reported)
        else:
            transfer.accepted = True    # hang up once the caller's side reports the new call (RFC 5589)
            transfer.report_by = now + TRANSFER_REPORT_WAIT

    def transfer_progress(self, status: int | None, final: bool) -> None:
        """A NOTIFY about our transfer (the sipfrag status of the transferee's call)."""
        transfer = self.transfer
        if transfer is None or not final:
            return
        ok = status is None or 200 <= status < 300
        if transfer.accepted:
            self._settle_transfer(ok)
        else:
            transfer.reported = ok

    def _settle_transfer(self, ok: bool) -> None:
        transfer, self.transfer = self.transfer, None
        if transfer is None:
            return
        self._event("transfer", {"target": transfer.target, "accepted": ok})
        if self.conversation is not None:
            self.conversation.on_transfer_result(ok)
            self._record_timeline()

    # -- the caller's input and session changes ---------------------------------------------------

    def on_digit(self, digit: str, source: str, now: float) -> None:
        """A key (RFC 4733, in-band, or SIP INFO)."""
        if self.ended:
            return
        self.env.metrics.dtmf_events += 1
        self.digits.append(digit)
        self._event("dtmf", {"digit": digit, "source": source})
        if self.conversation is not None:
            self.conversation.on_digit(digit, now)
            self._record_timeline()

    def modify(self, key: tuple, offer: bytes, method: str, now: float) -> None:
        """A re-INVITE or UPDATE: answered like the first offer (hold, codec, address), or, without SDP,
        with our offer (re-INVITE; the ACK answers it) or nothing (UPDATE refreshing the dialog)."""
        if not offer:
            body = self.sdp.make_offer().serialize().encode() if method == "INVITE" else None
            self.dialog.accept_modify(key, body, now)
            return
        try:
            answer = self.sdp.answer(sdp.SessionDescription.parse(offer))
        except sdp.SdpError:
            self.dialog.reject_modify(key, 488, now)
            return
        self._apply(answer, now)
        self.dialog.accept_modify(key, answer.sdp.serialize().encode(), now)

    def session_answer(self, answer: bytes, now: float) -> None:
        """The ACK's answer to the offer our 200 made for a re-INVITE without SDP. An ACK cannot be
        refused: without a usable answer the media goes on as it was."""
        try:
            negotiated = self.sdp.take_answer(answer)
        except sdp.SdpError as exc:
            log.warning("call %s: the ACK's SDP answer cannot be used (%s); media unchanged", self.call_id, exc)
            return
        self._apply(negotiated, now)

    def _apply(self, answer: sdp.Answer, now: float) -> None:
        """Media follows a negotiated session: codec, telephone-event type, address, hold."""
        media = self.media
        media.update_remote(answer.codec_pt, answer.dtmf_pt, answer.remote)
        hold = answer.direction in ("recvonly", "inactive")
        if hold == media.on_hold:
            return
        media.set_hold(hold)
        self._event("hold" if hold else "resume", {})
        if not hold:
            self._heard_from = now
        if self.conversation is not None:
            if hold:
                self.conversation.hold(now)
            else:
                self.conversation.resume(now)

    # -- the media clock ----------------------------------------------------------------------------

    def send_frame(self, now: float, dropped: int) -> bool:
        """This tick's RTP packet, sent (first of all calls, so the tick's timing holds for all);
        `dropped`: ticks the clock skipped since the last. Whether a packet went out."""
        if self.state not in (CallState.ANSWERED, CallState.CONFIRMED):
            return False
        media = self.media
        if dropped > 0:
            media.skip_ticks(dropped)
        packet = media.on_tick(now)
        if packet is None or media.remote_addr is None:
            return False
        self.rtp.sendto(packet, media.remote_addr)
        return True

    def on_tick(self, now: float) -> None:
        """The RTP received since the last tick, playback events, the flow's timers, the transfer's report
        wait, and the call's own limits (RTP silence off hold, duration)."""
        if self.state not in (CallState.ANSWERED, CallState.CONFIRMED):
            return
        media = self.media
        for data, addr in self.rtp.receive():
            self.env.metrics.rtp_packets_received += 1
            for event in media.receive(data, addr, now):
                if isinstance(event, DtmfDigit):
                    self.on_digit(event.digit, event.source, now)
                elif isinstance(event, KeyDown) and self.conversation is not None:
                    self.conversation.on_key_down(event.digit, now)
            if self.ended:
                return
        conversation = self.conversation
        for event in media.poll(now):
            if isinstance(event, DtmfDigit):
                self.on_digit(event.digit, event.source, now)
            elif isinstance(event, PlaybackFinished) and conversation is not None:
                conversation.on_playback_finished(now)
            if self.ended:
                return
        if conversation is not None:
            conversation.on_tick(now)
            self._record_timeline()
        transfer = self.transfer
        if transfer is not None and transfer.report_by is not None and now >= transfer.report_by:
            self._settle_transfer(True)
        if self.ended:
            return
        last = max(media.last_received or 0.0, self._heard_from)
        if not media.on_hold and now - last > self.env.rtp_timeout:
            self.hangup("rtp_timeout")
        elif now - self.started > self.env.max_seconds:
            self.hangup("max_duration")

    # -- the end ------------------------------------------------------------------------------------

    def hangup(self, cause: str) -> None:
        """End the call from our side (the flow's end, a limit, shutdown, a bad answer)."""
        if self.ended:
            return
        self._move(CallState.ENDED)
        self.dialog.hangup(self.env.clock())
        self._release(cause)

    def ended_by_peer(self, cause: str) -> None:
        """The dialog ended without us (remote_bye, cancelled, no_ack). A caller who leaves after accepting
        our transfer completed it."""
        if self.ended:
            return
        self._move(CallState.ENDED)
        if self.transfer is not None and self.transfer.accepted:
            self._settle_transfer(True)
        self._release(cause)

    def _release(self, cause: str) -> None:
        self.cause = cause
        self.rtp.close()
        self.env.released(self)
        conversation = self.conversation
        if conversation is not None:
            conversation.on_hangup()
            self._record_timeline()
        session = conversation.session if conversation is not None else None
        reached_end = session is not None and session.finished and session.end_reason != "hangup"
        outcome = disposition(cause, reached_end)
        path = list(session.path) if session is not None else []
        self.env.metrics.count_disposition(outcome)
        self.env.recorder.call_ended(call_id=self.call_id, at=_utcnow(), disposition=outcome, cause=cause, path=path)
        call_log.info(json.dumps({
            "event": "call_ended", "call_id": self.call_id, "from": self.signalled_from, "caller": self.caller.key,
            "number": self.number, "campaign": self.campaign_id, "direction": self.direction,
            "disposition": outcome, "cause": cause,
            "duration": round(self.env.clock() - self.started, 3), "digits": "".join(self.digits), "path": path,
            **(speech_log(conversation) if conversation is not None else {}),
        }))

    # -- timeline -----------------------------------------------------------------------------------

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        self.env.recorder.event(self.call_id, kind, data, _utcnow())

    def _record_timeline(self) -> None:
        if self.conversation is not None:
            for event in self.conversation.session.drain_events():
                self._event(event.kind, event.data)


def speech_log(conversation: VoiceConversation) -> dict:
    """What the call's speech recognition did, for the call log (nothing on calls without speech)."""
    stats = conversation.stats
    if not stats.answers and not stats.barge_ins:
        return {}
    return {"speech": [{"text": r.text, "heard": r.heard, "confidence": r.confidence} for r in stats.answers],
            "barge_ins": stats.barge_ins}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
