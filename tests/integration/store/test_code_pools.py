"""Named code pools on SQLite and PostgreSQL, with two stores (two nodes) on one database: an import is seen
whole or not at all, each code is redeemed once and handed to one caller once, whichever node asks."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ivr.store import Conflict, Store, code_pools
from ivr.store.code_pools import STALE
from ivr.store.connect import writing
from ivr.store.models import CodeImportRow, PoolCodeRow
from tests.unit.store.support import FAST, opened, rows, run, wait_until

pytestmark = pytest.mark.integration
# Two nodes on one database wait for each other's writes (SQLite: the file's lock; PostgreSQL: a caller asking
# on both nodes at once waits on the other's uncommitted code, or is chosen as a deadlock's victim and retried).
SHARED = replace(FAST, sqlite_busy_timeout=5.0, answer_timeout=10.0)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ivr.db"
    return request.getfixturevalue("postgres").url()


async def tenant_with_campaign(store: Store, name: str = "brand") -> str:
    tenant = await store.create_tenant(name)
    await store.save_dialplan_version(tenant.id, f"{name}-promo", "id: x", "yaml")
    return tenant.id


async def imported(store: Store, tenant_id: str, pool: str, tmp_path: Path, lines: list[str]) -> dict:
    """Import the lines into the pool and wait for the import to end; the import."""
    path = tmp_path / f"{pool}-{len(lines)}.txt"
    path.write_text("\n".join(lines) + "\n")
    import_id = await store.import_codes(tenant_id, pool, path, path.name)
    found = {}

    async def ended() -> bool:
        found.update((await store.code_import(tenant_id, pool, import_id)).as_dict())
        return found["state"] != "running"
    for _ in range(600):
        if await ended():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"import {import_id} did not end: {found}")


@run
async def test_two_nodes_redeem_each_code_of_a_pool_once(url: str, tmp_path: Path) -> None:
    codes = [f"R{n:05d}" for n in range(2000)]
    async with opened(url, tmp_path / "a", SHARED) as a, opened(url, tmp_path / "b", SHARED) as b:
        tenant_id = await tenant_with_campaign(a)
        assert (await imported(a, tenant_id, "receipts", tmp_path, codes))["added"] == 2000
        chosen = codes[::100]
        answers = await asyncio.gather(*(
            node.redeem_code(campaign_id="brand-promo", pool="receipts", code=code, caller=caller, channel="sms",
                             call_id=f"{caller}-{code}", named=True)
            for code in chosen for node, caller in ((a, "+1"), (b, "+2"))))
        pool = await b.code_pool(tenant_id, "receipts")
        redeemed = rows(a, "SELECT count(*) FROM pool_codes WHERE redeemed_at IS NOT NULL")
    for n in range(len(chosen)):
        assert sorted(answers[2 * n:2 * n + 2]) == ["redeemed", "used"]
    assert (pool.redeemed, redeemed) == (len(chosen), [(len(chosen),)])


@run
async def test_two_nodes_hand_each_caller_one_code(url: str, tmp_path: Path) -> None:
    async with opened(url, tmp_path / "a", SHARED) as a, opened(url, tmp_path / "b", SHARED) as b:
        tenant_id = await tenant_with_campaign(a)
        await imported(a, tenant_id, "discounts", tmp_path, [f"D{n:03d}" for n in range(30)])
        callers = [f"+38050{n:07d}" for n in range(25)]
        # every caller asks on both nodes at once, twice: one code each, the same every time
        answers = await asyncio.gather(*(
            node.issue_code(campaign_id="brand-promo", pool="discounts", caller=caller, channel="voice",
                            call_id=f"{caller}-{i}")
            for caller in callers for i, node in enumerate((a, b, a, b))))
        given = {}
        for n, caller in enumerate(callers):
            four = answers[4 * n:4 * n + 4]
            assert {i.code for i in four} == {four[0].code}, four
            assert sorted(i.status for i in four) == ["again", "again", "again", "issued"], four
            given[caller] = four[0].code
        assert len(set(given.values())) == len(callers)
        rest = await asyncio.gather(*(a.issue_code(campaign_id="brand-promo", pool="discounts", caller=f"+7{n}",
                                                   channel="sms", call_id=f"x{n}") for n in range(7)))
        assert sorted(i.status for i in rest) == ["exhausted", "exhausted"] + ["issued"] * 5
        pool = await a.code_pool(tenant_id, "discounts")
        tallies = await a.tallies(None, "brand-promo", issue_pools=("discounts",))
    assert pool.issued == 30 and tallies.issued["discounts"].issued == 30


@run
async def test_an_import_is_seen_whole_or_not_at_all(url: str, tmp_path: Path) -> None:
    async with opened(url, tmp_path / "a", SHARED) as a:
        tenant_id = await tenant_with_campaign(a)
        path = tmp_path / "big.txt"                     # two lines that are not UTF-8: problems of their lines
        path.write_bytes(b"".join(b"C%06d\n" % n for n in range(45_000)) + b"\xff broken\n\xff\xfe\n")
        import_id = await a.import_codes(tenant_id, "big", path, "big.txt")
        tries = 0
        while True:                                     # while it runs, no code of it can be redeemed
            status = await a.redeem_code(campaign_id="brand-promo", pool="big", code="C000001", caller="+1",
                                         channel="sms", call_id="early", named=True)
            found = await a.code_import(tenant_id, "big", import_id)
            if found.state != "running":
                break
            assert status == "invalid"
            tries += 1
            await asyncio.sleep(0.01)
        assert tries > 0
        assert (found.state, found.added, found.malformed) == ("committed", 45_000, 2)
        assert [p["line"] for p in found.problems] == [45_001, 45_002]
        assert await a.redeem_code(campaign_id="brand-promo", pool="big", code="C000002", caller="+1",
                                   channel="sms", call_id="late", named=True) == "redeemed"
        # one import of a pool at a time; one whose node died is failed and purged by the next start
        running = await a._run(code_pools.begin_import, tenant_id, "big", "second.txt", 10, write=True)
        path.write_text("X1\n")
        with pytest.raises(Conflict):
            await a.import_codes(tenant_id, "big", path, "third.txt")
        with Session(writing(a.engine)) as session, session.begin():       # its node died long ago, mid-file
            session.execute(insert(PoolCodeRow).values(pool_id=running[0], import_id=running[1], code="ORPHAN"))
            session.execute(update(CodeImportRow).where(CodeImportRow.id == running[1]).values(
                heartbeat_at=datetime.now(timezone.utc) - STALE - timedelta(minutes=1)))
    async with opened(url, tmp_path / "b", SHARED) as b:               # a node starting: stale imports failed and purged
        await wait_until(lambda: rows(b, "SELECT count(*) FROM pool_codes WHERE code = 'ORPHAN'") == [(0,)])
        assert rows(b, f"SELECT state FROM code_imports WHERE id = {running[1]}") == [("failed",)]
        assert (await b.code_pool(tenant_id, "big")).codes == 45_000
