"""The media side of calls as a phone sees it, against a real `ivr serve` on loopback: hold, unhold and
session refresh by re-INVITE.
"""

from __future__ import annotations

import asyncio

import pytest

from ivr.sip.sdp import SessionDescription

from ..support.caller import Arrival, Caller
from .conftest import stored_outcomes

pytestmark = pytest.mark.integration


def sound(received: list[Arrival]) -> int:
    return sum(1 for a in received if not a.silent)


def test_hold_unhold_and_session_refresh_keep_the_call_and_its_vote(engine) -> None:
    """Hold (sendonly): the engine answers recvonly and sends nothing. Unhold (sendrecv): the prompt is
    heard again. Re-INVITEs without SDP: the engine's 200 offers the session, sending and receiving, and
    media follows the answer in the ACK (sendonly: the engine stops sending; sendrecv: it sends again).
    The key pressed after all that still votes, and the engine hangs up."""

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

            await phone.press("1")
            await phone.wait_hangup(30)

    asyncio.run(call())
    [ended] = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert (ended["digits"], ended["cause"], ended["path"][-1]) == ("1", "flow_end", "thanks"), ended
    assert stored_outcomes(engine) == [("+15550606", "vote", "talent", "anna")]
