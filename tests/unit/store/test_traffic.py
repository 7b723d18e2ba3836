"""Calls, timelines, outcomes, votes, codes and SMS sessions written through a Store on SQLite."""

from __future__ import annotations

from ivr.store.records import VoteOutcome

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr.channels.sms_outbox import outbound
from ivr.store import StoreError
from ivr.store.migrate import head
from ivr.store.models import Base
from ivr.store.outbox import OutboundSms

from .support import at, opened, rows, run


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/data/nested/ivr.db"


@run
async def test_open_creates_the_file_and_the_schema_of_the_models(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert rows(store, "SELECT version_num FROM alembic_version") == [(head(),)]
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    with sqlite3.connect(tmp_path / "data" / "nested" / "ivr.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    async with opened(url(tmp_path), tmp_path / "spool") as store:     # a second open migrates nothing
        assert rows(store, "SELECT version_num FROM alembic_version") == [(head(),)]


@run
async def test_a_call_is_written_with_its_timeline_in_order(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        store.call_started(call_id="c1", caller="+15550001", number="3838", campaign_id="talent", channel="voice",
                           at=at(0), version=2)
        store.call_answered("c1", at(1))
        for n, kind in enumerate(["node", "prompt", "digits", "node"]):
            store.event("c1", kind, {"n": n}, at(2))                   # same timestamp: order kept by seq
        store.event("c1", "speech", {"text": "five", "confidence": 0.81}, at(3))
        store.call_ended(call_id="c1", at=at(12.5), disposition="completed", cause="flow_end",
                         path=["welcome", "vote", "thanks"])
        await store.flush()
        detail = await store.call_detail(None, "c1")
    assert detail is not None
    call = detail.call
    assert (call.caller, call.number, call.campaign_id, call.channel, call.version) == (
        "+15550001", "3838", "talent", "voice", 2)
    assert (call.started_at, call.answered_at, call.ended_at) == (at(0), at(1), at(12.5))
    assert call.duration == 12.5
    assert (call.disposition, call.cause, call.last_node) == ("completed", "flow_end", "thanks")
    assert detail.path == ["welcome", "vote", "thanks"]
    assert [(e.kind, e.data) for e in detail.events] == [
        ("node", {"n": 0}), ("prompt", {"n": 1}), ("digits", {"n": 2}), ("node", {"n": 3}),
        ("speech", {"text": "five", "confidence": 0.81})]


@run
async def test_event_data_json_cannot_hold_is_kept_as_text(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        store.call_started(call_id="c1", caller="+1", number="1414", campaign_id="orders", channel="voice", at=at(0))
        store.event("c1", "webhook", {"status": 200, "when": at(1), "raw": b"ok"}, at(1))
        await store.flush()
        detail = await store.call_detail(None, "c1")
        assert store.gauges()["store_failures"] == 0
    assert detail is not None
    assert detail.events[0].data == {"status": 200, "when": str(at(1)), "raw": "b'ok'"}


@run
async def test_an_outcome_is_acknowledged_once_committed(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        durability = await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1", channel="voice",
                                                kind="answer", name="satisfaction", value="4")
        assert durability == "committed"
        # committed means readable right away, by anyone
        with sqlite3.connect(tmp_path / "data" / "nested" / "ivr.db") as db:
            assert db.execute("SELECT caller, kind, name, value, status FROM outcomes").fetchall() == [
                ("+1", "answer", "satisfaction", "4", "accepted")]


@run
async def test_one_vote_per_caller_whatever_the_channel(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        def vote(caller: str, choice: str, channel: str, window: str = "campaign", when=None):
            return store.cast_vote(campaign_id="talent", name="talent", caller=caller, choice=choice,
                                   window=window, channel=channel, call_id=f"{caller}-{channel}", at=when)

        assert await vote("+15550001", "chloe", "voice") == VoteOutcome(True, None)
        assert await vote("+15550001", "boris", "sms") == VoteOutcome(False, "chloe")
        assert await vote("+15550001", "boris", "voice") == VoteOutcome(False, "chloe")
        assert await vote("+15550002", "boris", "sms") == VoteOutcome(True, None)
        # a daily window counts one vote per caller per (UTC) day
        assert await vote("+15550003", "anna", "voice", "day", at(0)) == VoteOutcome(True, None)
        assert await vote("+15550003", "anna", "voice", "day", at(3600)) == VoteOutcome(False, "anna")
        assert await vote("+15550003", "anna", "voice", "day", at(0) + timedelta(days=1)) == VoteOutcome(True, None)
        tallies = await store.tallies(None, "talent")
        outcomes = rows(store, "SELECT caller, channel, value FROM outcomes WHERE kind = 'vote' ORDER BY caller, at")
    assert tallies.votes == {"talent": {"chloe": 1, "boris": 1, "anna": 2}}
    assert outcomes == [("+15550001", "voice", "chloe"), ("+15550002", "sms", "boris"),
                        ("+15550003", "voice", "anna"), ("+15550003", "voice", "anna")]


@run
async def test_an_unknown_vote_window_is_an_error(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        with pytest.raises(StoreError, match="window"):
            await store.cast_vote(campaign_id="t", name="t", caller="+1", choice="a", window="week",
                                  channel="voice", call_id="c")


@run
async def test_codes_are_single_use_even_when_many_callers_try_at_once(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert await store.load_code_pool("raffle", "receipts", ["104729", "104730", "104729"]) == "committed"
        await store.load_code_pool("raffle", "receipts", ["104730", "104731"])       # loading again adds only new
        attempts = await asyncio.gather(*(
            store.redeem_code(campaign_id="raffle", pool="receipts", code="104729", caller=f"+1555{n:04d}",
                              channel="voice", call_id=f"c{n}") for n in range(20)))
        assert sorted(attempts) == ["redeemed"] + ["used"] * 19
        assert await store.redeem_code(campaign_id="raffle", pool="receipts", code="999999", caller="+1",
                                       channel="sms", call_id="x") == "invalid"
        assert await store.redeem_code(campaign_id="raffle", pool="other", code="104730", caller="+1",
                                       channel="sms", call_id="x") == "invalid"
        tallies = await store.tallies(None, "raffle")
        winners = rows(store, "SELECT caller, value FROM outcomes WHERE kind = 'code'")
    assert tallies.codes["receipts"].codes == 3 and tallies.codes["receipts"].redeemed == 1
    assert len(winners) == 1 and winners[0][1] == "104729"


@run
async def test_sms_messages_are_claimed_once_and_sessions_kept_between_them(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert await store.sms_claim(message_id="m1", number="5050", caller="+1", text="hi") == (True, None)
        assert await store.sms_claim(message_id="m1", number="5050", caller="+1", text="hi") == (False, None)
        await store.sms_save(session_id="s1", number="5050", caller="+1", campaign_id="survey",
                             state={"current": "q2"}, replies=[reply("Thanks!"), reply("Question 2?")])
        new, saved = await store.sms_claim(message_id="m2", number="5050", caller="+1", text="4")
        assert new and saved == {"session_id": "s1", "campaign_id": "survey", "state": {"current": "q2"}}
        await store.sms_save(session_id="s1", number="5050", caller="+1", campaign_id="survey", state=None,
                             replies=[reply("Bye")])
        assert await store.sms_claim(message_id="m3", number="5050", caller="+1", text="again") == (True, None)
        received = rows(store, "SELECT direction, text FROM sms_messages ORDER BY id")
        sent = rows(store, "SELECT text, state, parts FROM sms_outbox ORDER BY created_at, text")
    assert received == [("in", "hi"), ("in", "4"), ("in", "again")]
    assert sorted(sent) == [("Bye", "queued", 1), ("Question 2?", "queued", 1), ("Thanks!", "queued", 1)]


def reply(text: str) -> OutboundSms:
    return outbound(number="5050", recipient="+1", text=text, kind="reply", route="http")


@run
async def test_close_writes_everything_queued(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        store.call_started(call_id="c1", caller="+1", number="3838", campaign_id="talent", channel="voice", at=at(0))
        for n in range(2000):
            store.event("c1", "digits", {"n": n}, at(1))
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        assert rows(store, "SELECT count(*), min(seq) < max(seq) FROM call_events") == [(2000, 1)]
        assert store.gauges()["store_spool_records"] == 0


@run
async def test_records_after_close_are_dropped_without_raising(tmp_path: Path) -> None:
    async with opened(url(tmp_path), tmp_path / "spool") as store:
        pass
    store.event("c1", "late", {}, at(0))
    with pytest.raises(StoreError, match="closed"):
        await store.record_outcome(call_id="c1", campaign_id="s", caller="+1", channel="voice", kind="answer",
                                   name="q", value="1")
