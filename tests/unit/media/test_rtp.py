"""RTP packets (RFC 3550) and our sending stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.media.rtp import RtpError, RtpPacket, RtpSender, timestamp_after


def test_header_layout_of_a_plain_packet() -> None:
    data = RtpPacket(8, 0x1234, 0x89ABCDEF, 0xCAFEBABE, b"\xd5" * 160, marker=True).serialize()
    assert data[:12] == bytes.fromhex("80 88 1234 89abcdef cafebabe")
    assert data[12:] == b"\xd5" * 160


def test_round_trip_with_csrcs_and_extension() -> None:
    packet = RtpPacket(0, 65535, 2**32 - 1, 7, b"voice", marker=True, csrcs=(1, 2, 3),
                       extension=(0xBEDE, b"\x10\xff\x00\x00"))
    data = packet.serialize()
    assert data[0] == 0x80 | 0x10 | 3
    assert RtpPacket.parse(data) == packet


def test_padding_is_removed_from_the_payload() -> None:
    head = bytearray(RtpPacket(0, 1, 2, 3, b"").serialize())
    head[0] |= 0x20
    assert RtpPacket.parse(bytes(head) + b"abc" + b"\x00\x00\x00\x04").payload == b"abc"
    assert RtpPacket.parse(bytes(head) + b"\x01").payload == b""


@pytest.mark.parametrize("data, reason", [
    (b"\x80\x00\x00", "shorter"),
    (b"\x40" + bytes(11), "version"),
    (b"\xc0" + bytes(11), "version"),
    (b"\x82" + bytes(11) + bytes(4), "CSRC"),                                 # says 2 CSRCs, has 1
    (b"\x90" + bytes(11) + b"\xbe\xde", "extension"),                          # extension header cut
    (b"\x90" + bytes(11) + b"\xbe\xde\x00\x02" + bytes(4), "extension"),       # 2 words announced, 1 there
    (b"\xa0" + bytes(11) + b"ab\x00", "padding"),                              # padding count 0
    (b"\xa0" + bytes(11) + b"ab\x09", "padding"),                              # more padding than payload
    (b"\xb0" + bytes(11) + b"\xbe\xde\x00\x01" + bytes(3) + b"\x02", "extension"),  # padding eats the extension
])
def test_malformed_packets_raise(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        RtpPacket.parse(data)


@pytest.mark.parametrize("packet", [
    RtpPacket(128, 0, 0, 0, b""),
    RtpPacket(0, 65536, 0, 0, b""),
    RtpPacket(0, 0, 2**32, 0, b""),
    RtpPacket(0, 0, 0, -1, b""),
    RtpPacket(0, 0, 0, 0, b"", csrcs=tuple(range(16))),
    RtpPacket(0, 0, 0, 0, b"", extension=(1, b"abc")),
])
def test_fields_out_of_range_are_refused(packet: RtpPacket) -> None:
    with pytest.raises(RtpError):
        packet.serialize()


@given(st.binary(max_size=80))
def test_parse_raises_only_rtp_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        return
    assert len(packet.payload) <= len(data) - 12


@given(pt=st.integers(0, 127), seq=st.integers(0, 65535), ts=st.integers(0, 2**32 - 1),
       ssrc=st.integers(0, 2**32 - 1), payload=st.binary(max_size=40), marker=st.booleans(),
       csrcs=st.lists(st.integers(0, 2**32 - 1), max_size=15),
       extension=st.none() | st.tuples(st.integers(0, 65535), st.binary(max_size=12).map(lambda b: b[:len(b) // 4 * 4])))
def test_any_valid_packet_round_trips(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool,
                                      csrcs: list[int], extension: tuple[int, bytes] | None) -> None:
    packet = RtpPacket(pt, seq, ts, ssrc, payload, marker, tuple(csrcs), extension)
    assert RtpPacket.parse(packet.serialize()) == packet


def test_sender_starts_at_random_values() -> None:
    senders = [RtpSender() for _ in range(8)]
    assert len({s.ssrc for s in senders}) == 8
    assert len({(s.sequence, s.timestamp) for s in senders}) == 8


def test_sender_wraps_sequence_and_timestamp() -> None:
    sender = RtpSender()
    sender.sequence, sender.timestamp = 65535, 2**32 - 80
    first = RtpPacket.parse(sender.packet(0, b"x" * 160, 160, marker=True))
    second = RtpPacket.parse(sender.packet(0, b"y" * 160, 160))
    assert (first.sequence, second.sequence) == (65535, 0)
    assert (first.timestamp, second.timestamp) == (2**32 - 80, 80)
    assert first.marker and not second.marker
    assert first.ssrc == second.ssrc == sender.ssrc
    assert (sender.packets, sender.octets) == (2, 320)


def test_skipped_time_moves_the_timestamp_but_not_the_sequence() -> None:
    sender = RtpSender()
    sender.sequence, sender.timestamp = 10, 1000
    sender.skip(160 * 5)
    packet = RtpPacket.parse(sender.packet(0, b"", 160))
    assert (packet.sequence, packet.timestamp) == (10, 1800)


def test_timestamp_order_across_the_wrap() -> None:
    assert timestamp_after(10, 2**32 - 10)
    assert not timestamp_after(2**32 - 10, 10)
    assert timestamp_after(1000, 999) and not timestamp_after(999, 1000)
    assert not timestamp_after(5, 5)
