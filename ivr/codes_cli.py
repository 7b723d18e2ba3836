"""`ivr codes import | list | imports`: a tenant's code pools, straight in the store's database.

`codes import` reads the file in batches into the tenant's pool as the node's import worker does (nothing
counts until the whole file is in; on an error nothing of it stays), printing its progress; the duplicates
and malformed lines are listed by line number (the first 1000) with their counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.store import accounts, code_pools
from ivr.store.audit import Actor
from ivr.store.code_files import FORMATS, CodeFileError
from ivr.store.code_import import Progress, run_import
from ivr.store.connect import make_engine, writing
from ivr.store.errors import StoreError
from ivr.store.migrate import upgrade

DEFAULT_DB = "sqlite:///var/ivr.db"          # as `ivr serve`
PROGRESS_EVERY = 2.0                         # seconds between progress lines


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Register `ivr codes ...`."""
    codes = subparsers.add_parser("codes", help="code pools: import a file of codes, list pools and imports")
    sub = codes.add_subparsers(dest="codes_command", required=True)
    p = sub.add_parser("import", help="import a file (one code a line or CSV, .gz too) into a tenant's pool")
    p.add_argument("pool", metavar="POOL")
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument("--tenant", required=True, help="the tenant's name")
    p.add_argument("--format", choices=FORMATS, default="auto", help="lines, csv, or auto (default: from the file)")
    p.add_argument("--db", default=DEFAULT_DB, help="store URL (as ivr serve)")
    p.set_defaults(handler=import_codes)
    p = sub.add_parser("list", help="a tenant's pools: codes, redeemed, handed out")
    p.add_argument("--tenant", required=True)
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=list_pools)
    p = sub.add_parser("imports", help="a pool's imports, newest first")
    p.add_argument("pool", metavar="POOL")
    p.add_argument("--tenant", required=True)
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(handler=list_imports)


def import_codes(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"codes: no file {args.file}", file=sys.stderr)
        return 1
    last = [time.monotonic()]

    def show(progress: Progress) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            print(f"line {progress.lines}: {progress.added} added, {progress.duplicates} duplicates, "
                  f"{progress.malformed} malformed", flush=True)
    started = time.monotonic()
    try:
        engine = make_engine(args.db)
        try:
            upgrade(engine)
            with Session(writing(engine)) as session, session.begin():
                tenant = accounts.tenant_by_name(session, args.tenant)
                if tenant is None:
                    raise StoreError(f"no tenant named {args.tenant!r}")
                pool_id, import_id = code_pools.begin_import(session, tenant.id, args.pool, args.file.name,
                                                             args.file.stat().st_size, Actor.command_line())
            done = run_import(engine, pool_id, import_id, args.file, args.format, show)
        finally:
            engine.dispose()
    except (StoreError, SQLAlchemyError, CodeFileError, OSError) as exc:
        print(f"codes: import failed, nothing of it was kept: {exc}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    for problem in done.problems:
        print(f"line {problem['line']}: {problem['kind']}: {problem['message']}: {problem['text']}")
    listed = "" if len(done.problems) == done.duplicates + done.malformed else f" (the first {len(done.problems)} listed)"
    print(f"import {import_id} into {args.pool}: {done.added} codes added from {done.lines} lines, "
          f"{done.duplicates} duplicates, {done.malformed} malformed{listed}; {seconds:.1f} s, "
          f"{done.lines / seconds if seconds else 0:.0f} lines/s")
    return 0


def list_pools(args: argparse.Namespace) -> int:
    return _read(args, lambda session, tenant_id: [
        f"{p.name}  {p.codes} codes  {p.redeemed} redeemed  {p.issued} handed out  created {p.created_at:%Y-%m-%d %H:%M}"
        for p in code_pools.pools(session, tenant_id)])


def list_imports(args: argparse.Namespace) -> int:
    return _read(args, lambda session, tenant_id: [
        f"{i.id}  {i.state:<9}  {i.filename}  {i.added} added  {i.duplicates} duplicates  {i.malformed} malformed  "
        f"started {i.started_at:%Y-%m-%d %H:%M:%S}" + (f"  {i.error}" if i.error else "")
        for i in code_pools.imports(session, tenant_id, args.pool)])


def _read(args: argparse.Namespace, lines_of: object) -> int:
    try:
        engine = make_engine(args.db)
        try:
            upgrade(engine)
            with Session(engine) as session, session.begin():
                tenant = accounts.tenant_by_name(session, args.tenant)
                if tenant is None:
                    raise StoreError(f"no tenant named {args.tenant!r}")
                lines = lines_of(session, tenant.id)                     # type: ignore[operator]
        finally:
            engine.dispose()
    except (StoreError, SQLAlchemyError) as exc:
        print(f"codes: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0
