"""A record node over a real call: the caller's speech is kept as a WAV file and its name stored."""

from __future__ import annotations

import sqlite3
import wave
from pathlib import Path

import audioop
import pytest

from .conftest import SIPP_DIR, run_sipp, start_engine

pytestmark = pytest.mark.integration

MESSAGES = """
id: message-line
name: Leave a message
numbers: {voice: ["6060"]}
start: record
nodes:
  record:
    type: record
    prompt: Please leave your message after the tone.
    max_seconds: 4
    next: keep
    failure: nothing
  keep: {type: record_result, name: message, value: "{{recording.id}}", next: thanks}
  thanks: {type: end, text: Thank you.}
  nothing: {type: end, text: We did not hear a message.}
"""


def test_voice_message_is_recorded(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "messages.yaml").write_text(MESSAGES)
    engine = start_engine(tmp_path, "--dialplans", str(plans))
    try:
        result = run_sipp(engine.sip, SIPP_DIR / "uac_voice_message.xml", service="6060", timeout=40,
                          workdir=tmp_path)
        assert result.successful == 1, result.output
    finally:
        engine.stop()
    recordings = list((engine.data_dir / "recordings").glob("*.wav"))
    assert len(recordings) == 1
    with wave.open(str(recordings[0])) as wav:
        assert wav.getframerate() == 8000 and wav.getnchannels() == 1
        seconds = wav.getnframes() / 8000
        audio = wav.readframes(wav.getnframes())
    assert 2.0 < seconds <= 4.05, seconds             # the caller spoke past the 4 s limit
    assert audioop.rms(audio, 2) > 300                 # speech, not silence
    with sqlite3.connect(engine.db_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT kind, name, value FROM outcomes").fetchall()
    assert rows == [("answer", "message", recordings[0].name)]
