"""`ivr draw verify`: re-run a winner draw from its entries file, with no database (docs/dialplans.md).
`ivr draw notify`: send a drawn draw's winners a message by SMS, in the store's database.

`verify` checks the file against the published SHA-256 and prints the winners the seed gives, by the
algorithm of `ivr.flow.draw`; with the published winners file it says whether they are the same. `notify`
queues each winner's message in the SMS outbox (sent by the node's dispatcher of that route), once per
winner however often it is run, as the API's `POST .../notify` does.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import sys
import tempfile
from pathlib import Path

from ivr.engine import draws as engine_draws
from ivr.flow.draw import DrawError, draw, read_entries
from ivr.flow.loader import load_campaign
from ivr.flow.validate import DialplanError
from ivr.store import Actor, Notice, Store, StoreError

DEFAULT_DB = "sqlite:///var/ivr.db"          # as `ivr serve`
ROUTES = ("smpp", "http")                    # the node's outbound SMS: --smsc, --sms-outbound


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `ivr draw ...`."""
    draws = subparsers.add_parser("draw", help="winner draws: verify one from its entries file")
    sub = draws.add_subparsers(dest="draw_command", required=True)
    p = sub.add_parser("verify", help="hash an entries file and print the winners a seed gives")
    p.add_argument("entries", metavar="ENTRIES.csv", type=Path, help="the draw's entries file (GET .../entries.csv)")
    p.add_argument("--seed", required=True, help="the seed the draw was drawn with")
    p.add_argument("--winners", type=int, required=True, help="how many winners were drawn")
    p.add_argument("--per-caller", type=int, default=1, help="prizes a caller may win (the campaign's "
                                                             "prizes_per_caller, default 1)")
    p.add_argument("--sha256", help="the published SHA-256 of the entries (checked when given)")
    p.add_argument("--expect", type=Path, metavar="WINNERS.csv", help="the published winners (checked when given)")
    p.set_defaults(handler=verify_draw)
    p = sub.add_parser("notify", help="send the winners of a drawn draw a message by SMS, once each")
    p.add_argument("campaign", metavar="CAMPAIGN")
    p.add_argument("draw", metavar="DRAW", help="the draw's id")
    p.add_argument("--tenant", required=True, help="the campaign's tenant (its name)")
    p.add_argument("--text", required=True, help="the message: {{place}}, {{value}}, {{caller}}, {{campaign}}, "
                                                 "{{draw}} are filled in for each winner")
    p.add_argument("--route", choices=ROUTES, required=True, help="how the node sends SMS: smpp (--smsc) or "
                                                                  "http (--sms-outbound)")
    p.add_argument("--db", default=DEFAULT_DB, help="store URL (as ivr serve)")
    p.set_defaults(handler=notify_winners)


def verify_draw(args: argparse.Namespace) -> int:
    """0 when the file's hash and the winners match what was published (those given), 1 otherwise."""
    try:
        data = args.entries.read_bytes()
        entries = read_entries(data.decode("utf-8"))
        sha256 = hashlib.sha256(data).hexdigest()
        winners = draw([e.caller for e in entries], sha256, args.seed, args.winners, args.per_caller)
        expected = _expected(args.expect) if args.expect else None
    except (OSError, UnicodeDecodeError, DrawError) as exc:
        print(f"draw: {exc}", file=sys.stderr)
        return 1
    ok = True
    print(f"entries: {len(entries)}, SHA-256 {sha256}")
    if args.sha256 is not None:
        matches = args.sha256.strip().lower() == sha256
        ok &= matches
        print("SHA-256 matches the published one" if matches else "SHA-256 DIFFERS from the published one")
    for w in winners:
        entry = entries[w.entry - 1]
        print(f"{w.place}. entry {w.entry}  {w.caller}  {entry.kind} {entry.name} {entry.value}  {entry.at}")
    if expected is not None:
        matches = expected == [(w.place, w.entry, w.caller) for w in winners]
        ok &= matches
        print("winners match the published ones" if matches else "winners DIFFER from the published ones")
    return 0 if ok else 1


def _expected(path: Path) -> list[tuple[int, int, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [(int(row["place"]), int(row["entry"]), row["caller"]) for row in csv.DictReader(f)]


def notify_winners(args: argparse.Namespace) -> int:
    """0 when every winner's message is queued (or was before); winners who opted out are listed as blocked."""
    try:
        notices = asyncio.run(_notify(args))
    except (DrawError, DialplanError, StoreError, OSError) as exc:
        print(f"draw: {exc}", file=sys.stderr)
        return 1
    for n in notices:
        print(f"{n.place}. {n.caller}  {n.state}" + ("  (opted out: not messaged)" if n.state == "blocked" else ""))
    print(f"{sum(n.state != 'blocked' for n in notices)} messages queued or sent, "
          f"{sum(n.state == 'blocked' for n in notices)} winners opted out")
    return 0


async def _notify(args: argparse.Namespace) -> list[Notice]:
    with tempfile.TemporaryDirectory(prefix="ivr-draw-") as spool:
        store = await Store.open(args.db, spool)
        try:
            tenant = await store.tenant_by_name(args.tenant)
            if tenant is None:
                raise StoreError(f"no tenant named {args.tenant!r}")
            versions = await store.list_versions(tenant.id, args.campaign)
            chosen = next((v for v in versions if v.active), versions[-1] if versions else None)
            if chosen is None:
                raise StoreError(f"campaign {args.campaign!r} has no version")
            campaign = load_campaign(chosen.source_text)
            return await engine_draws.notify(store, tenant.id, campaign, args.draw, args.text, args.route,
                                             Actor.command_line())
        finally:
            await store.close()
