"""Outbound registration with digest authentication against a registrar played by SIPp."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import SIPP_DIR, free_port, start_engine

pytestmark = pytest.mark.integration


def _registrar(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    sipp = shutil.which("sipp")
    assert sipp, "SIPp is not installed: run scripts/bootstrap"
    proc = subprocess.Popen([sipp, "-sf", str(SIPP_DIR / "register_uas.xml"), "-i", "127.0.0.1", "-p", str(port),
                             "-m", "1", "-timeout", "30s", "-nostdin", "-trace_msg",
                             "-message_file", str(tmp_path / "registrar_messages.log")],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def _wait_for(engine, text: str, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in engine.log():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("password, outcome", [("wonderland", "registered"), ("guess", "failed 403 Forbidden")])
def test_engine_registers_with_digest(tmp_path: Path, password: str, outcome: str) -> None:
    registrar, port = _registrar(tmp_path)
    engine = start_engine(tmp_path, "--register", f"sip:127.0.0.1:{port}", "--register-aor",
                          "sip:3838@carrier.test", "--register-user", "alice", "--register-password", password)
    try:
        assert _wait_for(engine, f"registration with sip:127.0.0.1:{port}: {outcome}"), engine.log()[-2000:]
        assert registrar.wait(timeout=20) == 0
        messages = (tmp_path / "registrar_messages.log").read_text()
        assert 'Authorization: Digest username="alice", realm="carrier.test"' in messages
        assert "Contact: <sip:3838@127.0.0.1:" in messages
    finally:
        engine.stop()
        if registrar.poll() is None:
            registrar.kill()
