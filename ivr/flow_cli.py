"""`ivr validate` and `ivr simulate`: the campaign tools for businesses.

`add_arguments(subparsers)` registers both subcommands (each sets `handler`, a function of the parsed
arguments returning the exit code). `simulate` performs effects with the channels' in-memory services
and real HTTP (or `--webhook-stub`); private webhook targets only with `--allow-private-webhooks`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ivr.channels.effects import EffectContext
from ivr.channels.dry_run import dry_run
from ivr.channels.webhooks import HttpCall, WebhookClient
from ivr.flow.events import CallWebhook, WebhookResult
from ivr.flow.interpreter import FlowError
from ivr.flow.loader import load_file
from ivr.flow.simulator import ScriptError
from ivr.flow.validate import DialplanError


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `ivr validate FILE...` and `ivr simulate FILE ...`."""
    p = subparsers.add_parser("validate", help="check campaign files; exits non-zero on the first invalid one")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(handler=lambda a: validate_command(a.files))
    p = subparsers.add_parser("simulate", help="run a campaign offline with scripted caller inputs")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--channel", choices=["voice", "sms"], default="voice")
    p.add_argument("--input", action="append", default=[], dest="inputs", metavar="X",
                   help='keys ("1", "123#"), "speech:yes:0.82", "timeout", "hangup"; on sms any text')
    p.add_argument("--json", action="store_true", help="print the transcript and outcomes as JSON")
    p.add_argument("--caller", default="+15550001", help="the caller's number")
    p.add_argument("--lang", help="the caller's language (default: the campaign's first)")
    p.add_argument("--webhook-stub", metavar="JSON",
                   help='answer every webhook with this JSON object instead of calling it, e.g. '
                        '\'{"status": "shipped"}\'; "fail" makes them fail')
    p.add_argument("--allow-private-webhooks", action="store_true",
                   help="let webhooks reach loopback and private addresses (a business API on this machine)")
    p.set_defaults(handler=lambda a: simulate_command(a.file, a.channel, a.inputs, a.json, a.caller, a.lang,
                                                      webhook_stub=a.webhook_stub,
                                                      allow_private=a.allow_private_webhooks))


def validate_command(paths: list[str]) -> int:
    """Print "OK path" per valid file; stop at the first invalid one with its issues (exit 1)."""
    for path in paths:
        try:
            load_file(path)
        except DialplanError as exc:
            for issue in exc.issues:
                print(f"{path}:{issue.line}: {issue}" if issue.line else f"{path}: {issue}", file=sys.stderr)
            return 1
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 1
        print(f"OK {path}")
    return 0


def simulate_command(path: str, channel: str, inputs: list[str], as_json: bool, caller: str = "+15550001",
                     language: str | None = None, webhook_stub: str | None = None, allow_private: bool = False) -> int:
    """Run a campaign with scripted inputs and print the transcript, path and outcomes (exit 1 on errors)."""
    try:
        campaign = load_file(path)
        http: HttpCall = WebhookClient(allow_private, campaign.webhook_secret) if webhook_stub is None \
            else stub_http(webhook_stub)
    except DialplanError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 1
    try:
        transcript = asyncio.run(dry_run(campaign, channel, inputs, caller=caller, language=language, http=http))
    except (ScriptError, FlowError) as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(transcript.as_dict(), indent=2, ensure_ascii=False) if as_json else "\n".join(transcript.lines()))
    return 0


def stub_http(spec: str) -> HttpCall:
    """An HTTP stand-in answering every request with the given JSON object (or failing)."""
    if spec == "fail":
        data: dict[str, Any] | None = None
    else:
        try:
            data = json.loads(spec)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValueError(f"--webhook-stub must be a JSON object or fail, not {spec!r}")

    async def answer(action: CallWebhook, ctx: EffectContext) -> WebhookResult:
        return WebhookResult(False, 503, {}) if data is None else WebhookResult(True, 200, dict(data))
    return answer
