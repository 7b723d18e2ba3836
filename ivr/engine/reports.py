"""Scheduled campaign reports: a campaign's `report` header e-mails its results every period.

```yaml
report: {email: [marketing@brand.example], every: daily, at: "08:00"}   # hourly | daily | weekly (Mondays)
```

`last_period` is pure: the latest whole period that has ended by `now` (daily and weekly periods end
at `at`, local to the campaign's `schedule.timezone`, UTC by default). `ReportSender.run_due` sends
each campaign's report for that period once across every node sharing the store (the store's
`claim_report`); a report that no mailbox accepted is released and tried again at the next run.
Periods that passed while no node ran are not sent afterwards: the latest one is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Protocol

from ivr.flow.model import Campaign
from ivr.flow.schedule import zone
from ivr.store.db import Store
from ivr.store.queries import CallFilter, Tallies

from .call import ABANDONED, COMPLETED

log = logging.getLogger(__name__)

DEFAULT_AT = "08:00"
PERIOD = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


class Mail(Protocol):
    async def send(self, to: str, subject: str, text: str) -> bool: ...


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def last_period(report: dict[str, Any], schedule: dict[str, Any] | None, now: datetime) -> Period:
    """The latest whole report period ended by `now` (UTC datetimes)."""
    every = report.get("every", "daily")
    if every == "hourly":
        end = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        return Period(end - PERIOD[every], end)
    tz = zone((schedule or {}).get("timezone", "UTC"))
    local = now.astimezone(tz)
    at = time.fromisoformat(report.get("at", DEFAULT_AT))
    day = local.date()
    if every == "weekly":
        day -= timedelta(days=day.weekday())                      # Monday of this week
    end = datetime.combine(day, at, tzinfo=tz)
    if end > local:
        end = datetime.combine(day - PERIOD[every], at, tzinfo=tz)
    start = datetime.combine(end.date() - PERIOD[every], at, tzinfo=tz)   # whole local days across DST
    return Period(start.astimezone(timezone.utc), end.astimezone(timezone.utc))


def render(campaign: Campaign, period: Period, calls: dict[str, int], drop_off: dict[str | None, int],
           tallies: Tallies, ended: dict[str, int] | None = None) -> tuple[str, str]:
    """The e-mail's subject and plain text; `ended`: voice calls by disposition (completed, abandoned)."""
    tz = zone((campaign.schedule or {}).get("timezone", "UTC"))
    span = f"{period.start.astimezone(tz):%Y-%m-%d %H:%M} to {period.end.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"
    lines = [f"{campaign.name}: results from {span}", "",
             f"Calls: {calls.get('voice', 0)}    SMS conversations: {calls.get('sms', 0)}"]
    if calls.get("voice") and ended:
        lines.append(f"Calls completed: {ended.get(COMPLETED, 0)}    abandoned (hung up before the end): "
                     f"{ended.get(ABANDONED, 0)}")
    left = {node: n for node, n in drop_off.items() if n}
    if left:
        lines.append("Left before the end, by last step: " +
                     ", ".join(f"{node or 'before the first step'} {n}" for node, n in sorted(
                         left.items(), key=lambda item: -item[1])))
    lines += ["", "Totals since the campaign began:"]
    for name, counts in sorted(tallies.votes.items()):
        lines.append(f"  vote {name}: " + ", ".join(f"{choice} {n}" for choice, n in
                                                   sorted(counts.items(), key=lambda item: -item[1])))
    for name, counts in sorted(tallies.answers.items()):
        lines.append(f"  answers to {name}: " + ", ".join(f"{value} {n}" for value, n in sorted(counts.items())))
    for pool, tally in sorted(tallies.codes.items()):
        lines.append(f"  codes {pool}: {tally.redeemed} of {tally.codes} redeemed")
    if not (tallies.votes or tallies.answers or tallies.codes):
        lines.append("  no results yet")
    return f"[{campaign.name}] report to {period.end.astimezone(tz):%Y-%m-%d %H:%M}", "\n".join(lines) + "\n"


class ReportSender:
    """Sends the reports that are due (call `run_due` every minute or so)."""

    def __init__(self, store: Store, mail: Mail) -> None:
        self.store = store
        self.mail = mail

    async def run_due(self, campaigns: list[Campaign], now: datetime | None = None) -> list[str]:
        """Send what is due; returns the ids of the campaigns whose report went out now."""
        now = now or datetime.now(timezone.utc)
        sent = []
        for campaign in campaigns:
            if campaign.report is None:
                continue
            period = last_period(campaign.report, campaign.schedule, now)
            if not await self.store.claim_report(campaign.id, period.end):
                continue
            try:
                delivered = await self._send(campaign, period)
            except Exception:
                log.exception("report of %s not sent", campaign.id)
                delivered = False
            if delivered:
                sent.append(campaign.id)
            else:
                await self.store.release_report(campaign.id, period.end)
        return sent

    async def _send(self, campaign: Campaign, period: Period) -> bool:
        calls = {channel: await self.store.count_calls(None, CallFilter(
            campaign_id=campaign.id, channel=channel, since=period.start, until=period.end))
            for channel in ("voice", "sms")}
        ended = {disposition: await self.store.count_calls(None, CallFilter(
            campaign_id=campaign.id, channel="voice", disposition=disposition, since=period.start, until=period.end))
            for disposition in (COMPLETED, ABANDONED)}
        drop_off = await self.store.drop_off(None, campaign.id, period.start, period.end)
        tallies = await self.store.tallies(None, campaign.id)
        subject, text = render(campaign, period, calls, drop_off, tallies, ended)
        results = [await self.mail.send(to, subject, text) for to in campaign.report["email"]]
        return any(results)
