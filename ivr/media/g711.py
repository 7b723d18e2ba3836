"""G.711 μ-law (PCMU, payload type 0) and A-law (PCMA, 8) for 16-bit little-endian linear PCM at 8 kHz."""

from __future__ import annotations

import audioop  # Python >= 3.13 gets the same module name from the audioop-lts package

PCMU = 0
PCMA = 8
CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}
SAMPLE_RATE = 8000
FRAME_SAMPLES = 160                     # 20 ms
SILENCE_FRAME = b"\x00\x00" * FRAME_SAMPLES


class CodecError(ValueError):
    """A payload type we do not speak, or PCM that is not whole 16-bit samples."""


def encode(payload_type: int, pcm: bytes) -> bytes:
    """Linear 16-bit PCM → G.711 bytes for `payload_type`, one byte per sample."""
    try:
        if payload_type == PCMU:
            return audioop.lin2ulaw(pcm, 2)
        if payload_type == PCMA:
            return audioop.lin2alaw(pcm, 2)
    except audioop.error as exc:
        raise CodecError(str(exc)) from None
    raise CodecError(f"unsupported payload type {payload_type}")


def decode(payload_type: int, data: bytes) -> bytes:
    """G.711 bytes → linear 16-bit PCM."""
    if payload_type == PCMU:
        return audioop.ulaw2lin(data, 2)
    if payload_type == PCMA:
        return audioop.alaw2lin(data, 2)
    raise CodecError(f"unsupported payload type {payload_type}")
