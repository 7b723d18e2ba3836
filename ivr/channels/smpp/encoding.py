"""The text of an SMS on the air: GSM 03.38 7-bit when every character fits, UCS-2 otherwise, split into
parts with a concatenation UDH when it is too long for one.

SMPP carries GSM 7-bit unpacked (one septet an octet, data_coding 0, the SMSC's default alphabet) and
UCS-2 big-endian (data_coding 8). One part holds 160 GSM septets or 70 UCS-2 characters; a part of a
long message loses six octets to its user data header (0x05 0x00 0x03 ref total seq), leaving 153
septets or 67 characters. A character of the GSM extension table (€ [ ] { } ...) costs two septets and
is never split from its escape; a UCS-2 surrogate pair (an emoji) is never split either. The part count
is what operators charge for.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM = "gsm03.38"
DC_DEFAULT = 0x00            # SMSC default alphabet: GSM 03.38 for every SMSC we link to
DC_LATIN1 = 0x03
DC_UCS2 = 0x08
ESM_UDHI = 0x40              # esm_class: short_message starts with a user data header
SINGLE = {DC_DEFAULT: 160, DC_UCS2: 140}   # octets (septets for GSM) of one part
MAX_PARTS = 255


class EncodingError(ValueError):
    """A text that cannot be sent (too long) or octets that cannot be read."""


@dataclass(frozen=True)
class Encoded:
    """A text ready for submit_sm: the data coding and each part's short_message (UDH included when
    `esm_class` says so)."""

    data_coding: int
    parts: tuple[bytes, ...]
    esm_class: int

    @property
    def count(self) -> int:
        return len(self.parts)


def fits_gsm(text: str) -> bool:
    """Every character has a GSM 03.38 code that reads back as itself (a raw ESC does not)."""
    try:
        return text.encode(GSM).decode(GSM) == text
    except UnicodeError:
        return False


def units(text: str) -> list[bytes]:
    """The text as indivisible units of its encoding: GSM septet groups (an escape and its character stay
    together) or UCS-2 code units (a surrogate pair stays together)."""
    if fits_gsm(text):
        return [ch.encode(GSM) for ch in text]
    return [ch.encode("utf-16-be") for ch in text]


def encode(text: str, reference: int) -> Encoded:
    """The text's parts; `reference` (0-255) tells this long message's parts from another's."""
    gsm = fits_gsm(text)
    coding = DC_DEFAULT if gsm else DC_UCS2
    pieces = units(text)
    whole = b"".join(pieces)
    if len(whole) <= SINGLE[coding]:
        return Encoded(coding, (whole,), 0)
    room = SINGLE[coding] - (7 if gsm else 6)        # 153 septets (6 octets of UDH = 7 septets) or 134 octets
    chunks: list[bytes] = []
    current = b""
    for piece in pieces:
        if len(current) + len(piece) > room:
            chunks.append(current)
            current = b""
        current += piece
    chunks.append(current)
    if len(chunks) > MAX_PARTS:
        raise EncodingError(f"text too long: {len(chunks)} parts (at most {MAX_PARTS})")
    ref = reference & 0xFF
    parts = tuple(bytes([0x05, 0x00, 0x03, ref, len(chunks), i + 1]) + chunk for i, chunk in enumerate(chunks))
    return Encoded(coding, parts, ESM_UDHI)


def decode(data: bytes, data_coding: int) -> str:
    """The text of a short_message without its UDH (GSM, Latin-1 or UCS-2; other codings as Latin-1)."""
    coding = data_coding & 0x0F if data_coding & 0xF0 == 0xF0 else data_coding
    if data_coding & 0xF0 == 0xF0:                    # message class coding group: bit 2 says 8-bit data
        coding = DC_LATIN1 if data_coding & 0x04 else DC_DEFAULT
    if coding == DC_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if coding == DC_DEFAULT:
        try:
            return data.decode(GSM)
        except UnicodeError:
            return data.decode("latin-1")
    return data.decode("latin-1")


@dataclass(frozen=True)
class Segment:
    """Where a received part belongs: its long message's reference, the part count and its number."""

    reference: int
    total: int
    number: int


def split_udh(short_message: bytes) -> tuple[Segment | None, bytes]:
    """A received short_message with the UDHI flag: its concatenation element (8- or 16-bit reference;
    None when the header has none) and the payload after the header."""
    if not short_message:
        raise EncodingError("UDHI set but the message is empty")
    length = short_message[0]
    header, payload = short_message[1:1 + length], short_message[1 + length:]
    if len(header) != length:
        raise EncodingError("user data header longer than the message")
    i = 0
    segment = None
    while i + 2 <= len(header):
        iei, size = header[i], header[i + 1]
        value = header[i + 2:i + 2 + size]
        if iei == 0x00 and size == 3:
            segment = Segment(value[0], value[1], value[2])
        elif iei == 0x08 and size == 4:
            segment = Segment(int.from_bytes(value[:2], "big"), value[2], value[3])
        i += 2 + size
    return segment, payload
