"""Who may use which endpoint: API keys (from `ivr keys`), roles, and tenant isolation on every endpoint.

One engine for the module; tenant "demo" owns the demo campaigns (seeded from dialplans/) and one real
vote call; tenant "other" uploads a voice message campaign over the API and leaves one real recorded
call. Each tenant's keys are then turned against the other's campaign, versions, calls, numbers and
recordings: 404 (409 for a number), never its data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivr.engine.config import EngineConfig
from ivr.web.api import ROUTES
from ivr.web.api.core import MAX_BODY
from ivr.web.app import create_app

from ..conftest import ROOT, SIPP_DIR, run_sipp, start_engine
from ..test_voice_message import MESSAGES
from .conftest import Api, make_key, vote_call, wait_for

pytestmark = pytest.mark.integration

VOTE = (ROOT / "dialplans" / "vote.yaml").read_text()


def tone_wav(path: Path, frequency: int) -> bytes:
    """A one-second tone as a 16 kHz WAV file (made by ffmpeg), its bytes."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=f={frequency}:d=1:r=16000", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    engine = start_engine(tmp)
    api = Api(engine)
    keys = {(tenant, role): make_key(engine, tenant, role)
            for tenant in ("demo", "other") for role in ("business", "operator")}
    keys["admin"] = make_key(engine, "ops", "admin")
    try:
        vote_call(engine, tmp / "vote", "+15551001", "3")
        other = next(t["id"] for t in api("GET", "/api/tenants", keys["admin"]).json() if t["name"] == "other")
        assert api("POST", "/api/inventory", keys["admin"], json_body={"number": "6060"}).status == 201
        assert api("POST", "/api/inventory/6060/leases", keys["admin"], json_body={
            "tenant_id": other, "starts_on": "2025-01-01", "channels": "voice"}).status == 201
        reply = api("POST", "/api/campaigns/message-line/versions?activate=1", keys["other", "business"],
                    text=MESSAGES, content_type="application/yaml")
        assert reply.status == 201, reply.body
        result = run_sipp(engine.sip, SIPP_DIR / "uac_voice_message.xml", service="6060", timeout=40,
                          workdir=tmp)
        assert result.successful == 1, result.output

        def calls_of(tenant: str) -> list[dict]:
            return api("GET", "/api/calls?disposition=completed", keys[tenant, "operator"]).json()["calls"]
        demo_call = wait_for(lambda: calls_of("demo"))[0]
        other_call = wait_for(lambda: calls_of("other"))[0]
        detail = wait_for(lambda: api("GET", f"/api/calls/{other_call['call_id']}",
                                      keys["other", "operator"]).json()["recordings"])
        reply = api("PUT", "/api/campaigns/talent-vote/recordings/jingle", keys["demo", "business"],
                    text=tone_wav(tmp / "jingle.wav", 440), content_type="audio/wav")
        assert reply.status == 200, reply.body
        imported = api("POST", "/api/code-pools/demo-codes/imports", keys["demo", "business"], text="A1\nB2\n",
                       content_type="text/plain")
        assert imported.status == 202, imported.body
        packed = api("PUT", "/api/voice-packs/demo-voice/words/ваш", keys["demo", "business"],
                     text=tone_wav(tmp / "word.wav", 330), content_type="audio/wav")
        assert packed.status == 200, packed.body
        outbound = api("POST", "/api/outbound", keys["demo", "business"], json_body={
            "campaign_id": "talent-vote", "name": "reminder", "channel": "voice", "number": "3838"})
        assert outbound.status == 201, outbound.body
        assert api("POST", f"/api/outbound/{outbound.json()['id']}/audience", keys["demo", "business"],
                   text="number\n+380501110001\n", content_type="text/csv").json()["added"] == 1
        yield SimpleNamespace(demo_outbound=outbound.json()["id"], engine=engine, api=api, keys=keys,
                              demo_call=demo_call["call_id"], other_call=other_call["call_id"], recording=detail[0]["id"], tmp=tmp,
                              jingle=reply.json(), demo_import=imported.json()["id"])
    finally:
        engine.stop()


def test_keys_cli_prints_a_working_key(world) -> None:
    reply = world.api("GET", "/api/me", world.keys["demo", "business"])
    assert reply.status == 200
    assert reply.json() | {"tenant_id": None} == {"tenant_id": None, "tenant": "demo", "role": "business"}
    assert world.api("GET", "/api/me", world.keys["admin"]).json()["role"] == "admin"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer ivr_0123456789ab_"
                                    + "x" * 40])
def test_no_valid_key_is_401_json(world, header: str | None) -> None:
    reply = world.api("GET", "/api/campaigns", headers={"Authorization": header} if header else {})
    assert reply.status == 401
    assert "error" in reply.json()


def test_a_known_key_id_with_a_wrong_secret_and_a_revoked_key_are_401(world) -> None:
    key = make_key(world.engine, "demo", "business")
    key_id = key.split("_")[1]
    assert world.api("GET", "/api/me", key).status == 200
    assert world.api("GET", "/api/me", key[:-4] + "AAAA").status == 401
    listed = subprocess.run([sys.executable, "-m", "ivr.cli", "keys", "list", "--tenant", "demo", "--db",
                             world.engine.db_url], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert key_id in listed and key not in listed
    subprocess.run([sys.executable, "-m", "ivr.cli", "keys", "revoke", key_id, "--db", world.engine.db_url],
                   cwd=ROOT, capture_output=True, check=True)
    reply = world.api("GET", "/api/me", key)
    assert reply.status == 401 and "error" in reply.json()


FORBIDDEN = [
    ("operator", "POST", "/api/dialplans/validate"),
    ("operator", "POST", "/api/campaigns/talent-vote/versions"),
    ("operator", "GET", "/api/campaigns/talent-vote/versions"),
    ("operator", "POST", "/api/campaigns/talent-vote/activate"),
    ("operator", "POST", "/api/campaigns/talent-vote/simulate"),
    ("operator", "GET", "/api/numbers"),
    ("operator", "PUT", "/api/numbers/3838"),
    ("operator", "PUT", "/api/campaigns/talent-vote/recordings/jingle"),
    ("operator", "GET", "/api/campaigns/talent-vote/recordings"),
    ("business", "GET", "/api/calls/active"),
    ("operator", "POST", "/api/campaigns/talent-vote/pause"),
    ("operator", "POST", "/api/campaigns/talent-vote/end"),
    ("operator", "DELETE", "/api/campaigns/talent-vote"),
    ("operator", "POST", "/api/campaigns/talent-vote/draws"),
    ("operator", "POST", "/api/campaigns/talent-vote/draws/x/winners"),
    ("operator", "GET", "/api/code-pools"),
    ("operator", "POST", "/api/code-pools/receipts/imports"),
    ("business", "GET", "/api/tenants"),
    ("operator", "POST", "/api/tenants"),
    ("business", "POST", "/api/tenants/x/keys"),
    ("operator", "DELETE", "/api/keys/x"),
    ("business", "POST", "/api/contacts/erase"),
    ("operator", "POST", "/api/contacts/erase"),
    ("operator", "GET", "/api/leases"),
    ("operator", "GET", "/api/tariffs"),
    ("operator", "GET", "/api/statement"),
    ("operator", "GET", "/api/statement.csv"),
    ("operator", "GET", "/api/campaigns/talent-vote/money"),
    ("operator", "GET", "/api/campaigns/talent-vote/money.csv"),
    ("business", "GET", "/api/inventory"),
    ("business", "POST", "/api/inventory"),
    ("business", "PATCH", "/api/inventory/3838"),
    ("business", "DELETE", "/api/inventory/3838"),
    ("business", "POST", "/api/inventory/3838/leases"),
    ("business", "POST", "/api/leases/1/end"),
    ("business", "POST", "/api/tariffs"),
    ("business", "DELETE", "/api/tariffs/1"),
    ("business", "GET", "/api/statements"),
]


@pytest.mark.parametrize("role, method, path", FORBIDDEN)
def test_a_role_outside_the_endpoint_is_403(world, role: str, method: str, path: str) -> None:
    reply = world.api(method, path, world.keys["demo", role], json_body={})
    assert reply.status == 403, reply.body
    assert "error" in reply.json()


def _isolation_table(w) -> list[tuple[str, str, str, str, dict | str | bytes | None]]:
    """(route name, attacker tenant, role, method+path, body) aimed at the victim's resources."""
    call, rec = w.demo_call, w.recording
    return [
        ("upload_recording", "other", "business", "PUT /api/campaigns/talent-vote/recordings/jingle",
         tone_wav(w.tmp / "forged.wav", 880)),
        ("list_recordings", "other", "business", "GET /api/campaigns/talent-vote/recordings", None),
        ("list_versions", "other", "business", "GET /api/campaigns/talent-vote/versions", None),
        ("get_version", "other", "business", "GET /api/campaigns/talent-vote/versions/1", None),
        ("upload_version", "other", "business", "POST /api/campaigns/talent-vote/versions?activate=1", VOTE),
        ("activate", "other", "business", "POST /api/campaigns/talent-vote/activate", {"version": 1}),
        ("simulate", "other", "business", "POST /api/campaigns/talent-vote/simulate", {"inputs": ["3"]}),
        ("results", "other", "business", "GET /api/campaigns/talent-vote/results", None),
        ("live", "other", "business", "GET /api/campaigns/talent-vote/live", None),
        ("campaign_diagram", "other", "business", "GET /api/campaigns/talent-vote/diagram", None),
        ("flow", "other", "operator", "GET /api/campaigns/talent-vote/flow?version=all", None),
        ("flow_live", "other", "business", "GET /api/campaigns/talent-vote/flow/live", None),
        ("outcomes_csv", "other", "operator", "GET /api/campaigns/talent-vote/outcomes.csv", None),
        ("release_number", "other", "business", "DELETE /api/numbers/3838", None),
        ("campaign_money", "other", "business", "GET /api/campaigns/talent-vote/money", None),
        ("campaign_money_csv", "other", "business", "GET /api/campaigns/talent-vote/money.csv", None),
        ("call_detail", "other", "operator", f"GET /api/calls/{call}", None),
        ("call_detail", "other", "business", f"GET /api/calls/{call}", None),
        ("recording", "demo", "operator", f"GET /api/recordings/{rec}", None),
        ("contacts_csv", "other", "business", "GET /api/contacts.csv?campaign=talent-vote", None),
        ("recording", "demo", "business", f"GET /api/recordings/{rec}", None),
        ("pause", "other", "business", "POST /api/campaigns/talent-vote/pause", None),
        ("resume", "other", "business", "POST /api/campaigns/talent-vote/resume", None),
        ("end", "other", "business", "POST /api/campaigns/talent-vote/end", {}),
        ("archive", "other", "business", "POST /api/campaigns/talent-vote/archive", None),
        ("delete_draft", "other", "business", "DELETE /api/campaigns/talent-vote", None),
        ("freeze", "other", "business", "POST /api/campaigns/talent-vote/draws", {}),
        ("list_draws", "other", "operator", "GET /api/campaigns/talent-vote/draws", None),
        ("get_draw", "other", "business", "GET /api/campaigns/talent-vote/draws/x", None),
        ("draw_winners", "other", "business", "POST /api/campaigns/talent-vote/draws/x/winners", {"winners": 1}),
        ("entries_file", "other", "business", "GET /api/campaigns/talent-vote/draws/x/entries.csv", None),
        ("winners_file", "other", "business", "GET /api/campaigns/talent-vote/draws/x/winners.csv", None),
        ("verify", "other", "business", "GET /api/campaigns/talent-vote/draws/x/verify", None),
        ("get_pool", "other", "business", "GET /api/code-pools/demo-codes", None),
        ("get_import", "other", "business", f"GET /api/code-pools/demo-codes/imports/{w.demo_import}", None),
        ("import_progress", "other", "business", f"GET /api/code-pools/demo-codes/imports/{w.demo_import}/progress",
         None),
        ("notify_winners", "other", "business", "POST /api/campaigns/talent-vote/draws/x/notify", {"text": "Hi"}),
        ("get_pack", "other", "business", "GET /api/voice-packs/demo-voice", None),
        ("delete_word", "other", "business", "DELETE /api/voice-packs/demo-voice/words/ваш", None),
        ("delete_pack", "other", "business", "DELETE /api/voice-packs/demo-voice", None),
        ("create", "other", "business", "POST /api/outbound", {"campaign_id": "talent-vote", "number": "6060"}),
        ("get_outbound", "other", "operator", f"GET /api/outbound/{w.demo_outbound}", None),
        ("progress", "other", "business", f"GET /api/outbound/{w.demo_outbound}/progress", None),
        ("results_csv", "other", "operator", f"GET /api/outbound/{w.demo_outbound}/results.csv", None),
        ("upload_audience", "other", "business", f"POST /api/outbound/{w.demo_outbound}/audience",
         b"number\n+380501110002\n"),
        ("audience_from_contacts", "other", "business", f"POST /api/outbound/{w.demo_outbound}/audience/contacts", {}),
        ("control", "other", "business", f"POST /api/outbound/{w.demo_outbound}/start", None),
        ("control", "other", "business", f"POST /api/outbound/{w.demo_outbound}/cancel", None),
    ]


def test_another_tenant_gets_404_for_every_endpoint_naming_a_resource(world) -> None:
    for name, tenant, role, target, body in _isolation_table(world):
        method, path = target.split(" ", 1)
        if isinstance(body, str):
            reply = world.api(method, path, world.keys[tenant, role], text=body, content_type="application/yaml")
        elif isinstance(body, bytes):
            reply = world.api(method, path, world.keys[tenant, role], text=body,
                              content_type="text/csv" if path.endswith("/audience") else "audio/wav")
        else:
            reply = world.api(method, path, world.keys[tenant, role], json_body=body)
        assert reply.status == 404, (name, reply.status, reply.body)
        assert set(reply.json()) == {"error"}, name
    # nothing changed for the victims
    versions = world.api("GET", "/api/campaigns/talent-vote/versions", world.keys["demo", "business"]).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, True)]
    assert world.api("GET", f"/api/recordings/{world.recording}", world.keys["other", "operator"]).status == 200
    assert world.api("GET", "/api/campaigns/talent-vote/recordings", world.keys["demo", "business"]).json() == [
        world.jingle]
    assert world.api("GET", "/api/voice-packs/demo-voice", world.keys["demo", "business"]).json()["words"] == ["ваш"]


def test_a_number_of_another_tenant_is_409_and_stays_theirs(world) -> None:
    reply = world.api("PUT", "/api/numbers/3838", world.keys["other", "business"], json_body={"campaign_id": None})
    assert reply.status == 409 and set(reply.json()) == {"error"}
    reply = world.api("PUT", "/api/numbers/3838", world.keys["other", "business"],
                      json_body={"campaign_id": "talent-vote"})
    assert reply.status == 404
    numbers = world.api("GET", "/api/numbers", world.keys["demo", "business"]).json()
    assert {"number": "3838", "campaign_id": "talent-vote"}.items() <= next(
        n for n in numbers if n["number"] == "3838").items()


def test_lists_show_only_the_tenants_own(world) -> None:
    b, o = world.keys["other", "business"], world.keys["other", "operator"]
    assert [c["id"] for c in world.api("GET", "/api/campaigns", b).json()] == ["message-line"]
    assert [n["number"] for n in world.api("GET", "/api/numbers", b).json()] == ["6060"]
    assert [lease["number"] for lease in world.api("GET", "/api/leases?tenant=any", b).json()] == ["6060"]
    demo = world.api("GET", "/api/me", world.keys["demo", "business"]).json()["tenant_id"]
    statement = world.api("GET", f"/api/statement?tenant={demo}", b).json()        # ?tenant is for admins
    assert statement["tenant_id"] != demo and statement["lines"] == []
    assert world.api("GET", "/api/tariffs", b).json() == []
    calls = world.api("GET", "/api/calls", o).json()
    assert calls["total"] == 1 and [c["call_id"] for c in calls["calls"]] == [world.other_call]
    assert world.api("GET", "/api/calls?campaign=talent-vote", o).json() == {"total": 0, "calls": []}
    csv_text = world.api("GET", "/api/calls.csv", o).body.decode()
    assert world.other_call in csv_text and world.demo_call not in csv_text
    assert world.api("GET", "/api/calls/active", o).json() == []
    contacts = world.api("GET", "/api/contacts.csv", o).body.decode().splitlines()
    assert contacts[0].startswith("number,first_seen,last_seen,campaigns,consent")
    assert all(line.split(",")[3] == "message-line" for line in contacts[1:])
    assert world.api("GET", "/api/calls", b).json() == calls                  # a business key reads its call log
    assert [p["name"] for p in world.api("GET", "/api/code-pools", b).json()] == []
    assert [p["name"] for p in world.api("GET", "/api/code-pools", world.keys["demo", "business"]).json()] == [
        "demo-codes"]
    demo = {c["id"] for c in world.api("GET", "/api/campaigns", world.keys["demo", "business"]).json()}
    assert "talent-vote" in demo and "message-line" not in demo
    everyone = {c["id"] for c in world.api("GET", "/api/campaigns", world.keys["admin"]).json()}
    assert demo | {"message-line"} == everyone


def test_every_route_is_covered_by_the_access_tests(world) -> None:
    covered = {name for name, *_ in _isolation_table(world)}
    lists = {"list_campaigns", "list_numbers", "calls", "calls_csv", "active_calls", "assign_number", "node",
             "list_pools", "list_leases", "list_tariffs", "statement", "statement_csv", "list_packs", "list_outbound"}
    tenant_free = {"me", "schema", "openapi_document", "validate_dialplan", "create_pool", "import_codes",
                   "upload_pack", "put_word"}                 # a pack of one's own name is one's own
    admin = {"list_tenants", "create_tenant", "list_keys", "create_key", "revoke_key", "audit_log", "erase_number",
             "list_inventory", "add_number", "update_number", "remove_number", "lease_number", "end_lease",
             "set_tariff", "end_tariff", "month_overview"}
    assert covered | lists | tenant_free | admin == {route.name for route in ROUTES}


def test_admin_manages_tenants_and_keys(world) -> None:
    admin = world.keys["admin"]
    reply = world.api("POST", "/api/tenants", admin, json_body={"name": "newco"})
    assert reply.status == 201
    tenant = reply.json()
    assert world.api("POST", "/api/tenants", admin, json_body={"name": "newco"}).status == 409
    assert "newco" in [t["name"] for t in world.api("GET", "/api/tenants", admin).json()]
    created = world.api("POST", f"/api/tenants/{tenant['id']}/keys", admin, json_body={"role": "business"}).json()
    assert world.api("GET", "/api/me", created["key"]).json()["tenant"] == "newco"
    assert [k["id"] for k in world.api("GET", f"/api/tenants/{tenant['id']}/keys", admin).json()] == [created["id"]]
    assert world.api("DELETE", f"/api/keys/{created['id']}", admin).status == 204
    assert world.api("GET", "/api/me", created["key"]).status == 401
    assert world.api("GET", "/api/campaigns", created["key"]).status == 401


def test_errors_are_json_and_bodies_are_limited(world) -> None:
    key = world.keys["demo", "business"]
    reply = world.api("POST", "/api/dialplans/validate", key, text=b"#" * (MAX_BODY + 1),
                      content_type="application/yaml")
    assert reply.status == 413 and "error" in reply.json()
    reply = world.api("GET", "/api/no-such-thing", key)
    assert reply.status == 404 and "error" in reply.json()
    reply = world.api("PATCH", "/api/campaigns", key)
    assert reply.status == 405 and "error" in reply.json()
    reply = world.api("POST", "/api/campaigns/talent-vote/activate", key, text="{not json",
                      content_type="application/json")
    assert reply.status == 400 and "error" in reply.json()
    reply = world.api("POST", "/api/dialplans/validate", key, text="id: x", content_type="image/png")
    assert reply.status == 415


def test_openapi_lists_every_route_the_app_serves_under_api(world) -> None:
    document = world.api("GET", "/api/openapi.json", world.keys["demo", "operator"]).json()
    assert document["openapi"].startswith("3.1")
    app = create_app(SimpleNamespace(campaigns=None, services=None, identity=EngineConfig().identity), SimpleNamespace())   # only its routes
    served = {(route.method.lower(), route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.resource.canonical.startswith("/api/")
              and route.method != "HEAD"}
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert served == documented
    assert world.api("GET", "/api/schema", world.keys["demo", "business"]).json()["type"] == "object"
