"""The prompt cache: made once ahead of calls, looked up (never synthesised) during calls, cleaned."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import numpy as np
import pytest

from ivr.media import g711
from ivr.media.prompt_cache import (
    PromptCache, PromptError, PromptMissing, PromptRequest, Slot, fixed_parts, split_template, value_pattern,
)
from ivr.media.tts import EspeakNg, TtsRegistry

from .conftest import CountingEngine, ffmpeg, measure, samples_of

WELCOME = PromptRequest(text="Welcome to the talent show vote.", language="en")
VOTE = PromptRequest(text="Press one for Anna, two for Boris.", language="en")
UK = PromptRequest(text="Дякуємо за ваш голос.", language="uk")


def test_second_build_reuses_every_prompt(tmp_path: Path, registry: TtsRegistry, flite: CountingEngine,
                                          espeak: CountingEngine) -> None:
    cache = PromptCache(tmp_path, registry)
    first = cache.build([WELCOME, VOTE, UK, WELCOME])
    assert len(first.keys) == 3 and len(first.generated) == 3 and not first.failures
    assert sorted(flite.spoken) == sorted([WELCOME.text, VOTE.text]) and espeak.spoken == [UK.text]
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert len(mtimes) == 12                            # .pcm, .ulaw, .alaw and .json for each prompt

    again = PromptCache(tmp_path, registry).build([WELCOME, VOTE, UK])   # e.g. the engine restarted
    assert again.keys == first.keys and again.generated == [] and again.reused == 3
    assert len(flite.spoken) == 2 and len(espeak.spoken) == 1
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == mtimes


def test_key_depends_on_everything_the_audio_depends_on(tmp_path: Path, registry: TtsRegistry) -> None:
    cache = PromptCache(tmp_path, registry)
    base = PromptRequest(text="Press one.", language="en")
    variants = [base,
                PromptRequest(text="Press two.", language="en"),
                PromptRequest(text="Press one.", language="en-US"),
                PromptRequest(text="Press one.", language="en", voice="slt"),
                PromptRequest(text="Press one.", language="en", rate=0.9),
                PromptRequest(text="Press one.", language="en", engine="espeak-ng")]
    assert len({cache.key(r) for r in variants}) == len(variants)
    assert cache.key(base) == cache.key(PromptRequest(text="Press one.", language="en", voice="rms"))

    upgraded = TtsRegistry(engines=[CountingEngine(EspeakNg(), version_suffix="+1")])
    current = TtsRegistry(engines=[EspeakNg()])
    assert PromptCache(tmp_path, upgraded).key(UK) != PromptCache(tmp_path, current).key(UK)


def test_engine_upgrade_regenerates(tmp_path: Path) -> None:
    old = CountingEngine(EspeakNg())
    PromptCache(tmp_path, TtsRegistry(engines=[old])).build([UK])
    new = CountingEngine(EspeakNg(), version_suffix=" patched")
    report = PromptCache(tmp_path, TtsRegistry(engines=[new])).build([UK])
    assert len(report.generated) == 1 and new.spoken == [UK.text]


def test_lookup_during_a_call_never_synthesises(tmp_path: Path, registry: TtsRegistry,
                                                 flite: CountingEngine) -> None:
    cache = PromptCache(tmp_path, registry)
    assert cache.get_or_none(WELCOME) is None
    assert cache.get_or_none(PromptRequest(text="Hi.", language="en", engine="not-installed")) is None
    assert flite.spoken == []
    cache.build([WELCOME])
    pcm = cache.get_or_none(WELCOME)
    assert pcm is not None and pcm == cache.load_pcm(cache.key(WELCOME))
    assert flite.spoken == [WELCOME.text]


def test_new_values_are_made_off_the_loop_once(tmp_path: Path, registry: TtsRegistry,
                                               flite: CountingEngine) -> None:
    cache = PromptCache(tmp_path, registry)
    status = PromptRequest(text="Order 4711 is shipped.", language="en")

    async def call() -> list[bytes]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)
        running = asyncio.create_task(ticker())
        made = await asyncio.gather(*(cache.synthesize_in_background(status) for _ in range(3)))
        running.cancel()
        assert ticks >= 3                               # the event loop kept running while it spoke
        return made

    made = asyncio.run(call())
    assert made[0] == made[1] == made[2] and len(made[0]) > 8000
    assert flite.spoken == ["Order four thousand seven hundred eleven is shipped."]     # values written out
    assert cache.get_or_none(status) == made[0]


def test_clean_removes_stale_entries_only(tmp_path: Path, registry: TtsRegistry) -> None:
    cache = PromptCache(tmp_path, registry)
    old = cache.build([WELCOME, VOTE])
    (tmp_path / "leftover.pcm.1234.tmp").write_bytes(b"partial")
    new = cache.build([WELCOME, UK])
    removed = cache.clean(new.keys)
    assert removed == sorted(old.keys - new.keys)
    assert cache.keys() == new.keys
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{key}{suffix}" for key in new.keys for suffix in (".pcm", ".ulaw", ".alaw", ".json"))
    assert cache.get_or_none(VOTE) is None
    with pytest.raises(PromptMissing):
        cache.load_pcm(cache.key(VOTE))


DAY = 24 * 3600.0


def age(cache: PromptCache, key: str, seconds: float) -> None:
    """Make an entry look `seconds` old."""
    then = os.path.getmtime(cache.path(key)) - seconds
    os.utime(cache.path(key), (then, then))


def test_values_of_templates_are_recognised() -> None:
    pattern = value_pattern("Order {{ order }} is {{result.status|being processed}}.")
    assert pattern.fullmatch("Order 1234 is shipped.")
    assert pattern.fullmatch("Order  is being processed.")
    assert not pattern.fullmatch("Order 1234 is shipped")           # the fixed text must be all there
    assert not pattern.fullmatch("Your order 1234 is shipped.")
    assert value_pattern("Costs $5 (VAT {{vat}}).").fullmatch("Costs $5 (VAT 20%).")


def test_clean_spares_young_entries_and_recent_values_of_live_templates(tmp_path: Path, registry: TtsRegistry) -> None:
    cache = PromptCache(tmp_path, registry)
    template = PromptRequest(text="Your order is {{status}}.", language="en", rate=0.9)
    needed = cache.ensure(WELCOME)
    value = cache.ensure(PromptRequest(text="Your order is shipped.", language="en", rate=0.9))
    old_value = cache.ensure(PromptRequest(text="Your order is lost.", language="en", rate=0.9))
    other_voice = cache.ensure(PromptRequest(text="Your order is late.", language="en"))   # rate 1.0: not of it
    stale = cache.ensure(VOTE)
    young = cache.ensure(UK)
    for key, days in ((needed, 40), (value, 3), (old_value, 31), (other_voice, 3), (stale, 2)):
        age(cache, key, days * DAY)
    (tmp_path / "x.pcm.99.tmp").write_bytes(b"being written by another process")

    removed = cache.clean({needed}, templates=[template], stale_after=DAY, values_for=30 * DAY)
    assert removed == sorted([old_value, other_voice, stale])
    assert cache.keys() == {needed, value, young}
    assert (tmp_path / "x.pcm.99.tmp").exists()                   # younger than stale_after
    assert time_since_made(cache, needed) < 60                    # kept entries are touched
    assert not any(p.stem in removed for p in tmp_path.iterdir())


def time_since_made(cache: PromptCache, key: str) -> float:
    return time.time() - os.path.getmtime(cache.path(key))


def test_g711_encodings_round_trip_closely(tmp_path: Path, registry: TtsRegistry) -> None:
    cache = PromptCache(tmp_path, registry)
    key = cache.ensure(VOTE)
    pcm = cache.load_pcm(key)
    x = samples_of(pcm)
    for payload_type in (g711.PCMU, g711.PCMA):
        encoded = cache.load_encoded(key, payload_type)
        assert len(encoded) == len(pcm) // 2            # one byte per sample, ready to packetise
        error = samples_of(g711.decode(payload_type, encoded)) - x
        snr = 10 * np.log10(np.sum(x ** 2) / np.sum(error ** 2))
        assert snr >= 30
        assert np.abs(error).max() <= np.abs(x).max() / 16


def test_templates_build_their_fixed_parts(tmp_path: Path, registry: TtsRegistry, flite: CountingEngine) -> None:
    text = "Order {{ order }} is {{result.status|being processed}}."
    assert split_template(text) == ["Order", Slot("order"), "is", Slot("result.status", "being processed"), "."]
    assert split_template("No variables here.") == ["No variables here."]
    parts = fixed_parts(PromptRequest(text=text, language="en", rate=0.9))
    assert [p.text for p in parts] == ["Order", "is"] and all(p.rate == 0.9 for p in parts)

    cache = PromptCache(tmp_path, registry)
    report = cache.build([PromptRequest(text=text, language="en")])
    assert sorted(flite.spoken) == ["Order", "is"] and len(report.keys) == 2
    assert cache.get_or_none(PromptRequest(text="Order", language="en")) is not None


def test_recordings_are_keyed_by_content(tmp_path: Path, registry: TtsRegistry) -> None:
    upload = tmp_path / "jingle.ogg"
    ffmpeg("-f", "lavfi", "-i", "sine=f=500:d=1.5:r=44100", "-c:a", "libvorbis", str(upload))
    cache = PromptCache(tmp_path / "cache", registry)
    request = PromptRequest(audio_path=upload)
    report = cache.build([request])
    assert len(report.generated) == 1
    assert 1.45 <= measure(cache.get_or_none(request) or b"").seconds <= 1.6

    ffmpeg("-f", "lavfi", "-i", "sine=f=700:d=1:r=44100", "-c:a", "libvorbis", str(upload))
    os.utime(upload, ns=(1, 1))
    assert cache.get_or_none(request) is None                 # new content, new key
    assert len(cache.build([request]).generated) == 1


def test_failures_are_reported_not_raised(tmp_path: Path, registry: TtsRegistry) -> None:
    cache = PromptCache(tmp_path, registry)
    report = cache.build([WELCOME, PromptRequest(text="Hello.", language="en", engine="nope"),
                          PromptRequest(audio_path=tmp_path / "missing.wav")])
    assert len(report.keys) == 1
    assert len(report.failures) == 2
    assert "unknown TTS engine 'nope'" in report.failures[0].error


def test_bad_requests_are_refused() -> None:
    with pytest.raises(PromptError):
        PromptRequest(language="en")
    with pytest.raises(PromptError):
        PromptRequest(text="  ", language="en")
    with pytest.raises(PromptError, match="rate"):
        PromptRequest(text="Hi", rate=5.0)
