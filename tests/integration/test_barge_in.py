"""Barge-in over a real call: a key (RFC 4733) stops the prompt within two frames and answers the menu;
a prompt with `barge_in: false` plays to its end whatever the caller presses.

A scripted phone calls the test campaigns in `dialplans/` (4141: welcome, then a menu; 4242: the same
with a must-hear notice first) and keeps every RTP packet the engine sends with the kernel's arrival
time; the prompts are recognised byte for byte against the prompt cache.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from ivr.flow.loader import load_file
from ivr.media import g711
from ivr.media.prompt_cache import PromptCache, PromptRequest

from ..support.caller import Arrival, Caller, locate
from .conftest import PROMPT_CACHE, start_engine

pytestmark = pytest.mark.integration

DIALPLANS = Path(__file__).parent / "dialplans"
FRAME_BYTES = g711.FRAME_SAMPLES        # one G.711 byte per sample


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    proc = start_engine(tmp_path_factory.mktemp("engine"), dialplans=DIALPLANS)
    yield proc
    proc.stop()


def prompt(text: str, codec: int) -> bytes:
    """The prompt cache's G.711 bytes for an English text."""
    cache = PromptCache(PROMPT_CACHE)
    return cache.load_encoded(cache.key(PromptRequest(text=text, language="en")), codec)


def node_text(campaign: str, node: str) -> str:
    spec = load_file(DIALPLANS / campaign).nodes[node]
    return spec.get("text") or spec["prompt"]


def frames_of(received: list[Arrival], audio: bytes, start: int) -> int:
    """How many packets from `start` on carry `audio` frame after frame."""
    count = 0
    while (start + count < len(received) and count * FRAME_BYTES < len(audio)
           and received[start + count].packet.payload == audio[count * FRAME_BYTES:(count + 1) * FRAME_BYTES]):
        count += 1
    return count


@pytest.mark.parametrize("codec", [g711.PCMU, g711.PCMA], ids=["PCMU", "PCMA"])
def test_a_key_stops_the_prompt_within_two_frames_and_answers_the_menu(engine, codec: int) -> None:
    welcome = prompt(node_text("barge_in.yaml", "welcome"), codec)
    menu = prompt(node_text("barge_in.yaml", "menu"), codec)

    async def call() -> tuple[list[Arrival], float]:
        async with Caller(("127.0.0.1", engine.sip_port), "4141", caller_id=f"+1555020{codec:04d}",
                          codecs=(codec,)) as phone:
            await phone.dial()
            await phone.wait_until(lambda r: any(not a.silent for a in r), timeout=10)
            await asyncio.sleep(0.6)                       # well into the welcome (about 4 s long)
            pressed = await phone.press("1")
            await phone.wait_hangup(timeout=30)
            return list(phone.received), pressed
    received, pressed = asyncio.run(call())

    start = locate(received, welcome[:10 * FRAME_BYTES])
    assert start is not None, "the welcome did not start as cached"
    played = frames_of(received, welcome, start)
    assert played < math.ceil(len(welcome) / FRAME_BYTES), "the welcome played to its end"
    late = sum(a.at > pressed for a in received[start:start + played])
    assert late <= 2, f"{late} frames of the prompt came after the key's first packet"
    assert locate(received, menu[:10 * FRAME_BYTES]) is None, "the menu played after the barge-in"

    # the key answered the menu: silence, then the goodbye for choice 1
    goodbye = prompt("You chose sales. Goodbye.", codec)
    after = locate(received, goodbye, start + played)
    assert after is not None, "the goodbye for choice 1 is not in the stream"
    assert all(a.silent for a in received[start + played:after])
    record = [r for r in engine.call_records() if r["event"] == "call_ended" and r["from"] == f"+1555020{codec:04d}"]
    assert record[0]["digits"] == "1" and record[0]["path"] == ["welcome", "menu", "bye"], record


def test_a_must_hear_prompt_plays_to_its_end_despite_a_key(engine) -> None:
    codec = g711.PCMU
    notice = prompt(node_text("must_hear.yaml", "notice"), codec)
    menu = prompt(node_text("must_hear.yaml", "menu"), codec)

    async def call() -> tuple[list[Arrival], float]:
        async with Caller(("127.0.0.1", engine.sip_port), "4242", caller_id="+15550300001") as phone:
            await phone.dial()
            await phone.wait_until(lambda r: any(not a.silent for a in r), timeout=10)
            await asyncio.sleep(0.6)
            pressed = await phone.press("1")               # ignored: the notice plays on
            await phone.wait_until(lambda r: locate(r, notice + menu) is not None, timeout=30)
            await phone.press("2")                         # answers the menu
            await phone.wait_hangup(timeout=30)
            return list(phone.received), pressed
    received, pressed = asyncio.run(call())

    start = locate(received, notice + menu)
    assert start is not None
    assert received[start].at < pressed < received[start + len(notice) // FRAME_BYTES].at, \
        "the key was not pressed during the notice"
    assert locate(received, prompt("You chose support. Goodbye.", codec), start) is not None
    record = [r for r in engine.call_records() if r["event"] == "call_ended" and r["from"] == "+15550300001"]
    assert record[0]["path"] == ["notice", "menu", "bye"], record
