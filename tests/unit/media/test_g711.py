"""G.711 μ-law and A-law against the standard's code points and its signal-to-distortion ratio."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.media import g711

from .signals import amplitude, pcm, samples


@pytest.mark.parametrize("payload_type, zero, full", [(g711.PCMU, 0xFF, 0x80), (g711.PCMA, 0xD5, 0xAA)])
def test_code_points(payload_type: int, zero: int, full: int) -> None:
    # silence and the largest positive sample, as G.711 encodes them (sign bit set for positive)
    assert g711.encode(payload_type, pcm(np.array([0.0, 32767.0]))) == bytes([zero, full])


@pytest.mark.parametrize("payload_type", [g711.PCMU, g711.PCMA])
def test_one_byte_per_sample_and_back(payload_type: int) -> None:
    audio = pcm(np.linspace(-32768, 32767, 1000))
    encoded = g711.encode(payload_type, audio)
    assert len(encoded) == 1000
    assert len(g711.decode(payload_type, encoded)) == 2000
    assert g711.encode(payload_type, g711.decode(payload_type, encoded)) == encoded   # decoded values are exact


@pytest.mark.parametrize("payload_type", [g711.PCMU, g711.PCMA])
@pytest.mark.parametrize("dbm0", [0.0, -10.0, -20.0, -30.0])
def test_signal_to_distortion_ratio(payload_type: int, dbm0: float) -> None:
    # G.712 asks for about 33-35 dB over this range; logarithmic coding keeps it nearly level-independent
    t = np.arange(1600) / 8000
    x = amplitude(dbm0) * np.sin(2 * np.pi * 1020 * t)
    y = samples(g711.decode(payload_type, g711.encode(payload_type, pcm(x))))
    sdr = 10 * np.log10(np.sum(x ** 2) / np.sum((y - x) ** 2))
    assert sdr > 33


def test_unknown_payload_types_and_odd_lengths_raise() -> None:
    with pytest.raises(g711.CodecError):
        g711.encode(9, g711.SILENCE_FRAME)
    with pytest.raises(g711.CodecError):
        g711.decode(18, b"\x00")
    with pytest.raises(g711.CodecError):
        g711.encode(g711.PCMU, b"\x00\x01\x02")
