"""RTP, G.711, RFC 4733 receive, the media clock, the player and a call's media session."""

from __future__ import annotations

import audioop
import math
import struct

import pytest

from ivr.media import g711
from ivr.media.clock import TickSchedule
from ivr.media.player import PlaybackFinished, PlaybackStarted, Player
from ivr.media.ports import NoPortAvailable, PortAllocator
from ivr.media.rfc4733 import TelephoneEventReceiver, telephone_event_payloads
from ivr.media.rtp import RtpError, RtpPacket, RtpSender
from ivr.media.session import DtmfDigit, MediaSession


def sine(freq: float, ms: int, amp: int = 8000) -> bytes:
    n = 8 * ms
    return struct.pack(f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n)))


def test_rtp_round_trip_with_csrc_extension_and_padding() -> None:
    packet = RtpPacket(8, 65535, 2**32 - 1, 0xDEADBEEF, b"abc", marker=True, csrcs=[1, 2])
    assert RtpPacket.parse(packet.serialize()) == packet
    ext = bytearray(RtpPacket(0, 1, 2, 3, b"").serialize())
    ext[0] |= 0x10 | 0x20
    ext += struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4 + b"pay" + b"\x00\x02"
    parsed = RtpPacket.parse(bytes(ext))
    assert parsed.payload == b"pay"
    for bad in (b"\x80\x00", b"\x40" + b"\x00" * 11, b"\x8f" + b"\x00" * 11):
        with pytest.raises(RtpError):
            RtpPacket.parse(bad)


def test_sender_wraps_sequence_and_advances_timestamp() -> None:
    sender = RtpSender()
    sender.sequence, sender.timestamp = 65535, 2**32 - 80
    first = RtpPacket.parse(sender.packet(0, b"x" * 160, 160, marker=True))
    second = RtpPacket.parse(sender.packet(0, b"x" * 160, 160))
    assert (first.sequence, second.sequence) == (65535, 0)
    assert second.timestamp == 80 and first.marker and not second.marker


@pytest.mark.parametrize("pt", [g711.PCMU, g711.PCMA])
def test_g711_round_trip_is_close(pt: int) -> None:
    pcm = sine(1000, 20)
    decoded = g711.decode(pt, g711.encode(pt, pcm))
    assert len(decoded) == len(pcm)
    error = audioop.rms(audioop.add(pcm, audioop.mul(decoded, 2, -1), 2), 2)
    assert error < audioop.rms(pcm, 2) * 0.05


def event_packets(digit: str, ts: int, seq: int, ssrc: int = 7) -> list[RtpPacket]:
    return [RtpPacket(101, seq + i, ts, ssrc, p, marker=(i == 0))
            for i, p in enumerate(telephone_event_payloads(digit, duration_ms=100))]


def test_one_digit_per_event_despite_three_end_packets_and_duplicates() -> None:
    rx = TelephoneEventReceiver()
    packets = event_packets("5", 1000, 10)
    got = [e.digit for p in packets + packets for e in rx.receive(p, 0.0)]
    assert got == ["5"]


def test_reordered_and_lossy_events() -> None:
    rx = TelephoneEventReceiver()
    first, second = event_packets("1", 1000, 10), event_packets("2", 9000, 30)
    got = [e.digit for p in [second[0], first[2], first[-1], second[-1], first[0]] for e in rx.receive(p, 0.0)]
    assert got == ["1", "2"]


def test_lost_end_reported_on_timeout_and_same_digit_twice_counts_twice() -> None:
    rx = TelephoneEventReceiver(end_timeout=0.25)
    updates = [p for p in event_packets("7", 1000, 1) if not p.payload[1] & 0x80]
    assert [e for p in updates for e in rx.receive(p, 0.0)] == []
    assert rx.poll(0.1) == []
    assert [e.digit for e in rx.poll(0.3)] == ["7"]
    again = event_packets("7", 9000, 20)
    assert [e.digit for p in again for e in rx.receive(p, 1.0)] == ["7"]


def test_schedule_has_no_drift_over_ten_minutes() -> None:
    schedule = TickSchedule(start=100.0)
    now, delivered = 100.0, 0
    for _ in range(30000):
        now += 0.020 + 0.0007                         # a timer that always fires late...
        delivered += len(schedule.due(now))
        now = max(now, schedule.next_deadline() - 0.0)  # ...and the loop re-arms at the absolute time
    expected = math.floor((now - 100.0) / 0.020) + 1
    assert abs(delivered + schedule.stats.skipped_ticks - expected) <= 1
    assert schedule.stats.skipped_ticks == 0


def test_schedule_catches_up_without_bursts_and_resyncs_when_far_behind() -> None:
    schedule = TickSchedule(start=0.0, max_catchup=2, resync_after=0.2)
    assert schedule.due(0.0) == [0]
    assert schedule.due(0.1) == [1, 2]                # 4 ticks late: only 2 now
    assert schedule.due(0.1) == [3, 4]
    assert schedule.due(0.11) == [5]
    assert schedule.due(0.11) == []
    assert schedule.due(1.0) == [50]                  # far behind: skip to now, count the rest
    assert schedule.stats.skipped_ticks == 44


def test_player_plays_back_to_back_and_stops_on_barge_in() -> None:
    player = Player()
    player.play("a", b"\x01\x00" * 200)
    player.play("b", b"\x02\x00" * 200)
    frames = [player.next_frame() for _ in range(3)]
    assert frames[1][:80] == b"\x01\x00" * 40 and frames[1][80:82] == b"\x02\x00"   # no gap between prompts
    assert frames[2][-2:] == b"\x00\x00"                                              # padded at the very end
    assert player.next_frame() is None
    assert [type(e) for e in player.drain_events()] == [PlaybackStarted, PlaybackFinished, PlaybackStarted,
                                                       PlaybackFinished]
    player.play("c", b"\x03\x00" * 1000)
    player.next_frame()
    player.stop()
    assert not player.playing and player.next_frame() is None
    assert player.drain_events()[-1] == PlaybackFinished("c", interrupted=True)


def test_session_sends_prompt_then_silence_and_latches_to_rtp_source() -> None:
    session = MediaSession(g711.PCMA, 101, remote=("10.0.0.1", 4000))
    session.play("p", sine(440, 40))
    packets = [RtpPacket.parse(session.on_tick(0.02 * i)) for i in range(3)]
    assert [p.marker for p in packets] == [True, False, False]
    assert packets[2].payload == g711.encode(g711.PCMA, g711.SILENCE_FRAME)
    assert packets[1].timestamp - packets[0].timestamp == 160
    assert any(isinstance(e, PlaybackFinished) for e in session.poll(0.1))
    inbound = RtpPacket(8, 1, 1, 99, g711.encode(8, g711.SILENCE_FRAME)).serialize()
    session.receive(inbound, ("192.0.2.7", 5004), 0.2)
    assert session.remote_addr == ("192.0.2.7", 5004) and session.last_received == 0.2
    session.set_hold(True)
    assert session.on_tick(0.3) is None


def test_session_reports_rfc4733_digit_and_ignores_garbage() -> None:
    session = MediaSession(g711.PCMU, 96)
    events = []
    for p in [RtpPacket(96, 5 + i, 800, 3, pl) for i, pl in enumerate(telephone_event_payloads("#"))]:
        events += session.receive(p.serialize(), ("127.0.0.1", 9), 0.0)
    assert events == [DtmfDigit("#", "rfc4733", 100)]
    assert session.receive(b"\x00garbage", ("127.0.0.1", 9), 0.0) == []
    assert session.stats.bad_packets == 1


def test_port_allocator_hands_out_even_ports_and_reuses_released() -> None:
    ports = PortAllocator(10001, 10007)
    got = [ports.allocate() for _ in range(3)]
    assert got == [10002, 10004, 10006]
    with pytest.raises(NoPortAvailable):
        ports.allocate()
    ports.release(10004)
    assert ports.allocate() == 10004
