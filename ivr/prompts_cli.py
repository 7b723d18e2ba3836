"""`ivr prompts build` and `ivr prompts say`: make prompt audio ahead of calls, or try a voice."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ivr.engine.campaign_prompts import campaign_requests
from ivr.flow.loader import load_file
from ivr.flow.validate import DialplanError
from ivr.media import audio
from ivr.media.prompt_cache import DEFAULT_DIRECTORY, BuildFailure, PromptCache, PromptError, PromptRequest
from ivr.media.tts import TtsError, TtsRegistry
from ivr.media.voice_pack import VoicePack

CAMPAIGN_SUFFIXES = (".yaml", ".yml")


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `prompts build` and `prompts say`; each sets `handler(args) -> exit code`."""
    prompts = subparsers.add_parser("prompts", help="make prompt audio from campaign texts ahead of calls")
    sub = prompts.add_subparsers(dest="prompts_command", required=True)

    build = sub.add_parser("build", help="make every prompt of the campaign files (or folders of them)")
    build.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    build.add_argument("--cache", type=Path, default=DEFAULT_DIRECTORY, help="prompt cache folder")
    build.add_argument("--clean", action="store_true",
                       help="also delete cached prompts these campaigns do not need (give all campaigns)")
    build.add_argument("--workers", type=int, default=2, help="prompts made at once")
    build.set_defaults(handler=build_command)

    say = sub.add_parser("say", help="speak a text into an 8 kHz WAV file, as callers would hear it")
    say.add_argument("text")
    say.add_argument("--lang", default="en", help="language, e.g. en, ru, uk")
    say.add_argument("--voice", help="engine voice (default: the engine's voice for the language)")
    say.add_argument("--engine", help="TTS engine: flite, festival, espeak-ng, piper (default: by language)")
    say.add_argument("--rate", type=float, default=1.0, help="speed factor, 0.5 to 2.0")
    say.add_argument("--cache", type=Path, help="keep the result in this prompt cache too")
    say.add_argument("--voice-packs", type=Path, help="folder of voice packs (for --engine voice-pack --voice NAME)")
    say.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.wav")
    say.set_defaults(handler=say_command)

    pack = sub.add_parser("pack", help="check a voice pack: every recording playable, the words it lacks listed")
    pack.add_argument("folder", type=Path, metavar="PACK_DIR")
    pack.add_argument("--lang", required=True, help="language the pack speaks: uk, ru or en")
    pack.add_argument("--text", action="append", default=[], help="a prompt text the pack must say too (repeatable)")
    pack.set_defaults(handler=pack_command)


def build_command(args: argparse.Namespace) -> int:
    """Make the prompts of every campaign under `args.paths`; 1 when a campaign or prompt failed."""

    cache = PromptCache(args.cache)
    requests: list[PromptRequest] = []
    ok = True
    for path in campaign_files(args.paths):
        try:
            campaign = load_file(path)
        except (DialplanError, OSError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            ok = False
            continue
        found, issues = campaign_requests(campaign, uploads=None)
        print(f"{path}: {len(found)} prompts")
        for issue in issues:
            print(f"{path}: {issue}", file=sys.stderr)
            ok = False
        requests.extend(w.request for w in found)
    report = cache.build(requests, workers=args.workers, progress=ProgressReport(sys.stdout, sys.stderr))
    print(f"{len(report.keys)} prompts in {cache.directory}: {len(report.generated)} made, {report.reused} cached")
    if args.clean and ok and not report.failures:
        removed = cache.clean(report.keys)
        print(f"{len(removed)} stale prompts deleted")
    return 0 if ok and not report.failures else 1


class ProgressReport:
    """Prints each prompt made (failures to `err`) and, when `err` is a terminal, a progress bar there."""

    WIDTH = 30

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.bar = err.isatty()

    def __call__(self, done: int, total: int, item: BuildFailure | PromptRequest) -> None:
        if self.bar:
            self.err.write("\r\033[K")                                   # clear the bar, print above it
        if isinstance(item, BuildFailure):
            print(f"failed: {_describe(item.request)}: {item.error}", file=self.err)
        else:
            print(f"made {done}/{total}: {_describe(item)}", file=self.out)
            self.out.flush()
        if self.bar:
            filled = self.WIDTH * done // total
            self.err.write(f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}")
            if done == total:
                self.err.write("\r\033[K")
            self.err.flush()


def _describe(request: PromptRequest) -> str:
    if request.audio_path is not None:
        return f"recording {request.audio_path}"
    return f"[{request.language}] {request.text!r}"


def say_command(args: argparse.Namespace) -> int:
    """Speak `args.text` into `args.output` (16-bit 8 kHz mono WAV)."""
    try:
        request = PromptRequest(text=args.text, language=args.lang, voice=args.voice, engine=args.engine,
                                rate=args.rate)
        registry = TtsRegistry(voice_packs=args.voice_packs)
        if args.cache is not None:
            pcm = PromptCache(args.cache, registry).synthesize(request)
        else:
            with tempfile.TemporaryDirectory(prefix="ivr-say-") as tmp:
                pcm = PromptCache(Path(tmp), registry).synthesize(request)
        audio.write_wav(args.output, pcm)
    except (PromptError, TtsError, OSError) as exc:
        print(f"ivr prompts say: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: {len(pcm) / 2 / audio.SAMPLE_RATE:.2f} s")
    return 0


def pack_command(args: argparse.Namespace) -> int:
    """Check a voice pack folder: exit 1 listing unplayable recordings and the words it lacks."""
    pack = VoicePack(args.folder)
    recordings = pack.recordings()
    if not recordings:
        print(f"ivr prompts pack: {args.folder} holds no recordings named by their word (e.g. гривня.wav)",
              file=sys.stderr)
        return 1
    broken = []
    for word, path in recordings.items():
        try:
            audio.to_telephony(path)
        except (audio.AudioError, OSError) as exc:
            broken.append(f"{path.name}: {exc}")
    missing = pack.missing(args.lang, args.text)
    for line in broken:
        print(f"not playable: {line}")
    if missing:
        print(f"missing ({len(missing)}): {', '.join(missing)}")
    print(f"{args.folder}: {len(recordings)} words recorded, {len(missing)} missing, {len(broken)} not playable")
    return 1 if missing or broken else 0


def campaign_files(paths: list[Path]) -> Iterator[Path]:
    """The campaign files named, and those in the folders named."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in CAMPAIGN_SUFFIXES)
        else:
            yield path
