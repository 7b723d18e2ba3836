"""Demo campaigns over real SIP calls (SIPp pressing keys as RFC 4733 events), outcomes read from the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_sipp, stored_outcomes as outcomes
from .sipp_keys import key_scenario

pytestmark = pytest.mark.integration


def test_raffle_code_redeemed_once(engine, tmp_path: Path) -> None:
    first = key_scenario(tmp_path / "raffle1.xml", [(1.5, "104729#")], caller="+15557001")
    again = key_scenario(tmp_path / "raffle2.xml", [(1.5, "104729#")], caller="+15557002")
    assert run_sipp(engine.sip, first, service="7777", timeout=40, workdir=tmp_path).successful == 1
    assert run_sipp(engine.sip, again, service="7777", timeout=40, workdir=tmp_path).successful == 1
    assert outcomes(engine) == [("+15557001", "code", "receipts", "104729")]
    paths = [r["path"] for r in engine.call_records() if r["event"] == "call_ended"]
    assert paths == [["ask_code", "redeem", "entered"], ["ask_code", "redeem", "used"]]


def test_survey_answers_stored_per_question(engine, tmp_path: Path) -> None:
    scenario = key_scenario(tmp_path / "survey.xml", [(3.0, "4"), (1.5, "2"), (1.5, "1")], caller="+15555001")
    assert run_sipp(engine.sip, scenario, service="5050", timeout=60, workdir=tmp_path).successful == 1
    assert sorted(outcomes(engine)) == [("+15555001", "answer", "recommend", "2"),
                                        ("+15555001", "answer", "satisfaction", "4"),
                                        ("+15555001", "answer", "solved", "yes")]


def test_second_vote_from_the_same_caller_is_refused(engine, tmp_path: Path) -> None:
    for choice in ("3", "5"):
        scenario = key_scenario(tmp_path / f"vote{choice}.xml", [(2.0, choice)], caller="+15553838")
        assert run_sipp(engine.sip, scenario, service="3838", timeout=40, workdir=tmp_path).successful == 1
    assert outcomes(engine) == [("+15553838", "vote", "talent", "chloe")]
    paths = [r["path"][-1] for r in engine.call_records() if r["event"] == "call_ended"]
    assert paths == ["thanks", "already"]
