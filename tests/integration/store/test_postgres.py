"""The store on PostgreSQL: the same migrations, votes and codes decided by the database even between
two nodes, an outage bridged by the spool, and kill -9 losing no acknowledged outcome."""

from __future__ import annotations

from ivr.store.records import VoteOutcome

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr.channels.sms_outbox import outbound
from ivr.store import Store, StoreUnavailable
from ivr.store.migrate import head
from ivr.store.models import Base
from tests.unit.store.support import opened, rows, run, wait_until

from .conftest import PG_HOST, PG_PORT, Postgres
from .tcp_proxy import TcpProxy

# Reads through the proxy run in a thread: the proxy is served by this test's own event loop.

pytestmark = pytest.mark.integration

CHILD = Path(__file__).with_name("outcome_writer.py")


@run
async def test_migrations_create_the_schema_of_the_models(postgres: Postgres, tmp_path: Path) -> None:
    # two nodes starting at once both migrate: the advisory lock lets one create, the other find it done
    first, second = await asyncio.gather(Store.open(postgres.url(), tmp_path / "a"),
                                         Store.open(postgres.url(), tmp_path / "b"))
    try:
        assert rows(first, "SELECT version_num FROM alembic_version") == [(head(),)]
        assert rows(first, "SELECT current_schema()") == [(postgres.schema,)]
        with first.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        await first.close()
        await second.close()


@run
async def test_one_vote_per_caller_across_channels(postgres: Postgres, tmp_path: Path) -> None:
    async with opened(postgres.url(), tmp_path / "spool") as store:
        voice = await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="chloe",
                                      window="campaign", channel="voice", call_id="c1")
        sms = await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="boris",
                                    window="campaign", channel="sms", call_id="s1")
        other = await store.cast_vote(campaign_id="talent", name="talent", caller="+2", choice="boris",
                                      window="campaign", channel="sms", call_id="s2")
        tallies = await store.tallies(None, "talent")
    assert (voice, sms, other) == (VoteOutcome(True, None), VoteOutcome(False, "chloe"), VoteOutcome(True, None))
    assert tallies.votes == {"talent": {"chloe": 1, "boris": 1}}


@run
async def test_two_nodes_voting_at_once_accept_one_vote_per_caller(postgres: Postgres, tmp_path: Path) -> None:
    async with opened(postgres.url(), tmp_path / "a") as a, opened(postgres.url(), tmp_path / "b") as b:
        callers = [f"+1555{n:04d}" for n in range(40)]
        answers = await asyncio.gather(*(
            node.cast_vote(campaign_id="talent", name="talent", caller=caller, choice=choice, window="campaign",
                           channel="voice", call_id=f"{caller}-{choice}")
            for caller in callers for node, choice in ((a, "chloe"), (b, "boris"))))
        votes = dict(rows(a, "SELECT caller, choice FROM votes"))
    for n, caller in enumerate(callers):
        from_a, from_b = answers[2 * n], answers[2 * n + 1]
        assert sorted([from_a.accepted, from_b.accepted]) == [False, True]
        refused = from_b if from_a.accepted else from_a
        assert refused.previous == votes[caller]
    assert len(votes) == len(callers)


@run
async def test_two_nodes_redeeming_the_same_codes_redeem_each_once(postgres: Postgres, tmp_path: Path) -> None:
    codes = [str(104700 + n) for n in range(15)]
    async with opened(postgres.url(), tmp_path / "a") as a, opened(postgres.url(), tmp_path / "b") as b:
        await asyncio.gather(a.load_code_pool("raffle", "receipts", codes), b.load_code_pool("raffle", "receipts", codes))
        attempts = [(code, node.redeem_code(campaign_id="raffle", pool="receipts", code=code, caller=f"+{n}",
                                            channel="voice", call_id=f"{code}-{n}"))
                    for code in codes for n, node in enumerate([a, b, a, b, a, b])]
        results = await asyncio.gather(*(attempt for _, attempt in attempts))
        tallies = await a.tallies(None, "raffle")
        winners = rows(a, "SELECT value, count(*) FROM outcomes WHERE kind = 'code' GROUP BY value")
    for code in codes:
        got = [r for (c, _), r in zip(attempts, results) if c == code]
        assert sorted(got) == ["redeemed"] + ["used"] * 5
    assert tallies.codes["receipts"].codes == 15 and tallies.codes["receipts"].redeemed == 15
    assert sorted(winners) == [(code, 1) for code in codes]


@run
async def test_an_outage_is_bridged_by_the_spool_and_written_exactly_once(postgres: Postgres, tmp_path: Path) -> None:
    proxy = TcpProxy(PG_HOST, PG_PORT)
    port = await proxy.start()
    async with opened(postgres.url(port), tmp_path / "spool") as store:
        await store.load_code_pool("raffle", "receipts", ["104729"])
        store.call_started(call_id="c1", caller="+1", number="5050", campaign_id="survey", channel="voice",
                           at=_now())
        assert await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1", channel="voice",
                                          kind="answer", name="q0", value="before") == "committed"

        await proxy.stop()                                              # the database host goes away
        store.event("c1", "node", {"node": "q1"}, _now())
        latencies = []
        for n in range(20):
            started = time.monotonic()
            assert await store.record_outcome(call_id="c1", campaign_id="survey", caller="+1", channel="voice",
                                              kind="answer", name=f"q{n + 1}", value=str(n)) == "spooled"
            latencies.append(time.monotonic() - started)
        with pytest.raises(StoreUnavailable):                           # never "counted" unchecked
            await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="anna",
                                  window="campaign", channel="voice", call_id="c0")
        assert await store.cast_vote(campaign_id="talent", name="talent", caller="+1", choice="chloe", window="campaign",
                                     channel="voice", call_id="c1", defer=True) == VoteOutcome(True, None, True)
        assert await store.redeem_code(campaign_id="raffle", pool="receipts", code="104729", caller="+1",
                                       channel="voice", call_id="c1") == "unavailable"
        store.call_ended(call_id="c1", at=_now(), disposition="completed", cause="flow_end", path=["q1", "end"])
        await store.flush()
        assert not store.online and store.spool.pending >= 23
        assert max(latencies) < 1.5                                     # deadline + answer timeout, never more

        await proxy.start()                                             # back
        await wait_until(lambda: store.online and store.spool.pending == 0, timeout=20)
        await store.flush()
        outcomes = await asyncio.to_thread(rows, store, "SELECT name, count(*) FROM outcomes WHERE kind = 'answer' GROUP BY name")
        votes = await asyncio.to_thread(rows, store, "SELECT choice FROM votes")
        call = await asyncio.to_thread(rows, store, "SELECT disposition, last_node FROM calls")
        events = await asyncio.to_thread(rows, store, "SELECT kind FROM call_events")
    await proxy.stop()
    assert sorted(outcomes) == sorted([("q0", 1)] + [(f"q{n + 1}", 1) for n in range(20)])
    assert votes == [("chloe",)] and call == [("completed", "end")] and events == [("node",)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql-going-down"])
@run
async def test_kill_9_loses_no_acknowledged_outcome(backend: str, request: pytest.FixtureRequest,
                                                    tmp_path: Path) -> None:
    proxy: TcpProxy | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/ivr.db"
        stop_at, kill_at = None, 150
    else:
        postgres: Postgres = request.getfixturevalue("postgres")
        proxy = TcpProxy(PG_HOST, PG_PORT)
        url = postgres.url(await proxy.start())
        stop_at, kill_at = 15, 40                       # 15 committed, then the database goes, then kill -9
    spool = tmp_path / "spool"
    child = await asyncio.create_subprocess_exec(sys.executable, str(CHILD), url, str(spool),
                                                 stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    acked: dict[int, str] = {}
    try:
        while len(acked) < kill_at:
            line = await asyncio.wait_for(child.stdout.readline(), 30)
            assert line, "the child died"
            n, durability = line.decode().split()
            acked[int(n)] = durability
            if len(acked) == stop_at and proxy is not None:
                await proxy.stop()
        assert child.returncode is None, "the child exited before the kill"
        os.kill(child.pid, signal.SIGKILL)
        for line in (await child.stdout.read()).decode().splitlines():  # printed before the kill, not read yet
            n, durability = line.split()
            acked[int(n)] = durability
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()      # the return code is not checked: the loop's child watcher may report 255
    if proxy is not None:
        assert set(acked.values()) == {"committed", "spooled"}
        await proxy.start()

    async with opened(url, spool) as store:                             # the node restarts
        await store.flush()
        written = await asyncio.to_thread(rows, store, "SELECT value, count(*) FROM outcomes GROUP BY value")
    if proxy is not None:
        await proxy.stop()
    counts = {int(value): count for value, count in written}
    assert all(counts.get(n) == 1 for n in acked), {n: counts.get(n) for n in acked if counts.get(n) != 1}
    assert set(counts) - set(acked) <= {max(acked) + 1}                # at most the one in flight at the kill


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


@run
async def test_two_nodes_on_one_database_send_each_sms_once(postgres: Postgres, tmp_path: Path) -> None:
    """Two stores (two nodes) claim the same outbox at once, many times: every message goes to one."""
    async with opened(postgres.url(), tmp_path / "a") as a, opened(postgres.url(), tmp_path / "b") as b:
        await a.sms_enqueue([outbound(number="3838", recipient=f"+38050{n:07d}", text=f"m{n}", kind="notify",
                                      route="smpp") for n in range(300)])
        claimed: list[str] = []
        while True:
            batches = await asyncio.gather(*(store.sms_claim_outbox(node=node, routes=("smpp",), lease=60, limit=16)
                                             for store, node in ((a, "a"), (b, "b"), (a, "a2"), (b, "b2"))))
            got = [m.id for batch in batches for m in batch]
            if not got:
                break
            claimed += got
        assert len(claimed) == len(set(claimed)) == 300
        assert rows(a, "SELECT count(DISTINCT claimed_by) > 1 FROM sms_outbox") == [(True,)]
