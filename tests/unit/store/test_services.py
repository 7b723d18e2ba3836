"""Tenants, API keys, immutable dialplan versions with one active, short numbers pointed at campaigns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.store import Conflict, Forbidden, NotFound, StoreError
from ivr.store.money import local_day

from .support import opened, rows, run

VOTE_V1 = "id: talent\nstart: welcome\n"
VOTE_V2 = "id: talent\nstart: vote\n"


@run
async def test_api_keys_are_shown_once_stored_hashed_and_can_be_revoked(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        key = await store.create_api_key(acme.id, "business")
        assert await store.verify_api_key(key) == (acme.id, "business", key.split("_")[1])
        assert key not in str(rows(store, "SELECT * FROM api_keys"))
        for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), "ivr_000000000000_" + "x" * 43, "", "Bearer x"):
            assert await store.verify_api_key(wrong) is None
        [listed] = await store.api_keys(acme.id)
        assert listed.role == "business" and listed.revoked_at is None and key.startswith(f"ivr_{listed.id}_")
        other = await store.create_tenant("Globex")
        with pytest.raises(NotFound):
            await store.revoke_api_key(other.id, listed.id)
        await store.revoke_api_key(acme.id, listed.id)
        assert await store.verify_api_key(key) is None
        with pytest.raises(StoreError, match="role"):
            await store.create_api_key(acme.id, "root")
        with pytest.raises(NotFound):
            await store.create_api_key("no-such-tenant", "admin")


@run
async def test_tenant_names_are_unique(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        with pytest.raises(Conflict):
            await store.create_tenant(" Acme ")
        assert await store.tenant_by_name("Acme") == acme
        assert await store.tenant_by_name("Nobody") is None
        assert [t.name for t in await store.tenants()] == ["Acme"]


@run
async def test_dialplan_versions_are_numbered_kept_and_one_is_active(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        assert await store.save_dialplan_version(acme.id, "talent", VOTE_V1, "yaml") == 1
        assert await store.save_dialplan_version(acme.id, "talent", VOTE_V2, "yaml") == 2
        assert await store.active_version(acme.id, "talent") is None
        await store.activate_version(acme.id, "talent", 1)
        active = await store.active_version(acme.id, "talent")
        assert active is not None and (active.version, active.source_text, active.active) == (1, VOTE_V1, True)
        await store.activate_version(acme.id, "talent", 2)
        versions = await store.list_versions(acme.id, "talent")
        assert [(v.version, v.source_text, v.active) for v in versions] == [(1, VOTE_V1, False), (2, VOTE_V2, True)]
        assert [(c.id, c.active_version) for c in await store.campaigns(acme.id)] == [("talent", 2)]
        with pytest.raises(NotFound):
            await store.activate_version(acme.id, "talent", 3)
        with pytest.raises(StoreError, match="format"):
            await store.save_dialplan_version(acme.id, "talent", VOTE_V1, "xml")

        globex = await store.create_tenant("Globex")
        with pytest.raises(Conflict):
            await store.save_dialplan_version(globex.id, "talent", VOTE_V1, "yaml")
        with pytest.raises(NotFound):
            await store.list_versions(globex.id, "talent")
        with pytest.raises(NotFound):
            await store.activate_version(globex.id, "talent", 1)
        assert await store.campaigns(globex.id) == []


@run
async def test_short_numbers_are_pointed_at_campaigns_only_by_the_tenant_leasing_them(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme = await store.create_tenant("Acme")
        globex = await store.create_tenant("Globex")
        await store.save_dialplan_version(acme.id, "talent", VOTE_V1, "yaml")
        await store.save_dialplan_version(acme.id, "survey", VOTE_V1, "yaml")
        with pytest.raises(Forbidden, match="not one of the provider's numbers"):
            await store.assign_number(acme.id, "38", "talent")
        await store.add_number("3838", "golden", "both", 250000)
        with pytest.raises(Forbidden, match="not leased to you"):
            await store.assign_number(acme.id, "3838", "talent")
        today = local_day(datetime.now(timezone.utc))
        lease = await store.lease_number("3838", acme.id, today - timedelta(days=10))
        assert (await store.assign_number(acme.id, "3838", "talent")).campaign_id == "talent"
        assert (await store.assign_number(acme.id, "3838", "survey")).campaign_id == "survey"
        with pytest.raises(Conflict, match="leased to another tenant"):
            await store.assign_number(globex.id, "3838", None)
        with pytest.raises(NotFound):
            await store.assign_number(globex.id, "3838", "talent")           # another tenant's campaign
        assert [(n.number, n.campaign_id) for n in await store.numbers(acme.id)] == [("3838", "survey")]
        with pytest.raises(NotFound):
            await store.release_number(globex.id, "3838")
        await store.release_number(acme.id, "3838")
        assert await store.numbers(acme.id) == []
        await store.assign_number(acme.id, "3838", "talent")
        await store.end_lease(lease.id, today - timedelta(days=1))          # over: no longer pointed anywhere
        assert await store.numbers(acme.id) == []
        with pytest.raises(Forbidden):
            await store.assign_number(acme.id, "3838", "talent")
        await store.lease_number("3838", globex.id, today)
        assert (await store.assign_number(globex.id, "3838", None)).tenant_id == globex.id
