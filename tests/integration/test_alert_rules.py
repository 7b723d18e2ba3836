"""The Prometheus alert rules and the Grafana dashboard in docker/ name only series an engine exports: the
rules parse, each alert has what Alertmanager needs, and every `ivr_*` series an expression names is one a
real engine's /metrics declares (with samples, but for SMSC binds while the node has no SMS operator link).
The engine registers with a trunk nobody answers, so the trunk series has its sample (0: unregistered)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, free_port, start_engine

pytestmark = pytest.mark.integration

RULES = ROOT / "docker" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "docker" / "grafana" / "ivr-dashboard.json"
SERIES = re.compile(r"\b(ivr_[a-z0-9_]+)")
PROMETHEUS_OWN = re.compile(r'\bup\{job="ivr"\}')          # written by Prometheus for every scrape target
NO_SAMPLE_YET = {"ivr_smsc_bind_up"}                      # a sample per SMS operator link (issue 15)
ALERTS = {"IvrEngineDown", "IvrMediaClockDroppingTicks", "IvrStoreSpoolGrowing", "IvrTrunkUnregistered",
          "IvrSmscBindDown", "IvrWebhookFailureRate"}


def test_every_alert_and_panel_names_series_the_engine_exports(tmp_path: Path) -> None:
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    assert ALERTS <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("critical", "warning") and rule["annotations"]["summary"], rule
        assert SERIES.search(rule["expr"]) or PROMETHEUS_OWN.search(rule["expr"]), rule
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule
    panels = json.loads(DASHBOARD.read_text())["panels"]
    named = {name for rule in rules for name in SERIES.findall(rule["expr"])}
    named |= {name for panel in panels for target in panel["targets"] for name in SERIES.findall(target["expr"])}

    engine = start_engine(tmp_path, "--register", f"sip:127.0.0.1:{free_port()}", "--register-expires", "60")
    try:
        status, body = engine.http_get("/metrics")
    finally:
        engine.stop()
    assert status == 200
    text = body.decode()
    declared = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    sampled = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert named - declared == set(), f"named in docker/ but not exported: {named - declared}"
    assert named - NO_SAMPLE_YET - sampled == set(), f"exported without a sample: {named - NO_SAMPLE_YET - sampled}"
    trunk = re.search(r'^ivr_trunk_registered\{registrar="sip:127\.0\.0\.1:\d+"\} (\S+)$', text, re.M)
    assert trunk and float(trunk.group(1)) == 0, text
