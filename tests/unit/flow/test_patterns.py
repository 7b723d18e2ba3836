"""Patterns a campaign brings are matched with a time limit: a pattern that backtracks for ever is a
nomatch for its caller, not a stall of the node."""

from __future__ import annotations

import time

from ivr.flow import patterns
from ivr.flow.interpreter import Digits, FlowSession, Text
from ivr.flow.loader import load_campaign

REDOS = """
id: redos
start: ask
nodes:
  ask: {type: ask, prompt: Key in, pattern: "(1|11)+$", next: done, retries: 0, nomatch: done}
  done: {type: end, text: Bye}
"""


def test_a_pattern_that_backtracks_for_ever_is_a_nomatch_not_a_stall() -> None:
    """`(1|11)+$` against forty 1s and a 2 runs for hours under `re`; here it gives up within the limit."""
    flow = FlowSession(load_campaign(REDOS), "voice", "+380501112233")
    flow.start()
    started = time.monotonic()
    flow.feed(Digits("1" * 40 + "2"))
    assert time.monotonic() - started < 1.0
    assert "nomatch" in [e.kind for e in flow.drain_events()]


def test_ordinary_patterns_match_as_re_does() -> None:
    assert patterns.fullmatch(r"[0-9]{6}", "104729") and not patterns.fullmatch(r"[0-9]{6}", "10472")
    assert patterns.fullmatch("(1+)+$", "1111")


def test_a_text_message_against_a_pattern_that_backtracks_is_a_nomatch_not_a_stall() -> None:
    """By SMS the ask also looks for its pattern inside the sentence ("Код 62992312"): that search has the
    same time limit."""
    flow = FlowSession(load_campaign(REDOS), "sms", "+380501112233")
    flow.start()
    started = time.monotonic()
    flow.feed(Text("Код " + "1" * 40 + "2 " + "1" * 40 + "2"))
    assert time.monotonic() - started < 1.0
    assert "nomatch" in [e.kind for e in flow.drain_events()]
    assert patterns.find_all(r"(?<!\w)(?:\d{8})(?!\w)", "Код 62992312, дякую") == ["62992312"]
