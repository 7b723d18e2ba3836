"""Grammars: what a caller may say to an ask, and what the flow is given for it."""

from __future__ import annotations

import pytest

from ivr.flow.events import ListenSpec
from ivr.speech.grammar import Grammar, grammar_for
from ivr.speech.recognizer import SpeechError
from ivr.speech.sphinx import jsgf

VOTE = ListenSpec(mode="both", grammar=["one", "Anna", "two", "Boris", "order status"])


def test_choices_words_are_the_phrases_and_come_back_as_written() -> None:
    grammar = grammar_for(VOTE, "en")
    assert set(grammar.phrases) == {"one", "anna", "two", "boris", "order status"}
    assert not grammar.digits
    assert grammar.meaning("anna") == "Anna"
    assert grammar.meaning("Order  Status!") == "order status"
    assert grammar.meaning("banana") == ""
    assert grammar.meaning("one two") == ""            # two answers at once is no answer


def test_free_input_takes_spoken_digits_in_the_language() -> None:
    english = grammar_for(ListenSpec(), "en")
    assert english.digits and english.phrases == {}
    assert english.meaning("one two oh nine") == "1209"
    assert english.meaning("one banana") == ""
    korean = grammar_for(ListenSpec(), "ko")
    assert korean.meaning("일 이 삼") == "123"
    assert korean.meaning("하나 둘 셋") == "123"


def test_fillers_leave_out_the_grammar_s_own_words() -> None:
    grammar = grammar_for(ListenSpec(grammar=["yes", "okay", "no"]), "en")
    assert "okay" not in grammar.fillers() and "hello" in grammar.fillers()
    assert grammar_for(ListenSpec(grammar=["x"]), "xx").fillers() == []


def test_restrict_keeps_what_the_model_knows() -> None:
    grammar = grammar_for(ListenSpec(grammar=["anna", "dmitri ivanov"]), "en")
    assert set(grammar.restrict({"anna", "dmitri"}).phrases) == {"anna"}
    assert grammar.restrict(None) is grammar
    digits = grammar_for(ListenSpec(), "en")
    assert not digits.restrict({"one", "two"}).digits      # every digit word is needed


def test_jsgf_has_the_answers_and_a_filler_without_homophones() -> None:
    dictionary = {"weight": "W EY T", "wait": "W EY T", "anna": "AE N AH", "hello": "HH AH L OW", "okay": "OW K EY"}
    text = jsgf(grammar_for(ListenSpec(grammar=["weight", "anna", "zyxt"]), "en"), dictionary.get)
    assert text.startswith("#JSGF V1.0;")
    answer = next(line for line in text.splitlines() if line.startswith("public <answer>"))
    assert "weight" in answer and "anna" in answer and "zyxt" not in answer and "<filler>" in answer
    filler = next(line for line in text.splitlines() if line.startswith("<filler>"))
    assert "hello" in filler and "okay" in filler and " wait " not in f" {filler} "
    digits = jsgf(grammar_for(ListenSpec(), "en"), lambda w: w.upper())
    assert "( eight | five | four | nine | oh | one | seven | six | three | two | zero )+" in digits
    with pytest.raises(SpeechError):
        jsgf(Grammar("en", {"zyxt": "zyxt"}), dictionary.get)
