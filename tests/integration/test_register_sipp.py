"""The REGISTER client against a registrar played by SIPp (digest checked by SIPp), over UDP on loopback.

The I/O here is a bare asyncio datagram socket: each request is sent once and its final response
awaited (no retransmission: loopback does not lose datagrams).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ivr.sip.message import Request, Response, parse_message
from ivr.sip.register import Registration, RegistrationConfig, RegistrationState

from .conftest import SIPP_DIR, free_port

pytestmark = pytest.mark.integration

ANSWER_WAIT = 5.0


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


async def _final_response(inbox: _Inbox) -> Response | None:
    try:
        async with asyncio.timeout(ANSWER_WAIT):
            while True:
                message = parse_message(await inbox.queue.get())
                if isinstance(message, Response) and message.status >= 200:
                    return message
    except TimeoutError:
        return None


async def _exchange(registration: Registration, requests: list[Request]) -> list[bytes]:
    """Send `requests` and every follow-up until the registration settles; returns what was sent."""
    loop = asyncio.get_running_loop()
    transport, inbox = await loop.create_datagram_endpoint(
        _Inbox, local_addr=("127.0.0.1", registration.config.contact_port))
    destination = registration.config.destination
    sent: list[bytes] = []
    try:
        pending = list(requests)
        while pending:
            data = pending.pop(0).serialize()
            transport.sendto(data, (destination.host, destination.port))
            sent.append(data)
            response = await _final_response(inbox)
            if response is None:
                registration.on_timeout(time.monotonic())
            else:
                pending += registration.receive(response, time.monotonic())
        return sent
    finally:
        transport.close()


def _start_registrar(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    sipp = shutil.which("sipp")
    assert sipp, "SIPp is not installed (Debian package sip-tester)"
    port = free_port()
    proc = subprocess.Popen([sipp, "-sf", str(SIPP_DIR / "register_uas.xml"), "-i", "127.0.0.1",
                             "-p", str(port), "-m", "1", "-timeout", "30s", "-nostdin", "-trace_msg",
                             "-message_file", str(tmp_path / "registrar.log"), "-trace_err",
                             "-error_file", str(tmp_path / "registrar_errors.log")],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:             # listening once its port can no longer be bound
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("SIPp did not start listening")


def _registration(port: int, password: str) -> Registration:
    return Registration(RegistrationConfig(
        registrar=f"sip:127.0.0.1:{port}", aor="sip:3838@carrier.test", username="alice", password=password,
        contact_host="127.0.0.1", contact_port=free_port(), expires=600))


def _finish(registrar: subprocess.Popen, tmp_path: Path) -> str:
    try:
        code = registrar.wait(timeout=20)
    finally:
        if registrar.poll() is None:
            registrar.kill()
    errors = tmp_path / "registrar_errors.log"
    assert code == 0, errors.read_text() if errors.exists() else f"SIPp exited with {code}"
    return (tmp_path / "registrar.log").read_text()


def test_register_with_digest_then_remove_the_binding(tmp_path: Path) -> None:
    registrar, port = _start_registrar(tmp_path)
    registration = _registration(port, "wonderland")
    sent = asyncio.run(_exchange(registration, registration.start(time.monotonic())))
    assert len(sent) == 2 and b"Authorization" not in sent[0]
    # Registered for the 120 s given to our Contact, not the 3600 of the Expires header.
    assert (registration.state, registration.granted) == (RegistrationState.REGISTERED, 120)
    removal = asyncio.run(_exchange(registration, registration.stop(time.monotonic())))
    log = _finish(registrar, tmp_path)
    assert registration.state == RegistrationState.UNREGISTERED and registration.reason == ""
    assert len(removal) == 1 and b"nc=00000002" in removal[0] and b"Expires: 0\r\n" in removal[0]
    assert 'Authorization: Digest username="alice", realm="carrier.test"' in log


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    registrar, port = _start_registrar(tmp_path)
    registration = _registration(port, "guess")
    sent = asyncio.run(_exchange(registration, registration.start(time.monotonic())))
    _finish(registrar, tmp_path)
    assert len(sent) == 2
    assert registration.state == RegistrationState.FAILED and registration.reason == "403 Forbidden"
    assert registration.next_refresh_at is not None
