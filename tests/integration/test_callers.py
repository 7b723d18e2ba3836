"""What a session knows of its caller, over real SIP calls (SIPp) and POST /api/sms/inbound on one engine:
the language of the short number and of the language menu, the caller's last vote from an earlier
session (either channel), and the per-caller daily limit on calls. Test campaigns: dialplans/callers/."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from .conftest import run_sipp, start_engine, stored_outcomes as outcomes
from .sipp_keys import key_scenario
from .test_sms import sms

pytestmark = pytest.mark.integration

CAMPAIGNS = Path(__file__).parent / "dialplans" / "callers"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    proc = start_engine(tmp_path_factory.mktemp("engine"), dialplans=CAMPAIGNS)
    yield proc
    proc.stop()


def sessions(engine, caller: str, count: int) -> list[tuple[str, list[tuple[str, dict]]]]:
    """(channel, timeline) of the caller's calls and SMS conversations, oldest first, once `count` of
    them have ended (the store writes the timeline in batches)."""
    path = engine.db_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(path) as db:
            found = [(channel, [(kind, json.loads(data)) for kind, data in db.execute(
                "SELECT kind, data FROM call_events WHERE call_id = ? ORDER BY seq", (call_id,))])
                for call_id, channel in db.execute(
                    "SELECT call_id, channel FROM calls WHERE caller = ? ORDER BY started_at", (caller,))]
        ended = [s for s in found if any(kind == "end" for kind, _ in s[1])]
        if len(ended) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def prompts(timeline: list[tuple[str, dict]]) -> list[str]:
    return [data["text"] for kind, data in timeline if kind == "prompt"]


def call(engine, tmp_path: Path, number: str, caller: str, presses: list[tuple[float, str]]) -> None:
    scenario = key_scenario(tmp_path / f"{caller}-{time.monotonic_ns()}.xml", presses, caller=caller)
    result = run_sipp(engine.sip, scenario, service=number, timeout=40, workdir=tmp_path)
    assert result.successful == 1, result.output


def test_the_number_and_the_language_menu_choose_the_language(engine, tmp_path: Path) -> None:
    # 6061 starts in Ukrainian; key 1 in the menu switches the call to English
    call(engine, tmp_path, "6061", "+15556061", [(2.0, "1"), (1.5, "2")])
    [(channel, timeline)] = sessions(engine, "+15556061", 1)
    assert channel == "voice" and prompts(timeline) == [
        "Для англійської натисніть 1. Для української натисніть 2.", "Press 1 for Anna or 2 for Boris.",
        "Thank you. Goodbye."]
    assert ("language", {"node": "menu", "language": "en"}) in timeline
    # by SMS: 6061 answers in Ukrainian; on 6060 the menu switches to Ukrainian
    assert sms(engine, "+15556062", "6061", "привіт", "lang0")[1]["replies"] == [
        "Для англійської натисніть 1. Для української натисніть 2."]
    assert sms(engine, "+15556060", "6060", "hi", "lang1")[1]["replies"] == [
        "For English press 1. For Ukrainian press 2."]
    assert sms(engine, "+15556060", "6060", "українська", "lang2")[1]["replies"] == [
        "Натисніть 1 за Анну або 2 за Бориса."]
    assert sms(engine, "+15556060", "6060", "анна", "lang3")[1]["replies"] == ["Дякуємо. До побачення."]
    stored = [o for o in outcomes(engine) if o[0] in ("+15556060", "+15556061")]
    assert sorted(stored) == [("+15556060", "answer", "choice", "anna in uk"),
                              ("+15556061", "answer", "choice", "boris in en")]


def test_the_last_vote_comes_from_earlier_sessions_on_either_channel(engine, tmp_path: Path) -> None:
    assert sms(engine, "+15556070", "6070", "hi", "lv1")[1]["replies"] == ["Press 1 for Anna or 2 for Boris."]
    assert sms(engine, "+15556070", "6070", "1", "lv2")[1]["replies"] == ["Thank you for voting for anna."]
    call(engine, tmp_path, "6070", "+15556070", [])            # says nothing: the call knows the SMS vote
    (_, by_sms), (channel, by_phone) = sessions(engine, "+15556070", 2)
    assert channel == "voice" and prompts(by_phone) == ["You voted for anna before. Goodbye."]
    call(engine, tmp_path, "6070", "+15556071", [(2.0, "2")])
    assert prompts(sessions(engine, "+15556071", 1)[0][1])[-1] == "Thank you for voting for boris."
    assert sms(engine, "+15556071", "6070", "hi", "lv3")[1]["replies"] == ["You voted for boris before. Goodbye."]


def test_a_call_over_the_daily_limit_hears_the_limit_text_and_is_ended(engine, tmp_path: Path) -> None:
    for _ in range(3):
        call(engine, tmp_path, "6080", "+15556080", [])          # SIPp sees the engine's BYE each time
    calls = sessions(engine, "+15556080", 3)
    assert [prompts(timeline) for _, timeline in calls] == [
        ["Hello and goodbye."], ["Hello and goodbye."], ["You have called twice today. Please call again tomorrow."]]
    assert [[d["reason"] for kind, d in timeline if kind == "end"] for _, timeline in calls] == [
        ["completed"], ["completed"], ["caller_limit"]]
    # voice and SMS count together
    assert sms(engine, "+15556080", "6080", "hi", "lim1")[1]["replies"] == [
        "You have called twice today. Please call again tomorrow."]
