"""The database goes away while calls go on (between two calls, and in the middle of one): callers are
still answered, and told the truth: a vote the store cannot check is not counted (the vote's
`unavailable` exit, "please call again later"); the call's records wait in the node's spool and land
in PostgreSQL when it is back. (With a `pending` exit the vote waits too: test_own_postgres_outage.py.)"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import psycopg
import pytest

from tests.integration.api.conftest import Background, wait_for
from tests.integration.conftest import run_sipp, start_engine
from tests.integration.sipp_keys import key_scenario

from .conftest import PG_DB, PG_HOST, PG_PORT, PG_USER, Postgres
from .tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


class ProxyThread:
    """A TcpProxy to PostgreSQL on its own event loop thread, driven from the (synchronous) test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.proxy = TcpProxy(PG_HOST, PG_PORT)

    def __enter__(self) -> "ProxyThread":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)


def votes(postgres: Postgres) -> set[str]:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, connect_timeout=3) as conn:
        return {caller for (caller,) in conn.execute(f"SELECT caller FROM {postgres.schema}.votes")}


def test_calls_go_on_while_the_database_is_down(postgres: Postgres, tmp_path: Path) -> None:
    with ProxyThread() as pg:
        port = pg.call(pg.proxy.start())
        engine = start_engine(tmp_path, db_url=postgres.url(port))
        try:
            before = key_scenario(tmp_path / "before.xml", [(2.0, "1")], caller="+15550201")
            assert run_sipp(engine.sip, before, service="3838", timeout=40, workdir=tmp_path).successful == 1
            pg.call(pg.proxy.stop())                                     # the database host goes away
            during = key_scenario(tmp_path / "during.xml", [(2.0, "2")], caller="+15550202")
            result = run_sipp(engine.sip, during, service="3838", timeout=40, workdir=tmp_path)
            assert result.successful == 1, result.output                 # answered, told to call later, goodbye
            status, metrics = engine.http_get("/metrics")
            assert status == 200 and b"ivr_store_online 0" in metrics
            assert engine.http_get("/health")[0] == 200
            assert votes(postgres) == {"+15550201"}
            pg.call(pg.proxy.start())                                    # back
            wait_for(lambda: engine.metrics()["ivr_store_spool_records"] == 0, timeout=30, interval=0.3)
            assert votes(postgres) == {"+15550201"}                      # the unchecked vote was not counted
        finally:
            engine.stop()
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended" and r["from"] == "+15550202"]
    assert ended["path"][-1] == "later"


def test_the_database_goes_away_in_the_middle_of_a_call(postgres: Postgres, tmp_path: Path) -> None:
    with ProxyThread() as pg:
        engine = start_engine(tmp_path, db_url=postgres.url(pg.call(pg.proxy.start())))
        try:
            scenario = key_scenario(tmp_path / "mid.xml", [(5.0, "4")], caller="+15550203")
            results = []
            call = Background(lambda: results.append(run_sipp(engine.sip, scenario, service="3838", timeout=40,
                                                              workdir=tmp_path)))
            call.start()

            def call_written() -> bool:                      # the call is up and its start is in the database
                metrics = engine.metrics()
                return metrics["ivr_active_calls"] == 1 and metrics["ivr_store_queue_depth"] == 0 \
                    and metrics["ivr_store_rows_written"] > 0
            wait_for(call_written, timeout=5, interval=0.05)
            pg.call(pg.proxy.stop())                         # the database host goes away, the vote still to come
            call.join(60)
            assert results[0].successful == 1, results[0].output
            down = engine.metrics()
            assert (down["ivr_store_online"], down["ivr_active_calls"]) == (0, 0)
            assert down["ivr_store_spool_records"] >= 1      # the call's records wait on disk
            assert votes(postgres) == set()
            pg.call(pg.proxy.start())                        # back
            wait_for(lambda: engine.metrics()["ivr_store_spool_records"] == 0, timeout=30, interval=0.3)
            assert engine.metrics()["ivr_store_online"] == 1
            assert votes(postgres) == set()                  # not counted, and the caller was not told it was
        finally:
            engine.stop()
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["digits"], ended["path"][-1]) == ("4", "later")     # "we cannot count votes right now"
