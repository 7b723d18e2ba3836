"""Counters of the SMS channel for /metrics: submits, receipts by state, throttling, binds, messages in
and out, rendered as `ivr_sms_*` series in the Prometheus text format. Whether each operator link is
bound goes to `on_link` (the node hands it to `EngineMetrics.set_link`: the node page and
`ivr_smsc_bind_up`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SmsMetrics:
    submits: Counter = field(default_factory=Counter)       # (link, result) -> submit_sm sent
    receipts: Counter = field(default_factory=Counter)      # state -> delivery receipts matched
    unmatched_receipts: int = 0
    throttles: Counter = field(default_factory=Counter)     # link -> ESME_RTHROTTLED / ESME_RMSGQFUL answers
    binds: Counter = field(default_factory=Counter)         # (link, result) -> bound | failed | lost
    inbound: Counter = field(default_factory=Counter)       # route -> whole messages received
    outbox: Counter = field(default_factory=Counter)        # (route, result) -> accepted | rejected | failed | retried
    links_up: dict[str, bool] = field(default_factory=dict)
    on_link: Callable[[str, bool, str], None] = lambda name, up, detail: None

    def link_state(self, name: str, up: bool, detail: str = "") -> None:
        """An operator link was bound or lost its bind."""
        self.links_up[name] = up
        self.on_link(name, up, detail)

    def render(self) -> str:
        lines: list[str] = []

        def series(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples or [("", 0)])

        series("ivr_sms_submits_total", "counter", "submit_sm sent, by link and result.",
               [(f'{{link="{link}",result="{result}"}}', n) for (link, result), n in sorted(self.submits.items())])
        series("ivr_sms_receipts_total", "counter", "Delivery receipts matched to a message, by state.",
               [(f'{{state="{state}"}}', n) for state, n in sorted(self.receipts.items())])
        series("ivr_sms_receipts_unmatched_total", "counter", "Delivery receipts naming no message we sent.",
               [("", self.unmatched_receipts)])
        series("ivr_sms_throttles_total", "counter", "ESME_RTHROTTLED and ESME_RMSGQFUL answers, by link.",
               [(f'{{link="{link}"}}', n) for link, n in sorted(self.throttles.items())])
        series("ivr_sms_binds_total", "counter", "Binds by link and result (bound, failed, lost).",
               [(f'{{link="{link}",result="{result}"}}', n) for (link, result), n in sorted(self.binds.items())])
        series("ivr_sms_inbound_total", "counter", "Whole messages received (parts reassembled), by route.",
               [(f'{{route="{route}"}}', n) for route, n in sorted(self.inbound.items())])
        series("ivr_sms_outbox_total", "counter", "Outbound messages handed over or given up, by route and result.",
               [(f'{{route="{route}",result="{result}"}}', n) for (route, result), n in sorted(self.outbox.items())])
        return "\n".join(lines) + "\n"
