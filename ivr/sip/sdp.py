"""SDP (RFC 4566) parsing and serialization, and offer/answer (RFC 3264) for a G.711 voice endpoint.

We answer the first audio stream that offers PCMU or PCMA, choosing the codec in the caller's order,
plus telephone-event (RFC 4733) at whatever payload type the caller gave it; every other m= line is
refused with port 0. Our answer always says a=ptime:20 because we send 20 ms frames; the caller's own
preference is reported in `Answer.ptime` for the media layer to use if it can.

Lines of types we do not model (i=, u=, e=, p=, b=, z=, k=, r= and unknown letters) are accepted and
not kept: serialize() writes only what the dataclasses hold.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int]] = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}
STATIC_PAYLOAD_TYPES_BY_NAME: dict[str, int] = {name: pt for pt, (name, _) in STATIC_PAYLOAD_TYPES.items()}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
HOLD_ADDRESSES = ("0.0.0.0", "::")          # RFC 2543-style hold: "send nothing to me"
RTP_PROFILES = ("RTP/AVP", "RTP/AVPF")
DEFAULT_PTIME = 20
DTMF_EVENTS = "0-15"                         # the DTMF digits of RFC 4733
DTMF_EVENTS_WITH_FLASH = "0-16"              # answered when the caller offers event 16 (flash) too
_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                     "inactive": "inactive"}

Attribute = tuple[str, str | None]           # a=name:value, or a=name (value None)


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


class SdpError(ValueError):
    """Not a usable session description."""


class NoCommonCodec(SdpError):
    """No audio stream offers PCMU or PCMA (answer 488 Not Acceptable Here)."""


@dataclass
class Media:
    """One m= section: media type, port, transport profile, formats, its c= and a= lines."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    attributes: list[Attribute] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        """Value of the first a=`name` (None when absent or valueless)."""
        return next((value for key, value in self.attributes if key == name), None)

    def attribute_values(self, name: str) -> list[str]:
        return [value or "" for key, value in self.attributes if key == name]

    def direction(self, default: str = "sendrecv") -> str:
        return next((key for key, _ in self.attributes if key in DIRECTIONS), default)

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """Payload type → (encoding name, clock rate); static types 0 and 8 count without a=rtpmap."""
        out = {int(f): STATIC_PAYLOAD_TYPES[int(f)] for f in self.formats
               if _is_number(f) and int(f) in STATIC_PAYLOAD_TYPES}
        for value in self.attribute_values("rtpmap"):
            pt, _, encoding = value.partition(" ")
            name, _, rate = encoding.strip().partition("/")
            rate = rate.partition("/")[0]
            if _is_number(pt) and _is_number(rate):
                out[int(pt)] = (name, int(rate))
        return out

    def payloads(self) -> list[tuple[int, str, int]]:
        """(payload type, encoding name, clock rate) of the formats we can name, in m= line order."""
        rtpmap = self.rtpmap()
        return [(int(f), *rtpmap[int(f)]) for f in self.formats if _is_number(f) and int(f) in rtpmap]

    def fmtp(self, payload_type: int) -> str | None:
        """The format parameters given for `payload_type`, if any."""
        for value in self.attribute_values("fmtp"):
            pt, _, params = value.partition(" ")
            if pt == str(payload_type):
                return params.strip()
        return None


@dataclass
class SessionDescription:
    """A whole SDP body: origin, session name, session-level c= and a= lines, and media sections."""

    origin: str
    session_name: str = "-"
    connection: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    timing: str = "0 0"

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse SDP text (CRLF or LF line ends); raises SdpError when it is not SDP."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        sdp: SessionDescription | None = None
        current: Media | None = None
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
                raise SdpError(f"bad SDP line {line[:40]!r}")
            kind, value = line[0], line[2:].strip()
            if sdp is None:
                if kind != "v" or value != "0":
                    raise SdpError("SDP must start with v=0")
                sdp = cls(origin="")
            elif kind == "o":
                sdp.origin = value
            elif kind == "s":
                sdp.session_name = value
            elif kind == "t":
                sdp.timing = value
            elif kind == "c":
                if current is None:
                    sdp.connection = _connection_address(value)
                else:
                    current.connection = _connection_address(value)
            elif kind == "m":
                current = _media_line(value)
                sdp.media.append(current)
            elif kind == "a":
                name, sep, attr = value.partition(":")
                target = current.attributes if current is not None else sdp.attributes
                target.append((name.strip(), attr.strip() if sep else None))
        if sdp is None:
            raise SdpError("empty SDP")
        if not sdp.origin:
            raise SdpError("missing o= line")
        return sdp

    def serialize(self) -> str:
        """SDP text with CRLF line ends, in the order RFC 4566 prescribes."""
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        if self.connection:
            lines.append(f"c={_connection_line(self.connection)}")
        lines.append(f"t={self.timing}")
        lines += _attribute_lines(self.attributes)
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} {m.proto} {' '.join(m.formats)}")
            if m.connection:
                lines.append(f"c={_connection_line(m.connection)}")
            lines += _attribute_lines(m.attributes)
        return "\r\n".join(lines) + "\r\n"

    def session_direction(self) -> str:
        """The session-level direction attribute (sendrecv when there is none)."""
        return next((key for key, _ in self.attributes if key in DIRECTIONS), "sendrecv")


def _media_line(value: str) -> Media:
    parts = value.split()
    port_text = parts[1].partition("/")[0] if len(parts) >= 3 else ""
    if not _is_number(port_text) or int(port_text) > 65535:
        raise SdpError(f"bad m= line {value!r}")
    return Media(parts[0], int(port_text), parts[2], parts[3:])


def _connection_address(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value!r}")
    return parts[2].partition("/")[0]        # drop a multicast TTL / address count


def _connection_line(address: str) -> str:
    return f"IN {'IP6' if ':' in address else 'IP4'} {address}"


def _attribute_lines(attributes: list[Attribute]) -> list[str]:
    return [f"a={key}" if value is None else f"a={key}:{value}" for key, value in attributes]


_SESSION_KEY = secrets.token_bytes(16)


def session_id(call_id: str) -> int:
    """The o= session id of the session of one call (RFC 4566 5.2: unique per session, kept by its every
    offer and answer while the version grows): a keyed hash of the Call-ID, so it needs no state, tells
    nothing of the process, and differs between calls."""
    digest = hashlib.blake2b(call_id.encode("utf-8", "surrogateescape"), key=_SESSION_KEY, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1            # 63 bits: a positive int64 for every peer


def _origin(local_ip: str, session_id: int, session_version: int) -> str:
    return f"ivr {session_id} {session_version} {_connection_line(local_ip)}"


@dataclass
class Answer:
    """The outcome of negotiating an offer: the SDP to send back and how media will flow."""

    sdp: SessionDescription
    codec_pt: int
    codec_name: str
    dtmf_pt: int | None
    ptime: int                               # packetization the caller asked for (we advertise 20)
    remote: tuple[str, int] | None           # where to send RTP; None on hold or without an address
    direction: str                           # ours, as written in the answer
    remote_direction: str                    # the caller's, from the offer


def _usable_audio(offer: SessionDescription, codecs: tuple[str, ...]) -> tuple[int, int, str] | None:
    """(m= index, payload type, codec) of the first audio stream offering one of `codecs`."""
    wanted = {name.upper() for name in codecs}
    for index, media in enumerate(offer.media):
        if media.kind != "audio" or media.port == 0 or media.proto.upper() not in RTP_PROFILES:
            continue
        for pt, name, rate in media.payloads():
            if name.upper() in wanted and rate == 8000:
                return index, pt, name.upper()
    return None


def _telephone_event(media: Media) -> tuple[int, str] | None:
    """(payload type, events to answer) for the caller's first telephone-event/8000."""
    for pt, name, rate in media.payloads():
        if name.lower() == "telephone-event" and rate == 8000:
            offered = (media.fmtp(pt) or "").replace(" ", "").split(",")
            with_flash = any(_covers(item, 16) for item in offered)
            return pt, DTMF_EVENTS_WITH_FLASH if with_flash else DTMF_EVENTS
    return None


def _covers(item: str, event: int) -> bool:
    low, _, high = item.partition("-")
    if not _is_number(low) or not _is_number(high or low):
        return False
    return int(low) <= event <= int(high or low)


def _caller_ptime(media: Media) -> int:
    """The caller's a=ptime if it is a whole number of 10 ms frames (else 20), within its a=maxptime."""
    ptime, maxptime = media.attribute("ptime") or "", media.attribute("maxptime") or ""
    value = int(ptime) if _is_number(ptime) and int(ptime) > 0 and int(ptime) % 10 == 0 else DEFAULT_PTIME
    if _is_number(maxptime) and 0 < int(maxptime) < value:
        value = max(10, int(maxptime) // 10 * 10)
    return value


def negotiate(offer: SessionDescription, local_ip: str, local_port: int, *,
              codecs: tuple[str, ...] = ("PCMU", "PCMA"), session_id: int = 0,
              session_version: int = 1) -> Answer:
    """Answer `offer` from `local_ip`:`local_port`; raises NoCommonCodec when no audio stream fits.

    `session_version` must grow with each new answer in the same session (re-INVITE).
    """
    usable = _usable_audio(offer, codecs)
    if usable is None:
        raise NoCommonCodec("no PCMU or PCMA audio stream offered")
    chosen_index, codec_pt, codec_name = usable
    media = offer.media[chosen_index]
    dtmf = _telephone_event(media)
    remote_direction = media.direction(offer.session_direction())
    direction = _ANSWER_DIRECTION[remote_direction]
    address = media.connection or offer.connection
    held = address in HOLD_ADDRESSES
    if held and direction == "sendrecv":
        direction = "recvonly"
    formats = [str(codec_pt)]
    attributes: list[Attribute] = [("rtpmap", f"{codec_pt} {codec_name}/8000")]
    if dtmf is not None:
        formats.append(str(dtmf[0]))
        attributes += [("rtpmap", f"{dtmf[0]} telephone-event/8000"), ("fmtp", f"{dtmf[0]} {dtmf[1]}")]
    attributes += [("ptime", str(DEFAULT_PTIME)), (direction, None)]
    answer_media = [Media("audio", local_port, media.proto, formats, attributes=attributes)
                    if index == chosen_index else Media(m.kind, 0, m.proto, m.formats[:1] or ["0"])
                    for index, m in enumerate(offer.media)]
    sdp = SessionDescription(origin=_origin(local_ip, session_id, session_version), session_name="ivr",
                             connection=local_ip, media=answer_media)
    remote = None if held or not address else (address, media.port)
    return Answer(sdp, codec_pt, codec_name, dtmf[0] if dtmf else None, _caller_ptime(media), remote,
                  direction, remote_direction)


def make_offer(local_ip: str, local_port: int, *, codecs: tuple[str, ...] = ("PCMU", "PCMA"),
               dtmf_pt: int | None = 101, session_id: int = 0, session_version: int = 1,
               direction: str = "sendrecv") -> SessionDescription:
    """An audio offer with our static-type codecs in preference order, telephone-event and 20 ms."""
    by_name = STATIC_PAYLOAD_TYPES_BY_NAME
    unknown = [name for name in codecs if name.upper() not in by_name]
    if unknown or not codecs:
        raise SdpError(f"cannot offer codecs {codecs!r}: only {sorted(by_name)}")
    if direction not in DIRECTIONS:
        raise SdpError(f"unknown direction {direction!r}")
    pts = [by_name[name.upper()] for name in codecs]
    formats = [str(pt) for pt in pts]
    attributes: list[Attribute] = [("rtpmap", f"{pt} {STATIC_PAYLOAD_TYPES[pt][0]}/8000") for pt in pts]
    if dtmf_pt is not None:
        formats.append(str(dtmf_pt))
        attributes += [("rtpmap", f"{dtmf_pt} telephone-event/8000"), ("fmtp", f"{dtmf_pt} {DTMF_EVENTS}")]
    attributes += [("ptime", str(DEFAULT_PTIME)), (direction, None)]
    return SessionDescription(origin=_origin(local_ip, session_id, session_version), session_name="ivr",
                              connection=local_ip,
                              media=[Media("audio", local_port, "RTP/AVP", formats, attributes=attributes)])


def is_hold(offer: SessionDescription) -> bool:
    """Whether the offer puts us on hold: its first live audio stream is sendonly, inactive or 0.0.0.0."""
    for media in offer.media:
        if media.kind == "audio" and media.port != 0:
            return (media.direction(offer.session_direction()) in ("sendonly", "inactive")
                    or (media.connection or offer.connection) in HOLD_ADDRESSES)
    return False
