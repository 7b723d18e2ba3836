"""SMS over SMPP through a real SMSC nobody here wrote: Jasmin (one per session, tests/support/jasmin.py)
between our engine (an `ivr serve` bound with --smsc) and the mobile network's side.

A message from a handset in Cyrillic, in three parts, runs a vote; the reply goes back in UCS-2 parts; a
premium message is charged by the operator of the link it came on, its reply per part;
delivery receipts make it "delivered"; Jasmin dropping our bind mid-campaign loses no reply; Jasmin
throttling us slows the link down without losing anything."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.channels.sms_metrics import SmsMetrics
from ivr.channels.sms_outbox import outbound
from ivr.channels.smpp.config import LinkSettings
from ivr.channels.smpp.link import Inbound, SmppLink, SubmitOutcome
from ivr.channels.smpp.machine import LinkState
from ivr.store import tariffs
from ivr.store.connect import make_engine, writing
from ivr.store.db import Store
from ivr.store.models import TenantRow
from ivr.store.rating import Tariff
from tests.support.jasmin_peer import PASSWORD, USER, Jasmin, Received

from .conftest import start_engine

pytestmark = [pytest.mark.smpp, pytest.mark.integration]

DIALPLANS = Path(__file__).parent / "dialplans" / "smpp"
SHORT = "3838"
THANKS = ("Дякуємо! Ваш голос за {} зараховано. Результати голосування оголосимо в неділю ввечері у прямому "
          "ефірі. Слідкуйте за новинами на нашому каналі!")
ALREADY = "Ви вже проголосували. Дякуємо!"
MO = ("Добрий вечір, шановна редакціє! Дивлюся ваше шоу щотижня разом із родиною, і нам дуже подобається, "
      "як співає Марія. Вона найкраща, тому мій голос за неї. Дякуємо за гарний настрій!")


@pytest.fixture(scope="session")
def jasmin(tmp_path_factory):
    peer = Jasmin(tmp_path_factory.mktemp("jasmin"))
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def engine(jasmin, tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("smpp-engine")
    monkeypatch_module.setenv("IVR_TEST_SMPP_PASSWORD", PASSWORD)
    smsc = folder / "smsc.yaml"
    smsc.write_text(f"""
country_code: "380"
links:
  jasmin:
    host: 127.0.0.1
    port: {jasmin.smpp_port}
    system_id: {USER}
    password_env: IVR_TEST_SMPP_PASSWORD
    bind: transceiver
    throughput: 60
    window: 10
    reconnect_min: 0.2
    reconnect_max: 1
operators:
  vodafone: {{link: jasmin, prefixes: ["050", "066", "095", "099"]}}
fallback: jasmin
""")
    proc = start_engine(folder, "--smsc", str(smsc), dialplans=DIALPLANS)
    try:
        bound_within(proc, 20)
        yield proc
    finally:
        proc.stop()
    assert PASSWORD not in proc.log()                    # the secret never reaches the log


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def bound_within(engine, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while engine.metrics().get('ivr_smsc_bind_up{link="jasmin"}') != 1.0:
        assert time.monotonic() < deadline, engine.log()[-3000:]
        time.sleep(0.1)


def ucs2_parts(text: str, reference: int, size: int = 67) -> list[bytes]:
    """A handset's long message: UCS-2 parts with a concatenation UDH (written out here, not by ivr)."""
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    return [bytes([5, 0, 3, reference, len(chunks), n + 1]) + chunk.encode("utf-16-be")
            for n, chunk in enumerate(chunks)]


def parts_to(jasmin: Jasmin, recipient: str, count: int, timeout: float = 20.0) -> list[Received]:
    deadline = time.monotonic() + timeout
    while True:
        parts = [r for r in jasmin.network.received if r.destination == recipient]
        if len(parts) >= count or time.monotonic() > deadline:
            return parts
        time.sleep(0.05)


def joined(parts: list[Received]) -> str:
    """The text of a message in parts as the handset shows it (parts ordered by their UDH number)."""
    ordered = sorted(parts, key=lambda r: r.short_message[5] if r.esm_class & 0x40 else 0)
    bodies = [r.short_message[r.short_message[0] + 1:] if r.esm_class & 0x40 else r.short_message for r in ordered]
    return "".join(b.decode("utf-16-be" if r.data_coding == 8 else "latin-1") for b, r in zip(bodies, ordered))


def db(engine, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(engine.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql, args).fetchall()


def wait_for(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_cyrillic_message_in_three_parts_votes_and_the_reply_goes_back_in_ucs2_parts(jasmin, engine) -> None:
    subscriber = "380501110001"
    parts = ucs2_parts(MO, reference=77)
    assert len(parts) == 3
    for part in parts:
        assert jasmin.network.deliver(subscriber, SHORT, part, data_coding=8, esm_class=0x40) == 0
    reply = parts_to(jasmin, subscriber, 3)
    assert len(reply) == 3 and {r.data_coding for r in reply} == {8} and {r.esm_class & 0x40 for r in reply} == {0x40}
    assert {r.short_message[:5] for r in reply} == {reply[0].short_message[:5]}      # one reference, 3 parts
    assert joined(reply) == THANKS.format("Марія")
    assert {r.source for r in reply} == {SHORT}
    wait_for(lambda: db(engine, "SELECT caller, name, value FROM outcomes") != [], what="the vote")
    assert db(engine, "SELECT caller, name, value FROM outcomes") == [("+" + subscriber, "talent", "Марія")]
    assert db(engine, "SELECT text FROM sms_messages WHERE direction = 'in'") == [(MO,)]     # one message, whole
    wait_for(lambda: db(engine, "SELECT state FROM sms_outbox WHERE recipient = ?", "+" + subscriber) == [("accepted",)])
    assert db(engine, "SELECT encoding, parts, link FROM sms_outbox WHERE recipient = ?", "+" + subscriber) == [
        ("ucs2", 3, "jasmin")]


def test_a_premium_message_is_charged_by_the_operator_of_its_link_and_its_reply_per_part(jasmin, engine) -> None:
    """The link carries vodafone's subscribers alone: a number that looks like kyivstar's (ported) is
    vodafone's for the revenue share; the reply's three UCS-2 parts are charged to the campaign."""
    store_engine = make_engine(engine.db_url)
    try:
        with Session(writing(store_engine)) as session, session.begin():
            demo = session.scalar(select(TenantRow.id).where(TenantRow.name == "demo"))
            tariff = tariffs.set_tariff(session, Tariff(demo, "sms", "premium", "message", campaign_id="golos",
                                                        price=500, shares={"vodafone": 4000, "kyivstar": 5000},
                                                        outbound_cost=30))
    finally:
        store_engine.dispose()
    assert tariff.valid_from is not None
    time.sleep((tariff.valid_from - datetime.now(timezone.utc)).total_seconds() + 0.1)      # in force in 10 s
    subscriber = "380671110003"
    assert jasmin.network.deliver(subscriber, SHORT, "Олена".encode("utf-16-be"), data_coding=8) == 0
    assert len(parts_to(jasmin, subscriber, 3)) == 3
    wait_for(lambda: len(db(engine, "SELECT 1 FROM charges WHERE campaign_id = 'golos'")) == 2, what="the charges")
    assert sorted(db(engine, "SELECT item, operator, quantity, amount, revenue, share FROM charges")) == [
        ("sms_outbound", "kyivstar", 3, 90, 0, 0),              # the reply's parts, by the recipient's prefix
        ("sms_premium", "vodafone", 1, 0, 500, 167)]            # 40 % of 4.17: the link's operator's share


def test_delivery_receipts_make_the_reply_delivered(jasmin, engine) -> None:
    subscriber = "380501110002"
    assert jasmin.network.deliver(subscriber, SHORT, "Олена".encode("utf-16-be"), data_coding=8) == 0
    reply = parts_to(jasmin, subscriber, 3)
    wait_for(lambda: db(engine, "SELECT state FROM sms_outbox WHERE recipient = ?", "+" + subscriber) == [("accepted",)])
    for part in reply[:2]:
        assert jasmin.network.receipt(part) == 0
    time.sleep(1.0)
    assert db(engine, "SELECT state FROM sms_outbox WHERE recipient = ?", "+" + subscriber) == [("accepted",)]
    assert jasmin.network.receipt(reply[2]) == 0
    wait_for(lambda: db(engine, "SELECT state FROM sms_outbox WHERE recipient = ?", "+" + subscriber) == [("delivered",)],
             what="the receipts")
    assert db(engine, "SELECT count(*) FROM sms_parts p JOIN sms_outbox o ON o.id = p.message_id "
                      "WHERE o.recipient = ? AND p.state = 'delivered'", "+" + subscriber) == [(3,)]
    assert engine.metrics()['ivr_sms_receipts_total{state="delivered"}'] >= 3


def test_a_dropped_bind_mid_campaign_loses_no_reply(jasmin, engine) -> None:
    subscribers = [f"38050222{n:04d}" for n in range(30)]
    before = engine.metrics().get('ivr_sms_binds_total{link="jasmin",result="lost"}', 0)
    for subscriber in subscribers:
        assert jasmin.network.deliver(subscriber, SHORT, b"1") == 0
    parts_to(jasmin, subscribers[2], 1)                      # the replies are going out: drop the bind now
    assert "Successfully unbound" in jasmin.drop_bind()
    for subscriber in subscribers:
        got = parts_to(jasmin, subscriber, 3, timeout=30)
        once_each = list({r.short_message[5]: r for r in got}.values())     # a part resent after the drop: once
        assert joined(once_each) == THANKS.format("Андрій"), subscriber
    metrics = engine.metrics()
    assert metrics['ivr_sms_binds_total{link="jasmin",result="lost"}'] == before + 1
    assert metrics['ivr_smsc_bind_up{link="jasmin"}'] == 1.0
    states = db(engine, f"SELECT DISTINCT state FROM sms_outbox WHERE recipient IN ({','.join('?' * 30)})",
                *("+" + s for s in subscribers))
    assert states == [("accepted",)]


def test_a_throttled_link_backs_off_and_delivers_everything(jasmin, engine) -> None:
    subscribers = [f"38050333{n:04d}" for n in range(12)]
    for subscriber in subscribers:                          # first votes, unthrottled
        jasmin.network.deliver(subscriber, SHORT, b"3")
    for subscriber in subscribers:
        assert len(parts_to(jasmin, subscriber, 3)) == 3
    throttles = engine.metrics().get('ivr_sms_throttles_total{link="jasmin"}', 0)
    jasmin.throughput(2)
    try:
        for subscriber in subscribers:                      # second votes: "already", one part each
            assert jasmin.network.deliver(subscriber, SHORT, b"3") == 0
        for subscriber in subscribers:
            got = parts_to(jasmin, subscriber, 4, timeout=30)
            assert joined([got[-1]]) == ALREADY, [(r.message_id, r.short_message[:6], joined([r])) for r in got]
    finally:
        jasmin.throughput(None)
    assert engine.metrics()['ivr_sms_throttles_total{link="jasmin"}'] > throttles
    assert db(engine, f"SELECT count(*) FROM sms_outbox WHERE state != 'accepted' AND recipient IN "
                      f"({','.join('?' * 12)})", *("+" + s for s in subscribers)) == [(0,)]


def test_messages_queued_while_the_smsc_refuses_us_survive_a_restart(jasmin, tmp_path: Path,
                                                                     monkeypatch_module) -> None:
    """A node whose SMSC refuses its bind keeps what it must send in the store; stopped and started again,
    it sends all of it once the SMSC takes it back."""
    jasmin.add_user("ivr3", "ivr3pw", "4040")
    assert "Successfully" in jasmin.jcli("user -d ivr3")
    monkeypatch_module.setenv("IVR_TEST_SMPP3_PASSWORD", "ivr3pw")
    smsc = tmp_path / "smsc.yaml"
    smsc.write_text(f"links: {{j: {{host: 127.0.0.1, port: {jasmin.smpp_port}, system_id: ivr3, "
                    f"password_env: IVR_TEST_SMPP3_PASSWORD, reconnect_min: 0.2, reconnect_max: 1}}}}\n")
    recipients = [f"38063444{n:04d}" for n in range(20)]
    first = start_engine(tmp_path, "--smsc", str(smsc), dialplans=DIALPLANS)
    try:
        async def enqueue() -> None:
            store = await Store.open(first.db_url, tmp_path / "test-spool")
            try:
                await store.sms_enqueue([outbound(number="4040", recipient=r, text="Ваш код 4711", kind="notify",
                                                  route="smpp") for r in recipients])
            finally:
                await store.close()
        asyncio.run(enqueue())
        time.sleep(1.5)
        assert first.metrics()['ivr_smsc_bind_up{link="j"}'] == 0.0
    finally:
        first.stop()
    assert db(first, "SELECT state, attempts, count(*) FROM sms_outbox GROUP BY state, attempts") == [("queued", 0, 20)]
    assert "Successfully" in jasmin.jcli("user -e ivr3")
    second = start_engine(tmp_path, "--smsc", str(smsc), dialplans=DIALPLANS)
    try:
        for recipient in recipients:
            assert joined(parts_to(jasmin, recipient, 1)) == "Ваш код 4711", recipient
        wait_for(lambda: db(second, "SELECT DISTINCT state FROM sms_outbox") == [("accepted",)], what="states")
    finally:
        second.stop()

def test_a_tx_rx_link_submits_on_its_transmitter_and_hears_on_its_receiver(jasmin) -> None:
    """bind: tx+rx — two sessions to Jasmin, a bind_transmitter and a bind_receiver, as one link."""
    jasmin.add_user("ivr2", "ivr2pw", "3939")
    heard: list[Inbound] = []

    async def run() -> tuple[SubmitOutcome, dict]:
        async def on_inbound(inbound: Inbound) -> None:
            heard.append(inbound)
        metrics = SmsMetrics()
        link = SmppLink(LinkSettings("two", "127.0.0.1", jasmin.smpp_port, "ivr2", "ivr2pw", bind="tx+rx"),
                        on_inbound, metrics)
        link.start()
        try:
            for _ in range(100):
                if link.state is LinkState.BOUND:
                    break
                await asyncio.sleep(0.1)
            sent = await link.submit(source="3939", destination="380671110009", short_message=b"hello",
                                     data_coding=0, esm_class=0)
            await asyncio.to_thread(jasmin.network.deliver, "380671110009", "3939", b"back")
            for _ in range(100):
                if heard:
                    break
                await asyncio.sleep(0.1)
        finally:
            await link.stop()
        return sent, dict(metrics.binds)
    sent, binds = asyncio.run(run())
    assert sent.accepted and binds == {("two", "bound"): 1}
    assert [(r.source, r.short_message) for r in parts_to(jasmin, "380671110009", 1)] == [("3939", b"hello")]
    assert [(i.source, i.destination, i.short_message) for i in heard] == [("380671110009", "3939", b"back")]


@pytest.mark.outbound
def test_an_sms_broadcast_goes_over_the_link_paced_charged_per_part_and_skips_opt_outs(jasmin, engine) -> None:
    """An outbound campaign on the SMS channel: each number of the uploaded audience gets the text with its
    own variables over the SMPP link, at the campaign's pace; each message is charged per part when queued;
    a number that sent STOP to the short number gets nothing."""
    from .api.conftest import Api, make_key
    store_engine = make_engine(engine.db_url)
    try:
        with Session(writing(store_engine)) as session, session.begin():
            demo = session.scalar(select(TenantRow.id).where(TenantRow.name == "demo"))
            tariff = tariffs.set_tariff(session, Tariff(demo, "sms", "premium", "message", campaign_id="golos",
                                                        price=500, shares={"vodafone": 4000, "kyivstar": 5000},
                                                        outbound_cost=25))
    finally:
        store_engine.dispose()
    business = make_key(engine, "demo", "business")
    api = Api(engine)
    text = ("Вітаємо, {{contact.name}}! Ваше замовлення {{contact.order}} чекає у відділенні. Заберіть його "
            "протягом п'яти днів, будь ласка.")
    reply = api("POST", "/api/outbound", business, json_body={
        "campaign_id": "golos", "name": "pickup", "channel": "sms", "number": SHORT, "text": text, "rate": 4,
        "concurrent": 10, "hours": ["00:00", "24:00"]})
    assert reply.status == 201, reply.body
    oid = reply.json()["id"]
    audience = "phone,name,order\n0501230001,Анна,A-1\n0501230002,Борис,B-2\n+380501230003,Олена,C-3\n" \
               "0501230004,Дмитро,D-4\nnot-a-number,Хтось,X\n"
    reply = api("POST", f"/api/outbound/{oid}/audience", business, text=audience.encode(), content_type="text/csv")
    assert reply.json()["added"] == 4 and reply.json()["problems"][0]["line"] == 6, reply.body
    db_path = engine.db_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as conn:                  # Дмитро sent STOP to 3838
        conn.execute("INSERT INTO sms_optouts (number, caller, word, at) VALUES (?, '+380501230004', 'stop', "
                     "'2025-01-01 00:00:00')", (SHORT,))
    time.sleep(max(0.0, (tariff.valid_from - datetime.now(timezone.utc)).total_seconds() + 0.1))  # in force
    assert api("POST", f"/api/outbound/{oid}/start", business).status == 200
    wait_for(lambda: api("GET", f"/api/outbound/{oid}", business).json()["state"] == "done", 30, "the broadcast")
    progress = api("GET", f"/api/outbound/{oid}/progress", business).json()
    assert (progress["total"], progress["results"]["sent"], progress["results"]["opted_out"]) == (4, 3, 1)
    for number, name, order in (("380501230001", "Анна", "A-1"), ("380501230002", "Борис", "B-2"),
                                ("380501230003", "Олена", "C-3")):
        parts = parts_to(jasmin, number, 2)
        assert len(parts) == 2 and joined(parts) == text.replace("{{contact.name}}", name).replace(
            "{{contact.order}}", order)
    assert parts_to(jasmin, "380501230004", 1, timeout=1) == []
    charged = db(engine, "SELECT recipient, quantity, amount FROM charges c JOIN sms_outbox o "
                         "ON c.event_key = 'sms-out:' || o.id WHERE o.kind = 'broadcast'")
    assert sorted(charged) == [("+380501230001", 2, 50), ("+380501230002", 2, 50), ("+380501230003", 2, 50)]
    sent = sorted(r[0] for r in db(engine, "SELECT created_at FROM sms_outbox WHERE kind = 'broadcast'"))
    stamps = [datetime.fromisoformat(s) for s in sent]
    assert all((b - a).total_seconds() >= 0.2 for a, b in zip(stamps, stamps[1:])), stamps   # 4 a second at most
