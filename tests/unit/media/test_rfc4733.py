"""RFC 4733 telephone-events: one key per press through duplicates, reordering, loss and late packets."""

from __future__ import annotations

import pytest

from ivr.media.rfc4733 import (TelephoneEvent, TelephoneEventError, TelephoneEventReceiver,
                               telephone_event_packets)
from ivr.media.rtp import RtpPacket

PT = 101


def press(digit: str, timestamp: int, sequence: int = 100, ssrc: int = 7, duration_ms: int = 100) -> list[RtpPacket]:
    return telephone_event_packets(digit, payload_type=PT, ssrc=ssrc, sequence=sequence, timestamp=timestamp,
                                   duration_ms=duration_ms)


def feed(receiver: TelephoneEventReceiver, packets: list[RtpPacket], start: float = 0.0,
         step: float = 0.02) -> list[str]:
    """Feed packets 20 ms apart, through the wire format; the digits reported."""
    out: list[str] = []
    for i, packet in enumerate(packets):
        out += [e.digit for e in receiver.receive(RtpPacket.parse(packet.serialize()), start + i * step)]
    return out


def test_sender_packets_follow_rfc4733() -> None:
    packets = press("#", timestamp=2**32 - 1, sequence=65534, duration_ms=100)
    assert [p.payload.hex() for p in packets] == [
        "0b0a00a0", "0b0a0140", "0b0a01e0", "0b0a0280",       # event 11, volume 10, duration 160..640
        "0b8a0320", "0b8a0320", "0b8a0320"]                   # end bit, 800 samples, three times
    assert [p.sequence for p in packets] == [65534, 65535, 0, 1, 2, 3, 4]
    assert {p.timestamp for p in packets} == {2**32 - 1}
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.payload_type for p in packets} == {PT}


@pytest.mark.parametrize("digit, code", [("0", 0), ("9", 9), ("*", 10), ("#", 11), ("a", 12), ("D", 15)])
def test_sender_event_codes(digit: str, code: int) -> None:
    assert press(digit, 0)[0].payload[0] == code


@pytest.mark.parametrize("digit, kwargs", [("x", {}), ("12", {}), ("1", {"volume": 64}),
                                           ("1", {"duration_ms": 0}), ("1", {"duration_ms": 9000})])
def test_sender_refuses_what_cannot_be_sent(digit: str, kwargs: dict[str, int]) -> None:
    with pytest.raises(TelephoneEventError):
        telephone_event_packets(digit, payload_type=PT, ssrc=1, sequence=0, timestamp=0, **kwargs)


def test_every_key_once_with_its_duration() -> None:
    receiver = TelephoneEventReceiver()
    events: list[TelephoneEvent] = []
    for i, digit in enumerate("0123456789*#ABCD"):
        for packet in press(digit, timestamp=1000 + 2000 * i, sequence=10 * i, duration_ms=120):
            events += receiver.receive(packet, i * 0.25)
    assert "".join(e.digit for e in events) == "0123456789*#ABCD"
    assert {e.duration_ms for e in events} == {120}


def test_duplicates_and_triple_end_give_one_key() -> None:
    receiver = TelephoneEventReceiver()
    packets = press("5", 1000)
    assert feed(receiver, packets + packets + packets[::-1]) == ["5"]
    assert receiver.poll(10.0) == []


def test_reordered_presses_each_count_once() -> None:
    receiver = TelephoneEventReceiver()
    one, two = press("1", 1000, 10), press("2", 9000, 30)
    order = [one[0], two[0], one[1], one[-1], two[1], one[-2], two[-1], two[-2], one[2]]
    assert feed(receiver, order) == ["1", "2"]


def test_press_whose_start_was_lost_counts_on_its_end() -> None:
    receiver = TelephoneEventReceiver()
    ends = press("9", 5000)[-3:]
    assert feed(receiver, ends) == ["9"]
    assert receiver.receive(ends[0], 1.0) == []


def test_lost_end_is_reported_after_the_timeout() -> None:
    receiver = TelephoneEventReceiver(end_timeout=0.25)
    updates = press("7", 1000)[:4]
    assert feed(receiver, updates) == []                       # last update at t = 0.06
    assert receiver.active_digits == {"7"}
    assert receiver.poll(0.25) == []
    assert receiver.poll(0.32) == [TelephoneEvent("7", 80, 0.06)]
    assert receiver.active_digits == set()
    assert receiver.poll(0.5) == []
    assert feed(receiver, press("7", 1000)[4:], start=0.6) == []     # its end, late: already counted


def test_lost_end_is_reported_when_the_next_press_begins() -> None:
    receiver = TelephoneEventReceiver()
    assert feed(receiver, press("3", 1000)[:3]) == []
    assert feed(receiver, press("4", 3000, 20)[:1], start=0.1) == ["3"]
    assert feed(receiver, press("4", 3000, 20)[1:], start=0.12) == ["4"]


def test_same_key_twice_is_two_presses() -> None:
    receiver = TelephoneEventReceiver()
    assert feed(receiver, press("8", 1000) + press("8", 3000, 20)) == ["8", "8"]


def test_old_packets_arriving_very_late_are_not_reported_again() -> None:
    receiver = TelephoneEventReceiver(stale_after=10.0)
    old = press("6", 1000)
    assert feed(receiver, old) == ["6"]
    for i in range(300):                                       # 300 more presses: beyond the remembered ones
        feed(receiver, press("1", 2000 + 2000 * i, 10 * i), start=0.2 * i)
    assert feed(receiver, old, start=70.0) == []
    assert receiver.ignored == len(old)


def test_timestamps_wrap_around() -> None:
    receiver = TelephoneEventReceiver()
    before, after = press("1", 2**32 - 800, 10), press("2", 800, 20)
    assert feed(receiver, before[:2] + after[:1]) == ["1"]     # the wrapped timestamp is the later press
    assert feed(receiver, after[1:] + before[2:], start=0.1) == ["2"]


def test_streams_are_kept_apart_by_ssrc() -> None:
    receiver = TelephoneEventReceiver()
    a, b = press("1", 1000, ssrc=1), press("2", 1000, ssrc=2)
    assert feed(receiver, [p for pair in zip(a, b) for p in pair]) == ["1", "2"]


def test_other_events_and_short_payloads_are_ignored() -> None:
    receiver = TelephoneEventReceiver()
    flash = RtpPacket(PT, 1, 1000, 7, bytes([16, 0x8A, 0x03, 0x20]))      # event 16: hook flash
    tone = RtpPacket(PT, 2, 2000, 7, bytes([70, 0x8A, 0x03, 0x20]))
    assert receiver.receive(flash, 0.0) == receiver.receive(tone, 0.0) == []
    assert receiver.receive(RtpPacket(PT, 3, 3000, 7, b"\x01\x8a"), 0.0) == []
    assert receiver.ignored == 3
    assert receiver.active_digits == set()
