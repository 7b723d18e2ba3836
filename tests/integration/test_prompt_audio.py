"""The prompts a caller hears over a real call are the cached audio, whole, back to back and paced.

A scripted phone calls the talent-show vote (3838), whose `say` (welcome) is followed by an `ask` (the
menu), and keeps every RTP packet the engine sends. The audio is compared byte for byte with the
prompt cache's G.711 entries for those texts, loaded through `PromptCache`.
"""

from __future__ import annotations

import asyncio
import math
import statistics

import pytest

from ivr.flow.loader import load_file
from ivr.media import g711

from ..support.caller import Arrival, Caller, locate
from .conftest import ROOT, cached_prompt

pytestmark = pytest.mark.integration

FRAME = 0.020


def vote_prompts(codec: int) -> tuple[bytes, bytes]:
    nodes = load_file(ROOT / "dialplans" / "vote.yaml").nodes
    return cached_prompt(nodes["welcome"]["text"], codec), cached_prompt(nodes["choose"]["prompt"], codec)


async def hear_greeting(sip_port: int, codec: int, caller_id: str, frames: int) -> list[Arrival]:
    """Call 3838 offering only `codec`, keep the audio until `frames` packets after the first sound, hang up."""
    async with Caller(("127.0.0.1", sip_port), "3838", caller_id=caller_id, codecs=(codec,)) as phone:
        await phone.dial()
        assert phone.codec_pt == codec

        def heard_enough(received: list[Arrival]) -> bool:
            first = next((i for i, a in enumerate(received) if not a.silent), None)
            return first is not None and len(received) >= first + frames + 10
        await phone.wait_until(heard_enough, timeout=frames * FRAME * 2 + 20)
        await phone.hang_up()
        return list(phone.received)


@pytest.mark.parametrize("codec", [g711.PCMU, g711.PCMA], ids=["PCMU", "PCMA"])
def test_say_and_ask_prompts_arrive_whole_back_to_back_and_paced(shared_engine, codec: int) -> None:
    welcome, menu = vote_prompts(codec)
    frames = math.ceil((len(welcome) + len(menu)) / g711.FRAME_SAMPLES)
    received = asyncio.run(hear_greeting(shared_engine.sip_port, codec, f"+1555010{codec:04d}", frames))

    assert {a.packet.payload_type for a in received} == {codec}
    assert all(len(a.packet.payload) == g711.FRAME_SAMPLES for a in received)
    start = locate(received, welcome + menu)
    assert start is not None, "the welcome followed by the menu is not in the stream as cached"
    assert all(a.silent for a in received[:start]), "sound before the welcome"
    assert received[start].packet.marker, "a talk spurt starts with the marker bit"

    # the welcome alone: its length on the RTP clock is the cached one, to within a frame
    welcome_packets = received[start:start + math.ceil(len(welcome) / g711.FRAME_SAMPLES)]
    heard = (welcome_packets[-1].packet.timestamp - welcome_packets[0].packet.timestamp + g711.FRAME_SAMPLES) / 8000
    assert abs(heard - len(welcome) / 8000) < FRAME

    # both prompts: no lost, repeated or reordered packet, timestamps 160 apart, no marker inside
    prompts = received[start:start + frames]
    for before, after in zip(prompts, prompts[1:]):
        assert after.packet.sequence == (before.packet.sequence + 1) & 0xFFFF
        assert after.packet.timestamp == (before.packet.timestamp + g711.FRAME_SAMPLES) & 0xFFFFFFFF
        assert after.packet.ssrc == before.packet.ssrc
        assert not after.packet.marker
    tail = b"".join(a.packet.payload for a in prompts)[len(welcome) + len(menu):]
    assert tail == g711.encode(codec, b"\x00\x00" * len(tail)), "the last frame is padded with silence"

    # paced by the 20 ms clock (bounds generous for a loaded machine)
    gaps = [after.at - before.at for before, after in zip(prompts, prompts[1:])]
    assert 0.015 < statistics.median(gaps) < 0.025, statistics.median(gaps)
    assert max(gaps) < 0.3, max(gaps)
    span = prompts[-1].at - prompts[0].at
    assert abs(span - (frames - 1) * FRAME) < max(0.25, 0.05 * frames * FRAME), (span, frames)
