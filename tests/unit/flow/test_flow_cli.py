"""`ivr simulate` and `ivr validate` through the command line's own parser (`ivr.cli.main`), and once as
a process: channels, repeated inputs, keys, silences, hang-ups, speech with its confidence, JSON
output naming each outcome, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli import main

ROOT = Path(__file__).resolve().parents[3]
PLANS = ROOT / "dialplans"


def simulate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def as_json(capsys, *args: str) -> dict:
    code, out, err = simulate(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def said(result: dict) -> list[str]:
    return [entry["text"] for entry in result["transcript"] if entry["who"] == "ivr"]


def test_sms_channel_and_json_outcomes(capsys) -> None:
    result = as_json(capsys, str(PLANS / "vote.yaml"), "--channel", "sms", "--input", "3")
    assert result["outcomes"] == [{"kind": "vote", "name": "talent", "value": "chloe"}]
    assert result["path"] == ["welcome", "choose", "cast", "thanks"] and result["end_reason"] == "completed"
    assert said(result) == ["Thank you, your vote for chloe is counted. Goodbye."]   # "3" answers at once


def test_repeated_inputs_with_the_finish_key(capsys) -> None:
    result = as_json(capsys, str(PLANS / "raffle.yaml"), "--input", "1047", "--input", "29", "--input", "#")
    assert result["outcomes"] == [{"kind": "code", "name": "receipts", "value": "104729"}]
    assert said(result)[-1] == "Your code is entered in the draw. Good luck!"


def test_timeouts_then_hangup(capsys) -> None:
    result = as_json(capsys, str(PLANS / "vote.yaml"), "--input", "timeout", "--input", "timeout",
                     "--input", "hangup")
    assert said(result)[-2:] == ["I did not hear anything. Press a number from 1 to 5."] * 2
    assert result["outcomes"] == [] and result["end_reason"] == "hangup"
    assert [e["text"] for e in result["transcript"] if e["who"] == "caller"] == ["timeout", "timeout", "hangs up"]


def test_speech_with_confidence(capsys) -> None:
    survey = as_json(capsys, str(PLANS / "survey.yaml"), "--input", "5", "--input", "speech:four:0.9",
                     "--input", "speech:yes:0.82")
    assert survey["outcomes"] == [{"kind": "answer", "name": "satisfaction", "value": "5"},
                                  {"kind": "answer", "name": "recommend", "value": "4"},
                                  {"kind": "answer", "name": "solved", "value": "yes"}]
    unsure = as_json(capsys, str(PLANS / "vote.yaml"), "--input", "speech:anna:0.6", "--input", "1")
    assert "Did you say anna? Say yes or press 1. Say no or press 2." in said(unsure)     # below 0.7: confirmed
    assert unsure["outcomes"] == [{"kind": "vote", "name": "talent", "value": "anna"}]


def test_text_output_names_path_outcomes_and_end(capsys) -> None:
    code, out, _ = simulate(capsys, str(PLANS / "vote.yaml"), "--input", "2")
    assert code == 0
    assert "outcome: vote talent = boris" in out and out.rstrip().endswith("end: completed")
    assert "   path: welcome -> choose -> cast -> thanks" in out.splitlines()


def test_webhook_stub_answers_and_fails(capsys) -> None:
    order = str(PLANS / "order.yaml")
    ok = as_json(capsys, order, "--input", "4242#", "--webhook-stub", '{"status": "packed"}')
    assert said(ok)[-1] == "Order 4242 is packed." and ok["outcomes"][0]["value"] == "packed"
    failed = as_json(capsys, order, "--input", "4242#", "--webhook-stub", "fail")
    assert said(failed)[-1] == "We cannot look up orders right now. Please try again later."
    assert failed["outcomes"] == []


@pytest.mark.parametrize("args, message", [
    (["--input", "abc"], '"abc" is not keys'),
    (["--input", "speech:yes:high"], "bad confidence"),
    (["--webhook-stub", "[1]"], "--webhook-stub must be a JSON object or fail"),
])
def test_bad_simulator_arguments_exit_1_with_a_reason(capsys, args: list[str], message: str) -> None:
    code, out, err = simulate(capsys, str(PLANS / "order.yaml"), *args)
    assert code == 1 and message in err and out == ""


def test_validate_exit_codes(tmp_path: Path, capsys) -> None:
    assert main(["validate", *(str(p) for p in sorted(PLANS.glob("*.yaml")))]) == 0
    assert capsys.readouterr().out.count("OK ") == 5
    bad = tmp_path / "bad.yaml"
    bad.write_text((PLANS / "vote.yaml").read_text().replace("next: cast}", "next: end2}", 1))
    assert main(["validate", str(PLANS / "vote.yaml"), str(bad), str(PLANS / "order.yaml")]) == 1
    out = capsys.readouterr()
    assert out.out == f"OK {PLANS / 'vote.yaml'}\n"             # stops at the first invalid file
    line = bad.read_text().splitlines().index("      - {key: \"1\", words: [one, anna], value: anna, next: end2}") + 1
    assert out.err == f'{bad}:{line}: nodes.choose.choices[0].next: unknown node "end2"\n'
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["validate"])                                      # no file: a usage error
    assert info.value.code == 2


def test_ivr_simulate_as_a_process() -> None:
    run = subprocess.run([sys.executable, "-m", "ivr.cli", "simulate", str(PLANS / "vote.yaml"), "--channel", "sms",
                          "--input", "hello", "--input", "five", "--json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outcomes"] == [{"kind": "vote", "name": "talent", "value": "elena"}]
    missing = subprocess.run([sys.executable, "-m", "ivr.cli", "validate", "nowhere.yaml"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "nowhere.yaml: cannot read" in missing.stderr
