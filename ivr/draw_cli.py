"""`ivr draw verify`: re-run a winner draw from its entries file, with no database (docs/dialplans.md).

It checks the file against the published SHA-256 and prints the winners the seed gives, by the algorithm
of `ivr.flow.draw`; with the published winners file it says whether they are the same.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

from ivr.flow.draw import DrawError, draw, read_entries


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
