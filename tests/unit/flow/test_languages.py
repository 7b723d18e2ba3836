"""Languages: a short number names the language its sessions start in, and a choice of an ask can
switch the session's language (a language menu), on both channels."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from ivr.channels.effects import InMemoryServices
from ivr.channels.dry_run import dry_run
from ivr.channels.sms import SmsConversation
from ivr.flow.interpreter import Digits, End, FlowSession, Listen, RoutingResult, Say, StoreOutcome, Text
from ivr.flow.loader import load_campaign, load_file
from ivr.flow.validate import DialplanError

ROOT = Path(__file__).resolve().parents[3]
LANGUAGES = ROOT / "tests" / "integration" / "dialplans" / "callers" / "languages.yaml"


def said(actions: list) -> list[tuple[str | None, str]]:
    """(text, language) of every prompt in the actions."""
    return [(part.text, part.language) for action in actions if isinstance(action, Say) for part in action.parts]


def test_a_short_number_names_the_language_sessions_start_in() -> None:
    campaign = load_file(LANGUAGES)
    assert campaign.voice_numbers == ["6060", "6061"] and campaign.sms_numbers == ["6060", "6061"]
    assert campaign.number_language("voice", "6061") == "uk" and campaign.number_language("voice", "6060") == "en"
    for channel in ("voice", "sms"):
        english = FlowSession(campaign, channel, "+1555", "6060")
        assert said(english.start()) == [("For English press 1. For Ukrainian press 2.", "en")]
        ukrainian = FlowSession(campaign, channel, "+1555", "6061")
        assert said(ukrainian.start()) == [("Для англійської натисніть 1. Для української натисніть 2.", "uk")]
        assert ukrainian.variables["language"] == "uk"
    # the language asked for (the simulator's --lang) still wins over the number's
    assert FlowSession(campaign, "voice", "+1555", "6061", language="en").language == "en"


def test_a_language_menu_switches_prompts_and_texts_from_then_on() -> None:
    campaign = load_file(LANGUAGES)
    voice = FlowSession(campaign, "voice", "+1555", "6060")
    voice.start()
    voice.drain_events()
    actions = voice.feed(Digits("2"))
    assert said(actions) == [("Натисніть 1 за Анну або 2 за Бориса.", "uk")] and isinstance(actions[-1], Listen)
    assert [(e.kind, e.data) for e in voice.drain_events() if e.kind == "language"] == [
        ("language", {"node": "menu", "language": "uk"})]
    actions = voice.feed(Digits("2"))
    assert actions[0] == StoreOutcome("answer", "choice", "boris in uk")
    assert said(actions) == [("Дякуємо. До побачення.", "uk")] and actions[-1] == End("completed")
    # on SMS, by word; the language survives between messages (the saved state)
    sms = FlowSession(campaign, "sms", "+1555", "6061")
    sms.start()
    assert said(sms.feed(Text("English"))) == [("Press 1 for Anna or 2 for Boris.", "en")]
    restored = FlowSession.from_state(campaign, json.loads(json.dumps(sms.to_state())))
    assert said(restored.feed(Text("anna")))[-1] == ("Thank you. Goodbye.", "en")


def test_choosing_the_language_already_spoken_changes_nothing() -> None:
    session = FlowSession(load_file(LANGUAGES), "voice", "+1555", "6061")
    session.start()
    session.feed(Digits("2"))
    assert session.language == "uk" and not [e for e in session.drain_events() if e.kind == "language"]


def test_sms_conversation_on_a_ukrainian_number_replies_in_ukrainian() -> None:
    async def run() -> tuple[list[str], list[str], InMemoryServices]:
        services = InMemoryServices()
        conversation = SmsConversation.open(load_file(LANGUAGES), services, "+1555", "6061")
        first = await conversation.handle("привіт")
        return first, await conversation.handle("2") + await conversation.handle("1"), services
    first, rest, services = asyncio.run(run())
    assert first == ["Для англійської натисніть 1. Для української натисніть 2."]
    assert rest == ["Натисніть 1 за Анну або 2 за Бориса.", "Дякуємо. До побачення."]
    assert services.outcomes == [{"kind": "answer", "name": "choice", "value": "anna in uk"}]


def test_simulator_follows_the_language_menu() -> None:
    transcript = asyncio.run(dry_run(load_file(LANGUAGES), "voice", ["2", "1"]))
    assert transcript.outcomes == [{"kind": "answer", "name": "choice", "value": "anna in uk"}]
    assert transcript.entries[-1]["text"] == "Дякуємо. До побачення."


def source() -> dict:
    return yaml.safe_load(LANGUAGES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["numbers"]["voice"].append({"number": "6062", "language": "fr"}), "numbers.voice[2].language",
     'language "fr" is not one of the campaign\'s languages'),
    (lambda d: d["numbers"]["sms"].__setitem__(1, {"number": "6061"}), "numbers.sms[1]", 'missing field "language"'),
    (lambda d: d["numbers"]["sms"].__setitem__(1, {"number": "6061", "language": "uk", "x": 1}), "numbers.sms[1].x",
     "unknown field"),
    (lambda d: d["numbers"]["voice"].append("12"), "numbers.voice[2]", "does not match"),
    (lambda d: d["nodes"]["menu"]["choices"][1].update(language="de"), "nodes.menu.choices[1].language",
     'language "de" is not one of the campaign\'s languages'),
    (lambda d: d["nodes"]["menu"]["choices"][0].update(language="EN!"), "nodes.menu.choices[0].language",
     "does not match"),
])
def test_unknown_languages_name_their_path(mutate, path: str, message: str) -> None:
    data = source()
    mutate(data)
    with pytest.raises(DialplanError) as info:
        load_campaign(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "languages.yaml")
    found = [(i.path, i.message) for i in info.value.issues]
    assert any(p == path and message in m for p, m in found), found


def test_a_routed_node_switching_to_an_unknown_language_ends_the_session() -> None:
    routed = load_campaign("id: routed\nlanguages: [en, uk]\nrouting: {url: 'http://127.0.0.1:9/next'}\n")
    session = FlowSession(routed, "voice", "+1555")
    session.start()
    menu = {"type": "ask", "prompt": "Press 1.", "choices": [{"key": "1", "language": "fr", "next": "x"}]}
    assert session.feed(RoutingResult(menu)) == [End("routing_invalid_node")]
    session = FlowSession(routed, "voice", "+1555")
    session.start()
    session.feed(RoutingResult({**menu, "choices": [{"key": "1", "language": "uk", "next": "x"}]}))
    session.feed(Digits("1"))
    assert session.language == "uk"
