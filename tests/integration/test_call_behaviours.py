"""What real phones showed wrong (issue 14), each over real calls to a real `ivr serve`:

1. a finish key pressed after an entry completed belongs to it: the closing prompt is heard whole (SIPp
   with RFC 4733 keys and with SIP INFO keys; pyVoIP with in-band keys, hearing the prompt to its end);
2. an INVITE without SDP is answered with our offer and the ACK's answer (an ACK without one: BYE);
3. hold pauses the question and its timeout, and the prompt resumes where it stopped;
4. a caller hanging up before the flow's end is `abandoned` in the API, the CSV, the metrics;
5. the demo order and branch-alert lines work out of the box (the node's demo business API);
6. the Server header can be turned off.
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import time
from pathlib import Path

import pytest

from ivr.flow.loader import load_file
from ivr.media import g711
from ivr.media.prompt_cache import PromptRequest, fixed_parts

from .api.conftest import Api, make_key, wait_for
from .conftest import ROOT, SIPP_DIR, cached_prompt, run_sipp, start_engine, stored_outcomes
from .sipp_keys import write_keys_pcap
from .test_pyvoip_call import expected_prompt, find_prompt, from_pyvoip, samples, silence, tone
from .test_sms import sms
from ..support.caller import Caller, locate
from ..support.pyvoip import PHONE, pyvoip_call, talking

pytestmark = pytest.mark.integration

DEMOS = {path.stem: load_file(path) for path in (ROOT / "dialplans").glob("*.yaml")}
KEY_APART = 0.35             # seconds between the starts of two presses in keys.pcap
KEY_HEARD = 0.1              # from a press's start to its end packet (when the engine takes the digit)
MARGIN = 0.4                 # what a busy machine may add before the engine's BYE


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """The demo campaigns as `make serve` runs them (no --var, no --allow-private-webhooks); phones may
    register (pyVoIP insists)."""
    engine = start_engine(tmp_path_factory.mktemp("behaviours"), "--accept-register")
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def hold_node(tmp_path_factory):
    """The test campaigns (tests/integration/dialplans), without a Server header."""
    engine = start_engine(tmp_path_factory.mktemp("hold"), "--server-header", "off",
                          dialplans=ROOT / "tests" / "integration" / "dialplans")
    yield engine
    engine.stop()


def seconds(text: str) -> float:
    """How long the engine's prompt saying `text` plays."""
    return len(cached_prompt(text, g711.PCMU)) / 8000


def ended(engine, caller_prefix: str) -> list[dict]:
    return [r for r in engine.call_records() if r["event"] == "call_ended" and r["from"].startswith(caller_prefix)]


# -- 1. the finish key and the closing prompt ------------------------------------------------------------


def test_a_hash_after_the_six_digit_code_leaves_the_closing_prompt_whole(node, tmp_path: Path) -> None:
    """7777 over RFC 4733: the code, then # as the prompt asks. The closing prompt starts when the sixth
    digit completes the entry; SIPp listens for as long as it plays (minus a margin), and a BYE in that
    time fails the call."""
    keys = "104729#"
    write_keys_pcap(tmp_path / "keys.pcap", keys, apart=KEY_APART)
    sixth = 5 * KEY_APART + KEY_HEARD
    listen = sixth + seconds(DEMOS["raffle"].nodes["entered"]["text"]) - MARGIN
    result = run_sipp(node.sip, SIPP_DIR / "uac_keys_then_closing_prompt.xml", service="7777", timeout=40,
                      workdir=tmp_path, extra=("-d", str(int(listen * 1000))))
    assert result.successful == 1, result.output
    [call] = ended(node, "+1555")
    assert (call["digits"], call["path"], call["cause"]) == (keys, ["ask_code", "redeem", "entered"], "flow_end")


def test_a_hash_by_sip_info_after_the_branch_code_leaves_the_closing_prompt_whole(node, tmp_path: Path) -> None:
    """2525 over SIP INFO, keys 0.5 s apart: the # comes 0.5 s after the third digit completed the entry.
    The closing prompt names the branch (made during the call): SIPp listens for its first fixed part."""
    first = fixed_parts(PromptRequest(text=DEMOS["alert"].nodes["done"]["text"], language="en"))[0]
    listen = seconds(first.text) - 0.5 - MARGIN
    result = run_sipp(node.sip, SIPP_DIR / "uac_info_keys_then_closing_prompt.xml", service="2525", timeout=40,
                      workdir=tmp_path, extra=("-key", "d1", "0", "-key", "d2", "1", "-key", "d3", "2",
                                               "-d", str(int(listen * 1000))))
    assert result.successful == 1, result.output
    [call] = ended(node, "+1556")
    assert (call["digits"], call["path"][-1], call["cause"]) == ("012#", "done", "flow_end")


def test_pyvoip_hears_the_closing_prompt_to_its_last_word_after_code_and_hash(node) -> None:
    """pyVoIP keys in a code and # as in-band tones, and hears "Your code is entered in the draw. Good luck!"
    to its end before the engine hangs up."""
    heard = bytearray()
    with pyvoip_call(node.sip_port, "7777") as call:
        time.sleep(1.0)
        call.write_audio(b"".join(tone(key, 0.12) + silence(0.25) for key in "130817#"))   # sent at 8 kHz
        deadline = time.monotonic() + 20
        while talking(call) and time.monotonic() < deadline:
            heard += call.read_audio(160, blocking=True)
        assert not talking(call), "the engine should hang up after the closing prompt"
    prompt = expected_prompt(DEMOS["raffle"].nodes["entered"]["text"])
    tail = prompt[-int(1.5 * 8000):]                          # its last 1.5 s: what a cut prompt loses
    audio = samples(from_pyvoip(bytes(heard)))
    assert len(audio) > len(tail), f"the call ended after {len(audio) / 8000:.2f} s of audio: the prompt was cut"
    _, similarity = find_prompt(audio, tail)
    assert similarity > 0.9, f"the end of the closing prompt was not heard (correlation {similarity:.2f})"
    [record] = [r for r in ended(node, PHONE) if r["number"] == "7777"]
    assert record["path"] == ["ask_code", "redeem", "entered"] and record["digits"].startswith("130817")


# -- 2. delayed offer ------------------------------------------------------------------------------------


def test_an_invite_without_sdp_gets_our_offer_and_the_call_goes_on_with_the_acks_answer(node, tmp_path: Path) -> None:
    result = run_sipp(node.sip, SIPP_DIR / "uac_delayed_offer.xml", service="3838", timeout=40, workdir=tmp_path)
    assert result.successful == 1, result.output
    [call] = ended(node, "+1557")
    assert (call["digits"], call["path"][-1], call["cause"], call["disposition"]) == (
        "1", "thanks", "flow_end", "completed")


def test_an_ack_without_an_answer_to_our_offer_gets_a_bye(node, tmp_path: Path) -> None:
    result = run_sipp(node.sip, SIPP_DIR / "uac_delayed_offer_no_answer.xml", service="3838", timeout=20,
                      workdir=tmp_path)
    assert result.successful == 1, result.output
    [call] = ended(node, "+1558")
    assert (call["cause"], call["disposition"], call["path"]) == ("bad_sdp_answer", "bad_sdp_answer", [])


# -- 3. hold ---------------------------------------------------------------------------------------------


def test_hold_pauses_the_question_and_its_wait_for_a_key(hold_node, tmp_path: Path) -> None:
    """Held 8 s during a question that waits 3 s for a key: it neither times out nor ends while held; the
    key pressed after unhold answers it."""
    result = run_sipp(hold_node.sip, SIPP_DIR / "uac_hold_during_question.xml", service="6464", timeout=40,
                      workdir=tmp_path)
    assert result.successful == 1, result.output
    [call] = ended(hold_node, "+1559")
    assert (call["path"], call["digits"], call["disposition"]) == (["question", "here"], "1", "completed")


def test_after_hold_the_prompt_goes_on_from_where_it_stopped(hold_node) -> None:
    """A phone holds 0.6 s into the question for 2 s: it gets no audio while held, and what it hears over
    the whole call is the question's audio in one piece, nothing of it skipped."""
    question = cached_prompt("Press 1 if you are still on the line.", g711.PCMU)

    async def call() -> int:
        async with Caller(("127.0.0.1", hold_node.sip_port), "6464", caller_id="+15561001") as phone:
            await phone.dial()
            await asyncio.sleep(0.6)
            held = await phone.reinvite("sendonly")
            assert held.status == 200 and b"a=recvonly" in held.body
            await asyncio.sleep(0.3)                              # what was on its way
            count = len(phone.received)
            await asyncio.sleep(2.0)
            during = len(phone.received) - count
            assert (await phone.reinvite("sendrecv")).status == 200
            await phone.wait_until(lambda r: locate(r, question) is not None, timeout=10)
            await phone.hang_up()
            return during
    assert asyncio.run(call()) == 0, "RTP sent while held"


def test_the_server_header_can_be_turned_off(hold_node, node) -> None:
    def options(engine) -> bytes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(5)
            port = sock.getsockname()[1]
            sock.sendto((f"OPTIONS sip:3838@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKsrv\r\n"
                         "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:3838@127.0.0.1>\r\nCall-ID: server-header\r\n"
                         "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                        ("127.0.0.1", engine.sip_port))
            return sock.recvfrom(65535)[0]
    assert b"\r\nServer: ivr/0.1\r\n" in options(node)
    quiet = options(hold_node)
    assert quiet.startswith(b"SIP/2.0 200") and b"\r\nServer:" not in quiet


# -- 4. a hang-up before the end is abandoned ------------------------------------------------------------


def test_a_caller_hanging_up_during_a_prompt_is_abandoned_everywhere(node, tmp_path: Path) -> None:
    result = run_sipp(node.sip, SIPP_DIR / "uac_hangup_during_prompt.xml", service="3838", timeout=20,
                      workdir=tmp_path)
    assert result.successful == 1, result.output
    [record] = ended(node, "+1560")
    assert (record["disposition"], record["cause"]) == ("abandoned", "remote_bye")
    assert node.metrics()['ivr_calls_total{disposition="abandoned"}'] >= 1
    api, key = Api(node), make_key(node, "demo", "operator")
    caller = record["from"].replace("+", "%2B")
    [call] = wait_for(lambda: api("GET", f"/api/calls?caller={caller}&disposition=abandoned", key).json()["calls"])
    assert (call["disposition"], call["cause"], call["last_node"]) == ("abandoned", "remote_bye", "choose")
    assert api("GET", f"/api/calls?caller={caller}&disposition=completed", key).json()["total"] == 0
    rows = list(csv.DictReader(io.StringIO(api("GET", f"/api/calls.csv?caller={caller}", key).body.decode())))
    assert [(r["disposition"], r["cause"]) for r in rows] == [("abandoned", "remote_bye")]


# -- 5. the demos out of the box -------------------------------------------------------------------------


def test_order_status_and_branch_alert_work_out_of_the_box(node, tmp_path: Path) -> None:
    """No business API of our own, no --allow-private-webhooks: the node's demo API answers both lines,
    by voice and by SMS."""
    from .sipp_keys import key_scenario

    scenario = key_scenario(tmp_path / "order.xml", [(2.0, "12345#")], caller="+15702001")
    assert run_sipp(node.sip, scenario, service="1414", timeout=40, workdir=tmp_path).successful == 1
    (tmp_path / "alert").mkdir()
    scenario = key_scenario(tmp_path / "alert" / "alert.xml", [(2.0, "034#")], caller="+15702002")
    assert run_sipp(node.sip, scenario, service="2525", timeout=40, workdir=tmp_path / "alert").successful == 1
    assert [r["path"][-1] for r in ended(node, "+157020")] == ["status", "done"]
    assert sms(node, "+15702003", "1414", "4242", "demo-1")[1]["replies"][-1] == "Order 4242 is out for delivery."
    outcomes = {(caller, name, value) for caller, _, name, value in stored_outcomes(node)}
    assert {("+15702001", "order_status", "shipped"), ("+15702002", "branch_alerted", "034")} <= outcomes
    assert "demo branch alert: Operators needed: Operators needed in branch 034 (reported by +15702002)." in node.log()
    status, body = node.http_get("/demo/orders/7")
    assert (status, body) == (200, b'{"order": "7", "status": "delivered"}')


def test_the_demo_api_is_not_served_without_the_demo_campaigns(hold_node) -> None:
    assert hold_node.http_get("/demo/orders/7")[0] == 404
