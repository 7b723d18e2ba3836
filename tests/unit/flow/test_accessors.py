"""What runtimes read of a campaign goes through the model's typed accessors, not its node mappings."""

from __future__ import annotations

from pathlib import Path

from ivr.flow.loader import load_campaign, load_file
from ivr.flow.model import PlayedAudio, SpeechAsk, played_audio, speech_asks, speech_languages

ROOT = Path(__file__).resolve().parents[3]
VOTE = load_file(ROOT / "dialplans" / "vote.yaml")
RAFFLE = load_file(ROOT / "dialplans" / "raffle.yaml")

GREETING = """
id: greeting
numbers: {voice: ["1515"]}
languages: [uk, en]
start: hello
nodes:
  hello: {type: say, text: {uk: Вітаємо., en: Welcome.}, audio: jingle, next: ask}
  ask:
    type: ask
    prompt: {uk: "Так чи ні?", en: "Yes or no?"}
    input: speech
    choices: [{words: [так, yes], next: bye}, {words: [ні, "no"], next: bye}]
  bye: {type: end, text: {uk: До побачення., en: Goodbye.}, audio: goodbye}
"""


def test_speech_asks_and_the_languages_recognizers_must_hear() -> None:
    greeting = load_campaign(GREETING)
    assert speech_asks(greeting) == [SpeechAsk("ask", ("так", "yes", "ні", "no"))]
    assert [ask.node_id for ask in speech_asks(VOTE)] == ["choose"]
    assert speech_asks(RAFFLE) == []
    assert speech_languages([RAFFLE, VOTE, greeting]) == ["en", "uk"]
    assert speech_languages([RAFFLE]) == []


def test_played_audio_names_each_recording_and_where() -> None:
    assert played_audio(load_campaign(GREETING)) == [PlayedAudio("nodes.hello.audio", "jingle"),
                                                     PlayedAudio("nodes.bye.audio", "goodbye")]
    assert played_audio(VOTE) == []
