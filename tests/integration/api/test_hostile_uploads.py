"""Hostile campaign files uploaded while calls play, against a real `ivr serve`: a YAML bomb, nesting
200,000 deep, a megabyte of keys, a 100,000-code inline pool (a valid campaign, stored and activated),
a simulation of two thousand answers against a pattern that backtracks (each stopped at its time limit,
together past the worker's CPU limit), and listings with that pool stored. Parsing,
validating and simulating run in capped worker processes, so the media clock drops no tick and
/health answers within 100 ms throughout; what went past a limit gets 422 with the reason."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from pathlib import Path

import pytest

from tests.support.caller import Caller

from ..conftest import start_engine
from .conftest import Api, lease, make_key

pytestmark = pytest.mark.integration

YAML = "application/yaml"
BOMB = "id: bomb\n" + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9) if n else 'x'}]\n" for n in range(9))
DEEP = "[" * 200_000 + "]" * 200_000
KEYS = "id: keys\n" + "".join(f"k{n:06d}: {n}\n" for n in range(70_000))           # just under 1 MiB
POOL = ("id: receipts\nname: Receipt raffle\nnumbers: {voice: ['7070']}\nstart: ask\n"
        "code_pools:\n  receipts: [" + ", ".join(str(100000 + n) for n in range(100_000)) + "]\n"
        "nodes:\n"
        "  ask: {type: ask, prompt: Key in your code., pattern: '(1|11)+$', next: redeem, retries: 0, nomatch: ask}\n"
        "  redeem: {type: code, pool: receipts, value: '{{input}}', next: won, used: used, invalid: used}\n"
        "  won: {type: end, text: You won.}\n"
        "  used: {type: end, text: Not this time.}\n")


class HealthWatch(threading.Thread):
    """GET /health every 20 ms on one keep-alive connection; the slowest answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.slowest = 0.0
        self.answers = 0
        self.failures: list[str] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/health")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    self.failures.append(f"status {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.answers += 1
            time.sleep(0.02)


def test_hostile_uploads_while_calls_play_stall_nothing(tmp_path: Path) -> None:
    engine = start_engine(tmp_path)
    api = Api(engine)
    key = make_key(engine, "demo", "business")
    lease(engine, "demo", "7070")
    try:
        before = engine.metrics()
        watch = HealthWatch(engine.http_port)
        watch.start()
        replies = asyncio.run(_uploads_during_calls(engine, api, key))
        watch.stop.set()
        watch.join(10)
        after = engine.metrics()
    finally:
        engine.stop()
    dropped = after["ivr_media_clock_dropped_ticks"] - before["ivr_media_clock_dropped_ticks"]
    late = after["ivr_media_clock_late_ticks"] - before["ivr_media_clock_late_ticks"]
    print(f"\nhostile uploads: media clock dropped {dropped:.0f} ticks, late {late:.0f}; slowest /health of "
          f"{watch.answers}: {watch.slowest * 1000:.1f} ms")
    bomb, deep, keys, pool, listing, simulation = replies
    assert bomb.status == 422 and "aliases" in bomb.json()["issues"][0]["message"]
    assert deep.status == 422 and "nest" in deep.json()["issues"][0]["message"]
    assert keys.status == 422 and keys.json()["issues"][-1]["message"].startswith("and ")   # capped at 100
    assert len(keys.json()["issues"]) == 101
    assert pool.status == 201, pool.body[:500]
    assert listing.status == 200 and {c["id"]: c["voice_numbers"] for c in listing.json()}["receipts"] == ["7070"]
    assert simulation.status == 422 and simulation.json()["error"].endswith("it was stopped")   # CPU or wall limit
    assert dropped == 0 and not watch.failures
    assert watch.slowest < 0.1


async def _uploads_during_calls(engine, api: Api, key: str) -> list:
    callers = [Caller(("127.0.0.1", engine.sip_port), "5050", caller_id=f"+38050111230{n}") for n in range(3)]
    try:
        for caller in callers:
            await caller.dial()

        def send(method: str, path: str, **kwargs):
            return asyncio.to_thread(api, method, path, key, **kwargs)
        replies = [await send("POST", "/api/dialplans/validate", text=text, content_type=YAML)
                   for text in (BOMB, DEEP, KEYS)]
        replies.append(await send("POST", "/api/campaigns/receipts/versions?activate=1", text=POOL,
                                  content_type=YAML))
        replies.append(await send("GET", "/api/campaigns"))
        replies.append(await send("POST", "/api/campaigns/receipts/simulate",
                                  json_body={"channel": "voice", "inputs": ["1" * 40 + "2#"] * 2000}))
        return replies
    finally:
        for caller in callers:
            caller.close()
