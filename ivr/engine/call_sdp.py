"""One call's side of the SDP offer/answer exchange (RFC 3264), whichever side made the first offer.

`CallSdp` holds what our session descriptions say for one call: the o= line's session id (one per call)
and its version (growing with each description we send), the address and RTP port of c=/m=, the media
negotiated so far (`current`) and, while we wait for the peer's answer, our offer (`offer`). It does no
I/O and knows nothing of who sent the INVITE:

- the peer offers (an INVITE or re-INVITE with SDP, an UPDATE): `answer(offer)` gives our answer;
- we offer (our 200 to an INVITE without SDP, or to a re-INVITE without SDP; later our own INVITE):
  `make_offer()`, then `take_answer(body)` with what the ACK (or the 200) brought.
"""

from __future__ import annotations

from ivr.sip import sdp

CODECS = ("PCMU", "PCMA")      # in our order of preference
DTMF_PT = 101                  # the telephone-event payload type we offer


class CallSdp:
    """The session descriptions of one call, ours and the negotiated outcome."""

    def __init__(self, host: str, port: int, session_id: int) -> None:
        self.host = host               # what c= says: where the peer sends RTP
        self.port = port               # our RTP port (m=)
        self.session_id = session_id   # o= session id, the same for the whole call
        self.version = 0               # o= version of the last description we made
        self.current: sdp.Answer | None = None          # the media negotiated (None before the first answer)
        self.offer: sdp.SessionDescription | None = None   # ours, while its answer is awaited
        self.local: sdp.SessionDescription | None = None   # the last description we made (answer or offer)

    @property
    def awaiting_answer(self) -> bool:
        return self.offer is not None

    @property
    def media(self) -> tuple[int, int | None, tuple[str, int] | None]:
        """(codec payload type, telephone-event type, the peer's RTP address) for the media now: what was
        negotiated, or before any answer our offer's first codec and no address (nothing is sent)."""
        if self.current is not None:
            return self.current.codec_pt, self.current.dtmf_pt, self.current.remote
        first = sdp.STATIC_PAYLOAD_TYPES_BY_NAME[CODECS[0]]
        return first, DTMF_PT, None

    def answer(self, offer: sdp.SessionDescription) -> sdp.Answer:
        """Our answer to the peer's offer; NoCommonCodec (no G.711 audio) leaves everything as it was."""
        answer = sdp.negotiate(offer, self.host, self.port, codecs=CODECS, session_id=self.session_id,
                               session_version=self.version + 1)
        self.version += 1
        self.current = answer
        self.local = answer.sdp
        return answer

    def make_offer(self) -> sdp.SessionDescription:
        """Our offer: the call's codec and telephone-event type once negotiated (a session refresh keeps
        them), else every codec we have; sending and receiving."""
        current = self.current
        codecs = (current.codec_name,) if current is not None else CODECS
        dtmf_pt = current.dtmf_pt if current is not None else DTMF_PT
        self.version += 1
        self.offer = self.local = sdp.make_offer(self.host, self.port, codecs=codecs, dtmf_pt=dtmf_pt,
                                                 session_id=self.session_id, session_version=self.version)
        return self.offer

    def take_answer(self, body: bytes) -> sdp.Answer:
        """The peer's answer to our offer; SdpError when there is no offer of ours, no answer, or one
        that takes none of the codecs we offered (the media stays as it was)."""
        offer, self.offer = self.offer, None
        if offer is None:
            raise sdp.SdpError("no offer of ours awaits an answer")
        if not body.strip():
            raise sdp.SdpError("no SDP answer")
        offered = tuple(name for media in offer.media for _, name, _ in media.payloads() if name in CODECS)
        self.current = sdp.negotiate(sdp.SessionDescription.parse(body), self.host, self.port, codecs=offered,
                                     session_id=self.session_id, session_version=self.version)
        return self.current
