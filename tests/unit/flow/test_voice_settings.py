"""Voice settings of a campaign and of its nodes, and recordings named by `audio:`: what the file may say,
the exact paths of its mistakes, and the prompts the interpreter hands to the voice channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flow.interpreter import Digits, FlowSession, Say
from ivr.flow.loader import load_campaign
from ivr.flow.model import spoken_texts, voice_of
from ivr.flow.validate import DialplanError

CAMPAIGN = """\
id: settings
languages: [en, uk]
voice: {engine: festival, voice: kal_diphone, rate: 0.9}
start: hello
nodes:
  hello: {type: say, text: {en: Hello., uk: Привіт.}, next: menu}
  menu:
    type: ask
    prompt: {en: Press one., uk: Натисніть один.}
    voice: {rate: 1.2}
    choices: [{key: 1, next: bye}]
  bye: {type: end, text: {en: Bye., uk: Бувай.}, voice: {engine: espeak-ng}}
"""


def issues_of(text: str, base_dir: Path | None = None) -> list[tuple[str, str]]:
    with pytest.raises(DialplanError) as caught:
        load_campaign(text, "t.yaml", base_dir)
    return [(i.path, i.message) for i in caught.value.issues]


def test_a_node_overrides_the_campaign_voice_field_by_field() -> None:
    campaign = load_campaign(CAMPAIGN)
    nodes = campaign.nodes
    assert voice_of(campaign, None, "en") == {"engine": "festival", "voice": "kal_diphone", "rate": 0.9}
    assert voice_of(campaign, nodes["hello"], "en") == {"engine": "festival", "voice": "kal_diphone", "rate": 0.9}
    assert voice_of(campaign, nodes["menu"], "en") == {"engine": "festival", "voice": "kal_diphone", "rate": 1.2}
    # another engine without a voice: that engine's default voice, not festival's voice name
    assert voice_of(campaign, nodes["bye"], "en") == {"engine": "espeak-ng", "voice": None, "rate": 0.9}
    plain = load_campaign("id: p\nstart: s\nnodes: {s: {type: end, text: Hi.}}\n")
    assert voice_of(plain, plain.nodes["s"], "en") == {"engine": None, "voice": None, "rate": 1.0}


BILINGUAL = """\
id: bilingual
languages: [en, uk]
voice: {engine: flite, voice: slt, rate: 0.9, uk: {engine: espeak-ng}}
start: hello
nodes:
  hello: {type: say, text: {en: Hello., uk: Привіт.}, next: bye}
  bye: {type: end, text: {en: Bye., uk: Бувай.}, voice: {rate: 1.1, uk: {rate: 1.3}}}
"""


def test_a_language_may_have_voice_settings_of_its_own() -> None:
    campaign = load_campaign(BILINGUAL)
    hello, bye = campaign.nodes["hello"], campaign.nodes["bye"]
    assert voice_of(campaign, hello, "en") == {"engine": "flite", "voice": "slt", "rate": 0.9}
    assert voice_of(campaign, hello, "uk") == {"engine": "espeak-ng", "voice": None, "rate": 0.9}
    assert voice_of(campaign, bye, "en") == {"engine": "flite", "voice": "slt", "rate": 1.1}
    assert voice_of(campaign, bye, "uk") == {"engine": "espeak-ng", "voice": None, "rate": 1.3}
    session = FlowSession(campaign, "voice", "+1555", language="uk")
    said = [part for action in session.start() if isinstance(action, Say) for part in action.parts]
    assert [(p.text, p.language, p.engine, p.voice) for p in said] == [("Привіт.", "uk", "espeak-ng", None),
                                                                        ("Бувай.", "uk", "espeak-ng", None)]


def test_voice_settings_for_a_language_the_campaign_lacks_name_their_path() -> None:
    found = issues_of(BILINGUAL.replace("uk: {engine: espeak-ng}", "ru: {engine: espeak-ng}")
                      .replace("uk: {rate: 1.3}", "de: {rate: 1.3}"))
    assert ("voice.ru", 'language "ru" is not one of the campaign\'s languages') in found
    assert ("nodes.bye.voice.de", 'language "de" is not one of the campaign\'s languages') in found
    assert ("voice.uk.pitch", "unknown field") in issues_of(BILINGUAL.replace("uk: {engine: espeak-ng}",
                                                                                "uk: {pitch: 2}"))


def test_prompts_carry_the_voice_settings_of_their_node() -> None:
    session = FlowSession(load_campaign(CAMPAIGN), "voice", "+1555", language="uk")
    said = [part for action in session.start() if isinstance(action, Say) for part in action.parts]
    assert [(p.text, p.engine, p.voice, p.rate) for p in said] == [
        ("Привіт.", "festival", "kal_diphone", 0.9), ("Натисніть один.", "festival", "kal_diphone", 1.2)]
    said = [part for action in session.feed(Digits("1")) if isinstance(action, Say) for part in action.parts]
    assert [(p.text, p.engine, p.voice, p.rate) for p in said] == [("Бувай.", "espeak-ng", None, 0.9)]


def test_spoken_texts_name_their_place_node_and_language() -> None:
    spoken = spoken_texts(load_campaign(CAMPAIGN))
    assert [(s.path, s.language, s.text) for s in spoken][:3] == [
        ("nodes.hello.text", "en", "Hello."), ("nodes.hello.text", "uk", "Привіт."),
        ("nodes.menu.prompt", "en", "Press one.")]
    assert spoken[2].node is not None and spoken[2].node["type"] == "ask"


@pytest.mark.parametrize("change, path, message", [
    (("rate: 0.9", "rate: 2.5"), "voice.rate", "2.5 is greater than the maximum of 2.0"),
    (("rate: 0.9", "rate: 0.1"), "voice.rate", "0.1 is less than the minimum of 0.5"),
    (("voice: {rate: 1.2}", "voice: {rate: fast}"), "nodes.menu.voice.rate", "'fast' is not of type 'number'"),
    (("voice: {rate: 1.2}", "voice: {pitch: 3}"), "nodes.menu.voice.pitch", "unknown field"),
    (("voice: {engine: espeak-ng}", "voice: {engine: ''}"), "nodes.bye.voice.engine", "should be non-empty"),
])
def test_bad_voice_settings_name_their_path(change: tuple[str, str], path: str, message: str) -> None:
    found = issues_of(CAMPAIGN.replace(*change))
    assert any(p == path and message in m for p, m in found), found


def test_only_nodes_that_speak_take_a_voice() -> None:
    text = "id: v\nstart: r\nnodes:\n  r: {type: record_result, name: x, value: y, next: e, voice: {rate: 1}}\n" \
           "  e: {type: end}\n"
    assert ("nodes.r.voice", "unknown field") in issues_of(text)


RECORDING = "id: rec\nstart: s\nnodes:\n  s: {type: say, audio: %s, next: e}\n  e: {type: end}\n"


def test_recording_files_must_be_in_the_campaign_folder(tmp_path: Path) -> None:
    (tmp_path / "jingle.wav").write_bytes(b"RIFF")
    campaign = load_campaign(RECORDING % "jingle.wav", "rec.yaml", tmp_path)
    assert campaign.folder == tmp_path
    assert issues_of(RECORDING % "missing.wav", tmp_path) == [
        ("nodes.s.audio", "no file 'missing.wav' in the campaign's folder")]
    assert issues_of(RECORDING % "../jingle.wav", tmp_path)[0][1].startswith("must be a file in the campaign's folder")
    assert issues_of(RECORDING % "/etc/hosts", tmp_path)[0][1].startswith("must be a file in the campaign's folder")
    [(path, message)] = issues_of(RECORDING % "jingle.wav")          # from the API: no folder
    assert path == "nodes.s.audio" and "upload the recording and give its name" in message


def test_a_recording_name_is_left_to_the_uploads() -> None:
    campaign = load_campaign(RECORDING % "welcome-2", "rec.yaml")
    assert campaign.nodes["s"]["audio"] == "welcome-2" and campaign.folder is None
