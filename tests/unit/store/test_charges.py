"""Charges on SQLite: a month of traffic gives the statement a reader computes line by line; many writers
at once charge each event once; a replayed spool and a retried call end charge nothing more; the SMSC
link's operator wins over the prefix table; outbound SMS without a campaign go to the number's lessee."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ivr.store import charges
from ivr.store.outbox import OutboundSms
from ivr.store.records import CallAnswered, CallEnded, CallStarted

from . import billing_world as w
from .support import FAST, opened, rows, run, wait_until
from .test_outage import drained, locked

PATIENT = replace(FAST, sqlite_busy_timeout=10.0, ack_deadline=5.0, answer_timeout=10.0)


@run
async def test_a_month_of_traffic_gives_the_statement_a_reader_computes(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        world = await w.build(store)
        await w.traffic_of_the_month(store, world)
        await w.check_month(store, world)
        assert rows(store, "SELECT count(*) FROM charges WHERE event_key = 'call:q1'") == [(1,)]


@run
async def test_many_writers_at_once_charge_each_event_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ivr.db"
    async with opened(url, tmp_path / "a", PATIENT) as a, opened(url, tmp_path / "b", PATIENT) as b:
        world = await w.build(a)
        await w.concurrent_traffic([a, b], messages=120, calls=30)
        await w.check_concurrent(a, world, messages=120, calls=30)
        assert a.gauges()["store_failures"] == b.gauges()["store_failures"] == 0


@run
async def test_a_replayed_spool_and_a_retried_call_end_charge_once(tmp_path: Path) -> None:
    db = tmp_path / "ivr.db"
    async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:
        await w.build(store)
        started = datetime.now(timezone.utc) - timedelta(minutes=10)
        with locked(db):                                   # the database is away: the call waits in the spool
            store.call_started(call_id="s1", caller="+380671110001", number="3838", campaign_id="vote",
                               channel="voice", at=started)
            store.call_answered("s1", started + timedelta(seconds=2))
            store.call_ended(call_id="s1", at=started + timedelta(seconds=62), disposition="completed",
                             cause="flow_end", path=["end"])
            await store.flush()
            assert not store.online and store.spool.pending == 3
        await drained(store)
        first = rows(store, "SELECT event_key, quantity, revenue, share FROM charges WHERE item = 'call_premium'")
        # the same records again (a spool replayed after they reached the database), and a retried end
        store.spool.append([CallStarted("s1", "+380671110001", "3838", "quiz", "voice", started),
                            CallAnswered("s1", started + timedelta(seconds=2)),
                            CallEnded("s1", started + timedelta(seconds=62), "completed", "flow_end", ["end"])])
        store.call_ended(call_id="s1", at=started + timedelta(seconds=90), disposition="completed", cause="bye",
                         path=["end"])
        await wait_until(lambda: store.spool.pending == 0)
        await store.flush()
        again = rows(store, "SELECT event_key, quantity, revenue, share FROM charges WHERE item = 'call_premium'")
        assert store.gauges()["store_replayed"] >= 6
    assert first == again == [("call:s1", 60, 500, w.share(500, "50"))]


@run
async def test_the_links_operator_wins_and_outbound_sms_without_a_campaign_go_to_the_lessee(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        world = await w.build(store)
        # a vodafone-looking number that moved to kyivstar: the link it came on knows better
        await store.sms_claim(message_id="ported", number="3838", caller="+380501110004", text="1",
                              campaign_id="vote", operator="kyivstar")
        await store.sms_claim(message_id="plain", number="3838", caller="+380501110004", text="1", campaign_id="vote")
        with w.transaction(store) as session:
            assert charges.charge_sms_out(session, message_id="notice", campaign_id=None, number="7777",
                                          recipient="+380671110001", parts=2, at=datetime.now(timezone.utc))
            assert not charges.charge_sms_out(session, message_id="notice", campaign_id=None, number="7777",
                                              recipient="+380671110001", parts=2, at=datetime.now(timezone.utc))
            assert not charges.charge_sms_out(session, message_id="nobody", campaign_id=None, number="9999",
                                              recipient="+380671110001", parts=1, at=datetime.now(timezone.utc))
        charged = rows(store, "SELECT event_key, operator, tenant_id, share, amount FROM charges ORDER BY event_key")
    assert charged == [("sms-in:plain", "vodafone", world.acme, w.share(1500, "40"), 0),
                       ("sms-in:ported", "kyivstar", world.acme, w.share(1500, "45"), 0),
                       ("sms-out:notice", "kyivstar", world.acme, 0, 60)]


@run
async def test_traffic_without_a_tariff_or_a_known_campaign_is_not_charged(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        await w.build(store)
        await store.sms_claim(message_id="x1", number="5050", caller="+380501110004", text="1", campaign_id="hotline")
        await store.sms_claim(message_id="x2", number="5555", caller="+380501110004", text="1", campaign_id="files")
        await store.sms_claim(message_id="x3", number="3838", caller="+380501110004", text="1")
        store.call_started(call_id="nobody", caller="+1", number="3839", campaign_id="", channel="voice",
                           at=datetime.now(timezone.utc))
        store.call_ended(call_id="nobody", at=datetime.now(timezone.utc), disposition="completed", cause="x", path=[])
        await store.flush()
        assert rows(store, "SELECT count(*) FROM charges") == [(0,)]
        assert rows(store, "SELECT count(*) FROM sms_messages") == [(3,)]



@run
async def test_outbound_sms_are_charged_per_part_as_they_are_queued_but_not_to_opted_out_recipients(
        tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        world = await w.build(store)

        def reply(recipient: str, parts: int, kind: str = "reply") -> OutboundSms:
            return OutboundSms("3838", recipient, "Thank you" * parts, kind, "smpp", "gsm7", parts, 1,
                               campaign_id="vote", session_id="s1")
        await store.sms_opt_out(number="3838", caller="+380631110006", word="STOP")
        first, second = reply("+380671110001", 3), reply("+380501110004", 1)
        states = await store.sms_save(session_id="s1", number="3838", caller="+380671110001", campaign_id="vote",
                                      state=None, replies=[first, second])
        assert await store.sms_enqueue([reply("+380631110006", 2)]) == ["blocked"]
        charged = rows(store, "SELECT event_key, quantity, unit, amount, operator, tenant_id FROM charges "
                              "ORDER BY quantity")
    assert states == ["queued", "queued"]
    assert charged == [(f"sms-out:{second.id}", 1, "part", 25, "vodafone", world.acme),
                       (f"sms-out:{first.id}", 3, "part", 75, "kyivstar", world.acme)]


@run
async def test_an_sms_is_charged_to_the_campaign_its_conversation_continues(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        await w.build(store)
        await store.sms_save(session_id="s1", number="3838", caller="+380671110001", campaign_id="vote",
                             state={"waiting": True}, replies=[])
        seen: list[str | None] = []

        def campaign_of(saved: str | None) -> str | None:
            seen.append(saved)
            return saved or "care"
        await store.sms_claim(message_id="m1", number="3838", caller="+380671110001", text="2",
                              campaign_id=campaign_of)
        await store.sms_claim(message_id="m2", number="3838", caller="+380501110004", text="hi",
                              campaign_id=campaign_of)
        charged = rows(store, "SELECT event_key, campaign_id, item FROM charges ORDER BY event_key")
    assert seen == ["vote", None]
    assert charged == [("sms-in:m1", "vote", "sms_premium")]      # m2 went to care, priced only on 7777
