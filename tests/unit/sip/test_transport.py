"""The asyncio layer around the user agent, on uvloop and asyncio's own loop: its single timer stays armed
after the loop fell behind (a deadline already past), and calls over the cap get 503 on the wire."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvloop

from ivr.sip.transport import SipTransport
from ivr.sip.ua import UAConfig, UserAgent

LOOPS = {"uvloop": uvloop.new_event_loop, "asyncio": asyncio.new_event_loop}


@pytest.mark.parametrize("loop", LOOPS)
def test_the_timer_is_rearmed_after_a_deadline_already_past(loop: str) -> None:
    """uvloop's call_at with a past deadline returns a plain Handle without when(): the transport keeps the
    deadline it armed itself (it raised AttributeError on every flush after a flood)."""
    async def run() -> None:
        ua = UserAgent(UAConfig())
        transport = SipTransport(ua, lambda events: None)
        await transport.start("127.0.0.1", 0, tcp=False)
        now = asyncio.get_running_loop().time()
        ua.next_deadline = lambda: now - 1.0                 # the loop is late: the deadline has passed
        transport.flush()
        transport.flush()                                     # compares with the armed deadline
        ua.next_deadline = lambda: now + 5.0
        transport.flush()
        await transport.close()
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(run())


def test_an_invite_over_the_setup_cap_is_answered_503_on_the_wire() -> None:
    async def run() -> tuple[list[bytes], list[object]]:
        events: list[object] = []
        ua = UserAgent(UAConfig(max_setup=1))
        transport = SipTransport(ua, events.extend)
        host, port = await transport.start("127.0.0.1", 0, tcp=False)
        lines = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.bind(("127.0.0.1", 0))
            phone.settimeout(2)
            for n in range(2):
                phone.sendto(_invite(n, phone.getsockname()[1]), (host, port))
            for _ in range(3):                                 # 100, 100, 503
                data = await asyncio.to_thread(phone.recv, 65535)
                lines.append(data.split(b"\r\n", 1)[0] + b" " + data.split(b"Call-ID: ", 1)[1].split(b"\r\n")[0])
        await transport.close()
        return lines, events
    lines, events = asyncio.run(run())
    assert sorted(lines) == [b"SIP/2.0 100 Trying t0", b"SIP/2.0 100 Trying t1", b"SIP/2.0 503 Service Unavailable t1"]
    assert [type(e).__name__ for e in events] == ["CallOffered"]       # the first waits for the application


def _invite(n: int, port: int) -> bytes:
    return (f"INVITE sip:3838@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-t{n};rport\r\n"
            f"From: <sip:+380501112233@127.0.0.1>;tag=t{n}\r\nTo: <sip:3838@127.0.0.1>\r\nCall-ID: t{n}\r\n"
            f"CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()
