"""Picking the ask's answer out of what Whisper wrote down (no grammar restricts Whisper itself), and
the packaged model joined from its two halves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ivr.flow.events import ListenSpec
from ivr.speech.grammar import grammar_for
from ivr.speech.whisper_engine import PARTS, Scores, decide, loop_of, looping, match, packaged_model

VOTE = grammar_for(ListenSpec(mode="both", grammar=["one", "anna", "two", "boris", "three"]), "en")
RU = grammar_for(ListenSpec(mode="speech", grammar=["да", "нет", "пиццу", "суши"]), "ru")
UK = grammar_for(ListenSpec(mode="speech", grammar=["так", "ні", "п’ять"]), "uk")
DIGITS_RU = grammar_for(ListenSpec(mode="speech"), "ru")
DIGITS_UK = grammar_for(ListenSpec(mode="speech"), "uk")


@pytest.mark.parametrize("grammar,said,answer", [
    (VOTE, " Anna.", "anna"),
    (VOTE, "Two!", "two"),
    (VOTE, "Boris, please.", "boris"),          # an answer with a word around it
    (VOTE, "Ana", "anna"),                      # spelt another way
    (RU, "Да.", "да"),
    (RU, "Пиццу, пожалуйста.", "пиццу"),
    (RU, "Суши", "суши"),
    (UK, "Так!", "так"),
    (UK, "П'ять", "п’ять"),                     # either apostrophe
    (DIGITS_RU, "четыре два семь", "427"),
    (DIGITS_RU, "4-2-7.", "427"),               # Whisper writes numbers as digits too
    (DIGITS_RU, "один ноль девять девять", "1099"),
    (DIGITS_UK, "дев'ять, нуль, сім", "907"),
])
def test_the_answer_is_found_in_what_was_written(grammar, said: str, answer: str) -> None:
    found = match(grammar, said)
    assert found.text == answer and found.score >= 0.8, found


@pytest.mark.parametrize("grammar,said", [
    (VOTE, "What is the weather like today?"),
    (VOTE, "I think I would rather vote for somebody else"),
    (VOTE, "One or two"),                       # two answers: which one?
    (RU, "Я не знаю, что сказать"),
    (RU, "Добрый вечер"),
    (UK, "Доброго ранку"),
    (DIGITS_RU, "четыре и ещё что-то"),
    (VOTE, ""),
])
def test_text_that_is_no_answer_gives_none(grammar, said: str) -> None:
    assert match(grammar, said).text == ""


def test_the_model_is_joined_once_from_its_two_halves(tmp_path: Path) -> None:
    folder = packaged_model(tmp_path)
    halves = [Path(importlib.util.find_spec(p).origin).parent / "data" for p in PARTS]
    parts = [next(h.glob("model.bin.part*")) for h in halves]
    model = folder / "model.bin"
    assert model.stat().st_size == sum(p.stat().st_size for p in parts)
    with open(model, "rb") as joined, open(parts[1], "rb") as second:
        joined.seek(parts[0].stat().st_size)
        assert joined.read(1 << 16) == second.read(1 << 16)
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    made = model.stat().st_mtime_ns
    assert packaged_model(tmp_path) == folder and model.stat().st_mtime_ns == made    # re-used, not joined again
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]                       # no staging left


def test_text_looping_on_a_word_is_no_answer() -> None:
    """A decoder stuck in a loop, or a caller playing: suspicious, never a vote."""
    assert match(RU, "Суши, суши, суши, суши, суши, суши,").text == ""
    assert match(UK, "так так так").text == ""
    assert match(VOTE, "Ли-ли-ли-ли-ли-ли").text == ""
    assert looping("good morning good morning good morning".split())
    assert not looping("one two one two".split())
    assert match(RU, "Да, да.").text == "да"                  # twice is an answer said twice


def scores(phrases: dict[str, float], free: str, free_logprob: float) -> Scores:
    return Scores(phrases, free, free_logprob, 0.1)


def test_scored_answers_count_when_likely_and_ahead() -> None:
    grammar = grammar_for(ListenSpec(grammar=["один", "два", "три"]), "uk")
    # Whisper wrote something else ("Ахин"), but "один" is likely and far ahead: heard
    assert decide(grammar, scores({"один": -2.0, "два": -9.0, "три": -11.0}, "Ахин!", -2.5)).text == "один"
    # Whisper's own text names the answer: heard, with a high confidence
    heard = decide(grammar, scores({"один": -9.5, "два": -12.0, "три": -12.0}, "Один.", -1.0))
    assert heard.text == "один" and heard.confidence >= 0.7
    # off-topic speech: every answer unlikely and the free text far better
    assert decide(grammar, scores({"один": -14.0, "два": -15.0, "три": -16.0}, "Я ще не вирішив", -3.0)).text == ""
    # looping text does not lend its likelihood to an answer
    assert decide(grammar, scores({"один": -6.0, "два": -15.0, "три": -16.0}, "та та та та та", -5.0)).text == ""


def test_looping_on_the_answer_leaves_the_scores_to_decide() -> None:
    """Whisper repeats a short answer into the silence after it ("James James James ..."): the scores
    decide; looping on anything else vetoes them."""
    grammar = grammar_for(ListenSpec(grammar=["james", "mia", "seven"]), "en")
    repeated = " ".join(["James"] * 20)
    assert decide(grammar, scores({"james": -2.0, "mia": -9.0, "seven": -10.0}, repeated, -30.0)).text == "james"
    assert decide(grammar, scores({"seven": -2.0, "mia": -9.0, "james": -10.0}, "7. 7. 7. 7. 7.", -20.0)).text == "seven"
    assert decide(grammar, scores({"mia": -3.0, "james": -9.0, "seven": -10.0}, "Nananananananana", -4.0)).text == ""
    assert loop_of(["нананананана"]) == "на" and loop_of(["бу", "бу", "бу"]) == "бу" and loop_of(["так"]) is None
