"""Outages say the truth, with a PostgreSQL server this test starts itself and stops under load: callers
who voted before, calling during the outage, never hear "your vote is counted" (the vote takes its
`unavailable` exit); a campaign that opts in to "accept now, de-duplicate later" says so in its own
words (`pending`); when the server is back the deferred votes count once, and only the first vote of
each caller."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import ROOT, start_engine
from tests.integration.test_sms import sms
from tests.support.caller import Caller
from tests.support.own_postgres import OwnPostgres

pytestmark = pytest.mark.integration

PENDING = """
id: pending-vote
name: Vote counted later
numbers: {voice: ["3939"], sms: ["3939"]}
start: choose
nodes:
  choose:
    type: ask
    prompt: Press 1 for Anna or 2 for Boris.
    choices: [{key: "1", value: anna, next: cast}, {key: "2", value: boris, next: cast}]
    save_as: choice
  cast: {type: vote, name: talent, value: "{{choice}}", next: thanks, repeat: already, unavailable: later,
         pending: noted}
  thanks: {type: end, text: Your vote is counted.}
  already: {type: end, text: You have already voted.}
  later: {type: end, text: We cannot count votes right now.}
  noted: {type: end, text: We have your vote. It counts if it is your first.}
"""
EARLIER = [f"+38050222000{n}" for n in range(4)]          # voted before the outage
NEW = [f"+38050333000{n}" for n in range(2)]              # first vote during it


def vote_rows(pg: OwnPostgres) -> list[tuple[str, str, str]]:
    with psycopg.connect(host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres") as conn:
        return sorted(conn.execute("SELECT campaign_id, caller, choice FROM votes").fetchall())


async def call_and_press(engine, number: str, caller_id: str, key: str) -> None:
    async with Caller(("127.0.0.1", engine.sip_port), number, caller_id=caller_id) as phone:
        await phone.dial()
        await asyncio.sleep(1.5)
        await phone.press(key)
        await phone.wait_hangup(30)


def endings(engine, number: str) -> dict[str, str]:
    """The node each call to `number` ended in, by caller."""
    return {r["from"]: r["path"][-1] for r in engine.call_records()
            if r["event"] == "call_ended" and r["number"] == number}


def test_votes_during_a_database_outage_are_never_told_counted(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.copy(ROOT / "dialplans" / "vote.yaml", plans)
    (plans / "pending.yaml").write_text(PENDING)
    with OwnPostgres() as pg:
        engine = start_engine(tmp_path, "--dialplans", str(plans), db_url=pg.url())
        try:
            for n, caller in enumerate(EARLIER):                         # before: counted, both campaigns
                assert sms(engine, caller, "3838", "1", f"a{n}")[1]["replies"][-1].startswith("Thank you, your")
                assert sms(engine, caller, "3939", "1", f"b{n}")[1]["replies"] == ["Your vote is counted."]
            before = vote_rows(pg)

            pg.stop()                                                    # the database goes away under load
            started = time.monotonic()

            async def during() -> None:
                await asyncio.gather(
                    *(call_and_press(engine, "3838", caller, "2") for caller in EARLIER),
                    *(call_and_press(engine, "3939", caller, "2") for caller in EARLIER[:2] + NEW))
            asyncio.run(during())
            outage = time.monotonic() - started
            metrics = engine.metrics()

            pg.start()                                                   # back: the spool is replayed
            deadline = time.monotonic() + 30
            while engine.metrics()["ivr_store_spool_records"] and time.monotonic() < deadline:
                time.sleep(0.3)
            after = vote_rows(pg)
        finally:
            engine.stop()
    print(f"\noutage: 8 calls in {outage:.1f} s, store online during it: {metrics['ivr_store_online']:.0f}")
    assert endings(engine, "3838") == {caller: "later" for caller in EARLIER}        # never "counted"
    assert endings(engine, "3939") == {caller: "noted" for caller in EARLIER[:2] + NEW}   # its own words
    assert before == sorted([("pending-vote", c, "anna") for c in EARLIER] + [("talent-vote", c, "anna") for c in EARLIER])
    assert after == sorted(before + [("pending-vote", c, "boris") for c in NEW])    # first votes only
