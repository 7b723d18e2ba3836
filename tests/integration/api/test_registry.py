"""The campaign registry on a real store (SQLite): seeding from a folder once per file content (its numbers
leased to the demo tenant), prepared before served, numbers assigned in the store routed on the channels
they are leased on while the lease lasts, and the objects of calls in progress untouched."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.engine.campaigns import DEMO_TENANT, CampaignRegistry
from ivr.flow.model import Campaign
from ivr.store import Store
from ivr.store.money import local_day

from ..conftest import ROOT

pytestmark = pytest.mark.integration

VOTE = (ROOT / "dialplans" / "vote.yaml").read_text()


def test_registry_follows_the_store(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "vote.yaml").write_text(VOTE)
    asyncio.run(_scenario(tmp_path, plans))


async def _scenario(tmp_path: Path, plans: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'ivr.db'}", tmp_path / "spool")
    prepared: list[list[str]] = []
    try:
        registry = CampaignRegistry(plans, {"orders_api": "http://127.0.0.1:9/"})

        async def prepare(campaigns: list[Campaign]) -> None:
            prepared.append([c.id for c in campaigns])
            current = registry.for_number("3838")               # not served before it is prepared
            assert current is None or all(current is not c for c in campaigns)
        await registry.start(store, prepare, poll=3600)
        await registry.stop()
        first = registry.for_number("3838")
        assert first is not None and first.variables["orders_api"] == "http://127.0.0.1:9/"
        assert registry.deployed("talent-vote").version == 1 and prepared == [["talent-vote"]]

        await registry.seed()                                    # same file: nothing new
        await registry.refresh()
        assert registry.for_number("3838") is first and prepared == [["talent-vote"]]
        demo = await store.tenant_by_name(DEMO_TENANT)
        assert [v.version for v in await store.list_versions(demo.id, "talent-vote")] == [1]

        (plans / "vote.yaml").write_text(VOTE.replace("value: chloe", "value: zoe"))
        await registry.seed()
        await registry.refresh()
        second = registry.for_number("3838")
        assert second is not first and registry.deployed("talent-vote").version == 2
        assert prepared == [["talent-vote"], ["talent-vote"]]
        assert "chloe" in str(first.nodes["choose"]) and "zoe" in str(second.nodes["choose"])   # old one intact

        [lease] = await store.leases(demo.id, "3838")
        assert (lease.channels, lease.ends_on) == ("both", None)

        assert registry.for_number("3939") is None
        today = local_day(datetime.now(timezone.utc))
        await store.add_number("3939", "regular", "both", 100000)
        lease = await store.lease_number("3939", demo.id, today - timedelta(days=10), channels="voice")
        await store.assign_number(demo.id, "3939", "talent-vote")
        await registry.refresh()
        assert registry.for_number("3939") is second and registry.for_sms_number("3939") is None
        await store.end_lease(lease.id, today - timedelta(days=1))
        await registry.refresh()
        assert registry.for_number("3939") is None and registry.for_number("3838") is second
    finally:
        await store.close()
