"""Two engine nodes on one PostgreSQL split an outbound campaign's audience: every number is called once,
by one node, and the campaign's pace holds over both (SIPp's clock)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from ..api.conftest import Api
from ..conftest import start_engine
from ..test_outbound_calls import create, setup_business, wait_done
from .conftest import Postgres

pytestmark = [pytest.mark.integration, pytest.mark.outbound]


def test_two_nodes_split_one_audience_without_double_calls(postgres: Postgres, phones, tmp_path: Path) -> None:
    engines = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            engines.append(start_engine(tmp_path / name, *phones.engine_args("--outbound-ring", "3", "--node-name",
                                                                              f"node-{name}"), db_url=postgres.url()))
        api, business = setup_business(engines[0])
        numbers = [(f"+3805030000{n:02d}2", f"n{n}") for n in range(24)]     # ...2: answer, hang up after 1 s
        oid = create(api, business, numbers, rate=8, concurrent=8, max_attempts=1)
        time.sleep(1.5)                                  # the second node follows the store's campaigns
        assert api("POST", f"/api/outbound/{oid}/start", business).status == 200
        progress = wait_done(api, business, oid, 60)
        assert progress["state"] == "done", progress
        assert progress["progress"]["results"]["answered"] == 24
        mine = [(at, number) for at, number, _ in phones.invites("hangup") if number in dict(numbers)]
        assert Counter(number for _, number in mine) == Counter({n: 1 for n, _ in numbers})   # nobody twice
        placed = [sum(1 for r in e.call_records() if r.get("direction") == "outbound") for e in engines]
        assert sum(placed) == 24 and min(placed) >= 3, placed                  # both nodes took part
        times = [at for at, _ in mine]
        windows = [times[i + 8] - times[i] for i in range(len(times) - 8)]
        assert min(windows) >= 0.9 * 8 * 125, windows    # 9 calls never within less than 8/rate, both nodes together
        assert Api(engines[1])("GET", f"/api/outbound/{oid}/progress", business).json()["done"] == 24
    finally:
        for engine in engines:
            engine.stop()
