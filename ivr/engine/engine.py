"""The engine: SIP user agent + media + campaign flows + statistics store, on one event loop.

The engine does what concerns the whole node: it admits or refuses each INVITE (capacity, per-source
and per-caller limits, draining), finds the campaign on the dialled number, takes an RTP port, answers
(after ringing, with `--ring`) and hands the call to its own `VoiceCall` (`call.py`), which owns
everything of that call from then on. It routes each SIP event to its call, keeps the node registered
with a carrier trunk (`trunk.py`), and runs the one `MediaClock`: every 20 ms every call sends its RTP
frame first, then each call reads what its socket received and runs its timers. The web side sees it
through `view()`.

Calls out are `VoiceCall`s too: `place_call` sends the INVITE through the trunk (`UserAgent.invite`, digest
auth, the short number as caller id), cancels it when it rings too long, and once answered tells the call
`answered` and `confirmed` exactly as for a call in; the outbound campaigns' `Dialer` (`dialer.py`) paces
them from the same media clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
import logging
import socket

from ivr.flow.model import Campaign, speech_asks, speech_languages
from ivr.flow.validate import Issue
from ivr.media.clock import MediaClock
from ivr.media.ports import NoPortAvailable, PortAllocator
from ivr.media.session import MediaSession
from ivr.media.tts import DEFAULT_ENGINES, TtsRegistry
from ivr.media.voice_pack import TenantPacks
from ivr.sip import sdp
from ivr.channels.caller_id import normalize
from ivr.channels.dialer import Dialer, Dialled
from ivr.sip.message import parse_uri
from ivr.sip.transaction import Endpoint
from ivr.sip.transport import SipTransport
from ivr.sip.ua import (
    Call, CallConfirmed, CallEnded, CallEvent, CallOffered, Credentials, DtmfInfo, OutgoingAnswered, SessionAnswer,
    SessionModify, TransferProgress, UAConfig, UserAgent,
)
from ivr.speech.service import SpeechService

from . import admission
from .call import CallEnvironment, VoiceCall
from .call_sdp import CallSdp
from .campaign_prompts import CachedPrompts, Recordings
from .campaigns import NOT_IN_SERVICE, CampaignRegistry
from .config import EngineConfig
from .inbound import UasDialog, caller_of
from .metrics import EngineMetrics
from .outgoing import UacDialog, VoiceSender, dialled
from .rtp_socket import RtpSocket
from .trunk import POLL_TICKS, TrunkRegistration, registration_config
from .view import EngineView

log = logging.getLogger("ivr.engine")
call_log = logging.getLogger("ivr.calls")
RTP_BIND_ATTEMPTS = 8               # ports of the range tried per call before refusing it


class Engine:
    """One engine node."""

    def __init__(self, config: EngineConfig, store, services) -> None:
        self.config = config
        self.store = store
        self.services = services
        self.campaigns = CampaignRegistry(config.dialplans_dir, config.variables)
        voice_packs = config.voice_packs_dir or config.data_dir / "voice-packs"
        self.voice_packs = TenantPacks(voice_packs)
        self.prompts = CachedPrompts(
            config.prompts_dir, Recordings(config.recordings_dir or config.data_dir / "prompt-recordings"),
            owner=store.campaign_owner, registry=TtsRegistry(defaults={**DEFAULT_ENGINES, **config.tts},
                                                             voice_packs=voice_packs),
            stale_after=config.prompts_stale_after)
        self.speech = SpeechService(config.speech)
        self.metrics = EngineMetrics()
        self.ports = PortAllocator(config.rtp_port_min, config.rtp_port_max)
        self.clock = MediaClock()
        self.calls: dict[str, VoiceCall] = {}
        self.ua: UserAgent | None = None
        self.transport: SipTransport | None = None
        self.trunk: TrunkRegistration | None = None
        self.dialer: Dialer | None = None
        self.ready = False
        self.draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_tick: int | None = None
        self._answer_at: dict[str, float] = {}       # calls ringing (--ring): when to answer each
        self._ring_until: dict[str, float] = {}      # calls out not yet answered: when to give up on each
        self._outgoing_done: dict[str, Callable[[Dialled], None]] = {}   # calls out: whom to tell their result
        self.tick_listeners: list[Callable[[int, float], None]] = []     # run on each media clock tick (dialers)
        self._flush_pending = False
        self.call_env = CallEnvironment(
            recorder=store, metrics=self.metrics, services=services, prompts=self.prompts.for_campaign,
            clock=self.now, released=self._released, recordings_dir=config.data_dir / "recordings",
            speech=self.speech, rtp_timeout=config.rtp_timeout, max_seconds=config.max_call_seconds)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Load campaigns and their prompts, start the clock and SIP; returns the SIP address."""
        self._loop = asyncio.get_running_loop()
        await self.campaigns.start(self.store, self.prepare_campaigns, self.clean_prompts)
        advertise = self.config.advertise_host or self.config.sip_host
        await self.prompts.prepare([NOT_IN_SERVICE])
        self.ua = UserAgent(UAConfig(host=advertise, port=self.config.sip_port, user_agent=self.config.server_header,
                                     accept_register=self.config.accept_register,
                                     allow_from=self.config.allow_from, rates=self.config.sip_rates,
                                     max_setup=self.config.setup_limit, ack_timeout=self.config.ack_timeout,
                                     tcp_idle=self.config.tcp_idle))
        self.transport = SipTransport(self.ua, self._on_sip_events)
        host, port = await self.transport.start(self.config.sip_host, self.config.sip_port,
                                                tcp=self.config.sip_tcp)
        self.ua.config.port = port
        self.clock.start()
        self.clock.add(self)
        if self.config.register:
            contact = host if host not in ("0.0.0.0", "::") else _local_address_towards(
                parse_uri(self.config.register).host)
            self.trunk = TrunkRegistration(self.ua, registration_config(self.config, contact, port,
                                                                        self.config.server_header), self._flush_soon)
            self.trunk.start(self.now())
        if self.trunk_endpoint() is not None:
            config = self.config
            self.dialer = Dialer(self.store, VoiceSender(self), node=config.node_name or f"{socket.gethostname()}:{port}",
                                 rate=config.outbound_rate, concurrent=config.outbound_concurrent,
                                 lease=config.outbound_ring_seconds + config.max_call_seconds, clock=self.now)
            await self.dialer.start()
            self.tick_listeners.append(self.dialer.on_tick)
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
            for ask in speech_asks(campaign):
                for language in campaign.languages:
                    unknown = await self.speech.unknown_words(language, list(ask.words))
                    if unknown:
                        log.warning("campaign %s, ask %s: the %s recognizer cannot hear %s; callers must say "
                                    "another of the choice's words or press its key", campaign.id, ask.node_id,
                                    language, ", ".join(unknown))
        return issues

    async def clean_prompts(self) -> None:
        """Delete cached prompts that neither the campaigns in service nor the calls in progress play."""
        playing = [call.campaign for call in self.calls.values()]
        try:
            await self.prompts.clean([*self.campaigns.all(), NOT_IN_SERVICE, *playing])
        except Exception:
            log.exception("prompt cache: cleaning failed")

    def view(self) -> EngineView:
        """The narrow view the HTTP side uses."""
        return EngineView(self)

    def drain(self) -> None:
        """Refuse new calls (503, OPTIONS too), end the calls still waiting for their ACK at once (no flood
        of half-open calls can hold a stopping node) and let the calls in progress finish."""
        self.draining = True
        if self.dialer is not None:
            self.dialer.pause()
        if self.ua is not None:
            self.ua.accepting = False
            dropped = self.ua.drop_setups(self.now())
            self._flush()
            if dropped:
                log.info("draining: %d calls waiting for their ACK ended", dropped)

    async def stop(self) -> None:
        """Hang up every call, stop the clock and SIP."""
        self.ready = False
        await self.campaigns.stop()
        for call in list(self.calls.values()):
            call.hangup("shutdown")
        if self.dialer is not None:
            await self.dialer.stop()
        if self.trunk is not None:
            self.trunk.stop(self.now())
        if self.transport is not None:
            self.transport.flush()
            await asyncio.sleep(0.05)
            await self.transport.close()
        self.clock.stop()
        self.speech.close()

    def now(self) -> float:
        """The engine's clock (the event loop's)."""
        assert self._loop is not None
        return self._loop.time()

    def _flush_soon(self) -> None:
        """Write what the user agent has queued, once the current callback is done."""
        if self._flush_pending or self.transport is None or self._loop is None:
            return
        self._flush_pending = True
        self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self.transport is not None:
            self.transport.flush()

    # -- SIP events -----------------------------------------------------------------------------

    def _on_sip_events(self, events: list[CallEvent]) -> None:
        now = self.now()
        for event in events:
            try:
                if isinstance(event, CallOffered):
                    self._on_offer(event, now)
                    continue
                call = self.calls.get(event.call.call_id)
                if isinstance(event, SessionModify) and call is None:
                    assert self.ua is not None
                    self.ua.reject_modify(event.call, event.key, 481, now)
                elif call is None:
                    continue
                elif isinstance(event, CallConfirmed):
                    call.confirmed(event.answer, now)
                elif isinstance(event, OutgoingAnswered):
                    self._ring_until.pop(call.call_id, None)
                    call.answered(now)
                    call.confirmed(event.answer, now)
                elif isinstance(event, DtmfInfo):
                    call.on_digit(event.digit, "info", now)
                elif isinstance(event, SessionModify):
                    call.modify(event.key, event.offer, event.method, now)
                elif isinstance(event, SessionAnswer):
                    call.session_answer(event.answer, now)
                elif isinstance(event, CallEnded):
                    self._answer_at.pop(call.call_id, None)
                    call.ended_by_peer(event.cause)
                elif isinstance(event, TransferProgress):
                    call.transfer_progress(event.status, event.final)
            except Exception:
                log.exception("error handling %s", type(event).__name__)

    def _on_offer(self, offer: CallOffered, now: float) -> None:
        """A new INVITE: admit it, find its campaign, take an RTP port, then ring or answer."""
        call = offer.call
        self.metrics.calls_offered += 1
        refusal = admission.check(call, self._inbound_calls(), self.config, self.draining)
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
            description = sdp.SessionDescription.parse(offer.offer) if offer.offer.strip() else None
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
        session = CallSdp(self._media_host(call), rtp.port, session_id=sdp.session_id(call.call_id))
        if description is None:             # delayed offer (RFC 3261 13.2.1): our 200 offers, the ACK answers
            session.make_offer()
        else:
            try:
                session.answer(description)
            except sdp.NoCommonCodec:
                rtp.close()
                self.ports.release(rtp.port)
                self._reject(call, 488, "no_common_codec")
                return
        codec_pt, dtmf_pt, remote = session.media
        media = MediaSession(codec_pt, dtmf_pt, ptime=20, remote=remote, inband_dtmf=self.config.inband_dtmf,
                             signalling_host=call.source.host, drops=self.metrics.rtp_dropped)
        deployed = self.campaigns.deployed(campaign.id)
        assert self.ua is not None
        dialog = UasDialog(self.ua, call, self._flush_soon)
        voice = VoiceCall(call_id=call.call_id, caller=caller_of(call, self.config.identity, campaign.region),
                          signalled_from=call.caller or "", number=call.number or "", dialog=dialog, sdp=session,
                          rtp=rtp, media=media, campaign=campaign, version=deployed.version if deployed else None, env=self.call_env)
        self.calls[call.call_id] = voice
        voice.begin()
        if self.config.ring_seconds > 0:
            dialog.ring(now)
            self._answer_at[call.call_id] = now + self.config.ring_seconds
        else:
            self._answer(voice, now)

    # -- calls out --------------------------------------------------------------------------------

    def trunk_endpoint(self) -> tuple[Endpoint, str] | None:
        """Where calls out go (the trunk or outbound proxy, else the registrar) and the called URIs' host."""
        uri = self.config.outbound_trunk or self.config.register
        if uri is None:
            return None
        parsed = parse_uri(uri)
        transport = (parsed.params.get("transport") or "udp").upper()
        endpoint = Endpoint(transport, parsed.host.strip("[]"), parsed.port or 5060)
        return endpoint, self.config.outbound_domain or parsed.host

    def place_call(self, *, number: str, campaign: Campaign, callee: str, variables: dict,
                   on_done: Callable[[Dialled], None]) -> str:
        """Call `callee` (E.164) from the short `number` and run `campaign` once answered, with `variables`
        (`contact.*`); `on_done` gets the result when the call is over. Returns the call id. Raises
        NoPortAvailable/OSError when no RTP port can be had, RuntimeError without a trunk."""
        trunk = self.trunk_endpoint()
        if trunk is None or self.ua is None:
            raise RuntimeError("no trunk to place calls through: --outbound-trunk or --register")
        dest, domain = trunk
        if len(self.calls) >= self.config.max_calls or self.draining:
            raise RuntimeError("the node is at its --max-calls or draining")
        rtp = self._open_rtp(self.config.rtp_host or self.config.sip_host)
        media_host = self._media_host_towards(dest.host)
        try:
            session = CallSdp(media_host, rtp.port, session_id=sdp.session_id(f"{callee}{rtp.port}{self.now()}"))
            offer = session.make_offer().serialize().encode()
            config = self.config
            credentials = Credentials(config.register_user, config.register_password) if config.register_user else None
            identity = f"sip:{number}@{domain}"
            now = self.now()
            sip_call = self.ua.invite(target=f"sip:{callee}@{domain}", from_uri=identity, dest=dest, sdp=offer, now=now,
                                      credentials=credentials, asserted=identity if config.outbound_pai else None,
                                      number=number, callee=callee, local_host=self._sip_host_towards(dest.host))
        except Exception:
            rtp.close()
            self.ports.release(rtp.port)
            raise
        codec_pt, dtmf_pt, _ = session.media
        media = MediaSession(codec_pt, dtmf_pt, ptime=20, remote=None, inband_dtmf=self.config.inband_dtmf,
                             signalling_host=dest.host, drops=self.metrics.rtp_dropped)
        deployed = self.campaigns.deployed(campaign.id)
        voice = VoiceCall(call_id=sip_call.call_id, caller=normalize(callee, campaign.region or config.region),
                          signalled_from=callee, number=number, dialog=UacDialog(self.ua, sip_call, self._flush_soon),
                          sdp=session, rtp=rtp, media=media, campaign=campaign,
                          version=deployed.version if deployed else None, env=self.call_env, direction="outbound",
                          variables=variables)
        self.calls[voice.call_id] = voice
        self._ring_until[voice.call_id] = now + config.outbound_ring_seconds
        self._outgoing_done[voice.call_id] = on_done
        self.metrics.calls_placed += 1
        voice.begin()
        self._flush_soon()
        return voice.call_id

    def _sip_host_towards(self, host: str) -> str:
        """Our SIP address as `host` reaches it (bound to any address: the one the kernel would use)."""
        advertised = self.config.advertise_host or self.config.sip_host
        return _local_address_towards(host) if advertised in ("0.0.0.0", "::") else advertised

    def _media_host_towards(self, host: str) -> str:
        advertised = self.config.advertise_host or self.config.rtp_host or self.config.sip_host
        return _local_address_towards(host) if advertised in ("0.0.0.0", "::") else advertised

    def _inbound_calls(self) -> list[Call]:
        """The SIP side of the calls in progress that came in (all of them, as yet), for admission."""
        return [c.dialog.call for c in self.calls.values() if isinstance(c.dialog, UasDialog)]

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

    def _answer(self, call: VoiceCall, now: float) -> None:
        """200 OK with our answer (or our offer, for an INVITE without SDP)."""
        self._answer_at.pop(call.call_id, None)
        assert call.sdp.local is not None and isinstance(call.dialog, UasDialog)
        call.dialog.answer(call.sdp.local.serialize().encode(), now)
        call.answered(now)

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
        self.ua.reject(call, status, reason, headers=headers, now=self.now())

    def _released(self, call: VoiceCall) -> None:
        """A call has ended: out of the table, its RTP port back in the range."""
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]
        self._answer_at.pop(call.call_id, None)
        self._ring_until.pop(call.call_id, None)
        self.ports.release(call.rtp.port)
        on_done = self._outgoing_done.pop(call.call_id, None)
        if on_done is not None:
            try:
                on_done(dialled(call))
            except Exception:
                log.exception("call %s: recording the result of a call out failed", call.call_id)

    # -- the media clock ------------------------------------------------------------------------

    def on_tick(self, tick: int, now: float) -> None:
        """Media clock listener: the trunk's refresh now and then; ringing calls answered when due; every
        call's RTP frame first (back to back, so the tick's timing holds for all), then each call's tick."""
        if self.trunk is not None and tick % POLL_TICKS == 0:
            self.trunk.poll(now)
        for call_id, at in list(self._answer_at.items()):
            if now >= at and call_id in self.calls:
                self._answer(self.calls[call_id], now)
        for call_id, at in list(self._ring_until.items()):
            if now >= at and call_id in self.calls:
                self.calls[call_id].hangup("no_answer")        # CANCEL: rang too long
        for listener in self.tick_listeners:
            listener(tick, now)
        calls = list(self.calls.values())
        dropped = tick - self._last_tick - 1 if self._last_tick is not None else 0
        self._last_tick = tick
        self.metrics.rtp_packets_sent += sum(call.send_frame(now, dropped) for call in calls)
        for call in calls:
            if not call.ended:
                call.on_tick(now)


def _local_address_towards(host: str) -> str:
    """The local address the kernel would use to reach `host` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 9))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
