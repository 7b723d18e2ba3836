"""Campaign reports: e-mailed a set time after the campaign goes live, then every period.

```yaml
report:
  email: [marketing@brand.example]
  first_after: 10m        # the first report, this long after going live (default 10m)
  every: 30m              # then: a length (at least 10m: 10m, 30m, 2h) or hourly | daily | weekly (default daily)
  at: "08:00"             # daily and weekly (Mondays): local time of the report
  language: uk            # uk, ru or en (default: the campaign's first language if one of them, else en)
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
the campaign (`schedule.timezone`, UTC without one), on the 24-hour clock, and the mail is in the report's
`language` (its words from the gettext catalogue, dates and numbers as that language writes them, e.g.
`4 трав. 2026 р., 13:03`, `12 345`). `ReportSender.run_due` sends
each campaign's report for a period once across every node sharing the store (`claim_report`); a report
no mailbox accepted is released and tried again at the next run. Periods that passed while no node ran
are not sent afterwards: the latest one is. A campaign with charges (premium SMS or calls, business-paid
traffic, outbound SMS) also gets its money so far: what subscribers paid, the business's share and what
the traffic cost it. A campaign that outbound campaigns run (calls and SMS out, docs/outbound.md) also gets,
for each of them, its numbers done of the audience and the results of the period (completed with which
outcome, hung up, busy, no answer, failed, opted out; an SMS broadcast's sent and blocked).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ivr.flow.model import Campaign, named_pools
from ivr.flow.schedule import duration, moment, zone
from ivr.i18n import DEFAULT, LANGUAGES, format_datetime, format_number, format_time, t, tn
from ivr.store.db import Store
from ivr.store.money import CURRENCY, format_amount
from ivr.store.outbound import PeriodResults
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

# Every word of the mail
TEXT = {
    "subject": t("[{name}] report {start} to {end}"),
    "heading": t("{name}: results from {start} to {end} ({zone})"),
    "activity": t("Calls: {voice}    SMS conversations: {sms}    SMS messages: {messages}"),
    "ended": t("Calls completed: {completed}    abandoned (hung up before the end): {abandoned}"),
    "left": t("Left before the end, by last step: "),
    "before_first": t("before the first step"),
    "totals": t("Totals since the campaign began:"),
    "vote": t("vote {name}: "),
    "answers": t("answers to {name}: "),
    "codes": t("codes {pool}: {redeemed} of {codes} redeemed"),
    "issued": t("codes handed out from {pool}: {issued} of {codes}"),
    "nothing": t("no results yet"),
    "chart": t("Calls and SMS messages per minute"),
    "money": t("Money since the campaign began ({events} charged messages and calls):"),
    "revenue": t("premium revenue: {amount} {currency} paid by subscribers (VAT included)"),
    "share": t("your share: {amount} {currency} (VAT excluded)"),
    "cost": t("cost of the traffic: {amount} {currency} (VAT excluded)"),
    "outbound": t("Outbound campaigns (calls and SMS from the short number):"),
}
CHANNEL = {"voice": t("calls"), "sms": t("SMS"), "voice_sms": t("calls, then SMS to those not reached")}
RESULT = {"completed": t("completed"), "answered": t("hung up before the end"), "busy": t("busy"),
          "no_answer": t("no answer"), "failed": t("failed"), "opted_out": t("opted out"), "sent": t("sent")}
BLOCKED = t("blocked")                                     # an SMS broadcast's opted_out: the block list stopped it
SHOWN = {"voice": ("completed", "answered", "busy", "no_answer", "failed", "opted_out"),   # even when none
         "sms": ("sent", "opted_out"),
         "voice_sms": ("completed", "answered", "busy", "no_answer", "failed", "opted_out", "sent")}


def report_language(campaign: Campaign) -> str:
    """The language of a campaign's report mail: `report.language`, else the campaign's first language when it
    is one the interface speaks, else English."""
    chosen = (campaign.report or {}).get("language")
    if chosen in LANGUAGES:
        return chosen
    first = campaign.default_language.lower().split("-")[0]
    return first if first in LANGUAGES else DEFAULT


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
    outbound: list[PeriodResults] = field(default_factory=list)   # the outbound campaigns that run it

    @property
    def zone(self) -> ZoneInfo:
        return zone((self.campaign.schedule or {}).get("timezone", "UTC"))

    @property
    def language(self) -> str:
        return report_language(self.campaign)

    def local(self, at: datetime) -> str:
        """A moment as the report's language writes it, in the campaign's time zone, 24-hour clock."""
        return format_datetime(at, self.language, self.zone)

    def number(self, n: int) -> str:
        return format_number(n, self.language)


def render(report: Report) -> tuple[str, str, str]:
    """The e-mail's subject, plain text and HTML (which shows the chart image `cid:CHART_CID`), in the
    report's language."""
    campaign, period, language, n = report.campaign, report.period, report.language, report.number

    def say(key: str, **params: object) -> str:
        return TEXT[key].with_params(**params).render(language)
    span = {"start": report.local(period.start), "end": report.local(period.end), "zone": report.zone.key}
    subject = say("subject", name=campaign.name, start=span["start"],
        end=format_time(period.end, language, report.zone))
    activity = say("activity", voice=n(report.calls.get("voice", 0)), sms=n(report.calls.get("sms", 0)),
                   messages=n(report.messages))
    left = {node: count for node, count in report.drop_off.items() if count}
    left_text = ", ".join(f"{node or say('before_first')} {n(count)}"
                          for node, count in sorted(left.items(), key=lambda item: -item[1]))
    totals = _totals(report.tallies, say, n)
    heading = say("heading", name=campaign.name, **span)
    lines = [heading, "", activity]
    ended = (say("ended", completed=n(report.ended.get(COMPLETED, 0)), abandoned=n(report.ended.get(ABANDONED, 0)))
             if report.calls.get("voice") and report.ended else None)
    if ended:
        lines.append(ended)
    if left:
        lines.append(say("left") + left_text)
    lines += ["", say("totals"), *[f"  {line}" for line in totals]]
    outbound = _outbound(report.outbound, language, n)
    if outbound:
        lines += ["", say("outbound"), *[f"  {line}" for line in outbound]]
    money = _money(report.money, say, n)
    if money:
        lines += ["", money[0], *[f"  {line}" for line in money[1:]]]
    e = html.escape
    body = [f"<h1 style=\"font-size:18px\">{e(heading)}</h1>",
            f"<p>{e(activity)}" + (f"<br>{e(ended)}" if ended else "") + "</p>"]
    if left:
        body.append(f"<p>{e(say('left') + left_text)}</p>")
    body.append(f'<p><img src="cid:{CHART_CID}" alt="{e(say("chart"))}" width="720" height="280"></p>')
    body.append(f"<h2 style=\"font-size:16px\">{e(say('totals'))}</h2><ul>")
    body += [f"<li>{e(line)}</li>" for line in totals]
    body.append("</ul>")
    if outbound:
        body.append(f"<h2 style=\"font-size:16px\">{e(say('outbound'))}</h2><ul>")
        body += [f"<li>{e(line)}</li>" for line in outbound]
        body.append("</ul>")
    if money:
        body.append(f"<h2 style=\"font-size:16px\">{e(money[0])}</h2><ul>")
        body += [f"<li>{e(line)}</li>" for line in money[1:]]
        body.append("</ul>")
    page = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"></head>'
            '<body style="font-family:sans-serif;color:#1c2430">' + "".join(body) + "</body></html>")
    return subject, "\n".join(lines) + "\n", page


def _outbound(campaigns: list[PeriodResults], language: str, n: Callable[[int], str]) -> list[str]:
    """A line per outbound campaign: its numbers done of the audience, and the period's count per result (the
    channel's results even when none, any other one that occurred); completed ones by outcome."""
    lines = []
    for campaign in campaigns:
        counts = []
        shown = SHOWN[campaign.channel]
        for result in (*shown, *sorted(r for r in campaign.results if r not in shown)):
            word = BLOCKED if campaign.channel == "sms" and result == "opted_out" else RESULT[result]
            count = f"{word.render(language)} {n(campaign.results.get(result, 0))}"
            if result == "completed" and campaign.outcomes:
                count += " (" + ", ".join(f"{outcome} {n(times)}" for outcome, times in sorted(
                    campaign.outcomes.items(), key=lambda item: (-item[1], item[0]))) + ")"
            counts.append(count)
        lines.append(tn("{name} ({channel}): {done} of {n} number done; in the period: {results}",
                        "{name} ({channel}): {done} of {n} numbers done; in the period: {results}", campaign.total,
                        name=campaign.name, channel=CHANNEL[campaign.channel], done=n(campaign.done),
                        results=", ".join(counts)).render(language))
    return lines


def _money(money: CampaignDay | None, say: Callable[..., str], n: Callable[[int], str]) -> list[str]:
    """The heading and lines of the campaign's money so far (none without charges)."""
    if money is None:
        return []
    lines = [say("money", events=n(money.events))]
    if money.revenue:
        lines += [say("revenue", amount=format_amount(money.revenue), currency=CURRENCY),
                  say("share", amount=format_amount(money.share), currency=CURRENCY)]
    if money.cost:
        lines.append(say("cost", amount=format_amount(money.cost), currency=CURRENCY))
    return lines


def _totals(tallies: Tallies, say: Callable[..., str], n: Callable[[int], str]) -> list[str]:
    lines = []
    for name, counts in sorted(tallies.votes.items()):
        lines.append(say("vote", name=name) + ", ".join(
            f"{choice} {n(count)}" for choice, count in sorted(counts.items(), key=lambda item: -item[1])))
    for name, counts in sorted(tallies.answers.items()):
        lines.append(say("answers", name=name) + ", ".join(f"{value} {n(count)}"
                                                          for value, count in sorted(counts.items())))
    for pool, tally in sorted(tallies.codes.items()):
        lines.append(say("codes", pool=pool, redeemed=n(tally.redeemed), codes=n(tally.codes)))
    for pool, given in sorted(tallies.issued.items()):
        lines.append(say("issued", pool=pool, issued=n(given.issued), codes=n(given.codes)))
    return lines or [say("nothing")]


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
                      ended, await store.campaign_totals(campaign.id, period.end),
                      await store.outbound_period(campaign.id, period.start, period.end))

    async def _send(self, campaign: Campaign, period: Period) -> bool:
        report = await self.gather(campaign, period)
        subject, text, page = render(report)
        png = await asyncio.to_thread(chart_png, series(period.start, period.end, report.calls_per_minute,
                                                        report.messages_per_minute), report.zone, report.language)
        results = [await self.mail.send(to, subject, text, page, {CHART_CID: png}) for to in campaign.report["email"]]
        return any(results)
