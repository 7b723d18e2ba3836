"""Prints JSON: how fast a file of codes is imported into a named pool (codes/s), and how long redeeming and
issuing a code takes when the pool holds that many codes, against a small pool in the same database, on
SQLite and PostgreSQL (when reachable on 127.0.0.1:5432, user postgres, database test; a scratch schema is
made and dropped).

Measured in this process through `ivr.store.Store` as a node does it: the import runs in the store's import
worker (batches, one commit at the end), the redemptions and issues go through the writer thread and are
awaited as a call's flow awaits them (so `ms` includes the writer's hand-over, not only the database), one
after the other, alternating between the big pool and a pool of 10,000 codes (`lookups.*.small|big`).
`--codes` distinct 10-digit codes (a fixed permutation, so runs are comparable) are written once to
`--cache` and reused. A pool of 10 million codes takes minutes to import on a shared 2-core machine: run
it under `nice -n 10`.

    nice -n 10 .venv/bin/python bench/code_pools.py [--codes 10000000] [--lookups 2000] [--out bench/code_pools.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ivr, not an installed one

from rtp_sink import percentile  # noqa: E402
from servers import machine  # noqa: E402
from store_writes import scratch_postgres  # noqa: E402

from ivr.cli import loop_factory  # noqa: E402
from ivr.store.db import Store  # noqa: E402

SPACE = 10**10
STEP = 7_919_000_003                      # coprime with 10**10: i → i * STEP mod 10**10 is a permutation
SMALL = 10_000


def code(i: int) -> str:
    return f"{(i * STEP + 12345) % SPACE:010d}"


def codes_file(cache: Path, count: int) -> Path:
    """The file of `count` codes, made once."""
    path = cache / f"codes-{count}.txt"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with open(partial, "w") as f:
            for start in range(0, count, 100_000):
                f.write("".join(code(i) + "\n" for i in range(start, min(count, start + 100_000))))
        partial.rename(path)
    return path


async def imported(store: Store, tenant_id: str, pool: str, path: Path, work: Path) -> dict[str, float]:
    """Import a copy of the file (the import deletes it) and wait for the end; codes/s."""
    copy = work / f"{pool}.txt"
    await asyncio.to_thread(os.link, path, copy)                 # the work folder is inside the cache
    started = time.perf_counter()
    import_id = await store.import_codes(tenant_id, pool, copy, path.name, "lines")
    while True:
        found = await store.code_import(tenant_id, pool, import_id)
        if found.state != "running":
            break
        await asyncio.sleep(0.5)
    seconds = time.perf_counter() - started
    assert found.state == "committed", found.error
    return {"codes": found.added, "seconds": round(seconds, 1), "codes_per_second": round(found.added / seconds)}


async def timed(pairs: list) -> dict[str, dict[str, float]]:
    """p50/p99 ms of awaiting each call in turn (one caller at a time: the latency a call sees); the calls on
    the small and the big pool alternate, so both meet the same machine (caches, checkpoints, neighbours)."""
    times: dict[str, list[float]] = {"small": [], "big": []}
    for calls in pairs:
        for pool, call in calls.items():
            started = time.perf_counter()
            await call()
            times[pool].append(time.perf_counter() - started)
    return {pool: {"ms_p50": round(statistics.median(t) * 1e3, 2), "ms_p99": round(percentile(t, 0.99) * 1e3, 2)}
            for pool, t in times.items()}


async def lookups(store: Store, sizes: dict[str, int], count: int) -> dict[str, object]:
    """Redeem fresh codes, used codes and unknown codes, and issue codes, on both pools in turn."""
    rnd = random.Random(7)
    chosen = {pool: rnd.sample(range(size), count) for pool, size in sizes.items()}

    def redeem(pool: str, i: int, n: int):
        return lambda: store.redeem_code(campaign_id="bench", pool=pool, code=code(i), caller=f"+380{n:09d}",
                                         channel="voice", call_id=f"{pool}-{n}", named=True)

    def issue(pool: str, n: int):
        return lambda: store.issue_code(campaign_id="bench", pool=pool, caller=f"+381{n:09d}", channel="voice",
                                        call_id=f"{pool}-i{n}")
    return {
        "redeem": await timed([{p: redeem(p, chosen[p][n], n) for p in sizes} for n in range(count)]),
        "redeem_used": await timed([{p: redeem(p, chosen[p][n], n) for p in sizes} for n in range(count // 4)]),
        "redeem_invalid": await timed([{p: redeem(p, sizes[p] + n, n) for p in sizes} for n in range(count // 4)]),
        "issue": await timed([{p: issue(p, n) for p in sizes} for n in range(count // 2)]),
    }


async def measure(url: str, spool: Path, work: Path, big: Path, count: int, n_lookups: int) -> dict[str, object]:
    store = await Store.open(url, spool)
    try:
        tenant = await store.create_tenant("bench")
        await store.save_dialplan_version(tenant.id, "bench", "id: bench", "yaml")
        small = codes_file(work, SMALL)
        figures: dict[str, object] = {"import_small": await imported(store, tenant.id, "small", small, work),
                                      "import_big": await imported(store, tenant.id, "big", big, work)}
        if url.startswith("sqlite"):                   # the import's log folded into the file, as it soon is
            with store.engine.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        figures["lookups"] = await lookups(store, {"small": SMALL, "big": count}, n_lookups)
        return figures
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=10_000_000, help="codes in the big pool")
    parser.add_argument("--lookups", type=int, default=2000, help="redemptions timed per pool")
    parser.add_argument("--cache", type=Path, default=Path(__file__).parent / "cache", help="where the file is kept")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--out", type=Path, help="also write the JSON here (e.g. bench/code_pools.json)")
    args = parser.parse_args()
    big = await asyncio.to_thread(codes_file, args.cache, args.codes)
    results: dict[str, object] = {"bench": "code_pools", "machine": machine(), "codes": args.codes,
                                  "small_pool": SMALL, "lookups": args.lookups, "file_bytes": big.stat().st_size}
    with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
        work = Path(tmp)
        if args.backend in ("both", "sqlite"):
            results["sqlite"] = await measure(f"sqlite:///{tmp}/bench.db", work / "spool-sqlite", work, big,
                                              args.codes, args.lookups)
        if args.backend in ("both", "postgresql"):
            with scratch_postgres() as url:
                results["postgresql"] = "unreachable" if url is None else await measure(
                    url, work / "spool-pg", work, big, args.codes, args.lookups)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]   # type: ignore[index]
    text = json.dumps(results, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:       # the event loop ivr serve runs on
        runner.run(main())
