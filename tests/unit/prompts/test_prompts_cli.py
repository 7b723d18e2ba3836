"""`ivr prompts build` over campaign files and `ivr prompts say`, through their argparse handlers."""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import pytest

from ivr import prompts_cli
from ivr.media.prompts import PromptCache, PromptRequest

from .conftest import ffmpeg

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
