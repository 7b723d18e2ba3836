"""Spoken answers in the interpreter: out-of-grammar speech, the confidence threshold, confirmation
questions, and the endpointing options an ask passes to the channel."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ivr.flow.interpreter import CastVote, Digits, FlowSession, Listen, NoInput, Say, Speech, Text
from ivr.flow.loader import load_campaign, load_file
from ivr.flow.model import spoken_texts
from ivr.flow.validate import DialplanError

ROOT = Path(__file__).resolve().parents[3]
VOTE = ROOT / "dialplans" / "vote.yaml"


def vote_session() -> FlowSession:
    session = FlowSession(load_file(VOTE), "voice", "+15550001")
    session.start()
    return session


def kinds(session: FlowSession) -> list[str]:
    return [e.kind for e in session.drain_events()]


def test_out_of_grammar_speech_is_a_nomatch() -> None:
    session = vote_session()
    session.drain_events()
    actions = session.feed(Speech("", 0.0))
    assert "not a contestant" in actions[0].parts[0].text and isinstance(actions[-1], Listen)
    nomatch = next(e for e in session.drain_events() if e.kind == "nomatch")
    assert nomatch.data["reason"] == "not understood"


def test_a_sure_answer_is_taken_and_an_unsure_one_is_confirmed() -> None:
    session = vote_session()
    assert session.feed(Speech("three", 0.95)) == [CastVote("talent", "chloe", "campaign")]
    session = vote_session()
    actions = session.feed(Speech("anna", 0.6))                      # below the vote's 0.7
    assert isinstance(actions[0], Say) and actions[0].parts[0].text.startswith("Did you say anna?")
    spec = actions[-1].spec
    assert spec.max_digits == 1 and spec.mode == "both" and {"yes", "no"} <= set(spec.grammar)
    assert session.feed(Speech("yes", 0.9)) == [CastVote("talent", "anna", "campaign")]
    assert "confirm" in kinds(session)


def test_confirmation_by_key_and_refusal() -> None:
    session = vote_session()
    session.feed(Speech("boris", 0.55))
    assert session.feed(Digits("1")) == [CastVote("talent", "boris", "campaign")]
    for refusal in (Digits("2"), Speech("no", 0.9), Speech("yes", 0.3), Speech("", 0.0)):
        session = vote_session()
        session.feed(Speech("boris", 0.55))
        actions = session.feed(refusal)
        assert "not a contestant" in actions[0].parts[0].text, refusal       # a nomatch: asked again
        assert session.confirming is None
    session = vote_session()
    session.feed(Speech("boris", 0.55))
    assert "did not hear" in session.feed(NoInput())[0].parts[0].text


def test_without_confirm_low_confidence_is_a_nomatch_and_state_round_trips() -> None:
    data = yaml.safe_load(VOTE.read_text())
    del data["nodes"]["choose"]["confirm"]
    data["nodes"]["choose"].update(end_silence=1.2, max_speech=4)
    campaign = load_campaign(yaml.safe_dump(data))
    session = FlowSession(campaign, "voice", "+15550001")
    spec = session.start()[-1].spec
    assert (spec.end_silence, spec.max_speech) == (1.2, 4)
    session.drain_events()
    session.feed(Speech("anna", 0.6))
    assert [e.data.get("reason") for e in session.drain_events() if e.kind == "nomatch"] == ["low confidence"]
    unsure = vote_session()
    unsure.feed(Speech("elena", 0.5))
    resumed = FlowSession.from_state(load_file(VOTE), unsure.to_state())
    assert resumed.feed(Text("yes")) == [CastVote("talent", "elena", "campaign")]


def test_confirm_prompt_is_a_spoken_text_checked_for_translations() -> None:
    data = yaml.safe_load(VOTE.read_text())
    data["languages"] = ["en", "uk"]
    data["nodes"]["choose"]["confirm"]["prompt"] = {"en": "Did you say {{input}}?"}
    with pytest.raises(DialplanError) as info:
        load_campaign(yaml.safe_dump(data, allow_unicode=True))
    assert [(i.path, i.message) for i in info.value.issues] == [
        ("nodes.choose.confirm.prompt", 'missing translation "uk"')]
    assert ("en", "Did you say {{input}}? Say yes or press 1. Say no or press 2.") in [
        (s.language, s.text) for s in spoken_texts(load_file(VOTE))]
