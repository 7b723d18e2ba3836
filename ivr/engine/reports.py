"""Campaign reports: e-mailed a set time after the campaign goes live, then every period.

```yaml
report:
  email: [marketing@brand.example]
  first_after: 10m        # the first report, this long after going live (default 10m)
  every: 30m              # then: a length (at least 10m: 10m, 30m, 2h) or hourly | daily | weekly (default daily)
  at: "08:00"             # daily and weekly (Mondays): local time of the report
```

Periods (`due_period`, pure): the campaign goes live at `live` = the later of the time it was first put in
service and `schedule.start`. The first report covers [live, live + first_after). After it, reports follow
every `every` (a length: counted from the first report; hourly, daily, weekly: at the clock's whole hours,
at `at` each local day, on Mondays at `at`). Each period starts where the one before ended, so no report
covers time before the campaign existed. When the campaign ends (its end date, or `schedule.end`), one
last report covers the rest up to the end, and then no more come. A campaign whose going-live time is
unknown (served from files while the store was unreachable) gets whole clock-aligned periods.

The mail (`render`) has a plain text part and an HTML part with a chart of calls and SMS messages per
minute (`report_chart`, a PNG made off the event loop, attached inline by Content-ID); times are local to
the campaign (`schedule.timezone`, UTC without one), on the 24-hour clock. `ReportSender.run_due` sends
each campaign's report for a period once across every node sharing the store (`claim_report`); a report
no mailbox accepted is released and tried again at the next run. Periods that passed while no node ran
are not sent afterwards: the latest one is. A campaign with charges (premium SMS or calls, business-paid
traffic, outbound SMS) also gets its money so far: what subscribers paid, the business's share and what
the traffic cost it.
"""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ivr.flow.model import Campaign, named_pools
from ivr.flow.schedule import duration, moment, zone
from ivr.store.db import Store
from ivr.store.money import CURRENCY, format_amount
from ivr.store.queries import CallFilter, Tallies
from ivr.store.statements import CampaignDay

from .call import ABANDONED, COMPLETED
from .report_chart import chart_png, series

log = logging.getLogger(__name__)

DEFAULT_AT = "08:00"
DEFAULT_FIRST = "10m"
DEFAULT_EVERY = "daily"
PERIOD = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
EPOCH = datetime(2000, 1, 3, tzinfo=timezone.utc)       # a Monday: lengths without a going-live time count from it
CHART_CID = "chart@ivr"

# Every word of the mail (one place, for a message catalogue to take over).
TEXT = {
    "subject": "[{name}] report {start} to {end}",
    "heading": "{name}: results from {start} to {end} ({zone})",
    "activity": "Calls: {voice}    SMS conversations: {sms}    SMS messages: {messages}",
    "ended": "Calls completed: {completed}    abandoned (hung up before the end): {abandoned}",
    "left": "Left before the end, by last step: ",
    "before_first": "before the first step",
    "totals": "Totals since the campaign began:",
    "vote": "vote {name}: ",
    "answers": "answers to {name}: ",
    "codes": "codes {pool}: {redeemed} of {codes} redeemed",
    "issued": "codes handed out from {pool}: {issued} of {codes}",
    "nothing": "no results yet",
    "chart": "Calls and SMS messages per minute",
    "money": "Money since the campaign began ({events} charged messages and calls):",
    "revenue": "premium revenue: {amount} {currency} paid by subscribers (VAT included)",
    "share": "your share: {amount} {currency} (VAT excluded)",
    "cost": "cost of the traffic: {amount} {currency} (VAT excluded)",
}


class Mail(Protocol):
    async def send(self, to: str, subject: str, text: str, html: str | None = None,
                   images: dict[str, bytes] | None = None) -> bool: ...


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def last_period(report: dict[str, Any], schedule: dict[str, Any] | None, now: datetime) -> Period:
    """The latest whole clock-aligned period (hourly, daily, weekly) ended by `now` (UTC datetimes)."""
    every = report.get("every", DEFAULT_EVERY)
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


def due_period(report: dict[str, Any], schedule: dict[str, Any] | None, live_at: datetime | None,
               ends_at: datetime | None, now: datetime) -> Period | None:
    """The latest report period ended by `now` (see the module docstring); None before the first."""
    schedule = schedule or {}
    tz = zone(schedule.get("timezone", "UTC"))
    start_at = moment(schedule["start"], tz) if schedule.get("start") else None
    end_at = min([t for t in (ends_at, moment(schedule["end"], tz) if schedule.get("end") else None) if t],
                 default=None)
    until = min(now, end_at) if end_at else now
    every = report.get("every", DEFAULT_EVERY)
    if live_at is None:
        return _regular(report, schedule, every, until, EPOCH)
    live = max(live_at, start_at) if start_at else live_at
    if end_at is not None and end_at <= live:
        return None
    first = live + duration(report.get("first_after", DEFAULT_FIRST))
    if until < first:
        return Period(live, end_at) if end_at is not None and now >= end_at else None
    period = _regular(report, schedule, every, until, first)
    if period.end <= first:
        period = Period(live, first)
    elif period.start < first:
        period = Period(first, period.end)
    if end_at is not None and now >= end_at and period.end < end_at:
        period = Period(period.end, end_at)                      # the last report, up to the end
    return period


def _regular(report: dict[str, Any], schedule: dict[str, Any], every: str, until: datetime,
             anchor: datetime) -> Period:
    """The latest regular period ended by `until`: lengths counted from `anchor`, the others on the clock."""
    if every in PERIOD:
        return last_period(report, schedule, until)
    length = duration(every)
    end = anchor + (until - anchor) // length * length
    return Period(end - length, end)


@dataclass(frozen=True)
class Report:
    """What one report tells."""

    campaign: Campaign
    period: Period
    calls: dict[str, int]                      # sessions started in the period, by channel
    messages: int                              # SMS messages in and out in the period
    drop_off: dict[str | None, int]
    tallies: Tallies
    calls_per_minute: list[tuple[datetime, int]]
    messages_per_minute: list[tuple[datetime, int]]
    ended: dict[str, int] = field(default_factory=dict)    # voice calls by disposition (completed, abandoned)
    money: CampaignDay | None = None                       # the campaign's charges up to the period's end

    @property
    def zone(self) -> ZoneInfo:
        return zone((self.campaign.schedule or {}).get("timezone", "UTC"))

    def local(self, at: datetime) -> str:
        return f"{at.astimezone(self.zone):%Y-%m-%d %H:%M}"


def render(report: Report) -> tuple[str, str, str]:
    """The e-mail's subject, plain text and HTML (which shows the chart image `cid:CHART_CID`)."""
    campaign, period = report.campaign, report.period
    span = {"start": report.local(period.start), "end": report.local(period.end), "zone": report.zone.key}
    subject = TEXT["subject"].format(name=campaign.name, start=span["start"],
                                     end=f"{period.end.astimezone(report.zone):%H:%M}")
    activity = TEXT["activity"].format(voice=report.calls.get("voice", 0), sms=report.calls.get("sms", 0),
                                       messages=report.messages)
    left = {node: n for node, n in report.drop_off.items() if n}
    left_text = ", ".join(f"{node or TEXT['before_first']} {n}"
                          for node, n in sorted(left.items(), key=lambda item: -item[1]))
    totals = _totals(report.tallies)
    lines = [TEXT["heading"].format(name=campaign.name, **span), "", activity]
    ended = (TEXT["ended"].format(completed=report.ended.get(COMPLETED, 0), abandoned=report.ended.get(ABANDONED, 0))
             if report.calls.get("voice") and report.ended else None)
    if ended:
        lines.append(ended)
    if left:
        lines.append(TEXT["left"] + left_text)
    lines += ["", TEXT["totals"], *[f"  {line}" for line in totals]]
    money = _money(report.money)
    if money:
        lines += ["", money[0], *[f"  {line}" for line in money[1:]]]
    e = html.escape
    body = [f"<h1 style=\"font-size:18px\">{e(TEXT['heading'].format(name=campaign.name, **span))}</h1>",
            f"<p>{e(activity)}" + (f"<br>{e(ended)}" if ended else "") + "</p>"]
    if left:
        body.append(f"<p>{e(TEXT['left'] + left_text)}</p>")
    body.append(f'<p><img src="cid:{CHART_CID}" alt="{e(TEXT["chart"])}" width="720" height="280"></p>')
    body.append(f"<h2 style=\"font-size:16px\">{e(TEXT['totals'])}</h2><ul>")
    body += [f"<li>{e(line)}</li>" for line in totals]
    body.append("</ul>")
    if money:
        body.append(f"<h2 style=\"font-size:16px\">{e(money[0])}</h2><ul>")
        body += [f"<li>{e(line)}</li>" for line in money[1:]]
        body.append("</ul>")
    page = ('<!doctype html><html><head><meta charset="utf-8"></head>'
            '<body style="font-family:sans-serif;color:#1c2430">' + "".join(body) + "</body></html>")
    return subject, "\n".join(lines) + "\n", page


def _money(money: CampaignDay | None) -> list[str]:
    """The heading and lines of the campaign's money so far (none without charges)."""
    if money is None:
        return []
    lines = [TEXT["money"].format(events=money.events)]
    if money.revenue:
        lines += [TEXT["revenue"].format(amount=format_amount(money.revenue), currency=CURRENCY),
                  TEXT["share"].format(amount=format_amount(money.share), currency=CURRENCY)]
    if money.cost:
        lines.append(TEXT["cost"].format(amount=format_amount(money.cost), currency=CURRENCY))
    return lines


def _totals(tallies: Tallies) -> list[str]:
    lines = []
    for name, counts in sorted(tallies.votes.items()):
        lines.append(TEXT["vote"].format(name=name) + ", ".join(
            f"{choice} {n}" for choice, n in sorted(counts.items(), key=lambda item: -item[1])))
    for name, counts in sorted(tallies.answers.items()):
        lines.append(TEXT["answers"].format(name=name) + ", ".join(f"{value} {n}" for value, n in sorted(counts.items())))
    for pool, tally in sorted(tallies.codes.items()):
        lines.append(TEXT["codes"].format(pool=pool, redeemed=tally.redeemed, codes=tally.codes))
    for pool, given in sorted(tallies.issued.items()):
        lines.append(TEXT["issued"].format(pool=pool, issued=given.issued, codes=given.codes))
    return lines or [TEXT["nothing"]]


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
            period = due_period(campaign.report, campaign.schedule, campaign.live_at, campaign.ends_at, now)
            if period is None or not await self.store.claim_report(campaign.id, period.end):
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

    async def gather(self, campaign: Campaign, period: Period) -> Report:
        """What the report of the period tells, read from the store."""
        store = self.store
        calls = {channel: await store.count_calls(None, CallFilter(
            campaign_id=campaign.id, channel=channel, since=period.start, until=period.end))
            for channel in ("voice", "sms")}
        numbers = sorted({*campaign.sms_numbers, *(n.number for n in await store.numbers(None)
                                                    if n.campaign_id == campaign.id)})
        per_minute = await store.messages_per_minute(numbers, period.start, period.end)
        redeem, issue = named_pools(campaign)
        ended = {disposition: await store.count_calls(None, CallFilter(
            campaign_id=campaign.id, channel="voice", disposition=disposition, since=period.start, until=period.end))
            for disposition in (COMPLETED, ABANDONED)}
        return Report(campaign, period, calls, sum(n for _, n in per_minute),
                      await store.drop_off(None, campaign.id, period.start, period.end),
                      await store.tallies(None, campaign.id, redeem, issue),
                      await store.calls_per_minute(None, period.start, period.end, campaign.id, "voice"), per_minute,
                      ended, await store.campaign_totals(campaign.id, period.end))

    async def _send(self, campaign: Campaign, period: Period) -> bool:
        report = await self.gather(campaign, period)
        subject, text, page = render(report)
        png = await asyncio.to_thread(chart_png, series(period.start, period.end, report.calls_per_minute,
                                                        report.messages_per_minute), report.zone)
        results = [await self.mail.send(to, subject, text, page, {CHART_CID: png}) for to in campaign.report["email"]]
        return any(results)
