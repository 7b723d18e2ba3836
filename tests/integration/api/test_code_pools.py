"""Code pools over the HTTP API of a real engine: files of codes streamed in (gzip, CSV), imported in the
background with progress, duplicates and malformed lines reported by line, nothing of a failed import
kept, more appended later; campaigns redeem from a pool by name and hand codes out of one by SMS."""

from __future__ import annotations

import gzip
import json
import random
import sqlite3
from datetime import datetime, timezone
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ..conftest import ROOT, run_sipp, start_engine
from ..sipp_keys import key_scenario
from ..test_sms import sms
from .conftest import Api, lease, make_key, wait_for

pytestmark = pytest.mark.integration

CODES = 10_000
REDEEM = """id: receipts-promo
name: Receipts promo
numbers: {sms: ["7100"]}
start: ask
nodes:
  ask: {type: ask, prompt: Send the code from your receipt., save_as: code, next: redeem}
  redeem: {type: code, pool: receipts, value: "{{code}}", next: ok, used: used, invalid: invalid}
  ok: {type: end, text: Code accepted.}
  used: {type: end, text: Code used already.}
  invalid: {type: end, text: No such code.}
"""
DISCOUNT = """id: discount
name: Discount after the survey
numbers: {sms: ["7200"]}
start: q
nodes:
  q:
    type: ask
    prompt: Did you like the shop? Reply yes or no.
    choices: [{words: ["yes"], next: give}, {words: ["no"], next: give}]
  give:
    type: issue
    pool: discounts
    name: discount
    text: "Your discount code is {{issued.discount}}."
    next: bye
    exhausted: none_left
  bye: {type: end, text: "Show {{issued.discount}} at the till."}
  none_left: {type: end, text: "Sorry, all discount codes are given out."}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pools")
    engine = start_engine(tmp)
    keys = {"brand": make_key(engine, "brand", "business"), "rival": make_key(engine, "rival", "business"),
            "admin": make_key(engine, "ops", "admin")}
    for number in ("7100", "7200", "7201"):                # the numbers brand's campaigns name
        lease(engine, "brand", number)
    try:
        yield SimpleNamespace(engine=engine, api=Api(engine), keys=keys, tmp=tmp)
    finally:
        engine.stop()


def codes_file(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [f"{rnd.randrange(10**9):09d}" for _ in range(count)]


def follow(world, pool: str, import_id: int, key: str) -> list[dict]:
    """Every `progress` event of an import until it ends."""
    events: list[dict] = []
    reply = world.api("GET", f"/api/code-pools/{pool}/imports/{import_id}/progress", key)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/event-stream")
    for block in reply.body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "progress":
            events.append(json.loads(lines["data"]))
    return events


def test_a_gzip_file_of_codes_is_imported_with_problems_by_line(world) -> None:
    codes = codes_file(CODES, 1)
    lines = codes[:100] + ["  " + codes[5] + "  ", "not a code!", ""] + codes[100:] + [codes[7], "x" * 65]
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    reply = world.api("POST", "/api/code-pools/receipts/imports?filename=receipts.txt.gz", world.keys["brand"],
                      text=body, content_type="application/gzip")
    assert reply.status == 202, reply.body
    started = reply.json()
    assert reply.headers["Location"] == f"/api/code-pools/receipts/imports/{started['id']}"
    events = follow(world, "receipts", started["id"], world.keys["brand"])
    done = events[-1]
    assert done["state"] == "committed", done
    assert (done["lines"], done["added"], done["duplicates"], done["malformed"]) == (len(lines), CODES, 2, 2)
    assert [(p["line"], p["kind"]) for p in done["problems"]] == [
        (101, "duplicate"), (102, "malformed"), (len(lines) - 1, "duplicate"), (len(lines), "malformed")]
    assert done["problems"][1]["text"] == "not a code!" and done["filename"] == "receipts.txt.gz"
    assert done["bytes_read"] == done["bytes_total"] == len(body)
    pool = world.api("GET", "/api/code-pools/receipts", world.keys["brand"]).json()
    assert (pool["codes"], pool["redeemed"], pool["imports"][0]["id"]) == (CODES, 0, started["id"])
    # more codes later, as CSV with a header naming the column: only the new ones are added
    more = ["number;code"] + [f"{n};{c}" for n, c in enumerate(codes[-5:] + ["ABC-1", "ABC-2"])]
    reply = world.api("POST", "/api/code-pools/receipts/imports", world.keys["brand"], text="\n".join(more),
                      content_type="text/csv")
    done = follow(world, "receipts", reply.json()["id"], world.keys["brand"])[-1]
    assert (done["state"], done["added"], done["duplicates"]) == ("committed", 2, 5)
    assert [p["line"] for p in done["problems"]] == [2, 3, 4, 5, 6]
    assert world.api("GET", "/api/code-pools", world.keys["brand"]).json()[0]["codes"] == CODES + 2
    assert world.api("GET", "/api/code-pools", world.keys["rival"]).json() == []          # another tenant's
    assert world.api("GET", "/api/code-pools/receipts", world.keys["rival"]).status == 404


def test_a_file_that_breaks_halfway_leaves_nothing(world) -> None:
    good = gzip.compress(("\n".join(f"B{code}" for code in codes_file(60_000, 2)) + "\n").encode())
    cut = len(good) * 3 // 4                                       # past the first batches of the import
    damaged = good[:cut] + b"\x00garbage" * 10 + good[cut:]
    reply = world.api("POST", "/api/code-pools/fragile/imports", world.keys["brand"], text=damaged,
                      content_type="application/gzip")
    done = follow(world, "fragile", reply.json()["id"], world.keys["brand"])[-1]
    assert done["state"] == "failed" and "cannot be read after line" in done["error"]
    assert done["added"] > 0                                       # some batches were written, then taken back
    assert world.api("GET", "/api/code-pools/fragile", world.keys["brand"]).json()["codes"] == 0
    db = world.engine.db_url.removeprefix("sqlite:///")
    left = subprocess.run([sys.executable, "-c", f"import sqlite3; print(sqlite3.connect({db!r}).execute("
                           f"'SELECT count(*) FROM pool_codes WHERE import_id = {done['id']}').fetchone()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert left == "0"                                             # purged, not only hidden


def test_bad_requests_are_refused_with_reasons(world) -> None:
    key = world.keys["brand"]
    assert world.api("POST", "/api/code-pools/bad name!/imports", key, text="A1", content_type="text/plain"
                     ).status == 400
    assert world.api("POST", "/api/code-pools/x/imports", key, text="A1", content_type="image/png").status == 415
    assert world.api("POST", "/api/code-pools/x/imports", key, text="", content_type="text/plain").status == 400
    assert world.api("POST", "/api/code-pools/x/imports?format=xml", key, text="A", content_type="text/plain"
                     ).status == 400
    assert world.api("GET", "/api/code-pools/receipts/imports/999999", key).status == 404
    # two imports of the tenant running (as if two large files were on their way in): a third waits
    db = world.engine.db_url.removeprefix("sqlite:///")
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    assert world.api("PUT", "/api/code-pools/busy-pool", key).json()["codes"] == 0
    with sqlite3.connect(db) as conn:
        pool_id = conn.execute("SELECT id FROM code_pools WHERE name = 'busy-pool'").fetchone()[0]
        ids = [conn.execute("INSERT INTO code_imports (pool_id, state, filename, bytes_total, bytes_read, lines, added, "
                            "duplicates, malformed, problems, started_at, heartbeat_at) VALUES "
                            "(?, 'running', 'big.txt', 0, 0, 0, 0, 0, 0, '[]', ?, ?)", (pool_id, now, now)).lastrowid
               for _ in range(2)]
    try:
        reply = world.api("POST", "/api/code-pools/other-pool/imports", key, text="A1", content_type="text/plain")
        assert reply.status == 429 and "wait for one to finish" in reply.json()["error"]
    finally:
        with sqlite3.connect(db) as conn:
            conn.executemany("UPDATE code_imports SET state = 'failed' WHERE id = ?", [(i,) for i in ids])


def test_a_campaign_redeems_from_its_tenants_pool_by_name(world) -> None:
    key = world.keys["brand"]
    missing = REDEEM.replace("pool: receipts", "pool: lost-pool")
    reply = world.api("POST", "/api/campaigns/receipts-promo/versions?activate=1", key, text=missing,
                      content_type="application/yaml")
    assert reply.status == 422 and reply.json()["issues"][0]["path"] == "nodes.redeem.pool"
    reply = world.api("POST", "/api/campaigns/receipts-promo/versions?activate=1", key, text=REDEEM,
                      content_type="application/yaml")
    assert reply.status == 201, reply.body
    code = codes_file(CODES, 1)[42]
    assert sms(world.engine, "+380501110001", "7100", code, "r1")[1]["replies"] == ["Code accepted."]
    assert sms(world.engine, "+380501110002", "7100", code, "r2")[1]["replies"] == ["Code used already."]
    broken = "B" + codes_file(60_000, 2)[0]                          # in the import that failed: never a code
    assert sms(world.engine, "+380501110002", "7100", broken, "r3")[1]["replies"] == ["No such code."]
    results = wait_for(lambda: world.api("GET", "/api/campaigns/receipts-promo/results", key).json()["codes"])
    assert results == {"receipts": {"codes": CODES + 2, "redeemed": 1}}


def test_a_campaign_hands_out_one_code_per_caller_until_the_pool_runs_dry(world) -> None:
    key = world.keys["brand"]
    reply = world.api("POST", "/api/code-pools/discounts/imports", key, text="SAVE-10A\nSAVE-10B\n",
                      content_type="text/plain")
    assert follow(world, "discounts", reply.json()["id"], key)[-1]["state"] == "committed"
    reply = world.api("POST", "/api/campaigns/discount/versions?activate=1", key, text=DISCOUNT,
                      content_type="application/yaml")
    assert reply.status == 201, reply.body

    def survey(caller: str, n: int) -> list[str]:
        sms(world.engine, caller, "7200", "hello", f"d{caller}{n}a")
        return sms(world.engine, caller, "7200", "yes", f"d{caller}{n}b")[1]["replies"]
    first = survey("+380671000001", 1)
    assert first[0].startswith("Your discount code is SAVE-10") and first[1].startswith("Show SAVE-10")
    code = first[0].removeprefix("Your discount code is ").rstrip(".")
    assert survey("+380671000001", 2)[0] == f"Your discount code is {code}."      # the same caller: the same code
    other = survey("+380671000002", 1)[0]
    assert other.startswith("Your discount code is SAVE-10") and code not in other
    assert survey("+380671000003", 1) == ["Sorry, all discount codes are given out."]
    results = world.api("GET", "/api/campaigns/discount/results", key).json()
    assert results["issued"] == {"discounts": {"codes": 2, "issued": 2}}


def test_cli_imports_a_file_and_lists_the_pool(world, tmp_path: Path) -> None:
    path = tmp_path / "cli.csv"
    path.write_text("code,shop\nCLI-1,Kyiv\nCLI-2,Lviv\nCLI-1,Odesa\n,Dnipro\n")
    run = subprocess.run([sys.executable, "-m", "ivr.cli", "codes", "import", "cli-pool", str(path), "--tenant",
                          "brand", "--db", world.engine.db_url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "line 4: duplicate" in run.stdout and "line 5: malformed" in run.stdout
    assert "2 codes added from 5 lines, 1 duplicates, 1 malformed" in run.stdout
    listed = subprocess.run([sys.executable, "-m", "ivr.cli", "codes", "list", "--tenant", "brand", "--db",
                             world.engine.db_url], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "cli-pool  2 codes  0 redeemed  0 handed out" in listed
    assert world.api("GET", "/api/code-pools/cli-pool", world.keys["brand"]).json()["codes"] == 2
    missing = subprocess.run([sys.executable, "-m", "ivr.cli", "codes", "import", "x", str(path), "--tenant", "nobody",
                              "--db", world.engine.db_url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "no tenant named 'nobody'" in missing.stderr


CALL = """id: code-by-phone
name: Code by phone
numbers: {voice: ["7201"]}
start: give
nodes:
  give: {type: issue, pool: phone-codes, name: code, text: "Your code is {{issued.code}}.", next: bye, exhausted: bye}
  bye: {type: end, text: Goodbye.}
"""


def test_a_call_hears_its_code_read_out_a_character_at_a_time(world) -> None:
    key = world.keys["brand"]
    reply = world.api("POST", "/api/code-pools/phone-codes/imports", key, text="K7Q2\n", content_type="text/plain")
    assert follow(world, "phone-codes", reply.json()["id"], key)[-1]["state"] == "committed"
    assert world.api("POST", "/api/campaigns/code-by-phone/versions?activate=1", key, text=CALL,
                     content_type="application/yaml").status == 201
    workdir = world.tmp / "call"
    workdir.mkdir()
    result = run_sipp(world.engine.sip, key_scenario(workdir / "listen.xml", [], caller="+380931234567"),
                      service="7201", timeout=60, workdir=workdir)
    assert result.successful == 1, result.output                   # heard it all, then the engine hung up
    calls = wait_for(lambda: world.api("GET", "/api/calls?campaign=code-by-phone&disposition=completed",
                                       key).json()["calls"])
    events = world.api("GET", f"/api/calls/{calls[0]['call_id']}", key).json()["events"]
    said = [e["data"]["text"] for e in events if e["kind"] == "prompt"]
    assert said == ["Your code is K, 7, Q, 2.", "Goodbye."]
    assert world.api("GET", "/api/code-pools/phone-codes", key).json()["issued"] == 1
