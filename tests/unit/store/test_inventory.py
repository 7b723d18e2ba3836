"""The number inventory: numbers added by admins, leased to one tenant at a time, ended; what is free; and
campaign files that may claim only numbers their tenant leases, on the channel it leases them on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.store import Conflict, Forbidden, NotFound, StoreError
from ivr.store.money import local_day

from .support import opened, rows, run

TODAY = local_day(datetime.now(timezone.utc))


@run
async def test_numbers_are_leased_to_one_tenant_at_a_time(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, globex = await store.create_tenant("Acme"), await store.create_tenant("Globex")
        added = await store.add_number("3838", "golden", "both", 250000)
        assert (added.number_class, added.channels, added.monthly_fee, added.currency) == ("golden", "both", 250000,
                                                                                         "UAH")
        await store.add_number("7777", "regular", "sms", 100000)
        for bad, message in ((("38", "regular", "both", 0), "3 or 4 digits"), (("38380", "regular", "both", 0),
                             "3 or 4 digits"), (("1414", "silver", "both", 0), "class must be"),
                             (("1414", "regular", "fax", 0), "channels must be"),
                             (("1414", "regular", "both", -1), "monthly fee")):
            with pytest.raises(StoreError, match=message):
                await store.add_number(*bad)
        with pytest.raises(Conflict):
            await store.add_number("3838", "regular", "both", 0)

        first = await store.lease_number("3838", acme.id, TODAY - timedelta(days=40), ends_on=TODAY - timedelta(days=1))
        with pytest.raises(Conflict, match="leased from"):
            await store.lease_number("3838", globex.id, TODAY - timedelta(days=5))
        second = await store.lease_number("3838", globex.id, TODAY)
        with pytest.raises(Conflict):                        # acme's lease cannot run into globex's again
            await store.end_lease(first.id, TODAY + timedelta(days=3))
        with pytest.raises(StoreError, match="cannot end before"):
            await store.end_lease(second.id, TODAY - timedelta(days=1))
        with pytest.raises(StoreError, match="carries sms only"):
            await store.lease_number("7777", acme.id, TODAY, channels="voice")
        with pytest.raises(NotFound):
            await store.lease_number("1414", acme.id, TODAY)
        with pytest.raises(NotFound):
            await store.lease_number("7777", "no-such-tenant", TODAY)

        assert [n.number for n in await store.inventory("free")] == ["7777"]
        [leased] = await store.inventory("leased")
        assert (leased.number, leased.lease.tenant_id, leased.lease.starts_on) == ("3838", globex.id, TODAY)
        assert [n.number for n in await store.inventory("free", TODAY - timedelta(days=20))] == ["7777"]
        assert [n.lease.tenant_id for n in await store.inventory("leased", TODAY - timedelta(days=20))] == [acme.id]
        assert [(l.number, l.tenant_id) for l in await store.leases(None, "3838")] == [("3838", acme.id),
                                                                                     ("3838", globex.id)]
        assert await store.tenant_numbers(acme.id) == []                  # its lease is over
        [mine] = await store.tenant_numbers(globex.id)
        assert (mine.number, mine.number_class, mine.monthly_fee, mine.lease.id) == ("3838", "golden", 250000,
                                                                                   second.id)
        with pytest.raises(Conflict, match="must keep those channels"):
            await store.update_number("3838", channels="sms")
        changed = await store.update_number("3838", monthly_fee=300000)
        assert changed.monthly_fee == 300000 and changed.lease == second
        with pytest.raises(Conflict, match="has leases"):
            await store.remove_number("3838")
        await store.remove_number("7777")
        assert [n.number for n in await store.inventory("all")] == ["3838"]


@run
async def test_campaign_files_claim_only_numbers_leased_on_their_channel(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        acme, globex = await store.create_tenant("Acme"), await store.create_tenant("Globex")
        await store.add_number("3838", "golden", "both", 0)
        await store.add_number("7777", "regular", "both", 0)
        await store.add_number("5050", "regular", "both", 0)
        await store.lease_number("3838", acme.id, TODAY - timedelta(days=10), channels="sms")
        await store.lease_number("7777", globex.id, TODAY)
        await store.lease_number("5050", acme.id, TODAY + timedelta(days=7))          # from next week

        async def save(campaign: str, voice: list[str], sms: list[str]) -> int:
            return await store.save_dialplan_version(acme.id, campaign, f"id: {campaign}\n", "yaml",
                                                     claim=(*voice, *sms), voice_numbers=tuple(voice),
                                                     sms_numbers=tuple(sms))
        with pytest.raises(Forbidden, match="number 3838 is leased to you for SMS only, not for voice calls"):
            await save("vote", ["3838"], ["3838"])
        with pytest.raises(Conflict, match="number 7777 is leased to another tenant"):
            await save("vote", [], ["7777"])
        with pytest.raises(Forbidden, match="number 38 is not one of the provider's numbers"):
            await save("vote", [], ["38"])
        with pytest.raises(Forbidden, match="number 1414 is not one of"):
            await save("vote", ["1414"], [])
        assert rows(store, "SELECT count(*) FROM dialplan_versions") == [(0,)]        # nothing saved
        assert await save("vote", [], ["3838"]) == 1
        assert await save("later", ["5050"], ["5050"]) == 1                # a lease to come may be prepared for
        with pytest.raises(Conflict, match="used by another campaign"):
            await save("copycat", [], ["3838"])
        assert [(n.number, n.campaign_id) for n in await store.numbers(acme.id)] == [("3838", "vote"),
                                                                                   ("5050", "later")]
        assert {n: (l.tenant_id, l.channels) for n, l in (await store.routable()).items()} == {
            "3838": (acme.id, "sms"), "7777": (globex.id, "both")}            # 5050 from next week only

        # activation claims again: a version whose numbers are no longer leased cannot be put in service
        [lease] = await store.leases(acme.id, "3838")
        await store.end_lease(lease.id, TODAY)
        await store.activate_version(acme.id, "vote", 1)                 # the lease's last day: still its
        await store.end_lease(lease.id, TODAY - timedelta(days=1))
        with pytest.raises(Forbidden, match="not leased to you"):
            await store.activate_version(acme.id, "vote", 1)
        assert [n for n in await store.routable()] == ["7777"]
        assert [(n.number, n.campaign_id) for n in await store.numbers(acme.id)] == [("5050", "later")]


def test_numbers_held_before_the_upgrade_are_leased_to_their_tenants(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from ivr.store.connect import make_engine, writing
    from ivr.store.migrate import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writing(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(text("INSERT INTO tenants VALUES ('t1', 'acme', '2025-01-01 00:00:00.000000')"))
        conn.execute(text("INSERT INTO short_numbers VALUES ('3838', 't1', NULL, '2025-02-28 23:30:00.000000')"))
    with writing(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        numbers = conn.execute(text("SELECT number, class, channels, monthly_fee FROM numbers")).all()
        leases = conn.execute(text("SELECT number, tenant_id, channels, starts_on, ends_on FROM number_leases")).all()
    engine.dispose()
    assert numbers == [("3838", "regular", "both", 0)]
    assert leases == [("3838", "t1", "both", "2025-03-01", None)]           # 01:30 in Kyiv on March 1st
