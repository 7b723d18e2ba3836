"""Flow counts from the timeline: sessions per node and per move, by version, channel and period, where they
left; the audit log written with its change; failed webhooks and traffic per minute for the node page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from ivr.store import Action, Actor, FlowFilter, NotFound

from .support import at, opened, run


async def walk(store, call_id: str, nodes: list[str], *, channel: str = "voice", version: int | None = 1,
               start: float = 0, ended: bool = True, webhook_ok: bool | None = None) -> None:
    """A session entering `nodes` in order (as the interpreter's node events), ended or still going."""
    store.call_started(call_id=call_id, caller="+1555" + call_id, number="5050", campaign_id="survey",
                       channel=channel, at=at(start), version=version)
    for i, node in enumerate(nodes):
        store.event(call_id, "node", {"node": node, "type": "ask"}, at(start + i + 1))
        if webhook_ok is not None and node == "lookup":
            store.event(call_id, "webhook_result", {"node": node, "ok": webhook_ok, "status": 503,
                                                    "error": "answered 503"}, at(start + i + 1.5))
    if nodes and nodes[-1].startswith("end"):
        store.event(call_id, "end", {"node": nodes[-1], "reason": "completed"}, at(start + len(nodes) + 1))
    if ended:
        store.call_ended(call_id=call_id, at=at(start + 30), disposition="completed", cause="remote_bye", path=nodes)


@run
async def test_counts_follow_sessions_through_the_flow(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        await store.save_dialplan_version(acme.id, "survey", "id: survey\n", "yaml")
        await walk(store, "a", ["intro", "q1", "q2", "end_ok"])
        await walk(store, "b", ["intro", "q1", "q1", "q2", "end_ok"], channel="sms")       # asked q1 twice
        await walk(store, "c", ["intro", "q1"])                                             # hung up at q1
        await walk(store, "d", ["intro", "q1", "bye"], ended=False)                         # still talking
        await walk(store, "e", ["intro", "q2"], version=2, start=3600)                     # the next version
        await store.flush()

        counts = await store.flow_counts(acme.id, "survey", FlowFilter(version=1))
        assert counts.sessions == 4 and counts.ongoing == 1
        assert counts.reached == {"intro": 4, "q1": 4, "q2": 2, "end_ok": 2, "bye": 1}
        assert counts.moved == {("intro", "q1"): 4, ("q1", "q2"): 2, ("q1", "q1"): 1, ("q2", "end_ok"): 2,
                                ("q1", "bye"): 1}
        assert counts.left == {"q1": 1}

        voice = await store.flow_counts(acme.id, "survey", FlowFilter(version=1, channel="voice"))
        assert voice.sessions == 3 and voice.reached["q2"] == 1 and ("q1", "q1") not in voice.moved
        every = await store.flow_counts(acme.id, "survey", FlowFilter())
        assert every.sessions == 5 and every.moved[("intro", "q2")] == 1
        late = await store.flow_counts(acme.id, "survey", FlowFilter(since=at(1800)))
        assert (late.sessions, late.reached) == (1, {"intro": 1, "q2": 1})
        other = await store.create_tenant("Other")
        with pytest.raises(NotFound):
            await store.flow_counts(other.id, "survey")


@run
async def test_audit_entries_name_who_changed_what(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        admin = Actor("admin", "abc123", "ops-tenant")
        acme = await store.create_tenant("Acme", admin)
        key = await store.create_api_key(acme.id, "business", admin)
        owner = await store.verify_api_key(key)
        business = Actor(owner.role, owner.key_id, owner.tenant_id)
        await store.add_number("4242", "regular", "both", 0)             # internal: no actor, no entry
        await store.lease_number("4242", acme.id, date(2025, 1, 1))
        version = await store.save_dialplan_version(acme.id, "poll", "id: poll\n", "yaml", claim=("4242",),
                                                    actor=business)
        await store.activate_version(acme.id, "poll", version, business)
        await store.revoke_api_key(None, owner.key_id, Actor.cli("root"))
        with pytest.raises(NotFound):                                 # a failed change leaves no entry
            await store.activate_version(acme.id, "poll", 7, business)
        await store.create_tenant("Silent")                           # internal: no actor, no entry
        entries = await store.audit_entries(None)
        assert [(e.action, e.actor.role, e.actor.key_id, e.target) for e in entries] == [
            (Action.KEY_REVOKED, "cli", None, owner.key_id),
            (Action.VERSION_ACTIVATED, "business", owner.key_id, "poll"),
            (Action.VERSION_UPLOADED, "business", owner.key_id, "poll"),
            (Action.KEY_CREATED, "admin", "abc123", owner.key_id),
            (Action.TENANT_CREATED, "admin", "abc123", "Acme")]
        assert entries[0].actor.name == "root" and entries[1].details == {"version": 1, "previous": None}
        assert entries[2].details["numbers"] == ["4242"] and all(e.tenant_id == acme.id for e in entries)
        assert [e.action for e in await store.audit_entries(None, limit=2, before=entries[2].id)] == [
            Action.KEY_CREATED, Action.TENANT_CREATED]


@run
async def test_node_page_reads_failed_webhooks_and_traffic_per_minute(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        await store.save_dialplan_version(acme.id, "survey", "id: survey\n", "yaml")
        await walk(store, "a", ["intro", "lookup"], webhook_ok=False)
        await walk(store, "b", ["intro", "lookup"], webhook_ok=True, start=70)
        await store.flush()
        [failure] = await store.webhook_failures(acme.id, at(0))
        assert (failure.call_id, failure.campaign_id, failure.node, failure.status) == ("a", "survey", "lookup", 503)
        assert await store.webhook_failures(acme.id, at(10)) == []
        per_minute = await store.calls_per_minute_by_campaign(None, at(0), at(3600))
        assert per_minute == {"survey": [(at(0), 1), (at(60), 1)]}
        assert await store.sms_per_minute(None, at(0) - timedelta(hours=1), at(3600)) == []
