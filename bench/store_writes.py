"""Prints JSON: outcomes and votes the store commits per second, and how long a flow waits for one, on
SQLite and PostgreSQL (when reachable on 127.0.0.1:5432, user postgres, database test; a scratch schema
is made and dropped).

Measured in this process against `ivr.store.Store`, not on SIP calls: `concurrency` tasks each write
their share of `--outcomes` one after the other, awaiting each write's acknowledgement as a call's flow
does (the writer batches what the tasks have pending). Figures per backend and write:

- `answers` (`record_outcome`, what ask nodes store) and `votes` (`cast_vote`, one caller each, so
  every vote is accepted by the database's unique constraint): `per_second` committed, and `ack_ms`
  p50/p99, the time from the call to its return once committed. That wait is what storing an outcome
  adds to a call: the flow goes on (the "your vote is counted" prompt) when it returns.
- `event_us` p50/p99 of the fire-and-forget `event` call (a timeline record), what the media path pays.

    .venv/bin/python bench/store_writes.py [--outcomes 4000] [--concurrency 50] [--out bench/store_writes.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ivr, not an installed one

from rtp_sink import percentile  # noqa: E402
from servers import machine  # noqa: E402

from ivr.cli import loop_factory  # noqa: E402
from ivr.store.db import Store  # noqa: E402

Write = Callable[[int, int], Awaitable[object]]          # (task, write number) → the write's acknowledgement


async def acknowledged(write: Write, outcomes: int, concurrency: int) -> dict[str, float]:
    """`outcomes` writes by `concurrency` tasks, each awaiting its writes one by one."""
    acks: list[float] = []

    async def task(n: int) -> None:
        for i in range(n, outcomes, concurrency):
            started = time.perf_counter()
            await write(n, i)
            acks.append(time.perf_counter() - started)
    started = time.perf_counter()
    await asyncio.gather(*(task(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"per_second": round(outcomes / elapsed), "ack_ms_p50": round(statistics.median(acks) * 1e3, 2),
            "ack_ms_p99": round(percentile(acks, 0.99) * 1e3, 2)}


async def measure(url: str, spool: Path, outcomes: int, concurrency: int) -> dict[str, object]:
    store = await Store.open(url, spool)
    try:
        def answer(n: int, i: int) -> Awaitable[object]:
            return store.record_outcome(call_id=f"call{n}", campaign_id="bench", caller=f"+1{n}", channel="voice",
                                        kind="answer", name=f"q{i % 3}", value=str(i % 5))

        def vote(n: int, i: int) -> Awaitable[object]:
            return store.cast_vote(campaign_id="bench", name="talent", caller=f"+1555{i:07d}", choice=str(i % 5),
                                   window="campaign", channel="voice", call_id=f"vote{i}")
        figures: dict[str, object] = {"answers": await acknowledged(answer, outcomes, concurrency),
                                      "votes": await acknowledged(vote, outcomes, concurrency)}
        events: list[float] = []
        now = datetime.now(timezone.utc)
        for i in range(outcomes):
            t0 = time.perf_counter()
            store.event("call0", "dtmf", {"digit": str(i % 10)}, now)
            events.append(time.perf_counter() - t0)
        await store.flush()
        figures["event_us_p50"] = round(statistics.median(events) * 1e6, 1)
        figures["event_us_p99"] = round(percentile(events, 0.99) * 1e6, 1)
        figures["spooled"] = int(store.gauges()["store_spooled"])     # 0: every write reached the database
        return figures
    finally:
        await store.close()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A store URL on a new schema of the local PostgreSQL, dropped afterwards (None: unreachable)."""
    try:
        import psycopg
        conn = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3,
                               autocommit=True)
    except Exception:
        yield None
        return
    schema = "bench_" + uuid.uuid4().hex[:8]
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outcomes", type=int, default=4000, help="writes of each kind")
    parser.add_argument("--concurrency", type=int, default=50, help="tasks writing at once (calls)")
    parser.add_argument("--out", type=Path, help="also write the JSON here (e.g. bench/store_writes.json)")
    args = parser.parse_args()
    results: dict[str, object] = {"bench": "store_writes", "machine": machine(), "outcomes": args.outcomes,
                                  "concurrency": args.concurrency}
    results.update(await on_both_backends(lambda url, spool: measure(url, spool, args.outcomes, args.concurrency)))
    report(results, args.out)


async def on_both_backends(measure: Callable[[str, Path], Awaitable[object]]) -> dict[str, object]:
    """{"sqlite": measure(a fresh file), "postgresql": measure(a scratch schema) or "unreachable"}."""
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await measure(f"sqlite:///{tmp}/bench.db", Path(tmp) / "spool-sqlite")
        with scratch_postgres() as url:
            results["postgresql"] = "unreachable" if url is None else await measure(url, Path(tmp) / "spool-pg")
    return results


def report(results: dict[str, object], out: Path | None) -> None:
    """Print the results as JSON (and write them to `out`), with the load average at the end."""
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]   # type: ignore[index]
    text = json.dumps(results, indent=1)
    if out:
        out.write_text(text + "\n")
    print(text)

if __name__ == "__main__":
    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:       # the event loop ivr serve runs on
        runner.run(main())
