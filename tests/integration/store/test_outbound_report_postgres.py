"""The report's outbound results on PostgreSQL: the same grouped query as on SQLite, the same exact counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.store.support import opened, run
from tests.unit.store.test_outbound_queue import period_results_scenario

from .conftest import Postgres

pytestmark = pytest.mark.integration


@run
async def test_report_periods_count_each_number_where_it_was_done(postgres: Postgres, tmp_path: Path) -> None:
    async with opened(postgres.url(), tmp_path / "spool") as store:
        await period_results_scenario(store)
