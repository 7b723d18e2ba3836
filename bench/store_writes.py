"""Prints JSON: outcomes the store commits per second, and the latency a call feels, on SQLite and
PostgreSQL (when reachable on 127.0.0.1:5432, user postgres, database test; a scratch schema is
made and dropped).

Figures per backend: `outcomes_per_second` with `concurrency` calls each awaiting its outcomes (how
the engine uses the store), `ack_ms` p50/p99 of one `record_outcome` await (the latency added to a
call when its flow stores an answer), `record_us` p50/p99 of the fire-and-forget `event` call (what
the media path pays per timeline event).

    .venv/bin/python bench/store_writes.py [--outcomes 4000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ivr.store.db import Store


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, spool: Path, outcomes: int, concurrency: int) -> dict[str, float]:
    store = await Store.open(url, spool)
    try:
        acks: list[float] = []

        async def caller(n: int) -> None:
            for i in range(n, outcomes, concurrency):
                started = time.perf_counter()
                await store.record_outcome(call_id=f"call{n}", campaign_id="bench", caller=f"+1{n}", channel="voice",
                                           kind="answer", name=f"q{i % 3}", value=str(i % 5))
                acks.append(time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(caller(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        records: list[float] = []
        now = datetime.now(timezone.utc)
        for i in range(outcomes):
            t0 = time.perf_counter()
            store.event("call0", "dtmf", {"digit": str(i % 10)}, now)
            records.append(time.perf_counter() - t0)
        await store.flush()
        return {"outcomes_per_second": round(outcomes / elapsed),
                "ack_ms_p50": round(statistics.median(acks) * 1e3, 2), "ack_ms_p99": round(percentile(acks, 0.99) * 1e3, 2),
                "record_us_p50": round(statistics.median(records) * 1e6, 1),
                "record_us_p99": round(percentile(records, 0.99) * 1e6, 1)}
    finally:
        await store.close()


def postgres_schema() -> tuple[str, object] | None:
    try:
        import psycopg
        conn = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3,
                               autocommit=True)
    except Exception:
        return None
    schema = "bench_" + uuid.uuid4().hex[:8]
    conn.execute(f"CREATE SCHEMA {schema}")
    return schema, conn


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outcomes", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    results: dict[str, object] = {"bench": "store_writes", "outcomes": args.outcomes, "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await measure(f"sqlite:///{tmp}/bench.db", Path(tmp) / "spool-sqlite", args.outcomes,
                                          args.concurrency)
        pg = postgres_schema()
        if pg is None:
            results["postgresql"] = "unreachable"
        else:
            schema, conn = pg
            try:
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
                results["postgresql"] = await measure(url, Path(tmp) / "spool-pg", args.outcomes, args.concurrency)
            finally:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")           # type: ignore[attr-defined]
                conn.close()                                             # type: ignore[attr-defined]
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
