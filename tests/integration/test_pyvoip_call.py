"""pyVoIP, an independent Python SIP/RTP phone, calls the engine.

pyVoIP cannot send RFC 4733 events, so it sends its keys the old way, as DTMF tones inside the
audio: this exercises the engine's in-band (Goertzel) detector over a real call. The test also
records what pyVoIP hears and checks it is the prompt, not silence.
"""

from __future__ import annotations

import audioop
import math
import time
from pathlib import Path

import pytest

from .conftest import free_port, start_engine

pytestmark = pytest.mark.integration

DTMF_FREQS = {"1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209), "5": (770, 1336),
              "6": (770, 1477), "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "0": (941, 1336),
              "*": (941, 1209), "#": (941, 1477)}


def to_pyvoip(pcm16: bytes) -> bytes:
    """pyVoIP takes and gives 8-bit unsigned linear audio at 8 kHz (it does the μ-law itself)."""
    return audioop.bias(audioop.lin2lin(pcm16, 2, 1), 1, 128)


def from_pyvoip(pcm8: bytes) -> bytes:
    return audioop.lin2lin(audioop.bias(pcm8, 1, -128), 1, 2)


def tone(key: str, seconds: float, level: float = 0.25) -> bytes:
    """A DTMF key as audio (what a phone sends in-band)."""
    low, high = DTMF_FREQS[key]
    n = int(8000 * seconds)
    samples = bytearray()
    for i in range(n):
        v = level * 32767 * (math.sin(2 * math.pi * low * i / 8000) + math.sin(2 * math.pi * high * i / 8000)) / 2
        samples += int(v).to_bytes(2, "little", signed=True)
    return to_pyvoip(bytes(samples))


def silence(seconds: float) -> bytes:
    return b"\x80" * int(8000 * seconds)


def test_pyvoip_call_hears_prompt_and_inband_key_is_received(tmp_path: Path) -> None:
    from pyVoIP.VoIP import CallState, VoIPPhone

    engine = start_engine(tmp_path, "--accept-register")
    port = free_port()
    phone = VoIPPhone("127.0.0.1", engine.sip_port, "tester", "secret", myIP="127.0.0.1",
                      sipPort=port, rtpPortLow=port + 2, rtpPortHigh=port + 40)
    heard = bytearray()
    try:
        phone.start()
        call = phone.call("3838")
        deadline = time.monotonic() + 15
        while call.state != CallState.ANSWERED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert call.state == CallState.ANSWERED
        start = time.monotonic()
        while time.monotonic() - start < 2.0:              # listen to the greeting
            heard += call.read_audio(160, blocking=True)
        call.write_audio(tone("2", 0.12) + silence(0.3))
        deadline = time.monotonic() + 30
        while call.state == CallState.ANSWERED and time.monotonic() < deadline:
            heard += call.read_audio(160, blocking=True)
        assert call.state == CallState.ENDED, "the engine should hang up after the vote"
    finally:
        phone.stop()
        engine.stop()
    records = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert len(records) == 1
    assert records[0]["digits"].startswith("2"), records
    linear = from_pyvoip(bytes(heard))
    frames = [linear[i:i + 320] for i in range(0, len(linear) - 320, 320)]
    loud = [f for f in frames if audioop.rms(f, 2) > 300]
    assert len(loud) > 50, f"heard only {len(loud)} non-silent frames of {len(frames)}"
