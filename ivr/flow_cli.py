"""`ivr validate` and `ivr simulate`: the campaign tools for businesses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ivr.channels.simulate import simulate
from ivr.flow.validate import DialplanError, load_file


def add_arguments(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check campaign files; exits non-zero on the first invalid one")
    p.add_argument("files", nargs="+")
    p.set_defaults(handler=lambda a: validate_command(a.files))
    p = sub.add_parser("simulate", help="run a campaign offline with scripted caller inputs")
    p.add_argument("file")
    p.add_argument("--channel", choices=["voice", "sms"], default="voice")
    p.add_argument("--input", action="append", default=[], dest="inputs",
                   help='keys ("1", "123#"), "speech:yes:0.82", "timeout", "hangup", or SMS text')
    p.add_argument("--json", action="store_true", help="print the transcript and outcomes as JSON")
    p.add_argument("--caller", default="+15550001")
    p.add_argument("--lang")
    p.set_defaults(handler=lambda a: simulate_command(a.file, a.channel, a.inputs, a.json, a.caller, a.lang))


def validate_command(paths: list[str]) -> int:
    for path in paths:
        try:
            load_file(path)
        except DialplanError as exc:
            for issue in exc.issues:
                line = f":{issue.line}" if issue.line else ""
                print(f"{path}{line}: {issue}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"{path}: {exc.strerror}", file=sys.stderr)
            return 1
        print(f"OK {path}")
    return 0


def simulate_command(path: str, channel: str, inputs: list[str], as_json: bool, caller: str = "+15550001",
                     language: str | None = None) -> int:
    try:
        campaign = load_file(path)
    except DialplanError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    result = asyncio.run(simulate(campaign, channel, inputs, caller, language))
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    for line in result.lines:
        who, text = next(iter(line.items()))
        print(f"{who:>8}: {text}")
    print(f"    path: {' -> '.join(result.path)}")
    for outcome in result.outcomes:
        print(f" outcome: {outcome['kind']} {outcome['name']} = {outcome['value']}")
    print(f"     end: {result.end_reason or 'waiting'}")
    return 0
