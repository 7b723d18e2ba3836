"""Callers' speech for the speech tests and bench: our own TTS in the model's language, passed through
G.711 μ-law at 8 kHz as a phone line would carry it."""

from __future__ import annotations

from pathlib import Path

from ivr.media import g711
from ivr.media.prompt_cache import PromptCache, PromptRequest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "prompts" / "cache"          # the prompt cache the integration tests share
FRAME_BYTES = 320                           # 20 ms of 16-bit PCM at 8 kHz


def spoken(text: str, language: str, rate: float = 1.0, voice: str | None = None,
           engine: str | None = None) -> bytes:
    """`text` said by a TTS voice (the language's default one unless named), as 16-bit linear PCM
    decoded from μ-law."""
    request = PromptRequest(text=text, language=language, rate=rate, voice=voice, engine=engine)
    pcm = PromptCache(CACHE).synthesize(request)
    return g711.decode(g711.PCMU, g711.encode(g711.PCMU, pcm))


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(8000 * seconds)


def frames(pcm: bytes) -> list[bytes]:
    """20 ms frames as RTP packets carry them (the last one padded with silence)."""
    pcm += b"\0" * (-len(pcm) % FRAME_BYTES)
    return [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
