"""Audio conversion to telephony PCM: 8 kHz, 16-bit, mono, filtered resampling, levels normalised."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class AudioError(RuntimeError):
    """A file could not be converted."""


def to_telephony(source: Path) -> bytes:
    """Any file sox reads → raw 16-bit little-endian 8 kHz mono PCM, silence trimmed, peak at -3 dBFS.

    sox resamples with a proper low-pass filter (no aliasing), unlike naive decimation.
    """
    if shutil.which("sox") is None:
        raise AudioError("sox is not installed (run scripts/bootstrap)")
    cmd = ["sox", str(source), "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
           "-L", "-", "silence", "1", "0.02", "0.3%", "reverse", "silence", "1", "0.02", "0.3%", "reverse",
           "gain", "-n", "-3"]
    result = subprocess.run(cmd, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise AudioError(f"sox failed: {result.stderr.decode(errors='replace')[:200]}")
    pcm = result.stdout
    return pcm[: len(pcm) - len(pcm) % 2]
