"""A transfer node over a real call: the engine sends REFER and hangs up once it is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SIPP_DIR, run_sipp, start_engine

pytestmark = pytest.mark.integration

SUPPORT = """
id: support-line
name: Support line
numbers: {voice: ["4444"]}
start: menu
nodes:
  menu:
    type: ask
    prompt: For an operator press 0.
    choices: [{key: "0", next: operator}]
    max_retries: bye
  operator:
    type: transfer
    target: "100"
    prompt: Connecting you to an operator.
    failure: sorry
  sorry: {type: end, text: No operator is free.}
  bye: {type: end, text: Goodbye.}
"""


def test_transfer_by_refer(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "support.yaml").write_text(SUPPORT)
    engine = start_engine(tmp_path, "--dialplans", str(plans))
    try:
        result = run_sipp(engine.sip, SIPP_DIR / "uac_transfer.xml", service="4444", timeout=40, workdir=tmp_path,
                          extra=("-trace_msg", "-message_file", str(tmp_path / "messages.log")))
        assert result.successful == 1, result.output
    finally:
        engine.stop()
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert ended[0]["path"] == ["menu", "operator"] and ended[0]["digits"] == "0"
