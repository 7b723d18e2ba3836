"""`ivr` command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import Callable

from ivr.channels.caller_id import DEFAULT_REGION, CallerIdError, check_region
from ivr.channels.smpp.config import SmscConfig, SmscConfigError
from ivr.channels.smpp.config import load as load_smsc
from ivr.engine.config import UNKNOWN_NUMBER_TREATMENTS, ConfigError, EngineConfig, parse_hostport
from ivr.flow.schema import LANGUAGE
from ivr.media.tts import TtsError, TtsRegistry
from ivr.numbering.operators import UKRAINE, OperatorTable, OperatorTableError, parse_operator_option
from ivr.sip.access import AccessError, parse_networks
from ivr.sip.ratelimit import CLASSES, DEFAULT_RATES, Rate, RateError
from ivr.speech.service import CHOOSABLE, SpeechConfig

SWITCH_INTERVAL = 0.001     # seconds a thread may keep the GIL when another wants it (see serve)
log = logging.getLogger("ivr")


def _serve_arguments(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the engine: SIP, media, HTTP API and store")
    p.add_argument("--sip", default="0.0.0.0:5060", help="SIP listen address HOST:PORT (UDP and TCP)")
    p.add_argument("--no-tcp", action="store_true", help="listen on UDP only")
    p.add_argument("--advertise", help="address to put in Contact and SDP (default: the bind address)")
    p.add_argument("--http", default="127.0.0.1:8080", help="HTTP listen address HOST:PORT")
    p.add_argument("--db", default="sqlite:///var/ivr.db", help="store URL (sqlite:///FILE or postgresql+psycopg://...)")
    p.add_argument("--data", default="var", help="folder for the store spool and recordings")
    p.add_argument("--dialplans", default="dialplans", help="folder of campaign files loaded at start")
    p.add_argument("--prompts", default="prompts/cache", help="prompt audio cache folder")
    p.add_argument("--prompts-stale-after", type=float, default=24 * 3600.0, metavar="SECONDS",
                   help="delete cached prompts no campaign in service plays once this old (default a day)")
    p.add_argument("--recordings", help="folder of the recordings businesses upload (default DATA/prompt-recordings)")
    p.add_argument("--voice-packs", help="folder of voice packs, one folder of recorded words each, for the "
                   "voice-pack TTS engine (default DATA/voice-packs; docs/prompts.md)")
    p.add_argument("--tts", action="append", default=[], metavar="LANG=ENGINE",
                   help="speak LANG (en, en-GB, uk, ...) with ENGINE (flite, festival, espeak-ng, piper) unless a "
                        "campaign names its own; repeatable")
    p.add_argument("--rtp-ports", default="20000-30000", help="RTP port range MIN-MAX")
    p.add_argument("--max-calls", type=int, default=200, help="concurrent calls before 503")
    p.add_argument("--unknown-numbers", choices=UNKNOWN_NUMBER_TREATMENTS, default="announce",
                   help="a dialled number without a campaign: 'announce' answers it like a closed campaign, so "
                        "scanners cannot tell which numbers exist (default, for the open network); 'reject' "
                        "answers 404 Not Found (behind a trusted carrier trunk)")
    p.add_argument("--max-calls-per-caller", type=int, default=2,
                   help="concurrent calls from one caller number before 486 Busy Here (0: no limit)")
    p.add_argument("--max-setup-per-source", type=int, default=20,
                   help="calls from one address still waiting for their ACK before 503 (0: no limit)")
    defaults = ", ".join(f"{k}={r.per_second:g}/{r.burst:g}" for k, r in DEFAULT_RATES.items())
    p.add_argument("--sip-rate", action="append", default=[], metavar="CLASS=RATE[/BURST]|off",
                   help=f"requests per second per source address for a class ({', '.join(CLASSES)}); "
                        f"defaults {defaults}")
    p.add_argument("--allow-from", action="append", default=[], metavar="CIDR",
                   help="take SIP only from these networks (repeatable; default: from anywhere)")
    p.add_argument("--region", default=DEFAULT_REGION, metavar="CC",
                   help="country whose national numbers callers and SMS senders use without a country code "
                        "(ISO 3166, e.g. UA, PL; default %(default)s); a campaign's `region` overrides it")
    p.add_argument("--trust-identity-from", action="append", default=[], metavar="CIDR",
                   help="take the caller's number from P-Asserted-Identity only from these networks (the carrier "
                        "trunk, Kamailio); repeatable; from anywhere else the From header is used")
    p.add_argument("--max-setup", type=int, default=0,
                   help="calls waiting for their ACK at once, node-wide, before 503 (default: a fifth of "
                        "--max-calls, at least 10)")
    p.add_argument("--ack-timeout", type=float, default=8.0,
                   help="seconds a call waits for the ACK of its 200 OK before it is ended (default %(default)s)")
    p.add_argument("--tcp-idle", type=float, default=60.0,
                   help="seconds a SIP TCP connection without a call may stay silent before it is closed")
    p.add_argument("--drain-seconds", type=float, default=60.0,
                   help="on SIGTERM, seconds to let calls in progress finish (calls still waiting for their "
                        "ACK end at once)")
    p.add_argument("--rtp-timeout", type=float, default=30.0, help="seconds without RTP before hanging up")
    p.add_argument("--ring", type=float, default=0.0, help="seconds of ringing (180) before answering")
    p.add_argument("--server-header", default="ivr/0.1", metavar="TEXT|off",
                   help="product named in Server and User-Agent headers (default %(default)s); 'off' sends none")
    p.add_argument("--accept-register", action="store_true",
                   help="answer REGISTER with 200, for softphones that insist on registering (testing)")
    p.add_argument("--register", metavar="URI", help="register with this registrar (carrier trunk), e.g. sip:host:5060")
    p.add_argument("--register-aor", help="address of record, e.g. sip:3838@carrier.example (default: user@registrar host)")
    p.add_argument("--register-user", help="digest user name")
    p.add_argument("--register-password", default="", help="digest password (or IVR_REGISTER_PASSWORD)")
    p.add_argument("--register-expires", type=int, default=3600)
    p.add_argument("--outbound-trunk", metavar="URI",
                   help="send calls out to this trunk or outbound proxy (default: the --register registrar); "
                        "digest credentials are --register-user/--register-password")
    p.add_argument("--outbound-domain", help="host of the called party's URI (default: the trunk's host)")
    p.add_argument("--outbound-pai", action="store_true", help="add P-Asserted-Identity (the short number) to calls out")
    p.add_argument("--outbound-rate", type=float, default=10.0, help="calls out per second over the trunk (all campaigns)")
    p.add_argument("--outbound-concurrent", type=int, default=50, help="calls out in progress at once over the trunk")
    p.add_argument("--outbound-ring", type=float, default=30.0, help="seconds a call out may ring before it is cancelled")
    p.add_argument("--node-name", help="this node's name in the queue of calls out shared with other nodes")
    p.add_argument("--sms-outbound", metavar="URL", help="POST outbound SMS to this URL (your HTTP SMS gateway), "
                                                         "signed and retried (docs/api.md)")
    p.add_argument("--sms-outbound-secret", help="HMAC key signing those POSTs (or IVR_SMS_OUTBOUND_SECRET; "
                                                 "default: the webhook secret)")
    p.add_argument("--smsc", metavar="FILE", help="SMPP operator links and prefix table, YAML (docs/sms.md)")
    p.add_argument("--sms-token", help="Bearer token the SMS gateway sends to /api/sms/inbound (or IVR_SMS_TOKEN); "
                                       "without one, inbound SMS are refused")
    p.add_argument("--metrics-token", help="Bearer token /metrics asks scrapers for (or IVR_METRICS_TOKEN); "
                                           "without one, /metrics is open like /health")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="set a campaign variable for every campaign, e.g. orders_api=https://shop.example/api")
    p.add_argument("--smtp", metavar="HOST:PORT", help="mail relay for notify nodes that send e-mail")
    p.add_argument("--smtp-from", default="ivr@localhost", help="sender address of those e-mails")
    p.add_argument("--webhook-secret", help="HMAC key signing webhooks of campaigns without their own "
                                            "webhook_secret (or IVR_WEBHOOK_SECRET)")
    p.add_argument("--allow-private-webhooks", action="store_true",
                   help="let campaigns call loopback, private and link-local addresses (refused by default)")
    p.add_argument("--vosk-model", action="append", default=[], metavar="[LANG=]DIR",
                   help="Vosk model folder for speech answers in LANG (without LANG: every language); "
                        "repeatable, e.g. --vosk-model en=/opt/vosk/vosk-model-small-en-us-0.15 (docs/speech.md)")
    p.add_argument("--speech-engine", action="append", default=[], metavar="LANG=ENGINE",
                   help="hear LANG with ENGINE (pocketsphinx: English only; whisper: the packaged multilingual "
                        "model scoring the answers; whisper-text: its free text matched) instead of the default for it; repeatable, e.g. --speech-engine en=pocketsphinx")
    p.add_argument("--model-cache", type=Path, default=SpeechConfig().model_cache, metavar="DIR",
                   help="where packaged speech models are unpacked once (default %(default)s)")
    p.add_argument("--speech-workers", type=int, default=SpeechConfig().workers,
                   help="recognitions run at once, off the event loop (default: one per core)")
    p.add_argument("--operator", action="append", default=[], metavar="NAME=PREFIX,...",
                   help="mobile operator by number prefix, for charges and revenue shares (default: Ukraine's "
                        "vodafone, kyivstar, lifecell, changed by the --smsc file's operators); replaces NAME's "
                        "prefixes, NAME= removes it; repeatable, e.g. --operator kyivstar=067,068,096,097,098")
    p.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto",
                   help="event loop: uvloop when installed (the 'fast' extra), else asyncio's own")
    p.add_argument("--log-level", default="INFO")


def sip_rates(items: list[str]) -> dict[str, Rate]:
    """The default rates changed by CLASS=RATE[/BURST] or CLASS=off items."""
    rates = dict(DEFAULT_RATES)
    for item in items:
        kind, sep, value = item.partition("=")
        if not sep or kind not in CLASSES:
            raise ConfigError(f"bad --sip-rate {item!r}: expected CLASS=RATE[/BURST] or CLASS=off, "
                              f"CLASS one of {', '.join(CLASSES)}")
        if value == "off":
            rates.pop(kind, None)
        else:
            try:
                rates[kind] = Rate.parse(value)
            except RateError as exc:
                raise ConfigError(f"--sip-rate {kind}: {exc}") from None
    return rates


def server_header(text: str) -> str | None:
    """`--server-header` → the header value, None for 'off' (or empty)."""
    text = text.strip()
    if text.lower() in ("", "off"):
        return None
    if not all(32 <= ord(c) < 127 for c in text):
        raise ConfigError(f"bad --server-header {text!r}: printable ASCII only")
    return text


def tts_defaults(items: list[str], registry: TtsRegistry | None = None) -> dict[str, str]:
    """`--tts LANG=ENGINE` values → {language: engine}; each engine must be installed and speak LANG."""
    registry = registry or TtsRegistry()
    defaults: dict[str, str] = {}
    for item in items:
        language, sep, name = item.partition("=")
        if not sep or not re.fullmatch(LANGUAGE, language):
            raise ConfigError(f"bad --tts {item!r}: expected LANG=ENGINE, e.g. en=piper")
        try:
            registry.engine(name).default_voice(language)
        except TtsError as exc:
            raise ConfigError(f"--tts {item}: {exc}") from None
        defaults[language] = name
    return defaults


def config_from_args(args: argparse.Namespace) -> EngineConfig:
    sip_host, sip_port = parse_hostport(args.sip, 5060)
    http_host, http_port = parse_hostport(args.http, 8080)
    variables = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"bad --var {item!r}: expected NAME=VALUE")
        variables[name] = value
    smtp_host, smtp_port = parse_hostport(args.smtp, 25) if args.smtp else (None, 25)
    if args.speech_workers < 1:
        raise ConfigError("--speech-workers must be at least 1")
    if args.prompts_stale_after < 0:
        raise ConfigError("--prompts-stale-after must be 0 or more")
    low, _, high = args.rtp_ports.partition("-")
    if not (low.isascii() and high.isascii() and low.isdigit() and high.isdigit()):
        raise ConfigError(f"bad --rtp-ports {args.rtp_ports!r}: expected MIN-MAX")
    try:
        allow_from = parse_networks(args.allow_from)
    except AccessError as exc:
        raise ConfigError(f"--allow-from: {exc}") from None
    try:
        trusted = parse_networks(args.trust_identity_from)
    except AccessError as exc:
        raise ConfigError(f"--trust-identity-from: {exc}") from None
    try:
        region = check_region(args.region)
    except CallerIdError as exc:
        raise ConfigError(f"--region: {exc}") from None
    smsc = smsc_config(args.smsc)
    try:
        operators = operator_table(smsc).replaced(dict(parse_operator_option(item) for item in args.operator))
    except OperatorTableError as exc:
        raise ConfigError(f"--operator: {exc}") from None
    return EngineConfig(
        sip_host=sip_host, sip_port=sip_port, sip_tcp=not args.no_tcp, advertise_host=args.advertise,
        http_host=http_host, http_port=http_port, db_url=args.db, data_dir=Path(args.data),
        dialplans_dir=Path(args.dialplans), prompts_dir=Path(args.prompts),
        recordings_dir=Path(args.recordings) if args.recordings else None, tts=tts_defaults(args.tts),
        voice_packs_dir=Path(args.voice_packs) if args.voice_packs else None,
        prompts_stale_after=args.prompts_stale_after,
        rtp_port_min=int(low), rtp_port_max=int(high), max_calls=args.max_calls,
        unknown_numbers=args.unknown_numbers,
        max_calls_per_caller=args.max_calls_per_caller, max_setup_per_source=args.max_setup_per_source,
        sip_rates=sip_rates(args.sip_rate), allow_from=allow_from, region=region, trust_identity_from=trusted,
        max_setup=args.max_setup, ack_timeout=args.ack_timeout, tcp_idle=args.tcp_idle,
        drain_seconds=args.drain_seconds,
        rtp_timeout=args.rtp_timeout, ring_seconds=args.ring, server_header=server_header(args.server_header),
        accept_register=args.accept_register, register=args.register, register_aor=args.register_aor,
        register_user=args.register_user,
        register_password=args.register_password or os.environ.get("IVR_REGISTER_PASSWORD", ""),
        register_expires=args.register_expires, outbound_trunk=args.outbound_trunk,
        outbound_domain=args.outbound_domain, outbound_pai=args.outbound_pai, outbound_rate=args.outbound_rate,
        outbound_concurrent=args.outbound_concurrent, outbound_ring_seconds=args.outbound_ring,
        node_name=args.node_name, sms_outbound_url=args.sms_outbound,
        sms_outbound_secret=args.sms_outbound_secret or os.environ.get("IVR_SMS_OUTBOUND_SECRET") or None,
        smsc=smsc,
        sms_token=args.sms_token or os.environ.get("IVR_SMS_TOKEN") or None,
        metrics_token=args.metrics_token or os.environ.get("IVR_METRICS_TOKEN") or None,
        variables=variables, smtp_host=smtp_host, smtp_port=smtp_port, smtp_from=args.smtp_from,
        webhook_secret=args.webhook_secret or os.environ.get("IVR_WEBHOOK_SECRET") or None,
        allow_private_webhooks=args.allow_private_webhooks,
        speech=SpeechConfig(vosk_models=vosk_models(args.vosk_model), engines=speech_engines(args.speech_engine),
                            model_cache=args.model_cache.expanduser(), workers=args.speech_workers),
        operators=operators)


def operator_table(smsc: SmscConfig | None) -> OperatorTable:
    """The operators of subscribers' numbers, for charges: Ukraine's, changed by the --smsc file's own."""
    if smsc is None or not smsc.operators:
        return UKRAINE
    prefixes = {op.name: op.prefixes for op in smsc.operators}
    if smsc.country_code == UKRAINE.country_code:
        return UKRAINE.replaced(prefixes)
    return OperatorTable(prefixes, smsc.country_code, subscriber_digits=None)


def smsc_config(path: str | None) -> SmscConfig | None:
    """`--smsc FILE` read and checked (passwords from the environment variables it names)."""
    if path is None:
        return None
    try:
        return load_smsc(path)
    except SmscConfigError as exc:
        raise ConfigError(f"--smsc {exc}") from None


def speech_engines(items: list[str]) -> dict[str, str]:
    """`--speech-engine LANG=ENGINE` values → {language: engine}; the engine must be installed and hear LANG."""
    from ivr.speech.whisper_engine import whisper_installed, whisper_languages
    engines: dict[str, str] = {}
    for item in items:
        language, sep, name = item.partition("=")
        language = language.lower()
        if not sep or not re.fullmatch(LANGUAGE, language) or name not in CHOOSABLE:
            raise ConfigError(f"bad --speech-engine {item!r}: expected LANG=ENGINE, ENGINE one of "
                              f"{', '.join(CHOOSABLE)}, e.g. en=pocketsphinx")
        if name == "pocketsphinx" and language != "en":
            raise ConfigError(f"--speech-engine {item}: pocketsphinx hears English only")
        if name.startswith("whisper") and not whisper_installed():
            raise ConfigError(f"--speech-engine {item}: faster-whisper is not installed (pip install 'ivr[whisper]')")
        if name.startswith("whisper") and language.split("-")[0] not in whisper_languages():
            raise ConfigError(f"--speech-engine {item}: Whisper does not know {language!r}")
        engines[language.split("-")[0]] = name
    return engines


def vosk_models(items: list[str]) -> dict[str, Path]:
    """`--vosk-model [LANG=]DIR` values → {language or "*": folder}; each folder must be a Vosk model."""
    models: dict[str, Path] = {}
    for item in items:
        language, sep, folder = item.partition("=")
        if not sep:
            language, folder = "*", item
        path = Path(folder).expanduser()
        if not (path / "am" / "final.mdl").is_file() and not (path / "final.mdl").is_file():
            raise ConfigError(f"--vosk-model {item!r}: {path} is not a Vosk model folder (no am/final.mdl)")
        models[language.lower()] = path
    return models


async def serve(config: EngineConfig) -> None:
    """Run until SIGINT/SIGTERM; SIGTERM drains (new calls get 503, calls in progress finish)."""
    from ivr.node import Node

    node = Node(config)
    await node.start()
    gc.freeze()     # what start-up made (libraries, campaigns) leaves the collector: full collections stay short
    # The loop gives up the GIL at every socket call and must get it back at once: with the default 5 ms
    # switch interval a busy thread (the store writer loading a code pool, a report) keeps it up to 5 ms
    # each time, and a tick of many sends waits many times that. 1 ms bounds each wait.
    sys.setswitchinterval(SWITCH_INTERVAL)
    log.info("event loop: %s", type(asyncio.get_running_loop()).__module__.split(".")[0])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: draining calls in progress (at most %.0f s)", config.drain_seconds)
    await node.stop(drain=True, drain_seconds=config.drain_seconds)


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop `ivr serve` runs on: uvloop when installed (or required), None for asyncio's own."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("--loop uvloop: uvloop is not installed (pip install 'ivr[fast]')") from None
        return None
    return uvloop.new_event_loop


def build_parser() -> argparse.ArgumentParser:
    """The `ivr` command line: serve, validate, simulate, prompts, keys, numbers, codes, draw."""
    parser = argparse.ArgumentParser(prog="ivr", description="IVR and voice short-number engine")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_arguments(sub)
    from ivr import codes_cli, draw_cli, flow_cli, keys_cli, numbers_cli, prompts_cli

    flow_cli.add_arguments(sub)
    keys_cli.add_arguments(sub)
    numbers_cli.add_arguments(sub)
    prompts_cli.add_arguments(sub)
    codes_cli.add_arguments(sub)
    draw_cli.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
        try:
            config = config_from_args(args)
            factory = loop_factory(args.loop)
        except ConfigError as exc:
            parser.error(str(exc))
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(serve(config))
        return 0
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
