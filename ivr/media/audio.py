"""Audio conversion to telephony PCM: 8 kHz, 16-bit little-endian, mono, ready for G.711.

Any file ffmpeg reads (WAV, MP3, OGG, ...) is decoded, high-passed (DC and rumble out), downmixed and
resampled to 8 kHz by the SoX resampler (a steep anti-alias low-pass, not naive decimation); then
leading and trailing silence is trimmed and the speech level brought to `TARGET_DBFS` with a peak limiter
so nothing clips.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from ivr.i18n import t

SAMPLE_RATE = 8000
TARGET_DBFS = -18.0            # speech level (gated RMS) of every prompt
CEILING_DBFS = -1.0            # no sample louder than this
MAX_GAIN_DB = 40.0             # quieter recordings are raised at most this much
PROCESSING_VERSION = "1"       # part of every cache key: bump when the processing here changes
MAX_SECONDS = 600.0            # the longest prompt or recording (memory stays bounded whatever comes in)

_FRAME = SAMPLE_RATE // 100    # 10 ms analysis frames
_LEAD_PAD = 0.02               # seconds kept before the first sound
_TAIL_PAD = 0.05               # and after the last, so decays are not cut
_FADE = 0.005


class AudioError(Exception):
    """Base error of audio conversion."""


class DecodeError(AudioError):
    """The input is not audio ffmpeg can read (or ffmpeg is missing)."""


class SilentAudio(AudioError):
    """The input holds no sound above the noise floor."""


class TooLong(AudioError):
    """The input lasts longer than MAX_SECONDS."""


def to_telephony(source: Path | bytes, max_seconds: float = MAX_SECONDS, fmt: str | None = None) -> bytes:
    """A file (path) or its content (bytes) → trimmed, normalised 16-bit 8 kHz mono PCM. `fmt`: the only
    container ffmpeg may read it as (wav, mp3, ogg), for content nobody vouches for."""
    samples = decode(source, max_seconds=max_seconds, fmt=fmt)
    return to_pcm16(normalise(trim_silence(samples)))


def decode(source: Path | bytes, rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS,
           fmt: str | None = None) -> np.ndarray:
    """Decode, high-pass at 60 Hz, downmix and resample (SoX resampler) → float32 samples in [-1, 1]; TooLong
    past `max_seconds`."""
    if shutil.which("ffmpeg") is None:
        raise DecodeError(t("ffmpeg is not installed (run scripts/bootstrap)"))
    from_pipe = isinstance(source, (bytes, bytearray))
    forced = ["-f", fmt] if fmt else []
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *forced,
           "-i", "pipe:0" if from_pipe else str(source), "-t", f"{max_seconds + 1:.0f}", "-vn", "-af", f"highpass=f=60,aresample={rate}:resampler=soxr:precision=28",
           "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"]
    try:
        result = subprocess.run(cmd, input=bytes(source) if from_pipe else None, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise DecodeError(t("ffmpeg took longer than 120 s")) from exc
    if result.returncode != 0:
        raise DecodeError(t("cannot decode audio: {why}", why=result.stderr.decode(errors="replace").strip()[:300]))
    data = result.stdout[: len(result.stdout) - len(result.stdout) % 4]
    if len(data) > max_seconds * rate * 4:
        raise TooLong(t("longer than {minutes} minutes", minutes=round(max_seconds / 60)))
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def frame_levels(samples: np.ndarray, frame: int = _FRAME) -> np.ndarray:
    """RMS of consecutive frames (the last partial frame is dropped)."""
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0)
    blocks = samples[: count * frame].astype(np.float64).reshape(count, frame)
    return np.sqrt(np.mean(blocks * blocks, axis=1))


def trim_silence(samples: np.ndarray, floor_dbfs: float = -55.0, below_peak_db: float = 40.0) -> np.ndarray:
    """Cut leading and trailing silence: frames quieter than the floor or `below_peak_db` under the loudest."""
    levels = frame_levels(samples)
    if len(levels) == 0 or levels.max() <= 0:
        raise SilentAudio(t("no sound in the audio"))
    threshold = max(_db_to_amp(floor_dbfs), levels.max() * _db_to_amp(-below_peak_db))
    loud = np.flatnonzero(levels >= threshold)
    if len(loud) == 0:
        raise SilentAudio(t("no sound above the noise floor"))
    start = max(0, loud[0] * _FRAME - int(_LEAD_PAD * SAMPLE_RATE))
    end = min(len(samples), (loud[-1] + 1) * _FRAME + int(_TAIL_PAD * SAMPLE_RATE))
    out = samples[start:end].astype(np.float32)
    fade = min(int(_FADE * SAMPLE_RATE), len(out) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def speech_level_dbfs(samples: np.ndarray) -> float:
    """Loudness of speech, ignoring pauses: power mean of the 10 ms frames within 25 dB of the loudest."""
    levels = frame_levels(samples)
    if len(levels) == 0 or levels.max() <= 0:
        return float("-inf")
    active = levels[levels >= levels.max() * _db_to_amp(-25.0)]
    return float(10 * np.log10(np.mean(active * active)))


def normalise(samples: np.ndarray, target_dbfs: float = TARGET_DBFS,
              ceiling_dbfs: float = CEILING_DBFS) -> np.ndarray:
    """Bring the speech level to `target_dbfs`; a peak limiter keeps every sample under `ceiling_dbfs`."""
    level = speech_level_dbfs(samples)
    if level == float("-inf"):
        raise SilentAudio(t("no sound to normalise"))
    gain = _db_to_amp(min(target_dbfs - level, MAX_GAIN_DB))
    return limit(samples * np.float32(gain), ceiling_dbfs)


def limit(samples: np.ndarray, ceiling_dbfs: float = CEILING_DBFS, block: int = 40) -> np.ndarray:
    """Peak limiter: per 5 ms block the gain that keeps it (and its neighbours) under the ceiling,
    interpolated between blocks, so the gain changes smoothly and never exceeds what any sample allows."""
    ceiling = _db_to_amp(ceiling_dbfs)
    peaks = np.abs(samples)
    if len(samples) == 0 or peaks.max() <= ceiling:
        return samples.astype(np.float32)
    count = -(-len(samples) // block)
    padded = np.zeros(count * block, dtype=np.float32)
    padded[: len(samples)] = peaks
    block_peak = padded.reshape(count, block).max(axis=1)
    needed = np.minimum(1.0, ceiling / np.maximum(block_peak, 1e-12))
    neighbours = np.minimum(needed, np.minimum(np.r_[needed[1:], 1.0], np.r_[1.0, needed[:-1]]))
    centres = np.arange(count) * block + block / 2
    gain = np.interp(np.arange(len(samples)), centres, neighbours)
    return np.clip(samples * gain, -ceiling, ceiling).astype(np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """float samples in [-1, 1] → 16-bit little-endian PCM bytes."""
    ints = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    return ints.tobytes()


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """16-bit little-endian PCM bytes → float32 samples in [-1, 1]."""
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: Path, pcm: bytes, rate: int = SAMPLE_RATE) -> None:
    """Write 16-bit mono PCM as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def _db_to_amp(db: float) -> float:
    return float(10 ** (db / 20))
