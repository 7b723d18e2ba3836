"""The benchmark's RTP peer: one UDP socket that every call under test sends its RTP to.

Each datagram is stamped by the kernel on arrival (SO_TIMESTAMPNS), so the figures do not depend on
when this process gets to read it; the kernel also reports datagrams it dropped because the buffer
was full (SO_RXQ_OVFL), so a slow reader shows up as `receiver_drops` rather than as engine jitter.
Every datagram is answered with one 20 ms PCMU silence packet to its source, as a phone sends its own
audio back: the server under test pays for receiving RTP too.

A call is told apart by the address its RTP comes from (one socket per call on the server side).
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)      # Linux values, missing from older Pythons
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
RTP_HEADER = struct.Struct("!BBHII")
TIMESPEC = struct.Struct("qq")
SILENCE = b"\xff" * 160                                     # PCMU silence, 20 ms


@dataclass
class Stream:
    """What arrived from one source: (kernel arrival time, sequence, RTP timestamp) per packet."""

    arrivals: list[tuple[float, int, int]] = field(default_factory=list)
    reply_sequence: int = 0
    reply_timestamp: int = 0
    reply_ssrc: int = 0


class RtpSink:
    """A thread that reads, timestamps and answers RTP on one loopback port until `close`."""

    def __init__(self, host: str = "127.0.0.1", echo: bool = True) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.echo = echo
        self.drops = 0
        self._streams: dict[tuple[str, int], Stream] = {}
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="rtp-sink", daemon=True)
        self._thread.start()

    def take(self) -> dict[tuple[str, int], Stream]:
        """The streams recorded since the last `take` (the sink starts afresh)."""
        with self._lock:
            streams, self._streams = self._streams, {}
        return streams

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
        self.sock.close()

    def _run(self) -> None:
        ancillary = socket.CMSG_SPACE(TIMESPEC.size) + socket.CMSG_SPACE(4)
        sock = self.sock
        while self._running:
            try:
                data, cmsgs, _, source = sock.recvmsg(2048, ancillary)
            except socket.timeout:
                continue
            except OSError:
                if not self._running:
                    return
                continue
            arrived = None
            for level, kind, value in cmsgs:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanos = TIMESPEC.unpack_from(value)
                    arrived = seconds + nanos * 1e-9
                elif level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                    self.drops = struct.unpack_from("I", value)[0]
            if arrived is None or len(data) < RTP_HEADER.size:
                continue
            _, _, sequence, timestamp, _ = RTP_HEADER.unpack_from(data)
            with self._lock:
                stream = self._streams.get(source)
                if stream is None:
                    stream = self._streams[source] = Stream(reply_ssrc=hash(source) & 0xFFFFFFFF)
                stream.arrivals.append((arrived, sequence, timestamp))
            if self.echo:
                reply = RTP_HEADER.pack(0x80, 0, stream.reply_sequence, stream.reply_timestamp,
                                        stream.reply_ssrc) + SILENCE
                stream.reply_sequence = (stream.reply_sequence + 1) & 0xFFFF
                stream.reply_timestamp = (stream.reply_timestamp + 160) & 0xFFFFFFFF
                try:
                    sock.sendto(reply, source)
                except OSError:
                    pass


@dataclass
class JitterFigures:
    """How far the streams' packets were from on time over a window, in milliseconds.

    `schedule_*`: each packet's distance from its ideal send time, the time its RTP timestamp stands
    for (on the stream's median offset): what a receiver's jitter buffer has to absorb, including a
    sender that falls behind. `interval_*`: RFC 3550's transit difference between consecutive packets,
    |arrival gap − timestamp gap|, blind to slow drift."""

    streams: int
    packets: int
    schedule_p50_ms: float
    schedule_p99_ms: float
    schedule_max_ms: float
    worst_stream_schedule_p99_ms: float
    interval_p99_ms: float
    interval_max_ms: float
    lost: int                      # sequence numbers missing inside the window
    skipped_ms: float              # media time the sender jumped over (its clock dropped ticks)
    mean_interval_ms: float        # the sending rate: 20 ms when on time


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def jitter(streams: dict[tuple[str, int], Stream], start: float, end: float, clock_rate: int = 8000,
           ptime: float = 0.020) -> JitterFigures:
    """Jitter of every stream's packets that arrived between `start` and `end` (kernel wall-clock time)."""
    schedule: list[float] = []
    intervals: list[float] = []
    worst = 0.0
    lost = 0
    skipped = 0.0
    elapsed_total = 0.0
    for stream in streams.values():
        packets = [p for p in stream.arrivals if start <= p[0] <= end]
        if not packets:
            continue
        transit = [0.0]                      # arrival minus the time the timestamp stands for
        media_time = 0.0
        for (p_arrived, p_sequence, p_timestamp), (arrived, sequence, timestamp) in zip(packets, packets[1:]):
            step = (sequence - p_sequence) & 0xFFFF
            gap = ((timestamp - p_timestamp) & 0xFFFFFFFF) / clock_rate
            media_time += gap
            transit.append(arrived - packets[0][0] - media_time)
            if step == 1:
                skipped += max(0.0, gap - ptime)
                intervals.append(abs((arrived - p_arrived) - gap) * 1e3)
                elapsed_total += arrived - p_arrived
            elif 1 < step < 0x8000:
                lost += step - 1
        middle = percentile(transit, 0.5)
        mine = [abs(t - middle) * 1e3 for t in transit]
        worst = max(worst, percentile(mine, 0.99))
        schedule += mine
    return JitterFigures(
        streams=len(streams), packets=len(schedule), schedule_p50_ms=round(percentile(schedule, 0.5), 3),
        schedule_p99_ms=round(percentile(schedule, 0.99), 3), schedule_max_ms=round(max(schedule, default=float("nan")), 3),
        worst_stream_schedule_p99_ms=round(worst, 3), interval_p99_ms=round(percentile(intervals, 0.99), 3),
        interval_max_ms=round(max(intervals, default=float("nan")), 3), lost=lost,
        skipped_ms=round(skipped * 1e3, 1),
        mean_interval_ms=round(elapsed_total * 1e3 / len(intervals), 3) if intervals else float("nan"))
