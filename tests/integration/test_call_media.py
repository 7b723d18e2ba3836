"""The media side of calls as a phone sees it, against a real `ivr serve` on loopback: RTP ports from the
configured range (and given back), and hold, unhold and session refresh by re-INVITE.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from ivr.sip.sdp import SessionDescription

from ..support.caller import Arrival, CallFailed, Caller
from .conftest import start_engine, stored_outcomes

pytestmark = pytest.mark.integration


def free_port_pair() -> int:
    """An even port p with p and p + 1 free for UDP on 127.0.0.1."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1] & ~1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtcp:
                rtp.bind(("127.0.0.1", port))
                rtcp.bind(("127.0.0.1", port + 1))
                return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def sound(received: list[Arrival]) -> int:
    return sum(1 for a in received if not a.silent)


def test_one_rtp_port_pair_serves_calls_one_after_the_other_and_refuses_a_call_while_taken(tmp_path: Path) -> None:
    low = free_port_pair()
    engine = start_engine(tmp_path, "--rtp-ports", f"{low}-{low + 1}")

    async def calls() -> list[str]:
        refusals = []
        for i in range(2):
            async with Caller(("127.0.0.1", engine.sip_port), "3838", caller_id=f"+155506000{i}") as phone:
                await phone.dial()
                assert phone.media_address == ("127.0.0.1", low), "the answer's m= port is the range's one"
                await phone.wait_until(lambda r: sound(r) >= 10, timeout=10)       # the prompt plays
                async with Caller(("127.0.0.1", engine.sip_port), "3838", caller_id=f"+155506100{i}") as second:
                    with pytest.raises(CallFailed) as refused:
                        await second.dial()
                    refusals.append(str(refused.value))
                await phone.hang_up()
        return refusals

    try:
        refusals = asyncio.run(calls())
    finally:
        engine.stop()
    assert refusals == ["INVITE answered 503 Service Unavailable"] * 2
    records = engine.call_records()
    assert [r["cause"] for r in records if r["event"] == "call_rejected"] == ["no_rtp_port"] * 2
    assert [(r["from"], r["cause"]) for r in records if r["event"] == "call_ended"] == [
        ("+1555060000", "remote_bye"), ("+1555060001", "remote_bye")]


def test_a_port_of_the_range_another_process_holds_is_skipped(tmp_path: Path) -> None:
    """Something else on the machine binds one of the range's two ports: whenever the random draw picks it,
    it is skipped and the call gets the other pair instead of 503."""
    low = free_port_pair()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", low))
        engine = start_engine(tmp_path, "--rtp-ports", f"{low}-{low + 3}")

        async def call() -> tuple[str, int] | None:
            async with Caller(("127.0.0.1", engine.sip_port), "3838", caller_id="+15550620000") as phone:
                await phone.dial()
                await phone.wait_until(lambda r: sound(r) >= 10, timeout=10)       # the prompt plays
                await phone.hang_up()
                return phone.media_address

        try:
            addresses = [asyncio.run(call()) for _ in range(3)]
        finally:
            engine.stop()
    assert addresses == [("127.0.0.1", low + 2)] * 3
    tried = engine.log().count(f"RTP port {low} could not be bound")
    assert tried <= 3


def test_hold_unhold_and_session_refresh_keep_the_call_and_its_vote(engine) -> None:
    """Hold (sendonly): the engine answers recvonly and sends nothing. Unhold (sendrecv): the prompt is
    heard again. Re-INVITEs without SDP: the engine's 200 offers the session, sending and receiving, and
    media follows the answer in the ACK (sendonly: the engine stops sending; sendrecv: it sends again).
    An UPDATE without SDP gets a 200 without. The key pressed after all that still votes, and the engine
    hangs up."""

    async def call() -> None:
        async with Caller(("127.0.0.1", engine.sip_port), "3838", caller_id="+15550606") as phone:

            async def silent_for(seconds: float) -> int:
                await asyncio.sleep(0.3)                              # what was on its way
                count = len(phone.received)
                await asyncio.sleep(seconds)
                assert len(phone.received) == count, "RTP sent to a caller that takes none"
                return count

            await phone.dial()
            await phone.wait_until(lambda r: sound(r) >= 10, timeout=10)
            held = await phone.reinvite("sendonly")
            assert held.status == 200 and b"a=recvonly" in held.body
            on_hold = await silent_for(1.0)

            resumed = await phone.reinvite("sendrecv")
            assert resumed.status == 200 and b"a=sendrecv" in resumed.body
            await phone.wait_until(lambda r: sound(r[on_hold:]) >= 25, timeout=5)
            assert phone.received[on_hold].packet.marker, "a talk spurt after hold starts with the marker bit"

            for answer in ("sendonly", "sendrecv"):
                refreshed = await phone.reinvite(None, answer=answer)
                assert refreshed.status == 200
                [audio] = SessionDescription.parse(refreshed.body).media
                assert (audio.port, audio.direction()) == (phone.media_address[1], "sendrecv")
                assert [name for _, name, _ in audio.payloads()] == ["PCMU", "telephone-event"]
                if answer == "sendonly":
                    await silent_for(0.7)
                else:
                    refreshed_at = len(phone.received)
                    await phone.wait_until(lambda r: len(r) >= refreshed_at + 25, timeout=5)

            updated = await phone.update()
            assert (updated.status, updated.body) == (200, b""), "an UPDATE without SDP changes no media"

            await phone.press("1")
            await phone.wait_hangup(30)

    asyncio.run(call())
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["digits"], ended["cause"], ended["path"][-1]) == ("1", "flow_end", "thanks"), ended
    assert stored_outcomes(engine) == [("+15550606", "vote", "talent", "anna")]
