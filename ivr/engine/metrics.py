"""Engine counters, rendered in the Prometheus text format as `ivr_*` series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ivr.media.latch import DropCounts


@dataclass
class EngineMetrics:
    calls_offered: int = 0
    calls_answered: int = 0
    rtp_packets_sent: int = 0
    rtp_packets_received: int = 0
    dtmf_events: int = 0
    rtp_dropped: DropCounts = field(default_factory=DropCounts)   # shared by every call's media latch
    dispositions: Counter = field(default_factory=Counter)

    def count_disposition(self, disposition: str) -> None:
        self.dispositions[disposition] += 1

    def render(self, gauges: dict[str, float], sip: dict[str, int] | None = None) -> str:
        """Prometheus exposition text; `gauges` adds point-in-time values (active calls, queue depth),
        `sip` the user agent's message counters (`UserAgent.counters`)."""
        lines: list[str] = []

        def series(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        series("ivr_calls_offered_total", "counter", "INVITEs that offered a new call.",
               [("", self.calls_offered)])
        series("ivr_calls_answered_total", "counter", "Calls answered with 200 OK.",
               [("", self.calls_answered)])
        series("ivr_calls_total", "counter", "Ended or refused calls by disposition.",
               [(f'{{disposition="{d}"}}', n) for d, n in sorted(self.dispositions.items())] or [("", 0)])
        series("ivr_rtp_packets_sent_total", "counter", "RTP packets sent.", [("", self.rtp_packets_sent)])
        series("ivr_rtp_packets_received_total", "counter", "RTP packets received.",
               [("", self.rtp_packets_received)])
        series("ivr_rtp_packets_dropped_total", "counter",
               "RTP packets refused by a call's media latch: from another address (source) or another stream "
               "of the call's address (ssrc).",
               [('{reason="source"}', self.rtp_dropped.source), ('{reason="ssrc"}', self.rtp_dropped.ssrc)])
        series("ivr_dtmf_events_total", "counter", "Keys received (RFC 4733, SIP INFO, in-band).",
               [("", self.dtmf_events)])
        if sip is not None:
            series("ivr_sip_messages_received_total", "counter", "SIP datagrams and stream messages received.",
                   [("", sip["received"])])
            series("ivr_sip_messages_refused_total", "counter",
                   "SIP messages dropped, or answered with an error before reaching a call, by reason.",
                   [(f'{{reason="{reason}"}}', n) for reason, n in sorted(sip.items()) if reason != "received"])
        for name, value in sorted(gauges.items()):
            series(f"ivr_{name}", "gauge", name.replace("_", " ").capitalize() + ".", [("", value)])
        return "\n".join(lines) + "\n"
