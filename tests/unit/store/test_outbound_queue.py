"""The queue of outbound attempts in the store: claims hand each number to one node once, the block list
and withdrawn consent are respected, retries back off to a maximum, allowed hours, progress and results."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.store.errors import StoreError
from ivr.store.outbound import Settings, in_hours

from .support import at, opened, rows, run

ANNA, BORYS, CHRYSTIA, DMYTRO = "+380501110001", "+380671110002", "+380931110003", "+380631110004"
ALL_DAY = dict(hours_start=0, hours_end=24 * 60)


async def world(store, **settings):
    tenant = await store.create_tenant("acme")
    await store.save_dialplan_version(tenant.id, "remind", "id: remind", "yaml")
    outbound = await store.outbound_create(tenant.id, Settings(**{"campaign_id": "remind", "name": "reminder",
                                                                  "channel": "voice", "number": "3838", **ALL_DAY,
                                                                  **settings}))
    added = await store.outbound_add_audience(tenant.id, outbound.id, [
        (ANNA, {"name": "Anna"}), (BORYS, {"name": "Borys"}), (CHRYSTIA, {"name": "Chrystia"}),
        (DMYTRO, {"name": "Dmytro"}), (ANNA, {"name": "twice"})])
    assert added == 4                                   # a number is in an audience once
    return tenant.id, outbound.id


@run
async def test_claims_hand_each_number_to_one_node_and_respect_the_block_list(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id, oid = await world(store)
        await store.sms_opt_out(number="3838", caller=BORYS, word="stop")
        await store.record_outcome(call_id="x", campaign_id="remind", caller=DMYTRO, channel="sms", kind="consent",
                                   name="marketing", value="ні")
        assert await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60) == []   # not started
        await store.outbound_control(tenant_id, oid, "start")
        batches = await asyncio.gather(*(store.outbound_claim(outbound_id=oid, node=node, limit=10, lease=60)
                                         for node in ("a", "b", "c")))
        claimed = [c.recipient for batch in batches for c in batch]
        assert sorted(claimed) == [ANNA, CHRYSTIA]
        by = dict(rows(store, "SELECT recipient, result FROM outbound_contacts WHERE state = 'done'"))
        assert by == {BORYS: "opted_out", DMYTRO: "opted_out"}
        anna = next(c for batch in batches for c in batch if c.recipient == ANNA)
        assert anna.variables == {"name": "Anna"} and anna.attempt == 1
        node = next(n for n, batch in zip("abc", batches) if anna in batch)
        assert await store.outbound_finish(contact_id=anna.contact_id, node="zz", result="completed", outcome="x",
                                           call_id="c1") is None          # not that node's claim
        assert await store.outbound_finish(contact_id=anna.contact_id, node=node, result="completed",
                                           outcome="confirmed", call_id="c1") == "done"
        progress = await store.outbound_progress(tenant_id, oid)
        assert (progress.total, progress.done, progress.calling) == (4, 3, 1)
        assert progress.results["completed"] == 1 and progress.results["opted_out"] == 2


@run
async def test_busy_is_retried_with_back_off_up_to_the_maximum(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id, oid = await world(store, max_attempts=2, retry_seconds=0)
        await store.outbound_control(tenant_id, oid, "start")
        first = await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60)
        assert len(first) == 4
        starts = [c.start_at for c in first]                 # the campaign's pace (1 a second), for every node
        assert [(b - a).total_seconds() for a, b in zip(starts, starts[1:])] == [1.0, 1.0, 1.0]
        for c in first:
            assert await store.outbound_finish(contact_id=c.contact_id, node="a", result="busy", outcome=None,
                                               call_id=None) == "queued"
        second = await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60)
        assert {c.attempt for c in second} == {2}
        for c in second:
            assert await store.outbound_finish(contact_id=c.contact_id, node="a", result="busy", outcome=None,
                                               call_id=None) == "done"
        assert await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60) == []
        assert (await store.outbound(tenant_id, oid)).state == "done"
        assert rows(store, "SELECT DISTINCT result, attempts FROM outbound_contacts") == [("busy", 2)]


@run
async def test_a_node_that_restarts_calls_nobody_it_had_claimed_again(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id, oid = await world(store)
        await store.outbound_control(tenant_id, oid, "start")
        claimed = await store.outbound_claim(outbound_id=oid, node="a", limit=2, lease=600)
        assert await store.outbound_release("a") == 2
        again = await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=600)
        assert {c.recipient for c in again}.isdisjoint(c.recipient for c in claimed)
        assert rows(store, "SELECT count(*) FROM outbound_contacts WHERE outcome = 'interrupted'") == [(2,)]


@run
async def test_pause_cancel_and_tenants(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id, oid = await world(store)
        other = await store.create_tenant("rival")
        with pytest.raises(StoreError):
            await store.outbound_control(other.id, oid, "start")
        with pytest.raises(StoreError):
            await store.outbound_add_audience(other.id, oid, [("+380500000000", {})])
        await store.outbound_control(tenant_id, oid, "start")
        await store.outbound_control(tenant_id, oid, "pause")
        assert await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60) == []
        await store.outbound_control(tenant_id, oid, "resume")
        assert len(await store.outbound_claim(outbound_id=oid, node="a", limit=1, lease=60)) == 1
        await store.outbound_control(tenant_id, oid, "cancel")
        progress = await store.outbound_progress(tenant_id, oid)
        assert (progress.cancelled, progress.calling) == (3, 1)
        with pytest.raises(StoreError):
            await store.outbound_control(tenant_id, oid, "resume")


def test_allowed_hours_are_the_audiences_local_time() -> None:
    day = Settings(campaign_id="c", name="n", channel="voice", number="1", time_zone="Europe/Kyiv",
                   hours_start=9 * 60, hours_end=21 * 60)
    assert in_hours(day, at(0))                 # 12:00 UTC is 14:00 in Kyiv
    assert not in_hours(day, at(-11 * 3600))    # 01:00 UTC is 03:00 in Kyiv
    night = Settings(**{**day.__dict__, "hours_start": 22 * 60, "hours_end": 6 * 60})
    assert in_hours(night, at(-11 * 3600)) and not in_hours(night, at(0))


@run
async def test_voice_with_sms_fallback_texts_whom_no_call_reached(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        tenant_id, oid = await world(store, channel="voice_sms", text="Hi {{contact.name}}", max_attempts=1)
        await store.outbound_control(tenant_id, oid, "start")
        assert [o.id for o in await store.outbound_running("sms")] == [oid]        # both dialers work on it
        assert await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60, channel="sms") == []
        calls = await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60, channel="voice")
        results = dict(zip((ANNA, BORYS, CHRYSTIA, DMYTRO), ("completed", "no_answer", "busy", "answered")))
        for c in calls:
            await store.outbound_finish(contact_id=c.contact_id, node="a", result=results[c.recipient],
                                        outcome=None, call_id="v")
        texts = await store.outbound_claim(outbound_id=oid, node="b", limit=10, lease=60, channel="sms")
        assert sorted(c.recipient for c in texts) == [BORYS, CHRYSTIA]             # no call reached them
        for c in texts:
            assert await store.outbound_finish(contact_id=c.contact_id, node="b", result="sent", outcome=None,
                                               call_id="m") == "done"
        assert (await store.outbound(tenant_id, oid)).state == "done"
        assert sorted(rows(store, "SELECT recipient, channel, result FROM outbound_contacts")) == sorted([
            (ANNA, "voice", "completed"), (BORYS, "sms", "sent"), (CHRYSTIA, "sms", "sent"), (DMYTRO, "voice", "answered")])


async def period_results_scenario(store) -> None:
    """A flow campaign's outbound campaigns in report periods (their results by when each number was done), on
    the store's clock: the periods are cut between the steps."""
    async def moment():
        await asyncio.sleep(0.01)
        instant = datetime.now(timezone.utc)
        await asyncio.sleep(0.01)
        return instant
    before = await moment()
    tenant_id, oid = await world(store, max_attempts=1)
    await store.save_dialplan_version(tenant_id, "other", "id: other", "yaml")
    await store.outbound_create(tenant_id, Settings(campaign_id="other", name="elsewhere", channel="sms",
                                                    number="3838", text="hi"))
    empty = await store.outbound_create(tenant_id, Settings(campaign_id="remind", name="later", channel="sms",
                                                            number="3838", text="hi"))
    await store.sms_opt_out(number="3838", caller=BORYS, word="stop")
    await store.outbound_control(tenant_id, oid, "start")
    calls = {c.recipient: c for c in await store.outbound_claim(outbound_id=oid, node="a", limit=10, lease=60)}
    for number, result in ((ANNA, "completed"), (CHRYSTIA, "busy")):
        assert await store.outbound_finish(contact_id=calls[number].contact_id, node="a", result=result,
                                           outcome="confirmed", call_id="c") == "done"
    first = await moment()
    period = await store.outbound_period("remind", before, first)
    assert [(p.name, p.channel, p.total, p.done, p.results, p.outcomes) for p in period] == [
        ("reminder", "voice", 4, 3, {"opted_out": 1, "completed": 1, "busy": 1}, {"confirmed": 1}),
        ("later", "sms", 0, 0, {}, {})]                  # not started: shown, with nothing done
    assert await store.outbound_period("remind", before - timedelta(hours=1), before) == []   # none existed yet
    await store.outbound_control(tenant_id, oid, "cancel")
    await store.outbound_control(tenant_id, empty.id, "cancel")
    cancelled = await moment()
    assert await store.outbound_finish(contact_id=calls[DMYTRO].contact_id, node="a", result="answered",
                                       outcome="q1", call_id="c") == "done"       # the call outlived the cancel
    end = await moment()
    period = await store.outbound_period("remind", first, end)
    assert [(p.name, p.total, p.done, p.results, p.outcomes) for p in period] == [
        ("reminder", 4, 4, {"answered": 1}, {}), ("later", 0, 0, {}, {})]     # both cancelled in the period
    period = await store.outbound_period("remind", cancelled, end)
    assert [(p.name, p.results) for p in period] == [("reminder", {"answered": 1})]   # over, yet a number done
    assert await store.outbound_period("remind", end, end + timedelta(hours=1)) == []   # both over before


@run
async def test_report_periods_count_each_number_where_it_was_done(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        await period_results_scenario(store)
