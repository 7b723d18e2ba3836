"""What the UI and API read: tallies, calls per minute, drop-off, call log, call detail and exports,
each limited to the tenant's own campaigns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import ivr.store.db
from ivr.store import CallFilter, NotFound, Store

from .support import T0, at, opened, run

# call id, campaign, caller, number, channel, start, end (None: in progress), path, reached the end
CALLS = [
    ("c1", "talent", "+1", "3838", "voice", 0, 30, ["welcome", "vote", "thanks"], True),
    ("c2", "talent", "+2", "3838", "sms", 20, 40, ["welcome", "vote"], False),
    ("g1", "orders", "+9", "1414", "voice", 10, 12, ["lookup"], True),
    ("u1", "from-file", "+8", "2525", "voice", 15, 16, ["branch"], False),
    ("c5", "survey", "+1", "5050", "voice", 65, 80, ["q1"], False),
    ("c3", "talent", "+3", "3838", "voice", 70, 75, ["welcome"], False),
    ("c4", "talent", "+4", "3838", "voice", 130, None, ["welcome"], False),
]


async def populated(store: Store) -> tuple[str, str]:
    acme = await store.create_tenant("Acme")
    globex = await store.create_tenant("Globex")
    for tenant, campaign in ((acme, "talent"), (acme, "survey"), (globex, "orders")):
        await store.save_dialplan_version(tenant.id, campaign, f"id: {campaign}\n", "yaml")
    for call_id, campaign, caller, number, channel, start, end, path, reached_end in CALLS:
        store.call_started(call_id=call_id, caller=caller, number=number, campaign_id=campaign, channel=channel,
                           at=at(start))
        for node in path:
            store.event(call_id, "node", {"node": node}, at(start + 1))
        if reached_end:
            store.event(call_id, "end", {"reason": "completed"}, at(end - 1))
        if end is not None:
            store.call_ended(call_id=call_id, at=at(end), disposition="completed", cause="remote_bye", path=path)
    await store.flush()
    return acme.id, globex.id


@run
async def test_each_tenant_sees_only_its_own_calls(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, globex = await populated(store)
        assert [c.call_id for c in await store.call_log(acme)] == ["c4", "c3", "c5", "c2", "c1"]
        assert [c.call_id for c in await store.call_log(globex)] == ["g1"]
        assert await store.count_calls(None) == 7                   # the operator sees every call
        assert await store.call_detail(globex, "c1") is None
        assert (await store.call_detail(acme, "c1")) is not None
        with pytest.raises(NotFound):
            await store.tallies(globex, "talent")
        with pytest.raises(NotFound):
            await store.drop_off(globex, "talent")


@run
async def test_the_call_log_filters_and_pages(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, _ = await populated(store)

        async def ids(**filters) -> list[str]:
            return [c.call_id for c in await store.call_log(acme, CallFilter(**filters))]

        assert await ids(caller="+1") == ["c5", "c1"]
        assert await ids(number="3838", channel="voice") == ["c4", "c3", "c1"]
        assert await ids(campaign_id="survey") == ["c5"]
        assert await ids(since=at(20), until=at(70)) == ["c5", "c2"]
        assert await ids(disposition="completed", caller="+4") == []
        assert [c.call_id for c in await store.call_log(acme, limit=2, offset=1)] == ["c3", "c5"]
        assert await store.count_calls(acme, CallFilter(number="3838")) == 4


@run
async def test_calls_per_minute_and_drop_off(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, _ = await populated(store)
        minute = [T0.replace(minute=m) for m in range(3)]
        assert await store.calls_per_minute(acme, at(0), at(180)) == [(minute[0], 2), (minute[1], 2), (minute[2], 1)]
        assert await store.calls_per_minute(None, at(0), at(180)) == [(minute[0], 4), (minute[1], 2), (minute[2], 1)]
        assert await store.calls_per_minute(acme, at(0), at(180), "talent") == [
            (minute[0], 2), (minute[1], 1), (minute[2], 1)]
        # ended calls that never reached an end, by the node they were last in (c4 is still going)
        assert await store.drop_off(acme, "talent") == {"vote": 1, "welcome": 1}
        assert await store.drop_off(acme, "talent", since=at(60)) == {"welcome": 1}


@run
async def test_tallies_count_answers_per_question(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, _ = await populated(store)
        for caller, satisfaction, solved in (("+1", "4", "yes"), ("+2", "4", "no"), ("+3", "2", "yes")):
            for name, value in (("satisfaction", satisfaction), ("solved", solved)):
                await store.record_outcome(call_id=caller, campaign_id="survey", caller=caller, channel="voice",
                                           kind="answer", name=name, value=value)
        tallies = await store.tallies(acme, "survey")
    assert tallies.answers == {"satisfaction": {"4": 2, "2": 1}, "solved": {"yes": 2, "no": 1}}
    assert tallies.votes == {} and tallies.codes == {}


@run
async def test_exports_page_through_everything_in_order_as_csv_rows(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ivr.store.db, "EXPORT_PAGE", 2)
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, globex = await populated(store)
        for n in range(5):                                  # same timestamp: paging must not lose any
            for campaign in ("talent", "orders"):
                await store.record_outcome(call_id=f"{campaign}{n}", campaign_id=campaign, caller=f"+{n}",
                                           channel="voice", kind="answer", name="q", value=str(n), at=at(5))
        out = io.StringIO()
        calls = [c async for c in store.export_calls(acme)]
        writer = csv.DictWriter(out, fieldnames=list(calls[0].row()))
        writer.writeheader()
        writer.writerows(c.row() for c in calls)
        outcomes = [o async for o in store.export_outcomes(acme)]
        globex_outcomes = [o async for o in store.export_outcomes(globex, "orders")]
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["call_id"] for r in exported] == ["c1", "c2", "c5", "c3", "c4"]
    assert exported[0]["started_at"] == "2025-03-01T12:00:00+00:00" and exported[0]["duration"] == "30.0"
    assert exported[-1]["ended_at"] == ""
    assert sorted(o.value for o in outcomes) == ["0", "1", "2", "3", "4"]
    assert {o.campaign_id for o in outcomes} == {"talent"}
    assert len(globex_outcomes) == 5
