"""pyVoIP, an independent Python SIP/RTP phone, calls the engine.

pyVoIP cannot send RFC 4733 events, so it sends its keys the old way, as DTMF tones inside the
audio: this exercises the engine's in-band (Goertzel) detector over a real call. The test also
records what pyVoIP hears and checks it is the prompts the engine was to play, waveform and length:
the welcome before the key, the thanks for the vote after it.
"""

from __future__ import annotations

import audioop
import math
import time
from pathlib import Path

import numpy as np
import pytest

from ivr.flow.loader import load_file
from ivr.media import g711

from .conftest import ROOT, cached_prompt, start_engine
from ..support.pyvoip import pyvoip_call, talking

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


def samples(pcm16: bytes) -> np.ndarray:
    return np.frombuffer(pcm16, "<i2").astype(np.float64)


def expected_prompt(text: str) -> np.ndarray:
    """The cached prompt as a phone hears it: its G.711 (pyVoIP takes PCMU) decoded."""
    return samples(g711.decode(g711.PCMU, cached_prompt(text, g711.PCMU)))


def find_prompt(heard: np.ndarray, prompt: np.ndarray) -> tuple[int, float]:
    """(sample offset where `prompt` fits `heard` best, normalized correlation of the prompt with what was
    heard there): near 1 for the same audio, near 0 for another prompt, noise or silence."""
    size = 1 << (len(heard) + len(prompt)).bit_length()
    correlation = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(prompt, size)), size)[:len(heard)]
    offset = int(np.argmax(correlation))
    part = heard[offset:offset + len(prompt)]
    reference = prompt[:len(part)]
    energy = math.sqrt(float(part @ part) * float(reference @ reference))
    return offset, float(part @ reference) / energy if energy else 0.0


def voiced_seconds(audio: np.ndarray, level: float = 300.0) -> float:
    """From the first to the last 20 ms frame louder than `level` (RMS)."""
    frames = audio[:len(audio) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) > level)
    return (loud[-1] - loud[0] + 1) * 0.020 if len(loud) else 0.0


def test_pyvoip_call_hears_prompt_and_inband_key_is_received(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--accept-register")
    before_key, after_key = bytearray(), bytearray()
    try:
        with pyvoip_call(engine.sip_port, "3838") as call:
            start = time.monotonic()
            while time.monotonic() - start < 2.0:              # listen to the greeting
                before_key += call.read_audio(160, blocking=True)
            call.write_audio(tone("2", 0.12) + silence(0.3))
            deadline = time.monotonic() + 30
            while talking(call) and time.monotonic() < deadline:
                after_key += call.read_audio(160, blocking=True)
            assert not talking(call), "the engine should hang up after the vote"
    finally:
        engine.stop()
    records = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert len(records) == 1
    assert records[0]["digits"].startswith("2"), records

    # pyVoIP hands over 8-bit audio, and drops what arrives while it sends the key: compare waveforms
    # (8 bits still correlate near 1) over the parts it kept
    nodes = load_file(ROOT / "dialplans" / "vote.yaml").nodes
    welcome = expected_prompt(nodes["welcome"]["text"])
    thanks = expected_prompt(nodes["thanks"]["text"].replace("{{choice}}", "boris"))
    heard = samples(from_pyvoip(bytes(before_key)))
    offset, similarity = find_prompt(heard, welcome)
    assert similarity > 0.9, f"the greeting heard is not the welcome prompt (correlation {similarity:.2f})"
    assert offset < 0.5 * 8000 and len(heard) - offset > 1.5 * 8000, (offset, len(heard))

    heard = samples(from_pyvoip(bytes(after_key)))
    offset, similarity = find_prompt(heard, thanks)
    assert similarity > 0.9, f"what followed the key is not the thanks prompt (correlation {similarity:.2f})"
    assert offset + len(thanks) <= len(heard), "the thanks prompt was cut short"
    assert abs(voiced_seconds(heard[offset:]) - voiced_seconds(thanks)) < 0.1, "more or less than the prompt"
