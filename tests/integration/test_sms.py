"""The same campaigns over SMS: POST /api/sms/inbound on a real engine, shared outcomes with voice."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from ivr.channels.webhooks import SIGNATURE_HEADER, verify

from .conftest import SMS_TOKEN, loopback_site, run_sipp, start_engine, stored_outcomes as outcomes
from .sipp_keys import key_scenario

pytestmark = pytest.mark.integration
SECRET = "sms-gateway-signing-secret"


def sms(engine, sender: str, to: str, text: str, message_id: str) -> tuple[int, dict]:
    return post(engine, "/api/sms/inbound", {"from": sender, "to": to, "text": text, "message_id": message_id})


def test_sms_conversation_survey(engine) -> None:
    status, first = sms(engine, "+15551111", "5050", "hello", "m1")
    assert status == 200
    assert first["replies"][0].startswith("Thank you for taking our three question survey")
    assert "how satisfied" in first["replies"][1]
    assert "recommend" in sms(engine, "+15551111", "5050", "4", "m2")[1]["replies"][0]
    assert "problem solved" in sms(engine, "+15551111", "5050", "five", "m3")[1]["replies"][0]
    assert sms(engine, "+15551111", "5050", "five", "m3")[1] == {"duplicate": True, "replies": []}
    done = sms(engine, "+15551111", "5050", "yes", "m4")[1]
    assert done["replies"] == ["Thank you for your answers. Goodbye."]
    assert sorted(o[2:] for o in outcomes(engine)) == [("recommend", "5"), ("satisfaction", "4"), ("solved", "yes")]


def test_vote_by_sms_then_by_phone_counts_once(engine, tmp_path: Path) -> None:
    status, reply = sms(engine, "+15552222", "3838", "2", "v1")
    assert status == 200 and reply["replies"] == ["Thank you, your vote for boris is counted. Goodbye."]
    scenario = key_scenario(tmp_path / "vote.xml", [(2.0, "4")], caller="+15552222")
    assert run_sipp(engine.sip, scenario, service="3838", timeout=40, workdir=tmp_path).successful == 1
    assert outcomes(engine) == [("+15552222", "vote", "talent", "boris")]
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert ended[-1]["path"][-1] == "already"


def test_bad_sms_requests(engine) -> None:
    assert sms(engine, "+1", "9999", "1", "x1")[0] == 404
    for auth, status in ((f"Bearer {SMS_TOKEN}", 400), ("", 401), ("Bearer wrong", 401), (SMS_TOKEN, 401)):
        req = urllib.request.Request(f"http://127.0.0.1:{engine.http_port}/api/sms/inbound", data=b"not json",
                                     headers={"Content-Type": "application/json", "Authorization": auth})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=10)
        assert info.value.code == status
        assert "error" in json.loads(info.value.read())


def test_per_caller_daily_limit(engine) -> None:
    """The survey allows three sessions a day per caller; the fourth is turned away."""
    for n in range(3):
        assert "how satisfied" in sms(engine, "+15553333", "5050", "hi", f"l{n}a")[1]["replies"][1]
        sms(engine, "+15553333", "5050", "1", f"l{n}b")
        sms(engine, "+15553333", "5050", "1", f"l{n}c")
        assert sms(engine, "+15553333", "5050", "yes", f"l{n}d")[1]["replies"] == [
            "Thank you for your answers. Goodbye."]
    assert sms(engine, "+15553333", "5050", "hi", "l4")[1]["replies"] == [
        "You have already taken this survey three times today. Thank you!"]


def test_raffle_code_by_sms_then_by_phone_is_used(engine, tmp_path: Path) -> None:
    assert sms(engine, "+15553333", "7777", "104729", "r1")[1]["replies"] == [
        "Your code is entered in the draw. Good luck!"]
    assert sms(engine, "+15553334", "7777", "12", "r2")[1]["replies"][-1] == (
        "Send the six digit code from your receipt.")          # the SMS wording, not "key in ... press hash"
    assert sms(engine, "+15553334", "7777", "12", "r3")[1]["replies"] == ["A code has six digits. Please try again."]
    assert sms(engine, "+15553334", "7777", "123456", "r4")[1]["replies"] == ["Sorry, this code is not valid."]
    scenario = key_scenario(tmp_path / "raffle.xml", [(2.0, "104729#")], caller="+15553335")
    assert run_sipp(engine.sip, scenario, service="7777", timeout=40, workdir=tmp_path).successful == 1
    ended = [r for r in engine.call_records() if r["event"] == "call_ended"]
    assert ended[-1]["path"][-1] == "used"
    assert [o[1:] for o in outcomes(engine)] == [("code", "receipts", "104729")]
    assert sms(engine, "+15553336", "7777", "Мій код 104729, дякую", "r6")[1]["replies"] == [
        "This code has already been used."]                     # the code found inside the sentence


def test_replies_go_to_the_http_gateway_signed_retried_and_receipted(tmp_path: Path) -> None:
    """--sms-outbound: each reply is POSTed to the SMS gateway (a stub on loopback) with its id, part count and
    a signature; a gateway answering 503 gets the message again after a backoff; its delivery report makes
    the message "delivered"."""
    received: list[tuple[dict, bool]] = []
    refused_once: set[str] = set()

    async def outbound(request: web.Request) -> web.Response:
        raw = await request.read()
        message = json.loads(raw)
        received.append((message, verify(SECRET, request.headers.get(SIGNATURE_HEADER, ""), raw)))
        if message["to"] == "+15558002" and message["id"] not in refused_once:
            refused_once.add(message["id"])
            return web.json_response({}, status=503)
        return web.json_response({})

    async def run() -> tuple[list[tuple[int, dict]], tuple[int, dict], tuple[int, dict]]:
        app = web.Application()
        app.router.add_post("/sms", outbound)
        async with loopback_site(app) as port:
            engine = await asyncio.to_thread(start_engine, tmp_path, "--sms-outbound", f"http://127.0.0.1:{port}/sms",
                                             "--sms-outbound-secret", SECRET)
            try:
                answers = [await asyncio.to_thread(sms, engine, *message) for message in (
                    ("+15558001", "5050", "hello", "o1"), ("+15558001", "5050", "4", "o2"),
                    ("+15558001", "5050", "4", "o2"), ("+15558002", "3838", "2", "o3"))]
                for _ in range(100):                       # the refused one comes again after its backoff
                    if len(received) >= 5:
                        break
                    await asyncio.sleep(0.1)
                first = received[0][0]["id"]
                report = await asyncio.to_thread(post, engine, "/api/sms/receipts", {"id": first, "state": "delivered"})
                unknown = await asyncio.to_thread(post, engine, "/api/sms/receipts",
                                                  {"id": "nope", "state": "delivered"})
                return answers, report, unknown
            finally:
                await asyncio.to_thread(engine.stop)
    (opened, answered, duplicate, refused), report, unknown = asyncio.run(run())
    assert opened[0] == 200 and len(opened[1]["replies"]) == 2 and "how satisfied" in opened[1]["replies"][1]
    assert answered[1]["replies"] == ["How likely are you to recommend us, from 1 to 5?"]
    assert duplicate[1] == {"duplicate": True, "replies": []}
    assert refused[0] == 200 and refused[1]["replies"] == ["Thank you, your vote for boris is counted. Goodbye."]
    assert all(signed for _, signed in received)
    texts = [(m["from"], m["to"], m["text"], m["parts"]) for m, _ in received]
    expected = [("5050", "+15558001", text, 1) for text in opened[1]["replies"] + answered[1]["replies"]]
    assert sorted(texts) == sorted(expected + [("3838", "+15558002", refused[1]["replies"][0], 1)] * 2)
    assert [m["id"] for m, _ in received if m["to"] == "+15558002"] == refused[1]["ids"] * 2   # the same id again
    assert report == (200, {"id": received[0][0]["id"], "state": "delivered"})
    assert unknown[0] == 404


def post(engine, path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{engine.http_port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {SMS_TOKEN}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
