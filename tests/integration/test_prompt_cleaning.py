"""The engine cleans its prompt cache whenever the campaigns in service change, and never deletes what a
call in progress may still play.

An engine with its own cache, `--prompts-stale-after 0` (nothing unneeded is spared for its age) and one
campaign whose second prompt is templated on the caller's number. A real call hears that value (made
during the call) and stays on while new versions are activated over the API.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from ivr.media.prompt_cache import PromptCache, PromptRequest

from ..support.caller import Caller
from .api.conftest import Api, make_key
from .conftest import start_engine

pytestmark = pytest.mark.integration

CALLER = "+15550004401"
CAMPAIGN = """\
id: clean-line
name: Cleaning
numbers: {voice: ["4400"]}
start: hello
nodes:
  hello: {type: say, text: "Version %s greeting.", next: number}
  number: {type: say, text: "You are calling from {{caller.number}}.", next: wait}
  wait: {type: ask, prompt: "Press one to finish.", timeout: 30, choices: [{key: 1, next: bye}]}
  bye: {type: end, text: "Goodbye."}
"""


def entry(cache: PromptCache, text: str) -> str:
    return cache.key(PromptRequest(text=text, language="en"))


def test_stale_prompts_go_when_campaigns_change_but_not_under_a_call(tmp_path: Path) -> None:
    dialplans = tmp_path / "dialplans"
    dialplans.mkdir()
    (dialplans / "clean.yaml").write_text(CAMPAIGN % "one")
    cache = PromptCache(tmp_path / "cache")
    unused = cache.ensure(PromptRequest(text="A prompt no campaign plays.", language="en"))
    engine = start_engine(tmp_path, "--prompts", str(cache.directory), "--prompts-stale-after", "0",
                          dialplans=dialplans)
    try:
        api, key = Api(engine), make_key(engine, "demo", "business")
        greeting = {n: entry(cache, f"Version {n} greeting.") for n in ("one", "two", "three", "four")}
        value = entry(cache, f"You are calling from {CALLER}.")
        fixed = {entry(cache, "Press one to finish."), entry(cache, "Goodbye."),
                 entry(cache, "You are calling from")}
        assert unused not in cache.keys(), "an entry no campaign plays survived the start"
        assert {greeting["one"], *fixed} <= cache.keys()

        def activate(version: str) -> None:
            reply = api("POST", "/api/campaigns/clean-line/versions?activate=1", key, text=CAMPAIGN % version,
                        content_type="application/yaml")
            assert reply.status == 201, reply.body

        async def call_while_activating() -> None:
            async with Caller(("127.0.0.1", engine.sip_port), "4400", caller_id=CALLER) as phone:
                await phone.dial()
                deadline = time.monotonic() + 30
                while not cache.has(value):                     # the templated value, made during the call
                    assert time.monotonic() < deadline, "the caller's number was never spoken"
                    await asyncio.sleep(0.1)
                await asyncio.to_thread(activate, "two")
                kept = cache.keys()
                assert {greeting["one"], greeting["two"], value, *fixed} <= kept, \
                    "a prompt of the call in progress was deleted"
                await phone.hang_up()
        asyncio.run(call_while_activating())

        activate("three")
        kept = cache.keys()
        assert greeting["one"] not in kept and greeting["two"] not in kept
        assert {greeting["three"], value, *fixed} <= kept, "the live campaign lost a prompt or its templated value"

        then = time.time() - 31 * 24 * 3600                      # the value is older than its 30 days
        os.utime(cache.path(value), (then, then))
        activate("four")
        assert value not in cache.keys()
        assert {greeting["four"], *fixed} <= cache.keys()
        assert "stale entries deleted" in engine.log()
    finally:
        engine.stop()
