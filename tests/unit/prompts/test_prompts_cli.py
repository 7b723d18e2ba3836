"""`ivr prompts build` over campaign files and `ivr prompts say`, through their argparse handlers."""

from __future__ import annotations

import argparse
import os
import pty
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from ivr import prompts_cli
from ivr.media.prompt_cache import PromptCache, PromptRequest

from .conftest import ffmpeg

ROOT = Path(__file__).resolve().parents[3]

CAMPAIGN = """\
id: branch-alert
name: Branch alert
numbers: {voice: ["2525"]}
languages: [en, uk]
voice: {rate: 0.9}
start: jingle
nodes:
  jingle: {type: say, audio: jingle.wav, next: hello}
  hello:
    type: say
    text: {en: "Your branch is open until {{closing}}.", uk: "Ваше відділення працює до {{closing}}."}
    next: bye
  bye: {type: end, text: {en: Goodbye., uk: До побачення.}}
"""


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    prompts_cli.add_arguments(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


@pytest.fixture
def campaigns(tmp_path: Path) -> Path:
    folder = tmp_path / "dialplans"
    folder.mkdir()
    (folder / "alert.yaml").write_text(CAMPAIGN, encoding="utf-8")
    ffmpeg("-f", "lavfi", "-i", "sine=f=660:d=0.8:r=16000", str(folder / "jingle.wav"))
    return folder


def test_build_makes_every_prompt_then_reuses_them(campaigns: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cache_dir = tmp_path / "cache"
    assert run("prompts", "build", str(campaigns), "--cache", str(cache_dir)) == 0
    out = capsys.readouterr().out
    # the jingle, "Your branch is open until", "Ваше відділення працює до", "Goodbye.", "До побачення."
    assert "5 prompts in" in out and "5 made, 0 cached" in out
    made = [line for line in out.splitlines() if line.startswith("made ")]
    assert sorted(line.split(":")[0] for line in made) == [f"made {n}/5" for n in range(1, 6)]
    assert any("[uk] 'До побачення.'" in line for line in made)
    assert any(line.endswith("jingle.wav") for line in made)

    cache = PromptCache(cache_dir)
    for text, language in [("Your branch is open until", "en"), ("До побачення.", "uk")]:
        assert cache.get_or_none(PromptRequest(text=text, language=language, rate=0.9)) is not None
    assert cache.get_or_none(PromptRequest(audio_path=campaigns / "jingle.wav")) is not None

    assert run("prompts", "build", str(campaigns / "alert.yaml"), "--cache", str(cache_dir)) == 0
    assert "0 made, 5 cached" in capsys.readouterr().out


def test_build_clean_drops_prompts_no_campaign_needs(campaigns: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cache_dir = tmp_path / "cache"
    stale = PromptCache(cache_dir).ensure(PromptRequest(text="An old prompt.", language="en"))
    assert run("prompts", "build", str(campaigns), "--cache", str(cache_dir), "--clean") == 0
    assert "1 stale prompts deleted" in capsys.readouterr().out
    assert stale not in PromptCache(cache_dir).keys() and len(PromptCache(cache_dir).keys()) == 5


def on_screen(raw: str) -> list[str]:
    """The lines a terminal shows after `raw`: carriage returns, erase-to-end-of-line (ESC [K), newlines."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for token in re.findall(r"\x1b\[K|.|\n", raw, re.DOTALL):
        if token == "\x1b[K":
            del line[column:]
        elif token == "\r":
            column = 0
        elif token == "\n":
            lines.append("".join(line))
            line, column = [], 0
        else:
            line[column:column + 1] = [token]
            column += 1
    return lines + (["".join(line)] if line else [])


def test_progress_bar_on_a_terminal_is_drawn_and_cleared(campaigns: Path, tmp_path: Path) -> None:
    """`ivr prompts build` in a pseudo-terminal, as a person runs it: the bar grows to full, then goes."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "prompts", "build", str(campaigns),
                             "--cache", str(tmp_path / "cache")], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=child, stderr=child)
    os.close(child)
    raw = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:                       # the child closed the terminal (EIO)
            break
        if not chunk:
            break
        raw += chunk
    os.close(main)
    assert proc.wait(timeout=60) == 0, raw.decode(errors="replace")
    text = raw.decode()

    bars = re.findall(r"\[([#.]{30})\] (\d)/5", text)
    assert [int(done) for _, done in bars] == [1, 2, 3, 4, 5]
    assert bars[-1][0] == "#" * 30 and bars[0][0].count("#") == 6
    screen = on_screen(text)
    assert not any("[#" in line or "/5]" in line or re.search(r"\] \d/5", line) for line in screen), screen
    assert [line.split(":")[0] for line in screen if line.startswith("made ")] == [f"made {n}/5" for n in range(1, 6)]
    assert screen[-1].endswith("5 made, 0 cached")


def test_no_bar_when_not_on_a_terminal(campaigns: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "ivr.cli", "prompts", "build", str(campaigns), "--cache",
                             str(tmp_path / "cache")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "\x1b[K" not in result.stdout + result.stderr and "[#" not in result.stderr


def test_build_fails_on_a_broken_campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nstart: nowhere\nnodes: {}\n")
    assert run("prompts", "build", str(broken), "--cache", str(tmp_path / "cache")) == 1
    assert "broken.yaml" in capsys.readouterr().err


def test_say_writes_an_8k_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.wav"
    assert run("prompts", "say", "Дякуємо за дзвінок", "--lang", "uk", "-o", str(out)) == 0
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert 0.6 <= wav.getnframes() / 8000 <= 3.0


def test_say_reports_an_unknown_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("prompts", "say", "Hello", "--engine", "nope", "-o", str(tmp_path / "x.wav")) == 1
    assert "unknown TTS engine 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()
