"""bench/soak.py in a short bounded run: it drives a real engine with SIPp and reports memory and file
descriptors at each sample point, exiting 0 when nothing grew."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.integration


def test_a_short_soak_reports_memory_and_descriptors() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--duration", "20", "--rate", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["calls"] == {"planned": 40, "successful": 40, "failed": 0}, report
    samples = {name: report[name] for name in ("ready", "start", "peak", "end")}
    for name, sample in samples.items():
        assert set(sample) == {"rss_kb", "fds"}, (name, sample)
        assert sample["rss_kb"] > 10_000 and sample["fds"] > 0, (name, sample)
    assert samples["start"]["fds"] > samples["ready"]["fds"]            # the start sample saw calls up
    assert samples["peak"]["rss_kb"] >= samples["start"]["rss_kb"]
    assert report["growth"] == {"rss_kb": samples["end"]["rss_kb"] - samples["start"]["rss_kb"],
                                "fds": samples["end"]["fds"] - samples["ready"]["fds"]}
    assert report["ok"] is True and report["growth"]["fds"] <= report["thresholds"]["fds"]
