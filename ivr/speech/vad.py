"""Voice activity detection and endpointing, sans-I/O.

Fed the call's 8 kHz PCM with the time it arrived, the `Endpointer` says when speech starts (a few
speech frames of 20 ms in a row) and when the utterance ends: after `end_silence` seconds without
speech, or when it has lasted `max_speech` seconds. A phone that sends nothing while its user is quiet
(silence suppression) is heard by `poll`: no audio for `end_silence` ends the utterance too. The
no-input timeout is the channel's (it starts when the prompt has finished), not the endpointer's.

Which frames are speech is the detector's call (`EndpointConfig.detector`):

- `energy` (the default, chosen by bench/speech.py on the held-out set): a frame is speech when it
  is `margin_db` above the line's background (and above an absolute floor). The background is the
  loud end of the last second of the line while nobody speaks, learnt for `learn` seconds before
  anything may count as speech: steady noise, mains hum, comfort noise and babble at any level are
  the background, not a caller. A phone that sends nothing while its user is quiet (silence
  suppression: the clock's `poll` finds no audio) has a silent background, and its first sound is
  judged at once.
- `webrtc`: WebRTC's Gaussian-mixture detector (`webrtcvad-wheels`, aggressiveness 3).
- `silero`: the Silero VAD network (its ONNX model ships inside faster-whisper, the `whisper` extra),
  on the audio upsampled to 16 kHz.
"""

from __future__ import annotations

import functools
from collections import deque
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

FRAME = 160                      # samples: 20 ms at 8 kHz
DETECTORS = ("energy", "webrtc", "silero")
QUIET_PHONE = 0.2                # s without audio at the start of a listen: the phone suppresses silence


@dataclass(frozen=True)
class EndpointConfig:
    end_silence: float = 0.7     # s without speech that ends the utterance
    max_speech: float = 10.0     # s: longer is cut here
    start_frames: int = 3        # speech frames of 20 ms in a row that start the utterance
    floor_dbfs: float = -50.0    # energy: never speech below this level
    margin_db: float = 5.0       # energy: above the line's background (tuned, bench/speech.py)
    learn: float = 0.3           # energy: s of a line sending audio learnt before anything counts as speech
    preroll: float = 0.3         # s of audio before the detected start handed to the recognizer
    detector: str = "energy"     # one of DETECTORS


@dataclass(frozen=True)
class SpeechStarted:
    at: float


@dataclass(frozen=True)
class SpeechEnded:
    at: float
    reason: Literal["silence", "max_speech"]


VadEvent = SpeechStarted | SpeechEnded


class VadError(RuntimeError):
    """A detector that cannot run here (its package is not installed)."""


def frame_dbfs(frame: np.ndarray) -> float:
    """RMS level of int16 samples in dB relative to full scale."""
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64))))) if len(frame) else 0.0
    return 20 * np.log10(max(rms, 1.0) / 32768.0)


class Detector(Protocol):
    """Says of each 20 ms frame (in order) whether it is speech."""

    def speech(self, frame: np.ndarray, speaking: bool) -> bool: ...


class EnergyDetector:
    """Speech is `margin_db` above the line's background, the loud end of what the line carried in the
    last second while nobody spoke (its 90th percentile frame): steady noise and hum sit at their level,
    babble and crackle at their peaks, so neither starts an utterance or keeps one from ending."""

    HISTORY = 50                 # 20 ms frames: the last second of the line

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.noise_dbfs = -90.0
        self._heard: deque[float] = deque(maxlen=self.HISTORY)
        self._frames = 0
        self._silent_line = False

    def speech(self, frame: np.ndarray, speaking: bool) -> bool:
        cfg = self.config
        level = frame_dbfs(frame)
        loud = level > max(cfg.floor_dbfs, self.noise_dbfs + cfg.margin_db)
        if not speaking and not (loud and self._silent_line):   # judged against the line before it, then
            self._heard.append(level)                           # part of it (a silent line: its quiet only)
            self._frames += 1
            if self._frames % 5 == 1 or self._frames <= cfg.learn * 50:     # every 0.1 s: cheap on the loop
                self.noise_dbfs = float(np.percentile(self._heard, 90))
            if self._frames <= cfg.learn * 50 and not self._silent_line:
                return False
        return loud

    def silent_line(self) -> None:
        """The phone sent nothing while nobody spoke (silence suppression): its first sound is the
        caller, to be judged at once, not learnt as the line's background."""
        if not self._heard:
            self._silent_line = True


class WebRtcDetector:
    """WebRTC's VAD on each 20 ms frame."""

    def __init__(self, config: EndpointConfig) -> None:
        try:
            import webrtcvad
        except ImportError as exc:
            raise VadError("webrtcvad is not installed (pip install webrtcvad-wheels)") from exc
        self._vad = webrtcvad.Vad(3)

    def speech(self, frame: np.ndarray, speaking: bool) -> bool:
        return bool(self._vad.is_speech(frame.astype("<i2").tobytes(), 8000))


@functools.cache
def _silero_session():
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or spec.origin is None or importlib.util.find_spec("onnxruntime") is None:
        raise VadError("the silero detector needs the whisper extra (faster-whisper and onnxruntime)")
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model = Path(spec.origin).parent / "assets" / "silero_vad_v6.onnx"
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class SileroDetector:
    """Silero VAD v6 (16 kHz): 32 ms windows of the upsampled audio, a probability each; speech above
    0.5, and while speaking until it falls under 0.35."""

    WINDOW, CONTEXT = 512, 64

    def __init__(self, config: EndpointConfig) -> None:
        from .upsample import Upsampler
        self._session = _silero_session()
        self._upsampler = Upsampler()
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._audio = np.zeros(self.CONTEXT, dtype=np.float32)
        self._probability = 0.0

    def speech(self, frame: np.ndarray, speaking: bool) -> bool:
        up = np.frombuffer(self._upsampler.process(frame.astype("<i2").tobytes()), dtype="<i2")
        self._audio = np.concatenate([self._audio, up.astype(np.float32) / 32768.0])
        while len(self._audio) >= self.CONTEXT + self.WINDOW:
            window = self._audio[:self.CONTEXT + self.WINDOW][None, :]
            out, self._h, self._c = self._session.run(None, {"input": window, "h": self._h, "c": self._c})
            self._probability = float(np.asarray(out).reshape(-1)[0])
            self._audio = self._audio[self.WINDOW:]
        return self._probability > (0.35 if speaking else 0.5)


def detector_for(config: EndpointConfig) -> Detector:
    """The configured detector (VadError when its package is missing, ValueError for an unknown name)."""
    kinds = {"energy": EnergyDetector, "webrtc": WebRtcDetector, "silero": SileroDetector}
    if config.detector not in kinds:
        raise ValueError(f"unknown voice activity detector {config.detector!r} (one of {', '.join(DETECTORS)})")
    return kinds[config.detector](config)


class Endpointer:
    """One utterance: idle → speaking → ended."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.detector = detector_for(self.config)
        self.state: Literal["idle", "speaking", "ended"] = "idle"
        self.started_at: float | None = None
        self._speech_frames = 0
        self._quiet_since: float | None = None
        self._last_frame_at: float | None = None
        self._first_poll: float | None = None
        self._rest = np.zeros(0, dtype=np.int16)

    def feed(self, pcm: bytes, now: float) -> list[VadEvent]:
        """16-bit PCM that ended at `now`; returns a start and/or end when they happen in it."""
        if self.state == "ended":
            return []
        samples = np.concatenate([self._rest, np.frombuffer(pcm, dtype="<i2")])
        whole = len(samples) // FRAME * FRAME
        self._rest = samples[whole:]
        count = whole // FRAME
        events: list[VadEvent] = []
        for i in range(count):
            at = now - (count - 1 - i) * FRAME / 8000
            event = self._frame(samples[i * FRAME:(i + 1) * FRAME], at)
            if event is not None:
                events.append(event)
                if isinstance(event, SpeechEnded):
                    break
        return events

    def poll(self, now: float) -> SpeechEnded | None:
        """The end of an utterance whose audio stopped coming (called on the clock's ticks); before any
        audio came, the news that the phone is quiet."""
        if self.state == "idle" and self._last_frame_at is None:
            self._first_poll = now if self._first_poll is None else self._first_poll
            silent_line = getattr(self.detector, "silent_line", None)
            if silent_line is not None and now - self._first_poll >= QUIET_PHONE:
                silent_line()
            return None
        if self.state != "speaking" or self._last_frame_at is None:
            return None
        if now - self._last_frame_at >= self.config.end_silence:
            self.state = "ended"
            return SpeechEnded(now, "silence")
        return None

    def _frame(self, frame: np.ndarray, at: float) -> VadEvent | None:
        self._last_frame_at = at
        cfg = self.config
        speech = self.detector.speech(frame, self.state == "speaking")
        if self.state == "idle":
            self._speech_frames = self._speech_frames + 1 if speech else 0
            if self._speech_frames < cfg.start_frames:
                return None
            self.state = "speaking"
            self.started_at = at - (cfg.start_frames - 1) * FRAME / 8000
            return SpeechStarted(self.started_at)
        assert self.started_at is not None
        if at - self.started_at >= cfg.max_speech:
            self.state = "ended"
            return SpeechEnded(at, "max_speech")
        if speech:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = at
        elif at - self._quiet_since >= cfg.end_silence:
            self.state = "ended"
            return SpeechEnded(at, "silence")
        return None
