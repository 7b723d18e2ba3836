"""Which RTP a call takes: the caller's stream, latched, and nobody else's (sans-I/O).

Anyone who can reach a call's RTP port can send it packets; without a latch a stray RFC 4733 packet
would be a key the caller never pressed, and symmetric RTP would send the caller's audio to whoever
sent last. `SourceLatch` decides, packet by packet, like Asterisk's `strictrtp` and rtpengine:

* LEARNING (`LatchState.LEARNING`): at the start, and again after the SDP address is renegotiated.
  A packet from exactly the SDP address and port locks at once. A caller behind NAT sends from
  another address: a source on the SDP host or on the host the call's signalling came from is locked
  once it has sent `probation` (4) packets of one SSRC with consecutive sequence numbers. Sources on
  any other host are never learned.
* LOCKED: only the locked source address and SSRC are taken. Everything else is dropped and counted
  (`DropCounts`): another address, or another SSRC from the locked address while the locked stream
  still flows. A new stream replaces the locked one only when the locked stream has been silent for
  `relatch_after` (1 s) and the new one has passed probation from an allowed host (the same host, the
  SDP host or the signalling host): a phone whose NAT mapping changed, or a new SSRC after a transfer.
  A re-INVITE or UPDATE with a new SDP address (`renegotiate`) learns again.

Outgoing audio follows only the latch (`send_to`): the SDP address until something is locked, then
the locked source. Stray packets never move it. Packets dropped here never reach the key detectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PROBATION = 4            # consecutive packets of one stream before a source not in the SDP is learned
RELATCH_AFTER = 1.0      # s of silence of the locked stream before another may replace it


class LatchState(Enum):
    LEARNING = "learning"
    LOCKED = "locked"


class Verdict(Enum):
    """What to do with one packet."""

    ACCEPT = "accept"
    DROP_SOURCE = "source"          # from an address that is not the call's
    DROP_SSRC = "ssrc"              # from the call's address, but another stream than the locked one


@dataclass
class DropCounts:
    """Packets dropped by latches, by reason: one object shared by every call of a node (/metrics)."""

    source: int = 0
    ssrc: int = 0

    def count(self, verdict: Verdict) -> None:
        if verdict is Verdict.DROP_SOURCE:
            self.source += 1
        elif verdict is Verdict.DROP_SSRC:
            self.ssrc += 1


@dataclass
class _Candidate:
    source: tuple[str, int]
    ssrc: int
    last_seq: int
    packets: int


Address = tuple[str, int]


class SourceLatch:
    """The media source of one call. `sdp`: the address the caller's SDP gave (None: none usable);
    `signalling_host`: where its SIP came from."""

    def __init__(self, sdp: Address | None, signalling_host: str | None = None, probation: int = PROBATION,
                 relatch_after: float = RELATCH_AFTER, drops: DropCounts | None = None) -> None:
        self.sdp = sdp
        self.signalling_host = signalling_host
        self.probation = probation
        self.relatch_after = relatch_after
        self.drops = drops if drops is not None else DropCounts()
        self.state = LatchState.LEARNING
        self.source: Address | None = None       # the locked source
        self.ssrc: int | None = None
        self.last_accepted: float | None = None
        self.dropped = DropCounts()               # this call's own
        self._candidate: _Candidate | None = None

    @property
    def send_to(self) -> Address | None:
        """Where our audio goes: the locked source, else the SDP address."""
        return self.source if self.source is not None else self.sdp

    def check(self, source: Address, ssrc: int, seq: int, now: float) -> Verdict:
        """Whether a valid RTP packet (its source, SSRC and sequence number) belongs to the call."""
        if self.source is not None and source == self.source and ssrc == self.ssrc:
            self.last_accepted = now
            self._candidate = None
            return Verdict.ACCEPT
        if source == self.sdp and self.state is LatchState.LEARNING:
            return self._lock(source, ssrc, now)
        verdict = self._learn(source, ssrc, seq, now)
        if verdict is not Verdict.ACCEPT:
            self.dropped.count(verdict)
            self.drops.count(verdict)
        return verdict

    def renegotiate(self, sdp: Address | None) -> None:
        """The caller's SDP changed address (re-INVITE, UPDATE): learn again. The stream locked so far is
        still taken until another is locked."""
        if sdp == self.sdp:
            return
        self.sdp = sdp
        self._candidate = None
        if sdp is None:                              # c=0.0.0.0 hold: send nothing, learn afresh
            self.source = self.ssrc = None
        if self.source is None or self.source != sdp:
            self.state = LatchState.LEARNING
            self.last_accepted = None                # the old stream may be replaced at once

    # -- internals ------------------------------------------------------------------------------------

    def _lock(self, source: Address, ssrc: int, now: float) -> Verdict:
        self.state = LatchState.LOCKED
        self.source, self.ssrc, self.last_accepted = source, ssrc, now
        self._candidate = None
        return Verdict.ACCEPT

    def _allowed_host(self, host: str) -> bool:
        hosts = {self.signalling_host, self.sdp[0] if self.sdp else None,
                 self.source[0] if self.source else None}
        return host in hosts

    def _learn(self, source: Address, ssrc: int, seq: int, now: float) -> Verdict:
        locked = self.source is not None
        refused = Verdict.DROP_SSRC if locked and source == self.source else Verdict.DROP_SOURCE
        if (self.state is LatchState.LOCKED and self.last_accepted is not None
                and now - self.last_accepted < self.relatch_after):
            return refused                                   # the locked stream still flows
        if not self._allowed_host(source[0]):
            return refused
        candidate = self._candidate
        if (candidate is None or (candidate.source, candidate.ssrc) != (source, ssrc)
                or seq != (candidate.last_seq + 1) % 65536):
            self._candidate = _Candidate(source, ssrc, seq, 1)
        else:
            candidate.last_seq, candidate.packets = seq, candidate.packets + 1
        if self._candidate.packets >= self.probation:
            return self._lock(source, ssrc, now)
        return refused
