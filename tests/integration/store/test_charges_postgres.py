"""Charges on PostgreSQL: the month's statement a reader computes, and two nodes racing on every message,
call end and monthly fee charging each once (the UNIQUE event key decides)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.store import billing_world as w
from tests.unit.store.support import FAST, opened, rows, run

from .conftest import Postgres

pytestmark = pytest.mark.integration

PATIENT = replace(FAST, ack_deadline=5.0, answer_timeout=10.0)


@run
async def test_a_month_of_traffic_gives_the_statement_a_reader_computes(postgres: Postgres, tmp_path: Path) -> None:
    async with opened(postgres.url(), tmp_path / "spool") as store:
        world = await w.build(store)
        await w.traffic_of_the_month(store, world)
        await w.check_month(store, world)


@run
async def test_two_nodes_racing_charge_each_event_once(postgres: Postgres, tmp_path: Path) -> None:
    async with opened(postgres.url(), tmp_path / "a", PATIENT) as a, \
            opened(postgres.url(), tmp_path / "b", PATIENT) as b:
        world = await w.build(a)
        await w.concurrent_traffic([a, b], messages=200, calls=40)
        await w.check_concurrent(a, world, messages=200, calls=40)
        assert a.gauges()["store_failures"] == b.gauges()["store_failures"] == 0
        assert a.gauges()["store_spooled"] == b.gauges()["store_spooled"] == 0
        assert rows(a, "SELECT count(*) FROM charges WHERE item = 'monthly_fee'") == [(7,)]
