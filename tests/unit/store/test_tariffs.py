"""Tariffs as stored: a change takes effect LEAD after it is made (or later, when asked), replacing the
tariff of its number or campaign there; the writer's book keeps what it looked up a few seconds, which is
exact because no change can take effect sooner; the list shows tariffs in force and to come."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import pytest

from ivr.store import tariffs
from ivr.store.rating import Tariff, TariffError
from ivr.store.tariffs import LEAD, TariffBook

from . import billing_world as w
from .support import opened, run


@run
async def test_a_change_takes_effect_after_its_lead_and_ends_the_tariff_it_replaces(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        world = await w.build(store)
        before = datetime.now(timezone.utc)
        dearer = Tariff(world.acme, "sms", "premium", "message", campaign_id="vote", price=2000, shares={"*": 5000})
        new = await store.set_tariff(dearer)
        assert new.valid_from is not None and before + LEAD <= new.valid_from <= datetime.now(timezone.utc) + LEAD
        in_force = {t.id: t for t in await store.tariffs(world.acme)}
        old = in_force[world.tariff["vote-15"]]
        assert old.valid_until == new.valid_from and new.id in in_force          # in force, and to come
        with pytest.raises(TariffError, match="at the earliest 10 s after it is set"):
            await store.set_tariff(Tariff(world.acme, "sms", "premium", "message", campaign_id="vote", price=2000,
                                          valid_from=datetime.now(timezone.utc) + timedelta(seconds=5)))
        later = datetime.now(timezone.utc) + timedelta(days=30)
        scheduled = await store.set_tariff(Tariff(world.acme, "sms", "premium", "message", campaign_id="vote",
                                                  price=2500, valid_from=later))
        ended = await store.end_tariff(new.id)
        assert ended.valid_until is not None and ended.valid_until - datetime.now(timezone.utc) <= LEAD
        assert scheduled.valid_from == later
        with w.transaction(store) as session:
            book = TariffBook()
            price = {at: book.campaign(session, "vote", "3838", "sms", at)[1] for at in (
                before, new.valid_from, later - timedelta(seconds=1), later)}
        assert price[before].price == 1500 and price[new.valid_from].price == 2000
        assert price[later - timedelta(seconds=1)] is None and price[later].price == 2500   # ended, then the next


@run
async def test_the_writers_book_keeps_a_lookup_for_its_seconds_only(tmp_path: Path) -> None:
    async with opened(f"sqlite:///{tmp_path}/ivr.db", tmp_path / "spool") as store:
        world = await w.build(store)
        now = datetime.now(timezone.utc)
        book = TariffBook(3.0)
        clock = [1000.0]
        with mock.patch("ivr.store.tariffs.time.monotonic", lambda: clock[0]):
            with w.transaction(store) as session:
                assert book.campaign(session, "vote", "3838", "sms", now) == (world.acme, mock.ANY)
                tariff = book.campaign(session, "vote", "3838", "sms", now)[1]
                assert tariff.id == world.tariff["vote-15"]
            with w.transaction(store) as session:          # the tariff goes, behind the book's back
                tariffs.end_tariff(session, tariff.id, None, now - LEAD - timedelta(seconds=1))
            with w.transaction(store) as session:
                clock[0] += 2.9
                assert book.campaign(session, "vote", "3838", "sms", now)[1] == tariff      # still the copy
                clock[0] += 0.2
                assert book.campaign(session, "vote", "3838", "sms", now)[1] is None        # asked again
                assert book.campaign(session, "no-such", "3838", "sms", now) == (None, None)
    with pytest.raises(ValueError, match="less than 5.0 s"):
        TariffBook(5.0)
