"""The flow counts, failed webhooks and traffic per minute of tests/unit/store/test_flow_counts.py on
PostgreSQL (JSON paths, the LAG window and boolean JSON read differently there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..store.conftest import Postgres
from ...unit.store import test_flow_counts as on_sqlite

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("check", [on_sqlite.test_counts_follow_sessions_through_the_flow,
                                   on_sqlite.test_node_page_reads_failed_webhooks_and_traffic_per_minute])
def test_on_postgres(check, postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = on_sqlite.opened
    monkeypatch.setattr(on_sqlite, "opened", lambda url, spool, *a: real(postgres.url(), spool, *a))
    check(tmp_path)
