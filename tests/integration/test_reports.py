"""Scheduled campaign reports e-mailed through an SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from ivr.channels.mailer import Mailer
from ivr.channels.sms import SmsGateway
from ivr.channels.store_services import StoreServices
from ivr.engine.campaigns import CampaignRegistry
from ivr.engine.reports import ReportSender, last_period
from ivr.store.db import Store

from .conftest import free_port, start_engine

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
REPORT = 'report: {email: [insights@brand.test, board@brand.test], every: hourly}\n'


class Inbox:
    """An SMTP server on 127.0.0.1 keeping what it receives."""

    def __init__(self) -> None:
        self.received: list = []
        inbox = self

        class Keep(Message):
            def handle_message(self, message) -> None:
                inbox.received.append(message)
        self.port = free_port(udp_and_tcp=False)
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "Inbox":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def plans_with_report(tmp_path: Path) -> Path:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "survey.yaml").write_text((ROOT / "dialplans" / "survey.yaml").read_text() + REPORT)
    return plans


def test_periods_are_whole_and_local() -> None:
    now = datetime(2026, 3, 29, 9, 30, tzinfo=timezone.utc)          # Berlin moved to summer time this night
    daily = last_period({"every": "daily", "at": "08:00"}, {"timezone": "Europe/Berlin"}, now)
    assert (daily.start, daily.end) == (datetime(2026, 3, 28, 7, tzinfo=timezone.utc),
                                        datetime(2026, 3, 29, 6, tzinfo=timezone.utc))   # a 23-hour day
    weekly = last_period({"every": "weekly", "at": "08:00"}, None, now)                  # Sunday: last Monday
    assert weekly.end == datetime(2026, 3, 23, 8, tzinfo=timezone.utc) and weekly.end - weekly.start == timedelta(7)
    hourly = last_period({"every": "hourly"}, None, now)
    assert (hourly.start, hourly.end) == (datetime(2026, 3, 29, 8, tzinfo=timezone.utc),
                                          datetime(2026, 3, 29, 9, tzinfo=timezone.utc))


def test_report_tells_the_period_results_once_across_nodes(tmp_path: Path) -> None:
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            campaigns = CampaignRegistry(plans_with_report(tmp_path))
            campaigns.load()
            sms = SmsGateway(campaigns, store, StoreServices(store))
            for n, text in enumerate(["hi", "4", "5", "yes"]):
                await sms.inbound(f"m{n}", "+15557777", "5050", text)
            await sms.inbound("m9", "+15557778", "5050", "hello")           # leaves after the first question
            await store.flush()
            mail = Mailer("127.0.0.1", inbox.port, "ivr@brand.test")
            nodes = [ReportSender(store, mail), ReportSender(store, mail)]
            later = datetime.now(timezone.utc) + timedelta(hours=1)
            sent = await asyncio.gather(*(node.run_due(campaigns.all(), later) for node in nodes))
            assert sorted(sum(sent, [])) == ["satisfaction-survey"]       # one node sent it
            assert await nodes[0].run_due(campaigns.all(), later) == []   # and only once
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    assert sorted(m["To"] for m in inbox.received) == ["board@brand.test", "insights@brand.test"]
    text = inbox.received[0].get_payload()
    assert inbox.received[0]["Subject"].startswith("[Satisfaction survey] report to ")
    assert "Calls: 0    SMS conversations: 2" in text
    assert "answers to satisfaction: 4 1" in text and "answers to solved: yes 1" in text


def test_report_counts_calls_completed_and_abandoned(tmp_path: Path) -> None:
    """Voice calls by how they ended (as the engine records them): one reached the end, two callers hung up
    at the first question."""
    async def run(inbox: Inbox) -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            campaigns = CampaignRegistry(plans_with_report(tmp_path))
            campaigns.load()
            now = datetime.now(timezone.utc)
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
            assert await ReportSender(store, mail).run_due(campaigns.all(), now + timedelta(hours=1)) == [
                "satisfaction-survey"]
        finally:
            await store.close()
    with Inbox() as inbox:
        asyncio.run(run(inbox))
    text = inbox.received[0].get_payload()
    assert "Calls: 3    SMS conversations: 0\r\nCalls completed: 1    abandoned (hung up before the end): 2\r\n" in text
    assert "Left before the end, by last step: q1 2" in text


def test_report_not_accepted_is_tried_again(tmp_path: Path) -> None:
    async def run() -> None:
        store = await Store.open(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool")
        try:
            campaigns = CampaignRegistry(plans_with_report(tmp_path))
            campaigns.load()
            nowhere = Mailer("127.0.0.1", free_port(udp_and_tcp=False), timeout=2)   # no server listens
            assert await ReportSender(store, nowhere).run_due(campaigns.all()) == []
            with Inbox() as inbox:
                assert await ReportSender(store, Mailer("127.0.0.1", inbox.port)).run_due(campaigns.all()) == [
                    "satisfaction-survey"]
            assert len(inbox.received) == 2
        finally:
            await store.close()
    asyncio.run(run())


def test_engine_sends_reports_with_smtp_configured(tmp_path: Path) -> None:
    with Inbox() as inbox:
        engine = start_engine(tmp_path, "--smtp", f"127.0.0.1:{inbox.port}", "--dialplans",
                              str(plans_with_report(tmp_path)))
        try:
            deadline = time.monotonic() + 20
            while len(inbox.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            engine.stop()
    assert sorted(m["To"] for m in inbox.received) == ["board@brand.test", "insights@brand.test"]
    assert "Calls: 0" in inbox.received[0].get_payload()
