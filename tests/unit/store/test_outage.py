"""The database goes away (here: SQLite locked by another writer): records and outcomes wait in the spool,
acknowledgements keep their deadline, and everything is written exactly once when the database is back."""

from __future__ import annotations

from ivr.store.records import VoteOutcome

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from ivr.store import StoreUnavailable

from .support import FAST, at, opened, rows, run, wait_until


@contextmanager
def locked(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold the database's write lock (as a stuck writer elsewhere would) until the block ends."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
        conn.close()


async def drained(store) -> None:
    await wait_until(lambda: store.online and store.spool.pending == 0)
    await store.flush()


@run
async def test_records_and_outcomes_wait_in_the_spool_until_the_database_is_back(tmp_path: Path) -> None:
    db = tmp_path / "ivr.db"
    async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:
        await store.load_code_pool("raffle", "receipts", ["104729"])
        store.call_started(call_id="c1", caller="+1", number="3838", campaign_id="talent", channel="voice", at=at(0))
        await store.flush()
        with locked(db):
            store.event("c1", "digits", {"digits": "3"}, at(1))
            assert await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1", channel="voice",
                                              kind="answer", name="q1", value="4") == "spooled"
            with pytest.raises(StoreUnavailable):           # a vote is never reported counted unchecked...
                await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="anna",
                                      window="campaign", channel="voice", call_id="c0")
            assert await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="chloe",
                                         window="campaign", channel="voice", call_id="c1",
                                         defer=True) == VoteOutcome(True, None, deferred=True)   # ...unless deferred
            assert await store.redeem_code(campaign_id="raffle", pool="receipts", code="104729", caller="+1",
                                           channel="voice", call_id="c1") == "unavailable"
            with pytest.raises(StoreUnavailable):
                await store.sms_claim(message_id="m1", number="5050", caller="+1", text="hi")
            with pytest.raises(StoreUnavailable):
                await store.create_tenant("Acme")
            store.call_ended(call_id="c1", at=at(9), disposition="completed", cause="flow_end", path=["vote"])
            await store.flush()
            assert not store.online
            assert store.spool.pending == 4
            assert rows(store, "SELECT count(*) FROM outcomes") == [(0,)]
        await drained(store)
        gauges = store.gauges()
        outcomes = rows(store, "SELECT kind, name, value, status FROM outcomes ORDER BY kind")
        call = rows(store, "SELECT duration, last_node FROM calls")
        events = rows(store, "SELECT kind FROM call_events")
        assert await store.redeem_code(campaign_id="raffle", pool="receipts", code="104729", caller="+1",
                                       channel="voice", call_id="c1") == "redeemed"
    assert outcomes == [("answer", "q1", "4", "accepted"), ("vote", "talent", "chloe", "accepted")]
    assert call == [(9.0, "vote")] and events == [("digits",)]
    assert gauges["store_replayed"] == 4 and gauges["store_spool_records"] == 0
    assert gauges["store_transient_errors"] >= 1


@run
async def test_a_vote_deferred_offline_that_proves_a_second_vote_is_kept_as_rejected(tmp_path: Path) -> None:
    db = tmp_path / "ivr.db"
    async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:
        with locked(db) as other_node:
            assert await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="chloe",
                                         window="campaign", channel="sms", call_id="s1",
                                         defer=True) == VoteOutcome(True, None, deferred=True)
            # meanwhile another node sharing the database counted this caller's vote over voice
            other_node.execute("INSERT INTO votes VALUES ('v-other', 'talent', 'talent', '+1', 'campaign', 'boris',"
                               " 'voice', 'c9', '2025-03-01 12:00:00.000000')")
        await drained(store)
        tallies = await store.tallies(None, "talent")
        outcomes = rows(store, "SELECT channel, value, status FROM outcomes")
        # the caller asks again: the store answers with the vote that counts
        again = await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="anna",
                                      window="campaign", channel="voice", call_id="c2")
    assert tallies.votes == {"talent": {"boris": 1}}
    assert outcomes == [("sms", "chloe", "rejected")]
    assert again == VoteOutcome(False, "boris")


@run
async def test_a_slow_database_does_not_hold_the_caller_beyond_the_deadline(tmp_path: Path) -> None:
    db = tmp_path / "ivr.db"
    slow = replace(FAST, sqlite_busy_timeout=4.0, ack_deadline=0.3, answer_timeout=0.5)
    async with opened(f"sqlite:///{db}", tmp_path / "spool", slow) as store:
        with locked(db):
            async def outcome(value: str) -> tuple[str, float]:
                started = time.monotonic()
                durability = await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1",
                                                        channel="voice", kind="answer", name="q1", value=value)
                return durability, time.monotonic() - started

            first = asyncio.create_task(outcome("1"))       # the writer takes it and waits on the lock...
            await asyncio.sleep(0.05)
            second = await outcome("2")                      # ...so this one is never taken: spooled at 0.3 s
            assert second[0] == "spooled" and 0.25 < second[1] < 0.6
            assert (await first)[0] == "spooled" and (await first)[1] < 1.2   # deadline + answer timeout
        await drained(store)
        outcomes = rows(store, "SELECT value FROM outcomes ORDER BY value")
    assert outcomes == [("1",), ("2",)]                       # written by the writer and replayed: once each


@run
async def test_a_slow_database_is_waited_for_not_reported_unavailable(tmp_path: Path) -> None:
    """A writer busy with a slow transaction (here: waiting for SQLite's lock, held 1.2 s elsewhere) is a slow
    store, not a store that is down: votes and codes queued behind it get their real answer, later than
    the acknowledgement deadline, and no caller hears "unavailable"."""
    db = tmp_path / "ivr.db"
    slow = replace(FAST, sqlite_busy_timeout=5.0, ack_deadline=0.3, answer_timeout=0.5)
    async with opened(f"sqlite:///{db}", tmp_path / "spool", slow) as store:
        await store.load_code_pool("raffle", "receipts", ["104729"])
        with locked(db):
            first = asyncio.create_task(store.record_outcome(call_id="c1", campaign_id="survey", caller="+1",
                                                             channel="voice", kind="answer", name="q1", value="1"))
            await asyncio.sleep(0.05)                        # the writer waits on the lock with it...
            started = time.monotonic()
            code = asyncio.create_task(store.redeem_code(campaign_id="raffle", pool="receipts", code="104729",
                                                         caller="+1", channel="voice", call_id="c1"))
            vote = asyncio.create_task(store.cast_vote(campaign_id="talent", name="talent", caller="+1",
                                                       choice="chloe", window="campaign", channel="voice",
                                                       call_id="c1"))
            await asyncio.sleep(1.2)                         # ...the checks queue behind it, past the deadline
        assert await code == "redeemed" and await vote == VoteOutcome(True, None)
        assert 1.1 < time.monotonic() - started < slow.check_timeout
        await first
        assert store.online


@run
async def test_a_store_that_starts_without_its_database_runs_on_the_spool(tmp_path: Path) -> None:
    db = tmp_path / "ivr.db"
    async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:      # create the schema
        pass
    with locked(db):
        async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:
            assert not store.online
            store.call_started(call_id="c1", caller="+1", number="5050", campaign_id="survey", channel="sms",
                               at=at(0))
            assert await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1", channel="sms",
                                              kind="answer", name="q1", value="5") == "spooled"
        # closed while the database was still away: everything is in the spool folder
    async with opened(f"sqlite:///{db}", tmp_path / "spool") as store:
        await store.flush()                                  # the replay comes before anything new
        assert rows(store, "SELECT value FROM outcomes") == [("5",)]
        assert rows(store, "SELECT call_id, channel FROM calls") == [("c1", "sms")]
        assert store.spool.pending == 0
