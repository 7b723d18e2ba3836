"""Text to speech, offline: engines behind one small interface, chosen per language.

Each engine writes a WAV file; `audio.to_telephony` turns it into 8 kHz 16-bit mono PCM. flite is the
English default (permissive licence), espeak-ng speaks every other language.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TtsError(RuntimeError):
    """Speech could not be made."""


class TtsEngine(Protocol):
    name: str

    def version(self) -> str: ...

    def synthesize(self, text: str, language: str, voice: str | None, out_wav: Path) -> None: ...


@dataclass
class Flite:
    name: str = "flite"

    def version(self) -> str:
        return _version(["flite", "--version"])

    def synthesize(self, text: str, language: str, voice: str | None, out_wav: Path) -> None:
        _run(["flite", "-voice", voice or "slt", "-t", text, "-o", str(out_wav)])


@dataclass
class EspeakNg:
    name: str = "espeak-ng"

    def version(self) -> str:
        return _version(["espeak-ng", "--version"])

    def synthesize(self, text: str, language: str, voice: str | None, out_wav: Path) -> None:
        _run(["espeak-ng", "-v", voice or language, "-s", "150", "-w", str(out_wav), text])


def _run(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise TtsError(f"{cmd[0]} is not installed (run scripts/bootstrap)")
    result = subprocess.run(cmd, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise TtsError(f"{cmd[0]} failed: {result.stderr.decode(errors='replace')[:200]}")


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()[:80]
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def engine_for(language: str) -> TtsEngine:
    """The default engine of a language: flite for English when installed, espeak-ng otherwise."""
    if language.split("-")[0] == "en" and shutil.which("flite"):
        return Flite()
    return EspeakNg()
