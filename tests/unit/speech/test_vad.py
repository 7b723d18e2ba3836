"""Endpointing: when the caller starts and stops speaking, on signals and on TTS speech."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.speech.vad import EndpointConfig, Endpointer, SpeechEnded, SpeechStarted
from tests.speech_audio import frames, silence, spoken


def noise(seconds: float, dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 32768 * 10 ** (dbfs / 20), int(8000 * seconds))
    return np.clip(x, -32768, 32767).astype("<i2").tobytes()


def mix(*parts: bytes) -> bytes:
    """Sample-wise sum of 16-bit PCM parts (the longest sets the length)."""
    length = max(len(p) for p in parts) // 2
    total = np.zeros(length)
    for part in parts:
        samples = np.frombuffer(part, dtype="<i2")
        total[:len(samples)] += samples
    return np.clip(total, -32768, 32767).astype("<i2").tobytes()


def run(endpointer: Endpointer, pcm: bytes, start: float = 0.0) -> list:
    """Feed 20 ms frames stamped with the time each one ends."""
    events = []
    for i, frame in enumerate(frames(pcm)):
        events += endpointer.feed(frame, start + (i + 1) * 0.02)
    return events


def test_silence_and_quiet_line_noise_are_not_speech() -> None:
    assert run(Endpointer(), silence(3.0)) == []
    assert run(Endpointer(), noise(3.0, -50)) == []


def test_a_burst_starts_and_quiet_ends_the_utterance() -> None:
    endpointer = Endpointer(EndpointConfig(end_silence=0.5))
    events = run(endpointer, silence(1.0) + noise(0.6, -20) + silence(2.0))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert abs(events[0].at - 1.0) < 0.05
    assert events[1].reason == "silence" and abs(events[1].at - (1.6 + 0.5)) < 0.06
    assert endpointer.state == "ended" and endpointer.feed(noise(0.2, -20), 5.0) == []


def test_max_speech_cuts_a_long_utterance() -> None:
    events = run(Endpointer(EndpointConfig(max_speech=1.5)), silence(0.5) + noise(4.0, -20))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[1].reason == "max_speech" and abs(events[1].at - events[0].at - 1.5) < 0.03


def test_speech_must_rise_above_the_background_noise() -> None:
    endpointer = Endpointer()
    ramp = b"".join(noise(0.2, level, seed=i) for i, level in enumerate(np.linspace(-60, -36, 20)))
    assert run(endpointer, ramp + noise(1.0, -36)) == []        # a line getting noisier: followed, not speech
    assert endpointer.detector.noise_dbfs > -40
    assert run(endpointer, noise(0.5, -34, seed=1), start=5.0) == []          # not loud enough over it
    assert isinstance(run(endpointer, noise(0.5, -18, seed=2), start=5.5)[0], SpeechStarted)


def test_loud_steady_noise_from_the_first_frame_is_the_background() -> None:
    """A line that is noisy before anyone speaks (at -30 dBFS, far above any fixed floor): no start on
    the noise, and the caller's words over it start and end the utterance."""
    speech = spoken("seven", "en")
    line = noise(2.0, -30) + mix(speech, noise(len(speech) / 16000, -30, seed=3)) + noise(2.0, -30, seed=4)
    events = run(Endpointer(), line)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert 1.9 < events[0].at < 2.3
    assert events[1].at - (2.0 + len(speech) / 16000) < 0.8


def test_babble_under_the_words_neither_starts_nor_holds_the_utterance() -> None:
    babble = mix(*(spoken(text, "en", voice=voice, engine="flite") for text, voice in
                   [("the meeting moved to thursday", "awb"), ("please leave it at the door", "slt")]))
    quiet = np.frombuffer(babble, dtype="<i2") // 8                 # about 18 dB under the words
    background = np.tile(quiet, 4).astype("<i2").tobytes()
    speech = spoken("three", "en")
    line = mix(background, b"\0\0" * 16000 + speech)
    events = run(Endpointer(), line)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert 1.5 < events[0].at < 2.3 and events[1].at - (2.0 + len(speech) / 16000) < 0.8


def test_unknown_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown voice activity detector"):
        Endpointer(EndpointConfig(detector="psychic"))


def test_tts_word_is_one_utterance() -> None:
    speech = spoken("three", "en")
    events = run(Endpointer(), silence(0.5) + speech + silence(1.5))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert 0.45 < events[0].at < 0.7
    assert events[1].at - events[0].at < len(speech) / 16000 + 0.7 + 0.1


def test_audio_that_stops_coming_ends_the_utterance() -> None:
    endpointer = Endpointer(EndpointConfig(end_silence=0.6))
    run(endpointer, silence(0.4) + noise(0.5, -20))         # then the phone sends nothing (silence suppression)
    assert endpointer.state == "speaking"
    assert endpointer.poll(1.3) is None
    assert endpointer.poll(1.5) == SpeechEnded(1.5, "silence") and endpointer.state == "ended"
    assert Endpointer().poll(5.0) is None                   # nobody spoke: the no-input timeout's business


def test_a_phone_that_suppresses_silence_is_heard_from_its_first_word() -> None:
    """No audio at all until the caller speaks (the clock's ticks find none): the first frames are the
    caller, not the line's background to learn."""
    endpointer = Endpointer()
    for tick in range(20):
        endpointer.poll(tick * 0.02)
    speech = spoken("boris", "en")
    events = run(endpointer, speech + silence(1.0), start=0.4)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[0].at < 0.5
