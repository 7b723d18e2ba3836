"""A call's media session, fed datagrams and ticks as the call layer does, with fake time."""

from __future__ import annotations

import pytest

from ivr.media import g711
from ivr.media.player import PlaybackFinished, PlaybackStarted
from ivr.media.rfc4733 import telephone_event_packets
from ivr.media.rtp import RtpPacket
from ivr.media.session import DtmfDigit, KeyDown, MediaSession, MediaSessionError

from .signals import pcm, silence, tone

CALLER = ("198.51.100.7", 40000)
NAT = ("203.0.113.9", 61000)
DTMF_PT = 101


def ticks(session: MediaSession, count: int, start: float = 0.0) -> list[RtpPacket | None]:
    out = []
    for i in range(count):
        data = session.on_tick(start + 0.02 * i)
        out.append(RtpPacket.parse(data) if data is not None else None)
    return out


class Caller:
    """The far end: sends G.711 audio frames and RFC 4733 events, 20 ms apart."""

    def __init__(self, codec_pt: int = g711.PCMU, source: tuple[str, int] = CALLER) -> None:
        self.codec_pt, self.source = codec_pt, source
        self.sequence, self.timestamp, self.now = 1000, 50000, 0.0
        self.ssrc = 0xABC

    def audio(self, session: MediaSession, audio: bytes) -> list[object]:
        """Send `audio` in 20 ms packets; events the session returned."""
        events: list[object] = []
        for i in range(0, len(audio), 320):
            events += self._send(session, RtpPacket(self.codec_pt, self.sequence, self.timestamp, 0xABC,
                                                    g711.encode(self.codec_pt, audio[i:i + 320])))
            self.timestamp += 160
        return events

    def key(self, session: MediaSession, digit: str, audio: bytes | None = None, lose: slice = slice(0)
            ) -> list[object]:
        """A key press of 100 ms by RFC 4733, one event packet per 20 ms (those in `lose` lost), each
        with a frame of `audio` (then silence) if given."""
        packets = telephone_event_packets(digit, payload_type=DTMF_PT, ssrc=0xABC, sequence=0,
                                          timestamp=self.timestamp)
        lost = set(range(len(packets))[lose])
        events: list[object] = []
        for i, event in enumerate(packets):
            if audio is not None:
                events += self.audio(session, audio[i * 320:(i + 1) * 320] or pcm(silence(20)))
            else:
                self.timestamp += 160
            if i not in lost:
                events += self._send(session, event)
        return events

    def _send(self, session: MediaSession, packet: RtpPacket) -> list[object]:
        packet = RtpPacket(packet.payload_type, self.sequence & 0xFFFF, packet.timestamp, self.ssrc,
                           packet.payload, packet.marker)
        self.sequence += 1
        self.now += 0.02
        return list(session.receive(packet.serialize(), self.source, self.now))


def test_prompt_then_silence_with_marker_sequence_and_timestamps() -> None:
    session = MediaSession(g711.PCMA, DTMF_PT, remote=CALLER)
    prompt = pcm(tone("1", 40))                                   # two frames
    session.play("welcome", prompt)
    packets = ticks(session, 4)
    assert all(p is not None and p.payload_type == g711.PCMA for p in packets)
    first, second, third, fourth = packets
    assert [p.marker for p in packets] == [True, False, False, False]
    assert [p.sequence - first.sequence for p in packets] == [0, 1, 2, 3]
    assert [(p.timestamp - first.timestamp) & 0xFFFFFFFF for p in packets] == [0, 160, 320, 480]
    assert len({p.ssrc for p in packets}) == 1
    assert first.payload + second.payload == g711.encode(g711.PCMA, prompt)
    assert third.payload == fourth.payload == g711.encode(g711.PCMA, g711.SILENCE_FRAME)
    assert session.poll(0.1) == [PlaybackStarted("welcome"), PlaybackFinished("welcome", interrupted=False)]
    assert (session.stats.packets_sent, session.stats.bytes_sent) == (4, 640)


def test_marker_on_each_talkspurt_after_silence() -> None:
    session = MediaSession(g711.PCMU, None, remote=CALLER)
    before = ticks(session, 2)
    session.play("beep", pcm(tone("2", 20)))
    during = ticks(session, 2, start=0.04)
    assert [p.marker for p in before + during] == [True, False, True, False]


def test_hold_sends_nothing_pauses_the_prompt_and_the_timestamp_runs_on() -> None:
    session = MediaSession(g711.PCMU, None, remote=CALLER)
    frames = [bytes([n, 0]) * 160 for n in range(1, 20)]               # each 20 ms frame its own level
    session.play("long", b"".join(frames))
    (last,) = ticks(session, 1)
    session.set_hold(True)
    assert ticks(session, 5, start=0.02) == [None] * 5
    session.set_hold(False)
    (resumed,) = ticks(session, 1, start=0.12)
    assert resumed.sequence == (last.sequence + 1) & 0xFFFF
    assert (resumed.timestamp - last.timestamp) & 0xFFFFFFFF == 160 * 6    # the held frames' time passed
    assert resumed.payload == g711.encode(g711.PCMU, frames[1])           # the prompt goes on where it was
    assert resumed.marker
    assert session.stats.packets_sent == 2


def test_ticks_the_clock_dropped_move_the_timestamp_not_the_prompt() -> None:
    session = MediaSession(g711.PCMU, None, remote=CALLER)
    prompt = pcm(silence(20)) + b"\x01\x00" * 160 + b"\x02\x00" * 160
    session.play("p", prompt)
    first, second = ticks(session, 2)
    session.skip_ticks(12)                                       # the clock resynchronised 240 ms later
    (resumed,) = ticks(session, 1, start=0.3)
    assert resumed.sequence == (second.sequence + 1) & 0xFFFF
    assert (resumed.timestamp - second.timestamp) & 0xFFFFFFFF == 160 * 13
    assert resumed.payload == g711.encode(g711.PCMU, b"\x02\x00" * 160)    # the prompt's next frame


def test_no_packets_without_an_address_until_rtp_arrives_from_the_signalling_host() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=None, signalling_host=NAT[0])
    assert ticks(session, 3) == [None] * 3
    Caller(source=NAT).audio(session, pcm(silence(80)))           # probation: 4 packets of one stream
    (packet,) = ticks(session, 1)
    assert packet is not None and packet.marker
    assert session.remote_addr == NAT


def test_the_caller_behind_nat_is_learned_and_others_never_move_the_audio() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, signalling_host=NAT[0])
    session.receive(b"\x00 not rtp at all", NAT, 0.1)
    Caller(source=NAT).audio(session, pcm(silence(80)))            # the NAT's address: learned after 4
    assert session.remote_addr == NAT and session.last_received == pytest.approx(0.08)
    assert (session.stats.bad_packets, session.stats.dropped, session.stats.packets_received) == (1, 3, 1)
    attacker = Caller(source=("192.0.2.66", 5004))
    assert attacker.key(session, "5") == []                         # another host: never a key
    attacker.audio(session, pcm(silence(200)))
    assert session.remote_addr == NAT and session.stats.dropped == 3 + 7 + 10       # probation, key, audio
    assert session.latch.dropped.source == 3 + 7 + 10


def test_a_packet_from_the_sdp_address_latches_at_once_and_other_ports_of_the_host_are_refused() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, signalling_host="192.0.2.1", inband_dtmf=False)
    caller = Caller()
    caller.audio(session, pcm(silence(20)))
    assert session.latch.source == CALLER and session.stats.packets_received == 1
    spoof = Caller(source=(CALLER[0], CALLER[1] + 2))               # same host, another port, while we talk
    assert spoof.key(session, "9") == []
    assert caller.key(session, "1")[-1] == DtmfDigit("1", "rfc4733", 100)


def test_a_new_stream_of_the_same_source_replaces_the_old_only_after_it_stopped() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, inband_dtmf=False)
    caller = Caller()
    caller.audio(session, pcm(silence(40)))
    other = RtpPacket(g711.PCMU, 7, 0, 0xDEF, b"\xff" * 160).serialize()
    assert session.receive(other, CALLER, caller.now) == [] and session.latch.dropped.ssrc == 1
    restarted = Caller()
    restarted.now = caller.now + 1.5                                # the old stream is silent for 1.5 s
    restarted.ssrc = 0x777
    restarted.audio(session, pcm(silence(100)))
    assert session.latch.ssrc == 0x777


def test_reinvite_changes_codec_and_address() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, signalling_host=NAT[0])
    Caller(source=NAT).audio(session, pcm(silence(80)))
    session.update_remote(g711.PCMU, DTMF_PT, CALLER)                # same SDP address: keep the latched one
    assert session.remote_addr == NAT
    moved = ("192.0.2.50", 30000)
    session.update_remote(g711.PCMA, 96, moved)
    Caller(source=moved).audio(session, pcm(silence(20)))           # the new SDP address latches at once
    assert session.remote_addr == moved
    (packet,) = ticks(session, 1)
    assert packet is not None and packet.payload_type == g711.PCMA
    session.update_remote(g711.PCMA, 96, None)                       # c=0.0.0.0 style hold
    assert ticks(session, 1) == [None]
    with pytest.raises(MediaSessionError):
        session.update_remote(18, 96, moved)


def test_rfc4733_keys_one_per_press_announced_by_their_first_packet() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, inband_dtmf=False)
    caller = Caller()
    assert caller.key(session, "#") == [KeyDown("#"), DtmfDigit("#", "rfc4733", 100)]
    assert caller.key(session, "#") == [KeyDown("#"), DtmfDigit("#", "rfc4733", 100)]
    packets = telephone_event_packets("5", payload_type=DTMF_PT, ssrc=0xABC, sequence=0, timestamp=caller.timestamp)
    assert caller._send(session, packets[0]) == [KeyDown("5")]        # at once, not when the key ends
    assert caller._send(session, packets[1]) == []


def test_rfc4733_key_whose_end_was_lost_comes_from_poll() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, dtmf_end_timeout=0.25)
    caller = Caller()
    assert caller.key(session, "4", lose=slice(4, None)) == [KeyDown("4")]
    assert session.poll(caller.now + 0.1) == []
    assert session.poll(caller.now + 0.3) == [DtmfDigit("4", "rfc4733", 80)]


def test_inband_keys_from_the_audio() -> None:
    audio = pcm(silence(60), tone("5", 80), silence(60), tone("0", 80), silence(60))
    session = MediaSession(g711.PCMA, None, remote=CALLER)
    assert Caller(g711.PCMA).audio(session, audio) == [DtmfDigit("5", "inband", 0), DtmfDigit("0", "inband", 0)]
    deaf = MediaSession(g711.PCMA, None, remote=CALLER, inband_dtmf=False)
    assert Caller(g711.PCMA).audio(deaf, audio) == []


def test_a_press_sent_both_ways_counts_once() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER)
    caller = Caller()
    quiet = pcm(silence(100))
    events = caller.audio(session, quiet)
    events += caller.key(session, "7", audio=pcm(tone("7", 100)))
    events += caller.audio(session, quiet)
    events += caller.key(session, "7", audio=pcm(tone("7", 100)))
    events += caller.audio(session, quiet)
    assert events == [KeyDown("7"), DtmfDigit("7", "rfc4733", 100)] * 2
    assert session.stats.duplicate_digits == 2


def test_a_press_heard_in_band_before_its_late_rfc4733_end_counts_once() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER)
    caller = Caller()
    events = caller.audio(session, pcm(silence(100)))
    events += caller.key(session, "9", audio=pcm(tone("9", 100)), lose=slice(0, 4))   # only the ends arrive
    events += caller.audio(session, pcm(silence(100)))
    assert events == [DtmfDigit("9", "inband", 0)]
    assert session.stats.duplicate_digits == 1
    events = caller.key(session, "9")                                # the next press, by RFC 4733 only
    assert events == [KeyDown("9"), DtmfDigit("9", "rfc4733", 100)]


def test_audio_sink_gets_each_decoded_frame() -> None:
    frames: list[bytes] = []
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER, audio_sink=frames.append)
    audio = pcm(tone("3", 60))
    Caller().audio(session, audio)
    Caller().key(session, "1")
    assert b"".join(frames) == g711.decode(g711.PCMU, g711.encode(g711.PCMU, audio))
    assert [len(f) for f in frames] == [320] * 3


def test_barge_in_silences_the_next_frame_and_reports_the_interruption() -> None:
    session = MediaSession(g711.PCMU, DTMF_PT, remote=CALLER)
    session.play("menu", pcm(tone("A", 1000)))
    ticks(session, 2)
    assert session.playing
    assert session.barge_in()
    assert not session.playing
    (packet,) = ticks(session, 1, start=0.04)
    assert packet is not None and packet.payload == g711.encode(g711.PCMU, g711.SILENCE_FRAME)
    assert session.poll(0.06) == [PlaybackStarted("menu"), PlaybackFinished("menu", interrupted=True)]


def test_longer_ptime_packs_several_frames() -> None:
    session = MediaSession(g711.PCMU, None, ptime=40, remote=CALLER)
    session.play("p", pcm(tone("B", 80)))
    packets = ticks(session, 6)
    assert packets[0::2] == [None] * 3
    sent = [p for p in packets if p is not None]
    assert [len(p.payload) for p in sent] == [320] * 3
    assert [(p.timestamp - sent[0].timestamp) & 0xFFFFFFFF for p in sent] == [0, 320, 640]
    assert [p.marker for p in sent] == [True, False, False]


@pytest.mark.parametrize("codec_pt, ptime", [(18, 20), (3, 20), (0, 30), (0, 0)])
def test_unsupported_codec_or_ptime_is_refused(codec_pt: int, ptime: int) -> None:
    with pytest.raises(MediaSessionError):
        MediaSession(codec_pt, DTMF_PT, ptime=ptime)
