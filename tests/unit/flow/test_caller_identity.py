"""Who may vote and redeem: callers the runtime could not identify are refused at vote and code nodes
(their `unidentified` exit, or the campaign's reason said and the end) unless the campaign allows them;
a vote the store could not check takes `unavailable`, or `pending` when the campaign opts in."""

from __future__ import annotations

from ivr.flow.interpreter import CastVote, Digits, End, FlowSession, Say, VoteResult
from ivr.flow.loader import load_campaign
from ivr.flow.model import UNIDENTIFIED_TEXT, spoken_texts

VOTE = """
id: vote
languages: [uk, en]
start: ask
nodes:
  ask: {type: ask, prompt: {uk: Оберіть, en: Choose}, choices: [{key: "1", value: anna, next: cast}]}
  cast: {type: vote, name: talent, value: "{{input}}", next: thanks, repeat: again, unavailable: later}
  thanks: {type: end, text: {uk: Зараховано, en: Counted}}
  again: {type: end, text: {uk: Вже, en: Already}}
  later: {type: end, text: {uk: Пізніше, en: Later}}
"""


def said(actions: list) -> list[str]:
    return [part.text for action in actions if isinstance(action, Say) for part in action.parts if part.text]


def session(text: str, identified: bool, **caller: object) -> FlowSession:
    return FlowSession(load_campaign(text), "voice", "anonymous" if not identified else "+380501112233",
                       variables={"caller": {"identified": identified, "kind": "withheld" if not identified
                                             else "number", **caller}})


def test_a_withheld_caller_hears_why_and_no_vote_is_cast() -> None:
    flow = session(VOTE, identified=False)
    flow.start()
    actions = flow.feed(Digits("1"))
    assert not any(isinstance(a, CastVote) for a in actions)
    assert said(actions) == [UNIDENTIFIED_TEXT["uk"]] and isinstance(actions[-1], End)
    assert flow.end_reason == "caller_unidentified"
    assert ("unidentified", {"node": "cast", "kind": "withheld", "next": None}) in [
        (e.kind, e.data) for e in flow.drain_events()]


def test_the_campaign_may_route_them_or_let_them_vote() -> None:
    routed = VOTE.replace("unavailable: later}", "unavailable: later, unidentified: later}")
    flow = session(routed, identified=False)
    flow.start()
    assert said(flow.feed(Digits("1"))) == ["Пізніше"]
    allowed = VOTE + "callers: {unidentified: allow}\n"
    flow = session(allowed, identified=False)
    flow.start()
    assert isinstance(flow.feed(Digits("1"))[-1], CastVote)
    # the reason is a prompt made ahead of calls, in every language, only where it can be said
    assert [s.text for s in spoken_texts(load_campaign(VOTE)) if s.path == "callers.text"] == [
        UNIDENTIFIED_TEXT["uk"], UNIDENTIFIED_TEXT["en"]]
    assert not [s for s in spoken_texts(load_campaign(routed)) if s.path == "callers.text"]


def test_an_unchecked_vote_is_never_counted_unless_the_campaign_accepts_it_for_later() -> None:
    flow = session(VOTE, identified=True)
    flow.start()
    vote = flow.feed(Digits("1"))[-1]
    assert vote == CastVote("talent", "anna", "campaign", defer=False)
    assert said(flow.feed(VoteResult(False, None, unavailable=True))) == ["Пізніше"]
    deferring = VOTE.replace("unavailable: later}", "unavailable: later, pending: noted}") + \
        "  noted: {type: end, text: {uk: Врахуємо якщо перший, en: Noted}}\n"
    flow = session(deferring, identified=True)
    flow.start()
    assert flow.feed(Digits("1"))[-1] == CastVote("talent", "anna", "campaign", defer=True)
    assert said(flow.feed(VoteResult(True, None, pending=True))) == ["Врахуємо якщо перший"]
    assert flow.variables["vote"]["pending"] is True
