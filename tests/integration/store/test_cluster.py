"""Scale-out: Kamailio (dispatcher, OPTIONS probing) in front of two engine processes sharing one
PostgreSQL. Calls through Kamailio reach both engines; when one is killed in the middle of the
traffic, the call on the other goes on, the balancer's OPTIONS probes take the dead one out of the
set, new calls keep succeeding on the other, and every vote lands in the shared store."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import ROOT, free_port, run_sipp, start_engine
from tests.integration.sipp_keys import key_scenario

from .conftest import PG_DB, PG_HOST, PG_PORT, PG_USER, Postgres

pytestmark = pytest.mark.integration
KAMAILIO_CFG = ROOT / "docker" / "kamailio" / "kamailio.cfg"


def votes(postgres: Postgres) -> set[str]:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DB, connect_timeout=3) as conn:
        return {caller for (caller,) in conn.execute(f"SELECT caller FROM {postgres.schema}.votes")}


def start_kamailio(tmp: Path, engines: list[int]) -> tuple[subprocess.Popen, int]:
    kamailio = shutil.which("kamailio")
    assert kamailio, "kamailio (Debian package) is not installed: run scripts/bootstrap"
    port = free_port()
    dispatcher = tmp / "dispatcher.list"
    dispatcher.write_text("".join(f"1 sip:127.0.0.1:{p}\n" for p in engines))
    log = open(tmp / "kamailio.log", "w")
    proc = subprocess.Popen([kamailio, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-m", "64", "-M", "8",
                             "-Y", str(tmp), "-A", f"LISTEN=udp:127.0.0.1:{port}", "-A", f'DS_LIST="{dispatcher}"'],
                            stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    assert proc.poll() is None, (tmp / "kamailio.log").read_text()[-3000:]
    return proc, port


def handled(engine) -> int:
    return sum(1 for record in engine.call_records() if record["event"] == "call_ended")


def active_calls(engine) -> int:
    status, body = engine.http_get("/metrics")
    assert status == 200
    return int(float(re.search(rb"^ivr_active_calls (\S+)$", body, re.M).group(1)))


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_two_engines_behind_kamailio_survive_losing_one(postgres: Postgres, tmp_path: Path) -> None:
    engines = [start_engine(tmp_path / name, db_url=postgres.url()) for name in ("a", "b")
               if (tmp_path / name).mkdir() is None]
    kamailio, port = start_kamailio(tmp_path, [e.sip_port for e in engines])
    balancer = f"127.0.0.1:{port}"
    try:
        first = key_scenario(tmp_path / "first.xml", [(1.5, "2")], caller="+1555100[call_number]")
        result = run_sipp(balancer, first, service="3838", calls=6, concurrent=3, timeout=60, workdir=tmp_path)
        assert result.successful == 6, result.output
        assert all(handled(e) >= 1 for e in engines), [handled(e) for e in engines]   # both took calls

        # a call in progress when a node dies: it was placed on the node that stays, and goes on there
        (tmp_path / "long").mkdir()
        long = key_scenario(tmp_path / "long.xml", [(8.0, "3")], caller="+15553001")
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(run_sipp, balancer, long, service="3838", calls=1, timeout=60,
                               workdir=tmp_path / "long")
            wait_for(lambda: any(active_calls(e) for e in engines), 15, "the long call was not answered")
            survivor, victim = sorted(engines, key=active_calls, reverse=True)
            victim.proc.send_signal(signal.SIGKILL)                 # one node dies
            victim.proc.wait(10)
            log = tmp_path / "kamailio.log"
            down = f"engine sip:127.0.0.1:{victim.sip_port} down"
            wait_for(lambda: down in log.read_text(), 15, "the balancer's OPTIONS probes did not notice")
            taken_before, logged_before = handled(survivor), len(log.read_text())
            after = key_scenario(tmp_path / "after.xml", [(1.5, "4")], caller="+1555200[call_number]")
            result = run_sipp(balancer, after, service="3838", calls=6, concurrent=2, timeout=90, workdir=tmp_path)
            assert result.successful == 6, result.output
            assert held.result().successful == 1, held.result().output
        assert "failed over" not in log.read_text()[logged_before:]   # no new caller had to wait for the dead node
        assert handled(survivor) == taken_before + 7                # the six new calls and the long one
        deadline = time.monotonic() + 15
        expected = ({f"+1555100{n}" for n in range(1, 7)} | {f"+1555200{n}" for n in range(1, 7)}
                    | {"+15553001"})
        while votes(postgres) != expected and time.monotonic() < deadline:
            time.sleep(0.3)
        assert votes(postgres) == expected
        endings = [r["path"][-1] for e in engines for r in e.call_records() if r["event"] == "call_ended"]
        assert endings == ["thanks"] * len(endings) and len(endings) >= 13   # each caller was told it counted
    finally:
        kamailio.terminate()
        kamailio.wait(10)
        for engine in engines:
            engine.stop()
