"""SDP (RFC 4566) parsing/serialization and the answerer's side of offer/answer (RFC 3264).

We answer audio with PCMU or PCMA, whichever the caller lists first, plus telephone-event at the
payload type the caller chose; other media lines are refused with port 0. We always send 20 ms
frames and say so with a=ptime:20.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATIC_TYPES = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


class SdpError(ValueError):
    """Not a usable session description."""


class NoCommonCodec(SdpError):
    """Neither PCMU nor PCMA was offered (answer 488)."""


@dataclass
class Media:
    """One m= section."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    def attribute_values(self, name: str) -> list[str]:
        return [v or "" for k, v in self.attributes if k == name]

    def direction(self, default: str = "sendrecv") -> str:
        for key, _ in self.attributes:
            if key in DIRECTIONS:
                return key
        return default

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """Payload type → (encoding name, clock rate), static types included."""
        out: dict[int, tuple[str, int]] = {}
        for fmt in self.formats:
            if fmt.isdigit() and int(fmt) in STATIC_TYPES:
                out[int(fmt)] = STATIC_TYPES[int(fmt)]
        for value in self.attribute_values("rtpmap"):
            pt, _, rest = value.partition(" ")
            name, _, rate = rest.partition("/")
            if pt.isdigit() and rate.split("/")[0].isdigit():
                out[int(pt)] = (name.strip(), int(rate.split("/")[0]))
        return out


@dataclass
class SessionDescription:
    origin: str
    session_name: str = "-"
    connection: str | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    version: int = 0
    timing: str = "0 0"

    @classmethod
    def parse(cls, data: bytes | str) -> "SessionDescription":
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        sdp: SessionDescription | None = None
        current: Media | None = None
        for raw in text.replace("\r\n", "\n").split("\n"):
            line = raw.strip()
            if not line:
                continue
            if len(line) < 2 or line[1] != "=":
                raise SdpError(f"bad SDP line {line[:40]!r}")
            kind, value = line[0], line[2:]
            if kind == "v":
                if value.strip() != "0":
                    raise SdpError("unsupported SDP version")
                sdp = cls(origin="")
                continue
            if sdp is None:
                raise SdpError("SDP must start with v=0")
            if kind == "o":
                sdp.origin = value
            elif kind == "s":
                sdp.session_name = value
            elif kind == "t":
                sdp.timing = value
            elif kind == "c":
                address = _connection_address(value)
                if current is None:
                    sdp.connection = address
                else:
                    current.connection = address
            elif kind == "m":
                parts = value.split()
                if len(parts) < 3 or not parts[1].split("/")[0].isdigit():
                    raise SdpError(f"bad m= line {value!r}")
                current = Media(parts[0], int(parts[1].split("/")[0]), parts[2], parts[3:])
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
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        if self.connection:
            lines.append(f"c={_connection_line(self.connection)}")
        lines.append(f"t={self.timing}")
        lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in self.attributes]
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} {m.proto} {' '.join(m.formats)}")
            if m.connection:
                lines.append(f"c={_connection_line(m.connection)}")
            lines += [f"a={k}" if v is None else f"a={k}:{v}" for k, v in m.attributes]
        return "\r\n".join(lines) + "\r\n"

    def session_direction(self) -> str:
        for key, _ in self.attributes:
            if key in DIRECTIONS:
                return key
        return "sendrecv"


def _connection_address(value: str) -> str:
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value!r}")
    return parts[2].split("/")[0]


def _connection_line(address: str) -> str:
    return f"IN {'IP6' if ':' in address else 'IP4'} {address}"


@dataclass
class Answer:
    """The result of negotiation: what to send back and how media will flow."""

    sdp: SessionDescription
    codec_pt: int
    codec_name: str
    dtmf_pt: int | None
    ptime: int
    remote: tuple[str, int] | None
    direction: str                      # ours
    remote_direction: str


def negotiate(offer: SessionDescription, local_ip: str, local_port: int, *,
              codecs: tuple[str, ...] = ("PCMU", "PCMA"), session_id: int = 0,
              session_version: int = 1) -> Answer:
    """Answer `offer`: the first audio stream with a codec we speak, in the caller's order."""
    chosen: tuple[int, str] | None = None
    chosen_index = -1
    for index, media in enumerate(offer.media):
        if media.kind != "audio" or media.port == 0 or "RTP/AVP" not in media.proto:
            continue
        rtpmap = media.rtpmap()
        for fmt in media.formats:
            if fmt.isdigit():
                name, rate = rtpmap.get(int(fmt), ("", 0))
                if name.upper() in codecs and rate == 8000:
                    chosen = (int(fmt), name.upper())
                    break
        if chosen is not None:
            chosen_index = index
            break
    if chosen is None:
        raise NoCommonCodec("no PCMU or PCMA audio stream offered")
    media = offer.media[chosen_index]
    rtpmap = media.rtpmap()
    dtmf_pt = next((pt for pt, (name, rate) in rtpmap.items()
                    if name.lower() == "telephone-event" and rate == 8000 and str(pt) in media.formats), None)
    remote_direction = media.direction(offer.session_direction())
    direction = _ANSWER_DIRECTION[remote_direction]
    address = media.connection or offer.connection
    held = address in ("0.0.0.0", "::")
    if held and direction == "sendrecv":
        direction = "recvonly"            # RFC 2543-style hold
    remote = None if held or not address else (address, media.port)
    ptime_text = media.attribute("ptime")
    ptime = int(ptime_text) if ptime_text and ptime_text.isdigit() else 20
    answer_media: list[Media] = []
    for index, m in enumerate(offer.media):
        if index != chosen_index:
            answer_media.append(Media(m.kind, 0, m.proto, m.formats[:1] or ["0"]))
            continue
        formats = [str(chosen[0])]
        attributes: list[tuple[str, str | None]] = [("rtpmap", f"{chosen[0]} {chosen[1]}/8000")]
        if dtmf_pt is not None:
            formats.append(str(dtmf_pt))
            attributes += [("rtpmap", f"{dtmf_pt} telephone-event/8000"), ("fmtp", f"{dtmf_pt} 0-15")]
        attributes += [("ptime", "20"), (direction, None)]
        answer_media.append(Media("audio", local_port, m.proto, formats, attributes=attributes))
    sdp = SessionDescription(origin=f"ivr {session_id} {session_version} IN {'IP6' if ':' in local_ip else 'IP4'} {local_ip}",
                             session_name="ivr", connection=local_ip, media=answer_media)
    return Answer(sdp, chosen[0], chosen[1], dtmf_pt, ptime, remote, direction, remote_direction)
