"""What /metrics and the node page read of the engine: refusal causes kept in step with the engine's, and
the SMSC link and trunk series rendered with escaped labels."""

from __future__ import annotations

import re
from pathlib import Path

from ivr.engine.metrics import REFUSALS, EngineMetrics, NodeStatus, TrunkState

ENGINE = Path(__file__).resolve().parents[2] / "ivr" / "engine"


def test_refusals_are_the_causes_the_engine_refuses_calls_with() -> None:
    causes = set(re.findall(r'_reject\(call, \d{3}, "([a-z_]+)"', (ENGINE / "engine.py").read_text()))
    causes |= set(re.findall(r'Refusal\(\d{3}, "([a-z_]+)"', (ENGINE / "admission.py").read_text()))
    assert causes == REFUSALS


def test_links_and_trunk_are_exported() -> None:
    metrics = EngineMetrics()
    status = NodeStatus(True, False, {}, {}, None, {}, {}, {"ok": 2, "failed": 1, "refused": 0},
                        TrunkState('sip:"odd"\\host', "failed", "timeout"), ())
    text = metrics.render({}, None, status)
    assert "# TYPE ivr_smsc_bind_up gauge" in text and "\nivr_smsc_bind_up{" not in text
    assert 'ivr_trunk_registered{registrar="sip:\\"odd\\"\\\\host"} 0' in text
    assert 'ivr_webhooks_total{result="failed"} 1' in text
    metrics.set_link("kyivstar-1", True)
    metrics.set_link("vodafone-1", False, "bind refused")
    text = metrics.render({}, None, NodeStatus(True, False, {}, {}, None, {}, {}, {}, None,
                                               tuple(metrics.links.values())))
    assert 'ivr_smsc_bind_up{link="kyivstar-1"} 1' in text and 'ivr_smsc_bind_up{link="vodafone-1"} 0' in text
