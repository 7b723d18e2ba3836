"""/metrics after real SIPp calls: every series a monitoring system relies on is there with the value the
calls imply (calls by disposition, RTP both ways, keys, the store's queue and spool), and an optional
token keeps scrapers without it out."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from .api.conftest import wait_for
from .conftest import SIPP_DIR, run_sipp, start_engine

pytestmark = pytest.mark.integration

TOKEN = "scraper-token-for-tests"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
KEY_PCAP = Path("/usr/share/sip-tester/dtmf_2833_1.pcap")       # what uac_dtmf_wait_bye.xml plays
TICK = 0.020                                                     # one RTP packet per call and tick


def pcap_packets(path: Path) -> int:
    """Packets in a pcap file (classic format)."""
    data, offset, count = path.read_bytes(), 24, 0
    while offset + 16 <= len(data):
        offset += 16 + struct.unpack_from("<I", data, offset + 8)[0]
        count += 1
    return count


def test_metrics_count_what_real_calls_did(tmp_path: Path) -> None:
    engine = start_engine(tmp_path, "--max-calls", "3", "--metrics-token", TOKEN)
    try:
        assert engine.http_get("/metrics")[0] == 401
        assert engine.http_get("/metrics", {"Authorization": "Bearer wrong"})[0] == 401
        assert engine.http_get("/health")[0] == 200                        # load balancers need no token
        before = engine.metrics(SCRAPER)
        assert before["ivr_calls_total"] == 0 and before["ivr_rtp_packets_sent_total"] == 0

        # five callers at once, each pressing 1 after 2.5 s: three fit (--max-calls 3), two get 503
        result = run_sipp(engine.sip, SIPP_DIR / "uac_dtmf_wait_bye.xml", calls=5, concurrent=5, rate=100,
                          timeout=60, workdir=tmp_path)
        assert (result.successful, result.failed) == (3, 2), result.output

        def settled() -> dict[str, float] | None:
            now = engine.metrics(SCRAPER)
            idle = now["ivr_active_calls"] == 0 and now["ivr_store_queue_depth"] == 0
            return now if idle and now["ivr_store_rows_written"] > 0 else None
        metrics = wait_for(settled, timeout=20)
    finally:
        engine.stop()
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert len(ended) == 3 and all(r["cause"] == "flow_end" for r in ended), ended

    assert metrics["ivr_calls_offered_total"] == 5
    assert metrics["ivr_calls_answered_total"] == 3
    assert metrics['ivr_calls_total{disposition="completed"}'] == 3
    assert metrics['ivr_calls_total{disposition="over_capacity"}'] == 2
    assert metrics["ivr_rtp_packets_received_total"] == 3 * pcap_packets(KEY_PCAP)
    # the prompts play from answer to hang-up: at least the 2.5 s before the key; at most a packet a tick
    # of each call's life (plus half a second of ticks a late media clock may catch up on)
    sent = metrics["ivr_rtp_packets_sent_total"]
    assert 3 * 2.5 / TICK <= sent <= sum(r["duration"] / TICK + 25 for r in ended), (sent, ended)
    assert metrics["ivr_dtmf_events_total"] == 3 == sum(len(r["digits"]) for r in ended)
    assert metrics["ivr_sip_messages_received_total"] >= 5 + 3 + 3             # INVITEs, ACKs, 200s to BYE
    assert metrics['ivr_sip_messages_refused_total{reason="rate_limited"}'] == 0
    # every record written, nothing left waiting in the queue or the spool
    assert (metrics["ivr_store_queue_depth"], metrics["ivr_store_spool_records"]) == (0, 0)
    assert (metrics["ivr_store_online"], metrics["ivr_store_failures"]) == (1, 0)
