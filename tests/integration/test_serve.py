"""`ivr serve` as a load balancer and an operator see it: /health before and after the engine is ready,
and the event loop it runs on."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from ivr.engine.config import EngineConfig
from ivr.node import Node

from .api.conftest import vote_call
from .conftest import PROMPT_CACHE, start_engine

pytestmark = pytest.mark.integration


def test_health_answers_503_until_the_engine_is_ready_then_200(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    config = EngineConfig(sip_host="127.0.0.1", sip_port=0, http_port=0, db_url=f"sqlite:///{tmp_path / 'ivr.db'}",
                          data_dir=tmp_path / "var", dialplans_dir=tmp_path / "plans", prompts_dir=PROMPT_CACHE)

    async def health(node: Node) -> tuple[int, dict]:
        assert node.http_address is not None
        async with aiohttp.ClientSession() as session:
            async with session.get("http://%s:%s/health" % node.http_address) as response:
                return response.status, json.loads(await response.read())

    async def start() -> list[tuple[int, dict]]:
        node = Node(config)
        try:
            await node.start_http()
            before = await health(node)
            await node.start_engine()
            return [before, await health(node)]
        finally:
            await node.stop()

    assert asyncio.run(start()) == [(503, {"status": "starting"}), (200, {"status": "ok", "active_calls": 0})]


def test_serve_runs_on_uvloop_by_default(engine) -> None:
    assert "event loop: uvloop" in engine.log()


def test_serve_on_asyncio_own_loop_answers_a_call(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--loop", "asyncio")
    try:
        vote_call(engine, tmp_path / "call", "+15550808", "4")
    finally:
        engine.stop()
    assert "event loop: asyncio" in engine.log()
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["digits"], ended["cause"]) == ("4", "flow_end")
