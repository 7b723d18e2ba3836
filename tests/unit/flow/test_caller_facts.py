"""`{{caller.last_vote}}` and `caller.sessions_today`: what a runtime looks up before a session starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.channels.effects import InMemoryServices
from ivr.channels.dry_run import dry_run
from ivr.flow.interpreter import FlowSession
from ivr.flow.loader import load_file
from ivr.flow.model import caller_facts

ROOT = Path(__file__).resolve().parents[3]
LAST_VOTE = ROOT / "tests" / "integration" / "dialplans" / "callers" / "last_vote.yaml"


def test_only_campaigns_that_use_them_wait_for_caller_facts() -> None:
    assert caller_facts(load_file(LAST_VOTE)) == ["last_vote"]
    assert caller_facts(load_file(ROOT / "dialplans" / "raffle.yaml")) == ["sessions_today"]
    for demo in ("vote", "order", "alert"):          # no limit, no caller.last_vote: the flow starts at once
        assert caller_facts(load_file(ROOT / "dialplans" / f"{demo}.yaml")) == []


def test_a_previous_vote_given_at_start_is_said_and_branched_on() -> None:
    campaign = load_file(LAST_VOTE)
    session = FlowSession(campaign, "voice", "+1555", variables={"caller": {"last_vote": "boris"}})
    assert session.start()[0].parts[0].text == "You voted for boris before. Goodbye."
    assert session.path == ["check", "again"] and session.variables["caller"]["number"] == "+1555"


def test_the_vote_of_an_earlier_session_on_the_other_channel_is_the_last_vote() -> None:
    services = InMemoryServices()
    campaign = load_file(LAST_VOTE)
    first = asyncio.run(dry_run(campaign, "voice", ["2"], services=services))
    assert first.entries[-1]["text"] == "Thank you for voting for boris."
    again = asyncio.run(dry_run(campaign, "sms", ["hi"], services=services))
    assert [e["text"] for e in again.entries if e["who"] == "ivr"] == ["You voted for boris before. Goodbye."]
    other = asyncio.run(dry_run(campaign, "sms", ["hi"], caller="+15550002", services=services))
    assert other.entries[-1]["text"] == "Press 1 for Anna or 2 for Boris."
