"""What the engine (and `ivr prompts build`) makes for a campaign, what a call's prompts look up, and the
`ivr serve --tts` setting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.cli import tts_defaults
from ivr.engine.config import ConfigError
from ivr.engine.campaign_prompts import CachedPrompts, Recordings, Wanted, campaign_requests
from ivr.flow.events import Prompt
from ivr.flow.loader import load_campaign
from ivr.media import audio
from ivr.media.prompt_cache import PromptRequest
from ivr.media.tts import TtsRegistry

from .conftest import ffmpeg

CAMPAIGN = """\
id: shop
voice: {voice: slt, rate: 0.9}
start: hi
nodes:
  hi: {type: say, text: "Hello {{caller.number}}.", audio: jingle.wav, next: menu}
  menu: {type: ask, prompt: Press one., audio: welcome, voice: {engine: espeak-ng}, choices: [{key: 1, next: bye}]}
  bye: {type: end, text: Bye., voice: {voice: awb, rate: 1.1}}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dialplans"
    folder.mkdir()
    ffmpeg("-f", "lavfi", "-i", "sine=f=660:d=0.5:r=16000", str(folder / "jingle.wav"))
    return folder


def test_requests_carry_each_node_voice_and_name_every_recording(folder: Path, tmp_path: Path) -> None:
    campaign = load_campaign(CAMPAIGN, "shop.yaml", folder)
    uploads = Recordings(tmp_path / "uploads").folder("t1", "shop")
    wanted, issues = campaign_requests(campaign, uploads)
    assert [(w.path, w.request) for w in wanted] == [
        ("nodes.hi.text", PromptRequest(text="Hello {{caller.number}}.", voice="slt", rate=0.9)),
        ("nodes.menu.prompt", PromptRequest(text="Press one.", engine="espeak-ng", rate=0.9)),
        ("nodes.bye.text", PromptRequest(text="Bye.", voice="awb", rate=1.1)),
        ("nodes.hi.audio", PromptRequest(audio_path=folder / "jingle.wav")),
    ]
    [issue] = issues
    assert issue.path == "nodes.menu.audio" and 'no recording "welcome"' in issue.message

    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=0.5:r=8000", "-c:a", "libvorbis", str(tmp_path / "w.ogg"))
    uploads.mkdir(parents=True)
    (tmp_path / "w.ogg").rename(uploads / "welcome.ogg")
    wanted, issues = campaign_requests(campaign, uploads)
    assert not issues and wanted[-1] == Wanted("nodes.menu.audio", PromptRequest(audio_path=uploads / "welcome.ogg"))
    assert campaign_requests(campaign, None)[1][0].path == "nodes.menu.audio"     # no uploads: not found


def test_a_call_finds_what_prepare_made_and_plays_recordings_instead_of_text(folder: Path, tmp_path: Path) -> None:
    campaign = load_campaign(CAMPAIGN.replace("audio: welcome, ", ""), "shop.yaml", folder)

    async def owner(campaign_id: str) -> str:
        return "t1"
    prompts = CachedPrompts(tmp_path / "cache", Recordings(tmp_path / "uploads"), owner, TtsRegistry())
    assert asyncio.run(prompts.prepare([campaign])) == []
    call = prompts.for_campaign(campaign)
    bye = call.lookup(Prompt("Bye.", None, "en", voice="awb", rate=1.1))
    assert bye is not None and bye == prompts.cache.get_or_none(PromptRequest(text="Bye.", voice="awb", rate=1.1))
    assert call.lookup(Prompt("Bye.", None, "en", voice="slt", rate=1.1)) is None      # not made: another voice
    assert call.lookup(Prompt("Hello.", "jingle.wav", "en")) == audio.to_telephony(folder / "jingle.wav")
    assert call.lookup(Prompt(None, "missing", "en")) == b""                            # logged, silent
    assert call.lookup(Prompt("   ", None, "en")) == b""


def test_each_language_is_made_in_its_own_voice_settings() -> None:
    """English in flite's slt, Ukrainian (which flite cannot speak) in espeak-ng: no issue, one request each."""
    campaign = load_campaign("id: two\nlanguages: [en, uk]\nvoice: {voice: slt, uk: {engine: espeak-ng}}\n"
                             "start: bye\nnodes: {bye: {type: end, text: {en: Bye., uk: Бувай.}}}\n")
    wanted, issues = campaign_requests(campaign, None)
    assert issues == []
    assert [w.request for w in wanted] == [PromptRequest(text="Bye.", voice="slt"),
                                           PromptRequest(text="Бувай.", language="uk", engine="espeak-ng")]


def test_prompts_that_cannot_be_made_are_issues_on_their_path(folder: Path, tmp_path: Path) -> None:
    campaign = load_campaign(CAMPAIGN.replace("voice: {voice: awb, rate: 1.1}", "voice: {voice: nope}"),
                             "shop.yaml", folder)
    prompts = CachedPrompts(tmp_path / "cache", Recordings(tmp_path / "uploads"))
    issues = asyncio.run(prompts.prepare([campaign]))
    assert [(i.path, "flite has no voice 'nope'" in i.message) for i in issues] == [
        ("nodes.menu.audio", False), ("nodes.bye.text", True)]


def test_recordings_folders_take_plain_ids_only(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path)
    assert recordings.folder("abc123", "talent-vote") == tmp_path / "abc123" / "talent-vote"
    for tenant, campaign in (("..", "x"), ("t", "../x"), ("t", "a/b"), ("", "x")):
        with pytest.raises(ValueError):
            recordings.folder(tenant, campaign)


def test_tts_setting_is_checked_against_the_engines_here() -> None:
    assert tts_defaults(["en=espeak-ng", "uk=espeak-ng", "en-GB=flite"]) == {
        "en": "espeak-ng", "uk": "espeak-ng", "en-GB": "flite"}
    for item, message in (("en=nope", "unknown TTS engine 'nope'"), ("uk=flite", "flite speaks English only"),
                          ("en", "expected LANG=ENGINE"), ("English=flite", "expected LANG=ENGINE")):
        with pytest.raises(ConfigError, match=message):
            tts_defaults([item])
    with pytest.raises(ConfigError, match="not installed here"):
        tts_defaults(["en=missing"], TtsRegistry(engines=[Missing()]))


class Missing:
    """An engine whose program is not installed."""

    name = "missing"

    def is_available(self) -> bool:
        return False
