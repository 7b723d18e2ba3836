"""Recordings (WAV, MP3, OGG at any rate) become trimmed, normalised 8 kHz mono PCM, filtered against aliasing."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.media import audio

from .conftest import ffmpeg, measure, samples_of, tone_level_db


def make_recording(path: Path, rate: int, codec: list[str]) -> None:
    """0.6 s silence, 2 s of a 440 Hz tone left and 1 kHz right (stereo), 0.7 s silence."""
    ffmpeg("-f", "lavfi", "-i", f"sine=f=440:d=2:r={rate}", "-f", "lavfi", "-i", f"sine=f=1000:d=2:r={rate}",
           "-filter_complex", "[0][1]join=inputs=2:channel_layout=stereo,volume=-12dB,"
                              "adelay=delays=600:all=1,apad=pad_dur=0.7",
           "-ar", str(rate), *codec, str(path))


@pytest.mark.parametrize("name, rate, codec", [
    ("upload.wav", 44100, ["-c:a", "pcm_s16le"]),
    ("upload.mp3", 48000, ["-c:a", "libmp3lame", "-b:a", "96k"]),
    ("upload.ogg", 22050, ["-c:a", "libvorbis", "-q:a", "4"]),
])
def test_recording_becomes_8k_mono_of_the_right_duration(tmp_path: Path, name: str, rate: int,
                                                          codec: list[str]) -> None:
    source = tmp_path / name
    make_recording(source, rate, codec)
    pcm = audio.to_telephony(source)
    m = measure(pcm)
    assert 2.0 <= m.seconds <= 2.12                  # silence trimmed to 20 ms before and 50 ms after
    x = samples_of(pcm)
    # Read as 8 kHz, both channels' tones sit where they belong: right rate, and both channels mixed in.
    assert tone_level_db(x, 8000, 440) > -30
    assert tone_level_db(x, 8000, 1000) > -30
    assert abs(tone_level_db(x, 8000, 440) - tone_level_db(x, 8000, 1000)) < 1.5
    assert -19.5 <= m.level_dbfs <= -16.5
    assert m.peak_dbfs <= -0.9


def test_recording_content_converts_like_the_file(tmp_path: Path) -> None:
    source = tmp_path / "upload.mp3"
    make_recording(source, 44100, ["-c:a", "libmp3lame"])
    assert audio.to_telephony(source.read_bytes()) == audio.to_telephony(source)


def test_anti_alias_filter_removes_a_6khz_tone(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(rate) / rate
    tones = 0.25 * (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 3000 * t) + np.sin(2 * np.pi * 6000 * t))
    source = tmp_path / "tones.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((tones * 32767).astype("<i2").tobytes())

    converted = samples_of(audio.to_telephony(source))
    reference = tone_level_db(converted, 8000, 1000)
    assert reference - tone_level_db(converted, 8000, 2000) >= 50      # 6 kHz would fold onto 2 kHz
    assert abs(reference - tone_level_db(converted, 8000, 3000)) <= 3  # the telephone band stays flat

    naive = tones[(np.arange(8000) * rate // 8000)]                     # picking samples: no filter
    assert tone_level_db(naive, 8000, 1000) - tone_level_db(naive, 8000, 2000) < 10


def speech_wav(path: Path, scale: float) -> None:
    raw = subprocess.run(["espeak-ng", "-v", "en", "--stdout", "Please key in your order number."],
                         capture_output=True, check=True).stdout
    tmp = path.with_suffix(".orig.wav")
    tmp.write_bytes(raw)
    with wave.open(str(tmp)) as src:
        rate, frames = src.getframerate(), src.readframes(src.getnframes())
    x = np.frombuffer(frames, dtype="<i2").astype(np.float64) * scale
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())


@pytest.mark.parametrize("scale", [0.01, 1.0, 8.0])      # -40 dB quiet, as spoken, clipped hot
def test_levels_are_consistent_and_never_clip(tmp_path: Path, scale: float) -> None:
    source = tmp_path / "speech.wav"
    speech_wav(source, scale)
    m = measure(audio.to_telephony(source))
    assert -20.0 <= m.level_dbfs <= -16.0
    assert m.peak_dbfs <= -0.9
    assert m.lead_silence <= 0.05


def test_limiter_keeps_peaks_under_the_ceiling_and_leaves_quiet_parts() -> None:
    rng = np.random.default_rng(7)
    quiet = 0.05 * rng.standard_normal(4000)
    loud = 1.5 * np.sin(2 * np.pi * 300 * np.arange(800) / 8000)
    x = np.concatenate([quiet, loud, quiet]).astype(np.float32)
    y = audio.limit(x, ceiling_dbfs=-1.0)
    assert np.abs(y).max() <= 10 ** (-1 / 20) + 1e-6
    assert np.allclose(y[:3000], x[:3000])
    assert np.allclose(y[-3000:], x[-3000:])


def test_silence_only_is_rejected(tmp_path: Path) -> None:
    source = tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "1", str(source))
    with pytest.raises(audio.SilentAudio):
        audio.to_telephony(source)


def test_a_file_that_is_not_audio_is_rejected(tmp_path: Path) -> None:
    source = tmp_path / "notes.wav"
    source.write_text("this is not audio")
    with pytest.raises(audio.DecodeError):
        audio.to_telephony(source)


def test_audio_longer_than_ten_minutes_is_refused(tmp_path: Path) -> None:
    long = tmp_path / "long.ogg"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:r=8000", "-t", str(audio.MAX_SECONDS + 5), "-c:a", "libvorbis",
           "-q:a", "0", str(long))
    with pytest.raises(audio.TooLong):
        audio.to_telephony(long)


def test_write_wav_is_8k_mono_16_bit(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    audio.write_wav(out, b"\x01\x00" * 800)
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (8000, 1, 2, 800)
