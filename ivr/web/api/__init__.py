"""The business and operator HTTP API under /api/ (documented at GET /api/openapi.json).

`setup_api(app, engine, store)` mounts every route of ROUTES with API-key auth (see `core`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ivr.i18n import load_all

from . import (
    admin, billing, business, draws, flow, inventory, lifecycle, monitoring, operator, openapi, outbound, pools,
    voice_packs,
)
from .core import LIVE_CLOSING, Route, setup

if TYPE_CHECKING:
    from ivr.engine.view import EngineView
    from ivr.store import Store

ANY = ("business", "operator")
BUSINESS = ("business",)
OPERATOR = ("operator",)
ADMIN = ("admin",)


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NUMBERS = _list(STR)
TIME_OR_NULL = {"type": ["string", "null"]}
LIFECYCLE = _obj(campaign_id=STR, state={"enum": ["draft", "live", "paused", "ended", "archived"]},
                 live_at=TIME_OR_NULL, paused_at=TIME_OR_NULL, ends_at=TIME_OR_NULL, archived_at=TIME_OR_NULL)
CAMPAIGN = _obj(id=STR, tenant_id=STR, name=STR, active_version={"type": ["integer", "null"]},
                voice_numbers=NUMBERS, sms_numbers=NUMBERS, versions=INT,
                **{k: v for k, v in LIFECYCLE["properties"].items() if k != "campaign_id"})
POOL = _obj(name=STR, tenant_id=STR, created_at=STR, codes=INT, redeemed=INT, issued=INT)
PROBLEM = _obj(line=INT, kind={"enum": ["malformed", "duplicate"]}, message=STR, text=STR)
IMPORT = _obj(id=INT, pool=STR, state={"enum": ["running", "committed", "failed"]}, filename=STR, bytes_total=INT,
              bytes_read=INT, lines=INT, added=INT, duplicates=INT, malformed=INT, problems=_list(PROBLEM),
              problems_listed=INT, error=TIME_OR_NULL, started_at=STR, finished_at=TIME_OR_NULL)
WINNER = _obj(place=INT, entry=INT, caller=STR)
VOICE_PACK = _obj(tenant_id=STR, name=STR, words=_list(STR), count=INT, version=STR)
NOTICE = _obj(place=INT, caller=STR, message_id=STR, state=STR)
DRAW = _obj(id=STR, campaign_id=STR, state={"enum": ["frozen", "drawn"]}, rule={"type": "object"}, entries=INT,
            callers=INT, entries_sha256=STR, frozen_at=STR, winners_wanted={"type": ["integer", "null"]},
            seed=TIME_OR_NULL, drawn_at=TIME_OR_NULL, winners=_list(WINNER))
VERSION = _obj(version=INT, created_at=STR, active=BOOL, sha256=STR, format=STR)
NUMBER = _obj(number=STR, tenant_id=STR, campaign_id={"type": ["string", "null"]}, assigned_at=STR)
MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "an amount, e.g. \"12.50\""}
DAY = {"type": "string", "format": "date"}
LEASE = _obj(id=INT, number=STR, tenant_id=STR, channels={"enum": ["sms", "voice", "both"]}, starts_on=DAY,
             ends_on={"type": ["string", "null"], "format": "date"}, created_at=STR)
LEASED = _obj(number=STR, **{"class": STR}, monthly_fee_without_vat=MONEY, currency=STR, tenant_id=STR,
              campaign_id={"type": ["string", "null"]}, lease=LEASE)
INVENTORY = _obj(number=STR, **{"class": {"enum": ["regular", "golden"]}}, channels={"enum": ["sms", "voice", "both"]},
                 monthly_fee_without_vat=MONEY, currency=STR, added_at=STR, lease={"oneOf": [LEASE, {"type": "null"}]})
SHARES = {"type": "object", "additionalProperties": {"type": "string"},
          "description": 'percent of the price without VAT by operator ("*": the others), e.g. {"kyivstar": "45"}'}
TARIFF_FIELDS = dict(tenant_id=STR, number=STR, campaign_id=STR, channel={"enum": ["sms", "voice"]},
                     kind={"enum": ["subscriber_pays", "business_pays", "premium"]},
                     unit={"enum": ["message", "call", "minute"]}, price_with_vat=MONEY, cost_without_vat=MONEY,
                     outbound_cost_without_vat=MONEY, increment_seconds=INT, shares=SHARES,
                     valid_from={"type": "string", "format": "date-time",
                                 "description": "when it takes effect: 10 s from now at the earliest (the default)"})
TARIFF = _obj(id=INT, **TARIFF_FIELDS, currency=STR, vat_percent=STR, valid_until={"type": ["string", "null"]})
TOTALS = _obj(fees_without_vat=MONEY, usage_without_vat=MONEY, charges_without_vat=MONEY, vat=MONEY,
              charges_with_vat=MONEY, revenue_with_vat=MONEY, share_without_vat=MONEY, balance_without_vat=MONEY)
STATEMENT = _obj(tenant_id=STR, month=STR, currency=STR, vat_percent=STR, totals=TOTALS, lines=_list(_obj(
    number=STR, campaign_id={"type": ["string", "null"]}, item=STR, operator=STR, channel=STR,
    tariff_id={"type": ["integer", "null"]}, unit=STR, events=INT, quantity=INT, amount_without_vat=MONEY,
    revenue_with_vat=MONEY, share_without_vat=MONEY)))
MONEY_DAY = _obj(day=DAY, events=INT, revenue_with_vat=MONEY, cost_without_vat=MONEY, share_without_vat=MONEY)
COUNTS = {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": INT}}
RESULTS = _obj(votes=COUNTS, answers=COUNTS,
               codes={"type": "object", "additionalProperties": _obj(codes=INT, redeemed=INT)},
               issued={"type": "object", "additionalProperties": _obj(codes=INT, issued=INT)},
               calls_per_minute=_list({"type": "array", "prefixItems": [STR, INT]}),
               drop_off={"type": "object", "additionalProperties": INT})
OUTBOUND = _obj(id=STR, campaign_id=STR, name=STR, channel=STR, number=STR, text={"type": ["string", "null"]}, state=STR,
                rate={"type": "number"}, concurrent=INT, time_zone=STR, hours=_list(STR), max_attempts=INT,
                retry_seconds=INT, created_at=STR, started_at={"type": ["string", "null"]},
                finished_at={"type": ["string", "null"]})
OUTBOUND_PROGRESS = _obj(total=INT, done=INT, queued=INT, calling=INT, cancelled=INT,
                         results={"type": "object", "additionalProperties": INT},
                         eta_seconds={"type": ["number", "null"]})
AUDIENCE = _obj(added=INT, lines=INT, problems=_list(_obj(line=INT, value=STR, problem=STR)))
CALL = _obj(call_id=STR, direction={"enum": ["inbound", "outbound"]}, channel=STR, caller=STR, caller_raw={"type": ["string", "null"]}, number=STR, campaign_id=STR, version={"type": ["integer", "null"]},
            started_at=STR, answered_at={"type": ["string", "null"]}, ended_at={"type": ["string", "null"]},
            duration={"type": ["number", "null"]}, disposition={"type": ["string", "null"]},
            cause={"type": ["string", "null"]}, last_node={"type": ["string", "null"]})
CALL_QUERY = ("number", "caller", "campaign", "channel", "disposition", "since", "until")
TENANT = _obj(id=STR, name=STR, created_at=STR)
EXIT = _obj(field=STR, kind=STR, key={"type": ["string", "null"]}, words=_list(STR),
            condition={"type": ["object", "null"]})
DIAGRAM = _obj(campaign_id=STR, version=INT, active=BOOL, versions=_list(INT), start={"type": ["string", "null"]},
               language=STR, routed=BOOL,
               nodes=_list(_obj(id=STR, type=STR, text=STR, detail=STR, issues=_list(STR))),
               edges=_list(_obj(id=STR, source=STR, target=STR, exits=_list(EXIT))))
FLOW = _obj(version={"type": ["integer", "null"]}, channel={"type": ["string", "null"]},
            since={"type": ["string", "null"]}, until={"type": ["string", "null"]}, sessions=INT, ongoing=INT,
            nodes={"type": "object", "additionalProperties": INT}, edges={"type": "object", "additionalProperties": INT},
            left={"type": "object", "additionalProperties": INT}, busiest=_list(STR))
FLOW_QUERY = ("version", "channel", "since", "until")
PER_MINUTE = _list({"type": "array", "prefixItems": [STR, INT]})
NODE = _obj(ready=BOOL, draining=BOOL, calls_by_campaign={"type": "object", "additionalProperties": INT},
            clock={"type": "object"}, sip={"type": ["object", "null"]}, refused_calls={"type": "object"},
            ended_calls={"type": "object"}, webhooks=_obj(ok=INT, failed=INT, refused=INT),
            trunk={"type": ["object", "null"]}, links=_list(_obj(name=STR, up=BOOL, detail=STR)),
            store=_obj(online=BOOL, queue=INT, spool=INT),
            calls_per_minute={"type": "object", "additionalProperties": PER_MINUTE},
            sms_per_minute=_list({"type": "array", "prefixItems": [STR, INT, INT]}),
            webhook_failures=_list(_obj(at=STR, call_id=STR, campaign_id=STR, channel=STR,
                                        node={"type": ["string", "null"]}, status={"type": ["integer", "null"]},
                                        error={"type": ["string", "null"]})))
AUDIT = _obj(id=INT, at=STR, actor_role=STR, actor_key_id={"type": ["string", "null"]},
             actor_tenant_id={"type": ["string", "null"]}, actor_name={"type": ["string", "null"]}, action=STR,
             tenant_id={"type": ["string", "null"]}, target=STR, details={"type": "object"})
MESSAGE = _obj(id=STR, recipient=STR, text=STR, kind=STR, state=STR, parts=INT, encoding=STR,
               link={"type": ["string", "null"]}, error={"type": ["string", "null"]}, created_at=STR, updated_at=STR)
RECORDING = _obj(name=STR, format={"enum": ["wav", "mp3", "ogg"]}, bytes=INT, seconds={"type": ["number", "null"]},
                 uploaded_at=STR)


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return web.json_response(openapi.document(ROUTES))


ROUTES: list[Route] = [
    Route("GET", "/api/me", business.me, ANY, "The key's tenant and role",
          response=_obj(tenant_id=STR, tenant=STR, role=STR)),
    Route("GET", "/api/schema", business.schema, ANY, "The JSON Schema of campaign files"),
    Route("GET", "/api/openapi.json", openapi_document, ANY, "This document"),
    Route("GET", "/api/campaigns", business.list_campaigns, ANY, "The tenant's campaigns", response=_list(CAMPAIGN)),
    Route("POST", "/api/dialplans/validate", business.validate_dialplan, BUSINESS,
          "Check a campaign file without storing it", body={"dialplan": True}, query=("tenant",),
          response=_obj(ok=BOOL, campaign_id=STR)),
    Route("POST", "/api/campaigns/{campaign_id}/versions", business.upload_version, BUSINESS,
          "Store a campaign file as a new version (prompts generated), activated with ?activate=1; "
          "409 when one of its numbers is another campaign's", body={"dialplan": True},
          response=_obj(campaign_id=STR, version=INT, active=BOOL), status=201, query=("activate", "tenant")),
    Route("GET", "/api/campaigns/{campaign_id}/versions", business.list_versions, BUSINESS,
          "The campaign's versions", response=_list(VERSION)),
    Route("GET", "/api/campaigns/{campaign_id}/versions/{version}", business.get_version, BUSINESS,
          "One version with its source", response=_obj(campaign_id=STR, source=STR, **VERSION["properties"])),
    Route("POST", "/api/campaigns/{campaign_id}/activate", business.activate, BUSINESS,
          "Put a version in service for new calls (also: roll back)", body=_obj(version=INT),
          response=_obj(campaign_id=STR, version=INT, active=BOOL)),
    Route("POST", "/api/campaigns/{campaign_id}/simulate", business.simulate, BUSINESS,
          "Run a version with scripted caller inputs; nothing is stored",
          body=_obj(channel={"enum": ["voice", "sms"]}, inputs=_list(STR), version=INT, caller=STR),
          response=_obj(version=INT, transcript=_list({"type": "object"}), outcomes=_list({"type": "object"}),
                        path=_list(STR), end_reason={"type": ["string", "null"]})),
    Route("GET", "/api/campaigns/{campaign_id}/results", business.results, ANY,
          "Tallies, calls per minute (last hour) and drop-off per node (\"\": before the first node)",
          response=RESULTS),
    Route("GET", "/api/campaigns/{campaign_id}/live", business.live, ANY,
          "Server-Sent Events: `event: results` (as GET .../results) at once, on change and every 2 s",
          media="text/event-stream", response=STR),
    Route("GET", "/api/campaigns/{campaign_id}/diagram", flow.campaign_diagram, ANY,
          "The flow of a version (?version=N; default: the one in service) as nodes and labelled exits",
          response=DIAGRAM, query=("version",)),
    Route("GET", "/api/campaigns/{campaign_id}/flow", flow.flow, ANY,
          "Sessions per node and per arrow, where they left (\"\": before the first node), the busiest path; "
          "?version=N|all, ?channel=voice|sms (absent: both), ?since=, ?until= (ISO 8601)",
          response=FLOW, query=FLOW_QUERY),
    Route("GET", "/api/campaigns/{campaign_id}/flow/live", flow.flow_live, ANY,
          "Server-Sent Events: `event: flow` (as GET .../flow) at once, on change and every 2 s",
          media="text/event-stream", response=STR, query=FLOW_QUERY),
    Route("GET", "/api/campaigns/{campaign_id}/outcomes.csv", business.outcomes_csv, ANY,
          "Every outcome of the campaign as CSV", media="text/csv", response=STR),
    Route("PUT", "/api/campaigns/{campaign_id}/recordings/{name}", business.upload_recording, BUSINESS,
          "Upload a recording the campaign plays as `audio: NAME` (WAV, MP3 or OGG; replaces one of that name); "
          "converted for calls at once, 422 when it is not playable audio", response=RECORDING,
          upload=tuple(business.RECORDING_TYPES), max_body=business.MAX_RECORDING, query=("tenant",),
          errors=((422, "not audio that can be decoded, or no sound in it"),)),
    Route("GET", "/api/campaigns/{campaign_id}/recordings", business.list_recordings, BUSINESS,
          "The recordings uploaded for the campaign", response=_list(RECORDING)),
    Route("GET", "/api/voice-packs", voice_packs.list_packs, BUSINESS,
          "The tenant's voice packs (recorded words), with their words and versions", response=_list(VOICE_PACK),
          query=("tenant",)),
    Route("GET", "/api/voice-packs/{pack}", voice_packs.get_pack, BUSINESS,
          "A voice pack with, per language (?language=uk|ru|en, else each), the words it lacks to say every value "
          "and the words of the texts given (?text=, repeated)",
          response={"type": "object", "properties": {**VOICE_PACK["properties"], "missing": {
              "type": "object", "additionalProperties": _list(STR)}}}, query=("language", "text", "tenant")),
    Route("PUT", "/api/voice-packs/{pack}", voice_packs.upload_pack, BUSINESS,
          "Add a zip or tar (gzip, bzip2, xz) of WORD.wav|mp3|ogg recordings to the pack (made if new), replacing "
          "the words it has; all or nothing (422 lists each file's problem)",
          response={"type": "object", "properties": {**VOICE_PACK["properties"], "replaced": _list(STR)}},
          upload=voice_packs.ARCHIVE_TYPES, max_body=voice_packs.MAX_ARCHIVE, query=("tenant",),
          errors=((422, "a file that is not a word's recording, a link or path outside, past a limit"),)),
    Route("PUT", "/api/voice-packs/{pack}/words/{word}", voice_packs.put_word, BUSINESS,
          "Add or replace one word's recording (WAV, MP3 or OGG, at most 5 s); the pack's version moves on",
          response={"type": "object", "properties": {**VOICE_PACK["properties"], "replaced": _list(STR)}},
          upload=voice_packs.WORD_TYPES, max_body=voice_packs.MAX_WORD_BYTES, query=("tenant",),
          errors=((422, "not audio, silent, or longer than 5 s"),)),
    Route("DELETE", "/api/voice-packs/{pack}/words/{word}", voice_packs.delete_word, BUSINESS,
          "Remove one word of the pack", status=204, query=("tenant",)),
    Route("DELETE", "/api/voice-packs/{pack}", voice_packs.delete_pack, BUSINESS,
          "Delete the pack with all its recordings", status=204, query=("tenant",)),
    Route("POST", "/api/campaigns/{campaign_id}/pause", lifecycle.pause, BUSINESS,
          "Pause: new calls and messages get the closed text (409 for a draft or an archived campaign)",
          response=LIFECYCLE),
    Route("POST", "/api/campaigns/{campaign_id}/resume", lifecycle.resume, BUSINESS, "Resume a paused campaign",
          response=LIFECYCLE),
    Route("POST", "/api/campaigns/{campaign_id}/end", lifecycle.end, BUSINESS,
          "End the campaign at a time (now without one; null: no end)",
          body=_obj(at={"type": ["string", "null"], "format": "date-time"}), response=LIFECYCLE),
    Route("POST", "/api/campaigns/{campaign_id}/archive", lifecycle.archive, BUSINESS,
          "Archive a paused or ended campaign: out of service for good, numbers freed, results kept (409 if live)",
          response=LIFECYCLE),
    Route("DELETE", "/api/campaigns/{campaign_id}", lifecycle.delete_draft, BUSINESS,
          "Delete a draft (409 for a campaign that has been in service: archive it)", status=204),
    Route("POST", "/api/campaigns/{campaign_id}/draws", draws.freeze, BUSINESS,
          "Freeze the campaign's entries for a draw (made in [since, until) if given); publish entries_sha256",
          body=_obj(since={"type": "string", "format": "date-time"}, until={"type": "string", "format": "date-time"}),
          response=DRAW, status=201, errors=((422, "the campaign file has no draw: header"),)),
    Route("GET", "/api/campaigns/{campaign_id}/draws", draws.list_draws, ANY, "The campaign's draws, newest first",
          response=_list(DRAW)),
    Route("GET", "/api/campaigns/{campaign_id}/draws/{draw_id}", draws.get_draw, ANY, "A draw with its winners",
          response=DRAW),
    Route("POST", "/api/campaigns/{campaign_id}/draws/{draw_id}/winners", draws.draw_winners, BUSINESS,
          "Draw the winners of a frozen draw with a seed given now (none: a random one, recorded); once (409 after)",
          body=_obj(winners=INT, seed=STR, notify=STR), response=DRAW),
    Route("POST", "/api/campaigns/{campaign_id}/draws/{draw_id}/notify", draws.notify_winners, BUSINESS,
          "Send each winner the message text ({{place}}, {{value}}, ...) by SMS from the campaign's number; once per "
          "winner however often asked; winners who opted out are not messaged (state blocked)",
          body=_obj(text=STR), response=_obj(draw=STR, notices=_list(NOTICE)),
          errors=((409, "the draw is not drawn yet"), (422, "no SMS number, no SMS route, or a bad text"))),
    Route("GET", "/api/campaigns/{campaign_id}/draws/{draw_id}/entries.csv", draws.entries_file, ANY,
          "The frozen entries as the canonical CSV whose SHA-256 is entries_sha256", media="text/csv", response=STR),
    Route("GET", "/api/campaigns/{campaign_id}/draws/{draw_id}/winners.csv", draws.winners_file, ANY,
          "The winners by place with the entry each won with", media="text/csv", response=STR),
    Route("GET", "/api/campaigns/{campaign_id}/draws/{draw_id}/verify", draws.verify, ANY,
          "Hash the stored entries and draw again with the recorded seed: both must match",
          response=_obj(ok=BOOL, entries_sha256=STR, hash_matches=BOOL, winners_match=BOOL, winners=_list(WINNER))),
    Route("GET", "/api/code-pools", pools.list_pools, BUSINESS, "The tenant's code pools (admin: ?tenant= or all)",
          response=_list(POOL), query=("tenant",)),
    Route("PUT", "/api/code-pools/{pool}", pools.create_pool, BUSINESS, "Make an empty code pool (or get it)",
          response=POOL, query=("tenant",)),
    Route("GET", "/api/code-pools/{pool}", pools.get_pool, BUSINESS, "A code pool with its latest imports",
          response={"type": "object", "properties": {**POOL["properties"], "imports": _list(IMPORT)}},
          query=("tenant",)),
    Route("POST", "/api/code-pools/{pool}/imports", pools.import_codes, BUSINESS,
          "Import a file of codes (one a line or CSV, gzip accepted, streamed) into the pool, made when new: 202 "
          "with the import, which runs on (409 while another import of the pool runs)",
          response=IMPORT, status=202, query=("format", "filename", "tenant"), upload=pools.IMPORT_TYPES,
          max_body=pools.MAX_IMPORT, errors=((409, "another import of the pool is running"),
                                             (429, "the tenant has imports running already (at most 2)"))),
    Route("GET", "/api/code-pools/{pool}/imports/{import_id}", pools.get_import, BUSINESS,
          "An import: state, progress, counts, problems by line (the first 1000)", response=IMPORT,
          query=("tenant",)),
    Route("GET", "/api/code-pools/{pool}/imports/{import_id}/progress", pools.import_progress, BUSINESS,
          "Server-Sent Events `event: progress` (the import) on every change, until it is committed or failed",
          media="text/event-stream", response=STR, query=("tenant",)),
    Route("GET", "/api/numbers", business.list_numbers, BUSINESS,
          "The numbers leased to the tenant (today or from a day to come), with lease, fee and campaign",
          response=_list(LEASED)),
    Route("PUT", "/api/numbers/{number}", business.assign_number, BUSINESS,
          "Point a number the tenant leases at one of its campaigns (403: not leased to it; 409: another "
          "tenant's)", body=_obj(campaign_id={"type": ["string", "null"]}), response=NUMBER),
    Route("DELETE", "/api/numbers/{number}", business.release_number, BUSINESS,
          "Point a number at no campaign (the lease goes on)", status=204),
    Route("GET", "/api/leases", inventory.list_leases, BUSINESS,
          "Leases of the tenant's numbers, oldest first (admin: everyone's, ?tenant=ID's)",
          response=_list(LEASE), query=("tenant", "number")),
    Route("GET", "/api/tariffs", billing.list_tariffs, BUSINESS,
          "The tenant's tariffs in force or to come (?all=1: every one ever; admin: everyone's, ?tenant=ID's)",
          response=_list(TARIFF), query=("tenant", "all")),
    Route("GET", "/api/statement", billing.statement, BUSINESS,
          "The tenant's statement for ?month=YYYY-MM (default this month; admin: ?tenant=ID): fees + usage "
          "- revenue share", response=STATEMENT, query=("month", "tenant")),
    Route("GET", "/api/statement.csv", billing.statement_csv, BUSINESS, "The statement as CSV",
          media="text/csv", response=STR, query=("month", "tenant")),
    Route("GET", "/api/campaigns/{campaign_id}/money", billing.campaign_money, BUSINESS,
          "The campaign's revenue, cost and share by day, ?since=YYYY-MM-DD&until=YYYY-MM-DD (default this month)",
          response=_obj(campaign_id=STR, since=DAY, until=DAY, currency=STR, days=_list(MONEY_DAY),
                        totals=_obj(events=INT, revenue_with_vat=MONEY, cost_without_vat=MONEY,
                                    share_without_vat=MONEY)), query=("since", "until")),
    Route("GET", "/api/campaigns/{campaign_id}/money.csv", billing.campaign_money_csv, BUSINESS,
          "The campaign's money by day as CSV", media="text/csv", response=STR, query=("since", "until")),
    Route("GET", "/api/calls/active", operator.active_calls, OPERATOR, "Calls in progress on this node",
          response=_list(_obj(call_id=STR, caller=STR, number=STR, campaign_id=STR, version=INT, seconds=
                              {"type": "number"}, answered=BOOL, node={"type": ["string", "null"]}))),
    Route("GET", "/api/calls.csv", operator.calls_csv, ANY, "Calls matching the filters as CSV",
          media="text/csv", response=STR, query=CALL_QUERY),
    Route("GET", "/api/calls", operator.calls, ANY, "The call log of the tenant's campaigns, newest first",
          response=_obj(total=INT, calls=_list(CALL)), query=(*CALL_QUERY, "limit", "offset")),
    Route("GET", "/api/calls/{call_id}", operator.call_detail, ANY,
          "A call with its timeline, outcomes and recordings",
          response={"type": "object", "properties": {**CALL["properties"], "path": _list(STR),
                                                     "events": _list(_obj(at=STR, kind=STR, data={"type": "object"})),
                                                     "outcomes": _list({"type": "object"}),
                                                     "recordings": _list(_obj(id=STR, url=STR,
                                                                              duration={"type": "number"})),
                                                     "messages": _list(MESSAGE)}}),
    Route("GET", "/api/recordings/{recording_id}", operator.recording, ANY, "A voice message (WAV)",
          media="audio/wav", response=STR),
    Route("GET", "/api/node", monitoring.node, OPERATOR,
          "This node's health and the traffic of the last hour: calls now by campaign, calls and SMS per minute, "
          "webhooks, refused calls and SIP messages, media clock, trunk registration, SMSC links, store backlog, "
          "the latest failed webhooks", response=NODE),
    Route("GET", "/api/audit", monitoring.audit_log, ADMIN,
          "Who changed what (uploads, activations, keys, tenants, numbers, recordings), newest first",
          response=_list(AUDIT), query=("limit", "before", "tenant")),
    Route("GET", "/api/contacts.csv", business.contacts_csv, ANY,
          "The contact base as CSV (number, first and last seen, campaigns, consent and its time, opted out); "
          "numbers that withdrew consent are left out", media="text/csv", response=STR, query=("campaign",)),
    Route("POST", "/api/contacts/erase", admin.erase_number, ADMIN,
          "Erase a person's number: replaced by a pseudonym in calls, messages and outcomes (tallies unchanged)",
          body=_obj(number=STR), response=_obj(number=STR, changed={"type": "object",
                                                                      "additionalProperties": INT})),
    Route("POST", "/api/outbound", outbound.create, BUSINESS,
          "A new outbound campaign (draft): a flow campaign (voice) or a text (SMS) from a number the tenant leases "
          "to an audience, at a pace, in allowed hours of the audience's time zone, with retries",
          body=_obj(campaign_id=STR, name=STR, channel={"enum": ["voice", "sms", "voice_sms"]}, number=STR, text=STR,
                    rate={"type": "number"}, concurrent=INT, time_zone=STR, hours=_list(STR), max_attempts=INT,
                    retry_seconds=INT), response=OUTBOUND, status=201, query=("tenant",),
          errors=((403, "the number is not leased to the tenant"),)),
    Route("GET", "/api/outbound", outbound.list_outbound, ANY, "The tenant's outbound campaigns, newest first",
          response=_list(OUTBOUND)),
    Route("GET", "/api/outbound/{outbound_id}", outbound.get_outbound, ANY, "An outbound campaign with its progress",
          response={"type": "object", "properties": {**OUTBOUND["properties"], "progress": OUTBOUND_PROGRESS}}),
    Route("GET", "/api/outbound/{outbound_id}/progress", outbound.progress, ANY,
          "Numbers done of the total, per state and result, and the estimated seconds left", response=OUTBOUND_PROGRESS),
    Route("POST", "/api/outbound/{outbound_id}/audience", outbound.upload_audience, BUSINESS,
          "Add an audience as CSV: a header with a number column (number, phone, msisdn) and the contacts' "
          "variables ({{contact.name}}); numbers already in it are kept once", upload=("text/csv", "text/plain"),
          max_body=outbound.MAX_CSV, response=AUDIENCE, query=("tenant",)),
    Route("POST", "/api/outbound/{outbound_id}/audience/contacts", outbound.audience_from_contacts, BUSINESS,
          "Add the contact base (of campaign_id, or all) as the audience: consent given (default) or not withdrawn; "
          "opted-out numbers never", body=_obj(campaign_id=STR, consent={"enum": ["given", "not_withdrawn"]}),
          response=AUDIENCE, query=("tenant",)),
    Route("POST", "/api/outbound/{outbound_id}/{action}", outbound.control, BUSINESS,
          "start, pause, resume or cancel (the calls in progress finish; numbers not yet called are cancelled)",
          response=OUTBOUND, query=("tenant",), errors=((409, "the campaign's state does not allow it"),)),
    Route("GET", "/api/outbound/{outbound_id}/results.csv", outbound.results_csv, ANY,
          "Per number: state, result (answered, busy, no_answer, failed, opted_out, completed, sent), the flow's "
          "outcome, attempts, the last call", media="text/csv", response=STR),
    Route("GET", "/api/tenants", admin.list_tenants, ADMIN, "Every tenant", response=_list(TENANT)),
    Route("POST", "/api/tenants", admin.create_tenant, ADMIN, "Create a tenant", body=_obj(name=STR),
          response=TENANT, status=201),
    Route("GET", "/api/tenants/{tenant_id}/keys", admin.list_keys, ADMIN, "The tenant's API keys",
          response=_list(_obj(id=STR, role=STR, created_at=STR, revoked_at={"type": ["string", "null"]}))),
    Route("POST", "/api/tenants/{tenant_id}/keys", admin.create_key, ADMIN, "A new API key, shown once",
          body=_obj(role={"enum": ["business", "operator", "admin"]}), response=_obj(id=STR, role=STR, key=STR),
          status=201),
    Route("DELETE", "/api/keys/{key_id}", admin.revoke_key, ADMIN, "Revoke an API key", status=204),
    Route("GET", "/api/inventory", inventory.list_inventory, ADMIN,
          "The provider's numbers with their lease of ?day= (default today), ?state=free|leased|all",
          response=_list(INVENTORY), query=("state", "day")),
    Route("POST", "/api/inventory", inventory.add_number, ADMIN, "Add a number of 3 or 4 digits",
          body=_obj(number=STR, **{"class": {"enum": ["regular", "golden"]}},
                    channels={"enum": ["sms", "voice", "both"]}, monthly_fee_without_vat=MONEY),
          response=INVENTORY, status=201),
    Route("PATCH", "/api/inventory/{number}", inventory.update_number, ADMIN,
          "Change a number's class, channels or monthly fee",
          body=_obj(**{"class": STR}, channels=STR, monthly_fee_without_vat=MONEY), response=INVENTORY),
    Route("DELETE", "/api/inventory/{number}", inventory.remove_number, ADMIN,
          "Remove a number that was never leased", status=204),
    Route("POST", "/api/inventory/{number}/leases", inventory.lease_number, ADMIN,
          "Lease a number to a tenant from a day (409 when another lease overlaps)",
          body=_obj(tenant_id=STR, starts_on=DAY, ends_on=DAY, channels={"enum": ["sms", "voice", "both"]}),
          response=LEASE, status=201),
    Route("POST", "/api/leases/{lease_id}/end", inventory.end_lease, ADMIN, "End a lease on a day (its last)",
          body=_obj(ends_on=DAY), response=LEASE),
    Route("POST", "/api/tariffs", billing.set_tariff, ADMIN,
          "Put a tariff in force for a tenant's number or campaign and channel from valid_from (10 s from now "
          "at the earliest), replacing the one in force there",
          body=_obj(**TARIFF_FIELDS), response=TARIFF, status=201),
    Route("DELETE", "/api/tariffs/{tariff_id}", billing.end_tariff, ADMIN,
          "Take a tariff out of force (10 s from now)", response=TARIFF),
    Route("GET", "/api/statements", billing.month_overview, ADMIN, "Every tenant's totals for ?month=YYYY-MM",
          response=_obj(month=STR, currency=STR, tenants=_list(_obj(tenant_id=STR, tenant=STR,
                                                                    **TOTALS["properties"]))), query=("month",)),
]


async def read_catalogues(app: web.Application) -> None:
    """The message catalogues of every language, read once at start (in a thread: Babel parses each .po)."""
    await asyncio.to_thread(load_all)


def setup_api(app: web.Application, engine: "EngineView", store: "Store") -> None:
    """Mount the API on the node's app."""
    app[LIVE_CLOSING] = asyncio.Event()

    async def close_live(app: web.Application) -> None:
        app[LIVE_CLOSING].set()
    app.on_shutdown.append(close_live)
    app.on_startup.append(pools.remove_stale_uploads)
    app.on_startup.append(read_catalogues)
    setup(app, engine, store, ROUTES)
