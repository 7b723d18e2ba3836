"""Campaign reports e-mailed through an SMTP server on loopback (aiosmtpd), on a clock the tests drive: the
first ten minutes after going live, then every period of the campaign's own life, as HTML with a text part
and a chart image; a premium campaign's money so far."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from ivr.channels.mailer import Mailer
from ivr.channels.sms import SmsGateway
from ivr.channels.store_services import StoreServices
from ivr.engine.campaigns import CampaignRegistry
from ivr.engine.report_chart import CALLS, MESSAGES
from ivr.engine.reports import Period, ReportSender, due_period, last_period
from ivr.store import tariffs
from ivr.store.db import Store
from ivr.store.outbound import Settings
from ivr.store.rating import Tariff
from tests.unit.store.billing_world import transaction

from .conftest import free_port, start_engine

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
REPORT = 'report: {email: [insights@brand.test, board@brand.test], every: hourly}\n'
KYIV = "schedule: {timezone: Europe/Kyiv}\n"
UTC = timezone.utc


class Inbox:
    """An SMTP server on 127.0.0.1 keeping what it receives, as parsed messages."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        inbox = self

        class Keep:
            async def handle_DATA(self, server, session, envelope) -> str:
                inbox.received.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"
        self.port = free_port(udp_and_tcp=False)
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "Inbox":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def plans_with(tmp_path: Path, *extra: str) -> Path:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "survey.yaml").write_text((ROOT / "dialplans" / "survey.yaml").read_text() + "".join(extra))
    return plans


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def english(at: datetime) -> str:
    """A moment as an English report writes it: month in words, 24-hour clock ("May 4, 2026, 13:03")."""
    return f"{at:%b} {at.day}, {at.year}, {at:%H:%M}"


async def live_registry(store: Store, plans: Path) -> CampaignRegistry:
    """The folder's campaigns seeded into the store and put in service now, as a node does."""
    async def prepare(campaigns: list) -> None:
        return None
    registry = CampaignRegistry(plans)
    await registry.start(store, prepare, poll=3600)
    return registry


def test_periods_are_whole_and_local() -> None:
    now = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)          # Berlin moved to summer time this night
    daily = last_period({"every": "daily", "at": "08:00"}, {"timezone": "Europe/Berlin"}, now)
    assert (daily.start, daily.end) == (datetime(2026, 3, 28, 7, tzinfo=UTC), datetime(2026, 3, 29, 6, tzinfo=UTC))
    weekly = last_period({"every": "weekly", "at": "08:00"}, None, now)                  # Sunday: last Monday
    assert weekly.end == datetime(2026, 3, 23, 8, tzinfo=UTC) and weekly.end - weekly.start == timedelta(7)
    hourly = last_period({"every": "hourly"}, None, now)
    assert (hourly.start, hourly.end) == (datetime(2026, 3, 29, 8, tzinfo=UTC), datetime(2026, 3, 29, 9, tzinfo=UTC))


def test_periods_cover_the_campaigns_own_life() -> None:
    live = datetime(2026, 5, 4, 10, 3, 20, tzinfo=UTC)

    def due(report: dict, at: datetime, ends_at: datetime | None = None, schedule: dict | None = None):
        period = due_period(report, schedule, live, ends_at, at)
        return None if period is None else (period.start, period.end)
    minutes = {"every": "10m"}
    assert due(minutes, live + timedelta(minutes=9, seconds=59)) is None                     # not yet
    assert due(minutes, live + timedelta(minutes=10)) == (live, live + timedelta(minutes=10))  # the first ten minutes
    assert due(minutes, live + timedelta(minutes=29)) == (live + timedelta(minutes=10), live + timedelta(minutes=20))
    hourly = {"every": "hourly", "first_after": "15m"}
    assert due(hourly, datetime(2026, 5, 4, 10, 20, tzinfo=UTC)) == (live, live + timedelta(minutes=15))
    assert due(hourly, datetime(2026, 5, 4, 11, 0, 5, tzinfo=UTC)) == (live + timedelta(minutes=15),
                                                                        datetime(2026, 5, 4, 11, tzinfo=UTC))
    assert due(hourly, datetime(2026, 5, 4, 12, 30, tzinfo=UTC)) == (datetime(2026, 5, 4, 11, tzinfo=UTC),
                                                                      datetime(2026, 5, 4, 12, tzinfo=UTC))
    ends = datetime(2026, 5, 4, 12, 40, tzinfo=UTC)                  # ended: one last report up to the end
    assert due(hourly, datetime(2026, 5, 4, 12, 41, tzinfo=UTC), ends) == (datetime(2026, 5, 4, 12, tzinfo=UTC), ends)
    assert due(hourly, datetime(2026, 5, 6, tzinfo=UTC), ends) == (datetime(2026, 5, 4, 12, tzinfo=UTC), ends)
    early = live + timedelta(minutes=4)                              # ended before its first report: one report
    assert due(minutes, live + timedelta(hours=1), early) == (live, early)
    later = {"start": "2026-05-04T14:00:00", "timezone": "Europe/Kyiv"}     # live from 11:00 UTC on
    assert due(minutes, datetime(2026, 5, 4, 11, 5, tzinfo=UTC), schedule=later) is None
    assert due(minutes, datetime(2026, 5, 4, 11, 10, tzinfo=UTC), schedule=later) == (
        datetime(2026, 5, 4, 11, tzinfo=UTC), datetime(2026, 5, 4, 11, 10, tzinfo=UTC))


def test_first_report_ten_minutes_after_going_live_with_chart(tmp_path: Path) -> None:
    """A campaign goes live; the test's clock moves: nothing at 9 minutes, at 10 the report of those ten
    minutes (Kyiv time, 24-hour clock), in HTML with a text part and a PNG chart of calls and messages."""
    async def run(inbox: Inbox) -> Period:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, KYIV, "report: {email: [brand@brand.test], "
                                                                               "every: 30m}\n"))
            campaign = registry.get("satisfaction-survey")
            live = campaign.live_at
            assert live is not None and abs((datetime.now(UTC) - live).total_seconds()) < 60
            for n, minute in enumerate((1, 1, 7)):                 # three calls: two in minute 1, one in minute 7
                store.call_started(call_id=f"c{n}", caller=f"+3805000000{n}", number="5050",
                                   campaign_id=campaign.id, channel="voice", at=live + timedelta(minutes=minute))
            store.call_started(call_id="before", caller="+380500000009", number="5050", campaign_id=campaign.id,
                               channel="voice", at=live - timedelta(minutes=5))      # before it went live
            sms = SmsGateway(registry, store, StoreServices(store))
            for n, text in enumerate(["hi", "4"]):
                await sms.inbound(f"m{n}", "+380671112233", "5050", text)
            await store.flush()
            sender = ReportSender(store, Mailer("127.0.0.1", inbox.port, "ivr@brand.test"))
            assert await sender.run_due(registry.all(), live + timedelta(minutes=9, seconds=59)) == []
            assert inbox.received == []
            assert await sender.run_due(registry.all(), live + timedelta(minutes=10)) == ["satisfaction-survey"]
            assert await sender.run_due(registry.all(), live + timedelta(minutes=39)) == []     # next at 40
            assert await sender.run_due(registry.all(), live + timedelta(minutes=40)) == ["satisfaction-survey"]
            await registry.stop()
            return Period(live, live + timedelta(minutes=10))
        finally:
            await store.close()
    with Inbox() as inbox:
        first = asyncio.run(run(inbox))
    assert len(inbox.received) == 2
    mail = inbox.received[0]
    kyiv = first.start.astimezone(ZoneInfo("Europe/Kyiv"))
    end = first.end.astimezone(ZoneInfo("Europe/Kyiv"))
    assert mail["Subject"] == f"[Satisfaction survey] report {english(kyiv)} to {end:%H:%M}"
    text = text_of(mail)
    assert f"results from {english(kyiv)} to {english(end)} (Europe/Kyiv)" in text
    assert "Calls: 3    SMS conversations: 1    SMS messages: 5" in text      # two in, three replies
    assert "Outbound" not in text                                                # no outbound campaign: none
    assert "answers to satisfaction: 4 1" in text
    page = mail.get_body(("html",))
    assert page.get_content_type() == "text/html" and '<img src="cid:chart@ivr"' in page.get_content()
    images = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<chart@ivr>"
    chart = Image.open(io.BytesIO(images[0].get_content())).convert("RGB")
    assert chart.size == (720, 280)
    colours = {colour for _, colour in chart.getcolors(720 * 280)}
    assert CALLS in colours and MESSAGES in colours                              # both series drawn
    second = text_of(inbox.received[1])
    assert "Calls: 0    SMS conversations: 0" in second                          # minutes 10 to 40: nothing


def test_report_tells_the_period_results_once_across_nodes(tmp_path: Path) -> None:
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, REPORT))
            sms = SmsGateway(registry, store, StoreServices(store))
            for n, text in enumerate(["hi", "4", "5", "yes"]):
                await sms.inbound(f"m{n}", "+15557777", "5050", text)
            await sms.inbound("m9", "+15557778", "5050", "hello")           # leaves after the first question
            await store.flush()
            mail = Mailer("127.0.0.1", inbox.port, "ivr@brand.test")
            nodes = [ReportSender(store, mail), ReportSender(store, mail)]
            later = datetime.now(UTC) + timedelta(minutes=10)
            sent = await asyncio.gather(*(node.run_due(registry.all(), later) for node in nodes))
            assert sorted(sum(sent, [])) == ["satisfaction-survey"]       # one node sent it
            assert await nodes[0].run_due(registry.all(), later) == []   # and only once
            await registry.stop()
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    assert sorted(m["To"] for m in inbox.received) == ["board@brand.test", "insights@brand.test"]
    text = text_of(inbox.received[0])
    assert "Calls: 0    SMS conversations: 2" in text
    assert "answers to satisfaction: 4 1" in text and "answers to solved: yes 1" in text


def test_report_counts_calls_completed_and_abandoned(tmp_path: Path) -> None:
    """Voice calls by how they ended (as the engine records them): one reached the end, two callers hung up
    at the first question."""
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, REPORT))
            now = datetime.now(UTC)
            for n, disposition, path in ((1, "completed", ["intro", "q1", "a1", "q2", "a2", "q3", "a3", "thanks"]),
                                         (2, "abandoned", ["intro", "q1"]), (3, "abandoned", ["intro", "q1"])):
                store.call_started(call_id=f"c{n}", caller=f"+1555800{n}", number="5050",
                                   campaign_id="satisfaction-survey", channel="voice", at=now)
                if disposition == "completed":
                    store.event(f"c{n}", "end", {"node": "thanks", "reason": "completed"}, now)
                store.call_ended(call_id=f"c{n}", at=now, disposition=disposition,
                                 cause="flow_end" if disposition == "completed" else "remote_bye", path=path)
            await store.flush()
            mail = Mailer("127.0.0.1", inbox.port, "ivr@brand.test")
            assert await ReportSender(store, mail).run_due(registry.all(), now + timedelta(minutes=10)) == [
                "satisfaction-survey"]
            await registry.stop()
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    text = text_of(inbox.received[0]).replace("\r\n", "\n")
    assert "Calls: 3    SMS conversations: 0    SMS messages: 0\nCalls completed: 1    abandoned (hung up before the " \
           "end): 2\n" in text
    assert "Left before the end, by last step: q1 2" in text


def test_report_not_accepted_is_tried_again(tmp_path: Path) -> None:
    async def run() -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, REPORT))
            later = datetime.now(UTC) + timedelta(minutes=11)
            nowhere = Mailer("127.0.0.1", free_port(udp_and_tcp=False), timeout=2)   # no server listens
            assert await ReportSender(store, nowhere).run_due(registry.all(), later) == []
            with Inbox() as inbox:
                assert await ReportSender(store, Mailer("127.0.0.1", inbox.port)).run_due(
                    registry.all(), later) == ["satisfaction-survey"]
            assert len(inbox.received) == 2
            await registry.stop()
        finally:
            await store.close()
    asyncio.run(run())


def test_engine_sends_the_report_due_when_it_starts(tmp_path: Path) -> None:
    """A node that starts after the campaign's first ten minutes sends that report at once."""
    plans = plans_with(tmp_path, REPORT)
    engine = start_engine(tmp_path, "--dialplans", str(plans))
    engine.stop()
    went_live = (datetime.now(UTC) - timedelta(minutes=12)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(engine.db_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE campaigns SET live_at = ? WHERE id = 'satisfaction-survey'", (went_live,))
    with Inbox() as inbox:
        engine = start_engine(tmp_path, "--smtp", f"127.0.0.1:{inbox.port}", "--dialplans", str(plans))
        try:
            deadline = time.monotonic() + 20
            while len(inbox.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            engine.stop()
    assert sorted(m["To"] for m in inbox.received) == ["board@brand.test", "insights@brand.test"]
    assert "Calls: 0" in text_of(inbox.received[0])


def test_a_premium_campaigns_report_tells_its_revenue_so_far(tmp_path: Path) -> None:
    """Three premium SMS (5 UAH each), two from kyivstar with a 45 % share: the report tells what subscribers
    paid and the business's share, in its text and its HTML."""
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, "report: {email: [brand@brand.test], "
                                                                       "every: 10m}\n"))
            campaign = registry.get("satisfaction-survey")
            demo = await store.tenant_by_name("demo")
            with transaction(store) as session:                        # in force since an hour ago
                tariffs.set_tariff(session, Tariff(demo.id, "sms", "premium", "message", price=500,
                                                   campaign_id=campaign.id, shares={"kyivstar": 4500}),
                                   datetime.now(UTC) - timedelta(hours=1))
            sms = SmsGateway(registry, store, StoreServices(store))
            for n, (sender, text) in enumerate([("+380671234567", "hi"), ("+380671234567", "4"),
                                                ("0501234567", "hello")]):
                await sms.inbound(f"m{n}", sender, "5050", text)
            await store.flush()
            assert campaign.live_at is not None
            sender = ReportSender(store, Mailer("127.0.0.1", inbox.port, "ivr@brand.test"))
            assert await sender.run_due(registry.all(), campaign.live_at + timedelta(minutes=10)) == [
                "satisfaction-survey"]
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    text = text_of(inbox.received[0]).replace("\r\n", "\n")
    # 3 SMS at 5.00; the share: 45 % of 4.17 for the two from kyivstar, none for vodafone
    assert ("Money since the campaign began (3 charged messages and calls):\n"
            "  premium revenue: 15.00 UAH paid by subscribers (VAT included)\n"
            "  your share: 3.76 UAH (VAT excluded)\n") in text
    page = inbox.received[0].get_body(("html",)).get_content()
    assert "<li>your share: 3.76 UAH (VAT excluded)</li>" in page


async def outbound_results(store: Store, tenant_id: str, campaign_id: str, channel: str, name: str,
                           results: dict[str, tuple[str, str | None]], waiting: int = 0) -> None:
    """An outbound campaign of the flow campaign whose numbers got `results` (number: result, outcome), as the
    dialer writes them, plus `waiting` numbers not reached yet; a number with result opted_out is on the block
    list, so the claim itself marks it."""
    outbound = await store.outbound_create(tenant_id, Settings(
        campaign_id=campaign_id, name=name, channel=channel, number="5050", text="Hi" if channel == "sms" else None,
        hours_start=0, hours_end=24 * 60, max_attempts=1, concurrent=len(results)))
    later = [(f"+38050999{n:04d}", {}) for n in range(waiting)]
    await store.outbound_add_audience(tenant_id, outbound.id, [(number, {}) for number in results] + later)
    for number, (result, _) in results.items():
        if result == "opted_out":
            await store.sms_opt_out(number="5050", caller=number, word="stop")
    await store.outbound_control(tenant_id, outbound.id, "start")
    claimed = await store.outbound_claim(outbound_id=outbound.id, node="n1", limit=len(results), lease=600)
    for c in claimed:
        result, outcome = results[c.recipient]
        assert await store.outbound_finish(contact_id=c.contact_id, node="n1", result=result, outcome=outcome,
                                           call_id=f"x{c.contact_id}") == "done"


def test_report_tells_the_outbound_campaigns_results(tmp_path: Path) -> None:
    """Two outbound campaigns run the campaign: calls (two completed as "thanks", one confirmed, one hung up,
    busy, opted out, one number still waiting) and an SMS broadcast (two sent, one blocked). The first report
    counts each result, the next one (nothing done in it) only the calls still running, with zeros."""
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, KYIV, "report: {email: [brand@brand.test], "
                                                                               "every: 30m}\n"))
            campaign = registry.get("satisfaction-survey")
            demo = await store.tenant_by_name("demo")
            assert campaign.live_at is not None and demo is not None
            await outbound_results(store, demo.id, campaign.id, "voice", "Order reminders", {
                "+380501110001": ("completed", "thanks"), "+380501110002": ("completed", "thanks"),
                "+380501110003": ("completed", "confirmed"), "+380501110004": ("answered", "q1"),
                "+380501110005": ("busy", None), "+380501110006": ("opted_out", None)}, waiting=1)
            await outbound_results(store, demo.id, campaign.id, "sms", "Promo <May>", {
                "+380671110001": ("sent", None), "+380671110002": ("sent", None),
                "+380671110003": ("opted_out", None)})
            sender = ReportSender(store, Mailer("127.0.0.1", inbox.port, "ivr@brand.test"))
            assert await sender.run_due(registry.all(), campaign.live_at + timedelta(minutes=10)) == [
                "satisfaction-survey"]
            assert await sender.run_due(registry.all(), campaign.live_at + timedelta(minutes=40)) == [
                "satisfaction-survey"]
            await registry.stop()
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    first, second = (text_of(mail).replace("\r\n", "\n") for mail in inbox.received)
    assert ("\nOutbound campaigns (calls and SMS from the short number):\n"
            "  Order reminders (calls): 6 of 7 numbers done; in the period: completed 3 (thanks 2, confirmed 1), "
            "hung up before the end 1, busy 1, no answer 0, failed 0, opted out 1\n"
            "  Promo <May> (SMS): 3 of 3 numbers done; in the period: sent 2, blocked 1\n") in first
    assert ("\nOutbound campaigns (calls and SMS from the short number):\n"
            "  Order reminders (calls): 6 of 7 numbers done; in the period: completed 0, hung up before the end 0, "
            "busy 0, no answer 0, failed 0, opted out 0\n") in second
    assert "Promo" not in second                       # done before the period, nothing in it
    page = inbox.received[0].get_body(("html",)).get_content()
    assert "<li>Promo &lt;May&gt; (SMS): 3 of 3 numbers done; in the period: sent 2, blocked 1</li>" in page


def test_report_tells_outbound_results_in_ukrainian() -> None:
    """The outbound lines in Ukrainian: the plural of "numbers" after "з" (1 номера, 12 345 номерів), counts
    grouped with a space, an SMS broadcast's opted out as blocked."""
    from ivr.engine.reports import Report, render
    from ivr.flow.model import Campaign
    from ivr.store.outbound import PeriodResults
    from ivr.store.queries import Tallies
    campaign = Campaign.from_dict({"id": "c", "name": "Доставка", "languages": ["uk"],
                                   "report": {"email": ["a@b.c"]}, "nodes": {"a": {"type": "end"}}, "start": "a"})
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    report = Report(campaign, Period(start, start + timedelta(minutes=10)), {}, 0, {},
                    Tallies(votes={}, answers={}, codes={}), [], [], outbound=[
                        PeriodResults("o1", "Нагадування", "voice_sms", 12345, 10002,
                                      {"completed": 10000, "no_answer": 1, "sent": 1}, {"confirmed": 10000}),
                        PeriodResults("o2", "Акція", "sms", 1, 1, {"opted_out": 1}, {})])
    _, text, page = render(report)
    assert ("\nВихідні кампанії (дзвінки та SMS з короткого номера):\n"
            "  Нагадування (дзвінки, потім SMS тим, до кого не додзвонилися): оброблено 10\u00a0002 з 12\u00a0345 "
            "номерів; за період: завершено 10\u00a0000 (confirmed 10\u00a0000), поклали слухавку до кінця 0, "
            "зайнято 0, без відповіді 1, не вдалося 0, відмовилися від розсилок 0, надіслано 1\n"
            "  Акція (SMS): оброблено 1 з 1 номера; за період: надіслано 0, заблоковано 1\n") in text
    assert "<h2 style=\"font-size:16px\">Вихідні кампанії (дзвінки та SMS з короткого номера):</h2>" in page


UK_MOMENT = re.compile(r"(\d{1,2}) (\S+) (\d{4})[\s\u202f]р\., (\d{2}:\d{2})")    # CLDR: a narrow space before р.
UK_MONTHS = ("січ.", "лют.", "бер.", "квіт.", "трав.", "черв.", "лип.", "серп.", "вер.", "жовт.", "лист.", "груд.")


def test_report_in_ukrainian(tmp_path: Path) -> None:
    """`report.language: uk`: the subject, the text and the HTML in Ukrainian, dates as Ukrainians write them
    (4 трав. 2026 р., 13:03), thousands grouped with a space, and the chart's words in Cyrillic letters."""
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            registry = await live_registry(store, plans_with(tmp_path, KYIV, "report: {email: [brand@brand.test], "
                                                                               "every: 30m, language: uk}\n"))
            campaign = registry.get("satisfaction-survey")
            live = campaign.live_at
            for n in range(3):
                store.call_started(call_id=f"c{n}", caller=f"+38050000000{n}", number="5050",
                                   campaign_id=campaign.id, channel="voice", at=live + timedelta(minutes=1))
            sms = SmsGateway(registry, store, StoreServices(store))
            for n, text in enumerate(["hi", "4"]):
                await sms.inbound(f"m{n}", "+380671112233", "5050", text)
            await store.flush()
            sender = ReportSender(store, Mailer("127.0.0.1", inbox.port, "ivr@brand.test"))
            assert await sender.run_due(registry.all(), live + timedelta(minutes=10)) == ["satisfaction-survey"]
            await registry.stop()
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    mail = inbox.received[0]
    subject = mail["Subject"]
    assert subject.startswith("[Satisfaction survey] звіт з ") and " до " in subject, subject
    start = subject.removeprefix("[Satisfaction survey] звіт з ").split(" до ")[0]
    written = UK_MOMENT.fullmatch(start)                   # 7 груд. 2026 р., 05:36
    assert written and written[2] in UK_MONTHS, start
    text = text_of(mail)
    assert f"Satisfaction survey: результати з {start} до " in text and "(Europe/Kyiv)" in text
    assert "Дзвінки: 3    SMS-діалоги: 1    SMS-повідомлення: 5" in text
    assert "Підсумки від початку кампанії:" in text and "відповіді на satisfaction: 4 1" in text
    page = mail.get_body(("html",)).get_content()
    assert '<html lang="uk">' in page and "Дзвінки: 3" in page
    assert 'alt="Дзвінки та SMS-повідомлення за хвилину"' in page


def test_report_language_follows_the_campaign() -> None:
    """Without report.language the mail speaks the campaign's first language when it is uk, ru or en."""
    from ivr.engine.reports import report_language
    from ivr.flow.model import Campaign

    def campaign(languages: list[str], report: dict) -> Campaign:
        return Campaign.from_dict({"id": "c", "name": "C", "languages": languages, "report": report,
                                   "nodes": {"a": {"type": "end"}}, "start": "a"})
    assert report_language(campaign(["uk", "en"], {"email": ["a@b.c"]})) == "uk"
    assert report_language(campaign(["ru"], {"email": ["a@b.c"]})) == "ru"
    assert report_language(campaign(["pl", "uk"], {"email": ["a@b.c"]})) == "en"
    assert report_language(campaign(["en"], {"email": ["a@b.c"], "language": "uk"})) == "uk"


def test_report_numbers_grouped_as_the_language_writes_them() -> None:
    from ivr.engine.reports import Report, render
    from ivr.flow.model import Campaign
    from ivr.store.queries import Tallies
    campaign = Campaign.from_dict({"id": "c", "name": "Голосування", "languages": ["uk"],
                                   "report": {"email": ["a@b.c"]}, "nodes": {"a": {"type": "end"}}, "start": "a"})
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    report = Report(campaign, Period(start, start + timedelta(minutes=10)), {"voice": 12345, "sms": 2}, 7, {},
                    Tallies(votes={"talent": {"chloe": 10500}}, answers={}, codes={}), [], [])
    subject, text, _ = render(report)
    assert subject == "[Голосування] звіт з 4 трав. 2026\u202fр., 10:00 до 10:10"
    assert "Дзвінки: 12\u00a0345    SMS-діалоги: 2    SMS-повідомлення: 7" in text
    assert "голосування talent: chloe 10\u00a0500" in text
