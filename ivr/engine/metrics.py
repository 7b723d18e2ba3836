"""Engine counters, rendered in the Prometheus text format as `ivr_*` series, and `node_status`: what the
operator's node page and /metrics read of a running engine, in one place.

`node_status(engine)` is the one function that looks inside the engine for health (clock, SIP counters,
trunk registration, webhooks, SMSC links, calls by campaign); it returns frozen values, and the web side
reaches it only through `EngineView.status()`.

SMSC binds: an SMS operator link reports its state with `EngineMetrics.set_link(name, up, detail)`; each
link is exported as `ivr_smsc_bind_up{link="NAME"}` (1 bound, 0 not) and listed on the node page. The
series is declared even while the node has no link, so alert rules can name it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Engine

# Dispositions that mean the call was refused before it started (engine `_reject`, `admission.check`);
# every other disposition is how an answered call ended. tests/unit/test_node_status.py keeps this in
# step with the causes the engine refuses with.
REFUSALS = frozenset({"over_capacity", "source_setup_limit", "caller_busy", "unknown_number", "bad_sdp",
                      "no_rtp_port", "rtp_bind_failed", "no_common_codec"})


@dataclass(frozen=True)
class LinkState:
    """One SMS operator link (an SMPP bind): its name, whether it is bound, and a word on why not."""

    name: str
    up: bool
    detail: str = ""


@dataclass(frozen=True)
class TrunkState:
    """The registration with a carrier trunk."""

    registrar: str
    state: str                  # idle, registering, registered, failed, unregistering, unregistered
    reason: str

    @property
    def registered(self) -> bool:
        return self.state == "registered"


@dataclass(frozen=True)
class NodeStatus:
    """A running engine at one moment, as the node page and /metrics show it."""

    ready: bool
    draining: bool
    calls_by_campaign: dict[str, int]       # calls in progress on this node ("" for numbers without a campaign)
    clock: dict[str, float]                 # ticks, late_ticks, dropped_ticks, resyncs, max_lateness (s)
    sip: dict[str, int] | None              # messages received and refused by reason (None before SIP starts)
    refused_calls: dict[str, int]           # by cause, since the node started
    ended_calls: dict[str, int]             # by disposition, since the node started
    webhooks: dict[str, int]                # ok, failed, refused since the node started
    trunk: TrunkState | None                # None: no trunk registration configured
    links: tuple[LinkState, ...]            # SMSC binds (none until SMS operator links exist)

from ivr.media.latch import DropCounts


@dataclass
class EngineMetrics:
    calls_offered: int = 0
    calls_answered: int = 0
    calls_placed: int = 0                  # calls out (outbound campaigns) whose INVITE was sent
    rtp_packets_sent: int = 0
    rtp_packets_received: int = 0
    dtmf_events: int = 0
    rtp_dropped: DropCounts = field(default_factory=DropCounts)   # shared by every call's media latch
    dispositions: Counter = field(default_factory=Counter)
    links: dict[str, LinkState] = field(default_factory=dict)

    def count_disposition(self, disposition: str) -> None:
        self.dispositions[disposition] += 1

    def set_link(self, name: str, up: bool, detail: str = "") -> None:
        """An SMS operator link's state changed (bound, unbound, binding...)."""
        self.links[name] = LinkState(name, up, detail)

    def render(self, gauges: dict[str, float], sip: dict[str, int] | None = None,
               status: NodeStatus | None = None) -> str:
        """Prometheus exposition text; `gauges` adds point-in-time values (active calls, queue depth),
        `sip` the user agent's message counters (`UserAgent.counters`), `status` the webhook results, the
        trunk registration and the SMSC links."""
        lines: list[str] = []

        def series(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        series("ivr_calls_offered_total", "counter", "INVITEs that offered a new call.",
               [("", self.calls_offered)])
        series("ivr_calls_answered_total", "counter", "Calls answered with 200 OK.",
               [("", self.calls_answered)])
        series("ivr_calls_placed_total", "counter", "Calls out placed by outbound campaigns.",
               [("", self.calls_placed)])
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
        if status is not None:
            series("ivr_webhooks_total", "counter",
                   "Webhook requests (webhook and notify nodes, routing) by final result, after retries.",
                   [(f'{{result="{result}"}}', n) for result, n in sorted(status.webhooks.items())])
            trunk = status.trunk
            series("ivr_trunk_registered", "gauge", "1 while registered with the carrier trunk, else 0.",
                   [(f'{{registrar="{_label(trunk.registrar)}"}}', float(trunk.registered))] if trunk else [])
            series("ivr_smsc_bind_up", "gauge", "1 while the SMS operator link is bound, else 0.",
                   [(f'{{link="{_label(link.name)}"}}', float(link.up)) for link in status.links])
        for name, value in sorted(gauges.items()):
            series(f"ivr_{name}", "gauge", name.replace("_", " ").capitalize() + ".", [("", value)])
        return "\n".join(lines) + "\n"


def node_status(engine: "Engine") -> NodeStatus:
    """The engine's health now (see the module's docstring); reads engine internals only here."""
    calls = Counter(active.campaign_id for active in list(engine.calls.values()))
    stats = engine.clock.stats
    registration = engine.trunk.registration if engine.trunk is not None else None
    trunk = (TrunkState(registration.config.registrar, registration.state.value, registration.reason or "")
             if registration is not None else None)
    webhook_stats = getattr(engine.services.http, "stats", None)       # a stand-in client may keep none
    dispositions = dict(engine.metrics.dispositions)
    return NodeStatus(
        ready=engine.ready, draining=engine.draining, calls_by_campaign=dict(calls),
        clock={"ticks": float(stats.ticks), "late_ticks": float(stats.late_ticks),
               "dropped_ticks": float(stats.dropped_ticks), "resyncs": float(stats.resyncs),
               "max_lateness": stats.max_lateness},
        sip=engine.ua.counters() if engine.ua is not None else None,
        refused_calls={d: n for d, n in dispositions.items() if d in REFUSALS},
        ended_calls={d: n for d, n in dispositions.items() if d not in REFUSALS},
        webhooks=webhook_stats.as_dict() if webhook_stats is not None else {"ok": 0, "failed": 0, "refused": 0},
        trunk=trunk, links=tuple(sorted(engine.metrics.links.values(), key=lambda link: link.name)))


def status_dict(status: NodeStatus) -> dict[str, Any]:
    """The status as JSON for the API."""
    trunk = status.trunk
    return {"ready": status.ready, "draining": status.draining, "calls_by_campaign": status.calls_by_campaign,
            "clock": status.clock, "sip": status.sip, "refused_calls": status.refused_calls,
            "ended_calls": status.ended_calls, "webhooks": status.webhooks,
            "trunk": {"registrar": trunk.registrar, "state": trunk.state, "reason": trunk.reason,
                      "registered": trunk.registered} if trunk else None,
            "links": [{"name": link.name, "up": link.up, "detail": link.detail} for link in status.links]}


def _label(value: str) -> str:
    """A Prometheus label value, escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
