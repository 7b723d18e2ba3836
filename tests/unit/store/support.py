"""Helpers for the store tests: run async tests, open a store with short timeouts, read tables directly."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ivr.store import Store, StoreOptions

FAST = StoreOptions(ack_deadline=0.3, answer_timeout=1.0, linger=0.01, probe_min=0.05, probe_max=0.2,
                    sqlite_busy_timeout=0.1, close_timeout=10)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def run(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Turn an async test into one pytest runs (one fresh event loop per test)."""
    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))
    return wrapper


@asynccontextmanager
async def opened(url: str, spool: Path, options: StoreOptions = FAST) -> AsyncIterator[Store]:
    store = await Store.open(url, spool, options)
    try:
        yield store
    finally:
        await store.close()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
