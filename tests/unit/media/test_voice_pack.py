"""Voice packs: a business's recorded words say values in its own voice; what a pack lacks is listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.media import audio
from ivr.media.prompt_cache import PromptCache, PromptFailed, PromptRequest
from ivr.media.tts import TtsRegistry
from ivr.media.verbalize import vocabulary
from ivr.media.voice_pack import VoicePack


def tone(path: Path, hz: float, seconds: float = 0.2) -> None:
    t = np.arange(int(8000 * seconds)) / 8000
    audio.write_wav(path, (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes())


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    """A pack "brand" with a different tone for each word it holds."""
    folder = tmp_path / "packs" / "brand"
    folder.mkdir(parents=True)
    for i, word in enumerate(["ваш", "баланс", "двадцять", "одна", "гривня", "п'ятдесят", "копійок"]):
        tone(folder / f"{word}.wav", 300 + 100 * i)
    return tmp_path / "packs"


def test_a_balance_is_said_from_the_recorded_words(packs: Path, tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "cache", TtsRegistry(voice_packs=packs))
    request = PromptRequest(text="Ваш баланс 21.50 грн", language="uk", engine="voice-pack", voice="brand")
    pcm = np.frombuffer(cache.synthesize(request), dtype="<i2").astype(float)
    # seven words, each its own tone, in order
    pitches = []
    for start in range(0, len(pcm) - 800, 800):
        chunk = pcm[start:start + 800]
        if np.abs(chunk).max() > 1000:
            pitches.append(round(np.argmax(np.abs(np.fft.rfft(chunk))) * 10, -2))
    order = [p for i, p in enumerate(pitches) if i == 0 or p != pitches[i - 1]]
    assert order == [300, 400, 500, 600, 700, 800, 900]


def test_words_the_pack_lacks_are_named(packs: Path, tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "cache", TtsRegistry(voice_packs=packs))
    with pytest.raises(PromptFailed, match="no recording of: гривні, дві"):
        cache.synthesize(PromptRequest(text="Ваш баланс 2 грн", language="uk", engine="voice-pack", voice="brand"))
    missing = VoicePack(packs / "brand").missing("uk", ["Ваш баланс"])
    assert "гривні" in missing and "ваш" not in missing and "одна" not in missing
    assert len(missing) == len(vocabulary("uk")) - 5


def test_a_replaced_recording_makes_a_new_prompt(packs: Path, tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "cache", TtsRegistry(voice_packs=packs))
    request = PromptRequest(text="ваш баланс", language="uk", engine="voice-pack", voice="brand")
    first = cache.key(request)
    import os
    import time
    time.sleep(0.01)
    tone(packs / "brand" / "баланс.wav", 1500)
    os.utime(packs / "brand", None)
    assert cache.key(request) != first
