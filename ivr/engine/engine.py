"""The engine: SIP user agent + media + campaign flows + statistics store, on one event loop.

Calls come in through `SipTransport`; for each answered call the engine owns a `MediaSession` (sans-I/O
RTP), an `RtpSocket` and a `VoiceConversation` (the flow on the voice channel). One `MediaClock` ticks
every 20 ms for all calls: each tick sends every call's next RTP frame, then reads what each call's
socket received since the last tick, and runs key timeouts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ivr.channels.effects import EffectContext
from ivr.channels.voice import VoiceConversation
from ivr.flow.interpreter import FlowSession
from ivr.flow.model import Campaign, caller_facts
from ivr.flow.validate import Issue
from ivr.media.clock import MediaClock
from ivr.media.ports import NoPortAvailable, PortAllocator
from ivr.media.session import DtmfDigit, KeyDown, MediaSession, PlaybackFinished
from ivr.media.tts import DEFAULT_ENGINES, TtsRegistry
from ivr.sip import sdp
from ivr.sip.message import Request, Response, parse_uri
from ivr.sip.register import Registration, RegistrationConfig
from ivr.sip.transport import SipTransport
from ivr.speech.service import SpeechService
from ivr.sip.ua import (
    Call, CallConfirmed, CallEnded, CallEvent, CallOffered, DtmfInfo, SessionAnswer, SessionModify, TransferProgress,
    UAConfig, UserAgent,
)

from . import admission
from .campaigns import NOT_IN_SERVICE, CampaignRegistry
from .config import EngineConfig
from .metrics import EngineMetrics
from .campaign_prompts import CachedPrompts, Recordings
from .rtp_socket import RtpSocket

log = logging.getLogger("ivr.engine")
TRANSFER_REPORT_WAIT = 8.0
RTP_BIND_ATTEMPTS = 8               # ports of the range tried per call before refusing it
call_log = logging.getLogger("ivr.calls")


@dataclass
class ActiveCall:
    """Everything the engine holds for one call."""

    call: Call
    campaign: Campaign                 # the version the call started on, kept until it ends
    media: MediaSession
    rtp: RtpSocket
    answer: sdp.Answer
    started: float
    sdp_version: int = 1
    answered_at: float | None = None
    answer_at: float | None = None     # when ringing, the time to answer
    conversation: VoiceConversation | None = None
    digits: list[str] = field(default_factory=list)
    ended: bool = False
    transfer_done: asyncio.Future | None = None     # resolved by the NOTIFY that ends a transfer
    version: int | None = None         # the stored dialplan version (None: a file)

    @property
    def campaign_id(self) -> str:
        return self.campaign.id


class Engine:
    """One engine node."""

    def __init__(self, config: EngineConfig, store, services) -> None:
        self.config = config
        self.store = store
        self.services = services
        self.campaigns = CampaignRegistry(config.dialplans_dir, config.variables)
        self.prompts = CachedPrompts(
            config.prompts_dir, Recordings(config.recordings_dir or config.data_dir / "prompt-recordings"),
            owner=store.campaign_owner, registry=TtsRegistry(defaults={**DEFAULT_ENGINES, **config.tts},
                                                             voice_packs=config.voice_packs_dir or config.data_dir / "voice-packs"),
            stale_after=config.prompts_stale_after)
        self.speech = SpeechService(config.speech)
        self.metrics = EngineMetrics()
        self.ports = PortAllocator(config.rtp_port_min, config.rtp_port_max)
        self.clock = MediaClock()
        self.calls: dict[str, ActiveCall] = {}
        self.ua: UserAgent | None = None
        self.transport: SipTransport | None = None
        self.registration: Registration | None = None
        self.ready = False
        self.draining = False
        self._session_id = secrets.randbelow(2**31)
        self._tasks: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_tick: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Load campaigns and their prompts, start the clock and SIP; returns the SIP address."""
        self._loop = asyncio.get_running_loop()
        await self.campaigns.start(self.store, self.prepare_campaigns, self.clean_prompts)
        advertise = self.config.advertise_host or self.config.sip_host
        await self.prompts.prepare([NOT_IN_SERVICE])
        self.ua = UserAgent(UAConfig(host=advertise, port=self.config.sip_port,
                                     accept_register=self.config.accept_register,
                                     allow_from=self.config.allow_from, rates=self.config.sip_rates))
        self.transport = SipTransport(self.ua, self._on_sip_events)
        host, port = await self.transport.start(self.config.sip_host, self.config.sip_port,
                                                tcp=self.config.sip_tcp)
        self.ua.config.port = port
        self.clock.start()
        self.clock.add(self)
        if self.config.register:
            self._start_registration(host if host not in ("0.0.0.0", "::") else _local_address_towards(
                parse_uri(self.config.register).host), port)
        self.ready = True
        log.info("SIP listening on %s:%s (UDP%s), %d campaign(s) on numbers %s", host, port,
                 "+TCP" if self.config.sip_tcp else "", len(self.campaigns.all()),
                 ", ".join(sorted(self.campaigns.numbers())))
        return host, port

    async def prepare_campaigns(self, campaigns: list[Campaign], tenant_id: str | None = None) -> list[Issue]:
        """Prompts, code pools and speech models of campaigns about to be served; the prompts that cannot be
        made (`tenant_id`: whose uploaded recordings a campaign not yet stored plays)."""
        issues = await self.prompts.prepare(campaigns, tenant_id)
        await self.services.prepare(campaigns)
        await self.speech.prepare(speech_languages(campaigns))
        for campaign in campaigns:
            for node_id, node in campaign.nodes.items():
                if node.get("type") != "ask" or node.get("input", "dtmf") == "dtmf":
                    continue
                words = [w for choice in node.get("choices") or [] for w in choice.get("words") or []]
                for language in campaign.languages:
                    unknown = await self.speech.unknown_words(language, words)
                    if unknown:
                        log.warning("campaign %s, ask %s: the %s recognizer cannot hear %s; callers must say "
                                    "another of the choice's words or press its key", campaign.id, node_id,
                                    language, ", ".join(unknown))
        return issues

    async def clean_prompts(self) -> None:
        """Delete cached prompts that neither the campaigns in service nor the calls in progress play."""
        playing = [active.campaign for active in self.calls.values()]
        try:
            await self.prompts.clean([*self.campaigns.all(), NOT_IN_SERVICE, *playing])
        except Exception:
            log.exception("prompt cache: cleaning failed")

    async def stop(self) -> None:
        """Hang up every call, stop the clock and SIP."""
        self.ready = False
        await self.campaigns.stop()
        for active in list(self.calls.values()):
            self._hangup(active, "shutdown")
        if self.registration is not None and self.registration.state.value == "registered":
            self._send_register(self.registration.stop(self._now()))     # remove our binding
        if self.transport is not None:
            self.transport.flush()
            await asyncio.sleep(0.05)
            await self.transport.close()
        self.clock.stop()
        self.speech.close()

    # -- registration with a carrier trunk ------------------------------------------------------

    def _start_registration(self, contact_host: str, contact_port: int) -> None:
        config = self.config
        assert config.register is not None
        registrar = parse_uri(config.register)
        user = config.register_user or "ivr"
        self.registration = Registration(RegistrationConfig(
            registrar=config.register, aor=config.register_aor or f"sip:{user}@{registrar.host}",
            username=user, password=config.register_password, contact_host=contact_host,
            contact_port=contact_port, expires=config.register_expires))
        self._send_register(self.registration.start(self._now()))

    def _send_register(self, requests: list[Request]) -> None:
        assert self.ua is not None and self.registration is not None
        for request in requests:
            self.ua.send_request(request, self.registration.config.destination, self._now(),
                                 self._on_register_result)
        if self.transport is not None:
            self.transport.flush()

    def _on_register_result(self, response: Response | None, now: float) -> None:
        registration = self.registration
        assert registration is not None
        if response is None:
            registration.on_timeout(now)
        else:
            self._send_register(registration.receive(response, now))
        log.info("registration with %s: %s %s", registration.config.registrar, registration.state.value,
                 registration.reason)

    # -- SIP events -----------------------------------------------------------------------------

    def _on_sip_events(self, events: list[CallEvent]) -> None:
        for event in events:
            try:
                if isinstance(event, CallOffered):
                    self._on_offer(event)
                elif isinstance(event, CallConfirmed):
                    self._on_confirmed(event.call)
                elif isinstance(event, DtmfInfo):
                    self._on_digit(event.call.call_id, event.digit, "info")
                elif isinstance(event, SessionModify):
                    self._on_modify(event)
                elif isinstance(event, SessionAnswer):
                    self._on_session_answer(event)
                elif isinstance(event, CallEnded):
                    self._on_ended(event.call, event.cause)
                elif isinstance(event, TransferProgress):
                    active = self.calls.get(event.call.call_id)
                    done = active.transfer_done if active else None
                    if event.final and done is not None and not done.done():
                        done.set_result(event.status is None or 200 <= event.status < 300)
            except Exception:
                log.exception("error handling %s", type(event).__name__)

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _on_offer(self, offer: CallOffered) -> None:
        assert self.ua is not None
        call, now = offer.call, self._now()
        self.metrics.calls_offered += 1
        refusal = admission.check(call, (a.call for a in self.calls.values()), self.config, self.draining)
        if refusal is not None:
            self._reject(call, refusal.status, refusal.cause, headers=list(refusal.headers))
            return
        campaign = self.campaigns.for_number(call.number)
        if campaign is None and self.config.unknown_numbers == "reject":
            self._reject(call, 404, "unknown_number")
            return
        # Else an unknown number is answered like a closed campaign: scanners cannot tell which numbers exist.
        campaign = campaign or NOT_IN_SERVICE
        try:
            description = sdp.SessionDescription.parse(offer.offer)
        except sdp.SdpError:
            self._reject(call, 400, "bad_sdp", reason="Malformed SDP")
            return
        rtp_host = self.config.rtp_host or self.config.sip_host
        try:
            rtp = self._open_rtp(rtp_host)
        except NoPortAvailable:
            self._reject(call, 503, "no_rtp_port", headers=[("Retry-After", "5")])
            return
        except OSError:
            self._reject(call, 503, "rtp_bind_failed", headers=[("Retry-After", "5")])
            return
        media_host = self._media_host(call)
        try:
            answer = sdp.negotiate(description, media_host, rtp.port,
                                   session_id=self._session_id, session_version=1)
        except sdp.NoCommonCodec:
            rtp.close()
            self.ports.release(rtp.port)
            self._reject(call, 488, "no_common_codec")
            return
        media = MediaSession(answer.codec_pt, answer.dtmf_pt, ptime=20, remote=answer.remote,
                             inband_dtmf=self.config.inband_dtmf)
        deployed = self.campaigns.deployed(campaign.id)
        active = ActiveCall(call, campaign, media, rtp, answer, started=now,
                            version=deployed.version if deployed else None)
        self.calls[call.call_id] = active
        self.store.call_started(call_id=call.call_id, caller=call.caller or "", number=call.number or "",
                                campaign_id=campaign.id, channel="voice", at=_utcnow(), version=active.version)
        if self.config.ring_seconds > 0:
            self.ua.ring(call, now)
            active.answer_at = now + self.config.ring_seconds
        else:
            self._answer(active, now)

    def _open_rtp(self, host: str) -> RtpSocket:
        """A socket on a free port of the RTP range. A port another process holds is skipped (it goes
        back to the end of the range's line); after RTP_BIND_ATTEMPTS such ports the last error is raised."""
        error: OSError | None = None
        for _ in range(RTP_BIND_ATTEMPTS):
            port = self.ports.allocate()
            try:
                return RtpSocket(host, port)
            except OSError as failed:
                self.ports.release(port)
                error = failed
                log.warning("RTP port %d could not be bound (%s); trying another", port, failed)
        assert error is not None
        raise error

    def _answer(self, active: ActiveCall, now: float) -> None:
        assert self.ua is not None
        active.answer_at = None
        self.ua.answer(active.call, active.answer.sdp.serialize().encode(), now)
        active.answered_at = now
        self.metrics.calls_answered += 1
        self.store.call_answered(active.call.call_id, _utcnow())
        self.store.event(active.call.call_id, "answered", {}, _utcnow())

    def _media_host(self, call: Call) -> str:
        """The address the caller should send RTP to (SDP c=)."""
        host = self.config.advertise_host or self.config.rtp_host or self.config.sip_host
        if host in ("0.0.0.0", "::"):
            return _local_address_towards(call.source.host)
        return host

    def _reject(self, call: Call, status: int, cause: str, reason: str | None = None,
                headers: list[tuple[str, str]] | None = None) -> None:
        assert self.ua is not None
        self.metrics.count_disposition(cause)
        call_log.info(json.dumps({"event": "call_rejected", "call_id": call.call_id, "from": call.caller,
                                  "number": call.number, "status": status, "cause": cause}))
        self.ua.reject(call, status, reason, headers=headers, now=self._now())

    def _on_confirmed(self, call: Call) -> None:
        active = self.calls.get(call.call_id)
        if active is None:
            return
        if caller_facts(active.campaign):
            task = asyncio.ensure_future(self._start_flow_after_lookup(active))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._start_flow(active, {})

    async def _start_flow_after_lookup(self, active: ActiveCall) -> None:
        """Campaigns with per-caller limits or `caller.last_vote` need what the store knows of the caller
        first (the media clock sends silence meanwhile)."""
        known = await self.services.caller_variables(active.campaign, active.call.caller or "",
                                                     exclude=active.call.call_id)
        if not active.ended:
            self._start_flow(active, {"caller": known})

    def _start_flow(self, active: ActiveCall, variables: dict) -> None:
        call = active.call
        campaign = active.campaign
        session = FlowSession(campaign, channel="voice", caller=call.caller or "",
                              short_number=call.number or "", now=datetime.now(timezone.utc),
                              variables=variables)
        context = EffectContext(call_id=call.call_id, campaign_id=campaign.id,
                                caller=call.caller or "", channel="voice")
        active.conversation = VoiceConversation(
            session, active.media, self.prompts.for_campaign(campaign), self.services, context,
            hangup=lambda: self._hangup(active, "flow_end"), clock=self._now,
            transfer=lambda target: self._transfer(active, target),
            recordings_dir=self.config.data_dir / "recordings", speech=self.speech)
        active.conversation.start()
        self._record_timeline(active)

    async def _transfer(self, active: ActiveCall, target: str) -> bool:
        """Blind transfer by REFER; True when the caller's side accepted it."""
        assert self.ua is not None and self._loop is not None
        done: asyncio.Future[bool] = self._loop.create_future()

        def on_result(response: Response | None, now: float) -> None:
            if not done.done():
                done.set_result(response is not None and 200 <= response.status < 300)
        active.transfer_done = self._loop.create_future()
        self.ua.refer(active.call, target, self._now(), on_result)
        if self.transport is not None:
            self.transport.flush()
        accepted = await done
        if accepted:
            # Hang up once the caller's side reports the new call (RFC 5589), or after a grace period.
            try:
                accepted = await asyncio.wait_for(asyncio.shield(active.transfer_done), TRANSFER_REPORT_WAIT)
            except asyncio.TimeoutError:
                pass
        self.store.event(active.call.call_id, "transfer", {"target": target, "accepted": accepted}, _utcnow())
        return accepted

    def _on_modify(self, event: SessionModify) -> None:
        assert self.ua is not None
        active = self.calls.get(event.call.call_id)
        now = self._now()
        if active is None:
            self.ua.reject_modify(event.call, event.key, 481, now)
            return
        if not event.offer and event.method != "INVITE":
            self.ua.accept_modify(event.call, event.key, None, now)     # an UPDATE refreshing the dialog alone
            return
        active.sdp_version += 1
        if not event.offer:
            # A re-INVITE without SDP (session refresh): our 200 offers the call's codec again, sending and
            # receiving; the ACK brings the caller's answer (`_on_session_answer`).
            offer = sdp.make_offer(self._media_host(event.call), active.rtp.port, codecs=(active.answer.codec_name,),
                                   dtmf_pt=active.answer.dtmf_pt, session_id=self._session_id,
                                   session_version=active.sdp_version)
            self.ua.accept_modify(event.call, event.key, offer.serialize().encode(), now)
            return
        try:
            answer = sdp.negotiate(sdp.SessionDescription.parse(event.offer), self._media_host(event.call),
                                   active.rtp.port, session_id=self._session_id, session_version=active.sdp_version)
        except sdp.SdpError:
            self.ua.reject_modify(event.call, event.key, 488, now)
            return
        self._apply_answer(active, answer)
        self.ua.accept_modify(event.call, event.key, answer.sdp.serialize().encode(), now)

    def _on_session_answer(self, event: SessionAnswer) -> None:
        """The caller's answer (in its ACK) to the offer of a session refresh. An ACK cannot be refused:
        without a usable answer the call goes on as it was."""
        active = self.calls.get(event.call.call_id)
        if active is None:
            return
        try:
            answer = sdp.negotiate(sdp.SessionDescription.parse(event.answer), self._media_host(event.call),
                                   active.rtp.port, codecs=(active.answer.codec_name,),
                                   session_id=self._session_id, session_version=active.sdp_version)
        except sdp.SdpError as exc:
            log.warning("call %s: the ACK's SDP answer cannot be used (%s); media unchanged", event.call.call_id, exc)
            return
        self._apply_answer(active, answer)

    @staticmethod
    def _apply_answer(active: ActiveCall, answer: sdp.Answer) -> None:
        """Media follows a renegotiated session: codec, telephone-event type, address, hold."""
        active.answer = answer
        active.media.update_remote(answer.codec_pt, answer.dtmf_pt, answer.remote)
        active.media.set_hold(answer.direction in ("recvonly", "inactive"))

    def _on_ended(self, call: Call, cause: str) -> None:
        active = self.calls.pop(call.call_id, None)
        if active is None:
            return
        self._release(active, cause)

    # -- media ----------------------------------------------------------------------------------

    def _on_rtp(self, active: ActiveCall, data: bytes, addr: tuple[str, int], now: float) -> None:
        self.metrics.rtp_packets_received += 1
        for event in active.media.receive(data, addr, now):
            if isinstance(event, DtmfDigit):
                self._on_digit(active.call.call_id, event.digit, event.source)
            elif isinstance(event, KeyDown) and active.conversation is not None:
                active.conversation.on_key_down()

    def _on_digit(self, call_id: str, digit: str, source: str) -> None:
        active = self.calls.get(call_id)
        if active is None:
            return
        self.metrics.dtmf_events += 1
        active.digits.append(digit)
        self.store.event(call_id, "dtmf", {"digit": digit, "source": source}, _utcnow())
        if active.conversation is not None:
            active.conversation.on_digit(digit, self._now())
            self._record_timeline(active)

    def on_tick(self, tick: int, now: float) -> None:
        """Media clock listener: every call's RTP frame first (back to back, so the tick's timing holds
        for all), then per call the RTP that came since the last tick, key timeouts, dead-call detection."""
        if self.registration is not None and tick % 50 == 0:
            requests = self.registration.poll(now)
            if requests:
                self._send_register(requests)
        calls = list(self.calls.values())
        dropped = tick - self._last_tick - 1 if self._last_tick is not None else 0
        self._last_tick = tick
        sent = 0
        for active in calls:
            if active.answer_at is None:
                media = active.media
                if dropped > 0:
                    media.skip_ticks(dropped)
                packet = media.on_tick(now)
                if packet is not None and media.remote_addr is not None:
                    active.rtp.sendto(packet, media.remote_addr)
                    sent += 1
        self.metrics.rtp_packets_sent += sent
        for active in calls:
            if active.ended:
                continue
            if active.answer_at is not None:
                if now >= active.answer_at:
                    self._answer(active, now)
                    if self.transport is not None:
                        self.transport.flush()
                continue
            for data, addr in active.rtp.receive():
                self._on_rtp(active, data, addr, now)
            if active.ended:
                continue
            media = active.media
            conversation = active.conversation
            for event in media.poll(now):
                if isinstance(event, DtmfDigit):
                    self._on_digit(active.call.call_id, event.digit, event.source)
                elif isinstance(event, PlaybackFinished) and conversation is not None:
                    conversation.on_playback_finished(now)
            if conversation is not None:
                conversation.on_tick(now)
                self._record_timeline(active)
            if active.ended:
                continue
            last = media.last_received or active.answered_at or active.started
            if now - last > self.config.rtp_timeout:
                self._hangup(active, "rtp_timeout")
            elif now - active.started > self.config.max_call_seconds:
                self._hangup(active, "max_duration")

    # -- ending ---------------------------------------------------------------------------------

    def _hangup(self, active: ActiveCall, cause: str) -> None:
        """End a call from our side (flow finished, RTP timeout, shutdown)."""
        if active.ended or self.ua is None:
            return
        self.ua.hangup(active.call, self._now())
        self.calls.pop(active.call.call_id, None)
        self._release(active, cause)
        if self.transport is not None:
            self.transport.flush()

    def _release(self, active: ActiveCall, cause: str) -> None:
        if active.ended:
            return
        active.ended = True
        active.rtp.close()
        self.ports.release(active.rtp.port)
        if active.conversation is not None:
            active.conversation.on_hangup()
            self._record_timeline(active)
        duration = self._now() - active.started
        disposition = "completed" if cause in ("flow_end", "remote_bye") else cause
        self.metrics.count_disposition(disposition)
        session = active.conversation.session if active.conversation else None
        self.store.call_ended(call_id=active.call.call_id, at=_utcnow(), disposition=disposition,
                              cause=cause, path=list(session.path) if session else [])
        call_log.info(json.dumps({
            "event": "call_ended", "call_id": active.call.call_id, "from": active.call.caller,
            "number": active.call.number, "campaign": active.campaign_id, "cause": cause,
            "duration": round(duration, 3), "digits": "".join(active.digits),
            "path": list(session.path) if session else [],
            **(speech_log(active.conversation) if active.conversation else {}),
        }))

    def _record_timeline(self, active: ActiveCall) -> None:
        if active.conversation is None:
            return
        for event in active.conversation.session.drain_events():
            self.store.event(active.call.call_id, event.kind, event.data, _utcnow())


def speech_log(conversation: VoiceConversation) -> dict:
    """What the call's speech recognition did, for the call log (nothing on calls without speech)."""
    stats = conversation.stats
    if not stats.answers and not stats.barge_ins:
        return {}
    return {"speech": [{"text": r.text, "heard": r.heard, "confidence": r.confidence} for r in stats.answers],
            "barge_ins": stats.barge_ins}


def speech_languages(campaigns: list[Campaign]) -> list[str]:
    """The languages of the campaigns that have asks taking speech."""
    return sorted({language for campaign in campaigns for language in campaign.languages
                   if any(node.get("type") == "ask" and node.get("input", "dtmf") != "dtmf"
                          for node in campaign.nodes.values())})


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _local_address_towards(host: str) -> str:
    """The local address the kernel would use to reach `host` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 9))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"

