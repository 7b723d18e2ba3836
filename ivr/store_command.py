"""Running one command-line command in one transaction of the store's database (`ivr keys`, `ivr numbers`).

The database is migrated first; the command returns the lines to print, and they are printed only once
its transaction has committed, so what is shown is what exists. Errors print `PROG: message` alone on
stderr and exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.store.connect import make_engine, writing
from ivr.store.errors import StoreError
from ivr.store.migrate import upgrade

DEFAULT_DB = "sqlite:///var/ivr.db"          # as `ivr serve`


def run_in_store(prog: str, url: str, command: Callable[..., list[str]], *args: Any) -> int:
    """Run `command(session, *args)` in one transaction; print its lines after the commit; 0, or 1 on errors."""
    try:
        engine = make_engine(url)
        try:
            upgrade(engine)
            with Session(writing(engine)) as session, session.begin():
                lines = command(session, *args)
        finally:
            engine.dispose()
    except (StoreError, SQLAlchemyError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
