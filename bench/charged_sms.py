"""Prints JSON: inbound SMS per second the store claims, charged and not, on SQLite and PostgreSQL (when
reachable on 127.0.0.1:5432, user postgres, database test; a scratch schema is made and dropped).

Measured in this process against `ivr.store.Store.sms_claim`, the request the SMS gateway awaits for
every inbound message (a new message id each time, so every claim inserts its message): `concurrency`
tasks claim their share of `--messages` one after the other, as concurrent gateway requests do, and the
writer batches what is pending. Three runs per backend, each on its own number and campaign:

- `without_billing`: the claim with the charge step taken out (what the store did before charges);
- `no_tariff`: a campaign without a tariff (subscriber pays): the tariff is looked up, nothing written;
- `charged`: a premium campaign: every message is priced and writes its charge row, in the claim's
  transaction.

The three runs take turns, `--rounds` times (the machine is shared: each keeps its best round); each
gives `per_second` and `ack_ms` p50/p99 (the gateway's wait); `charged_vs_without_billing` is the ratio
of the throughputs (the charge must not halve it: above 0.5).

    nice -n 10 .venv/bin/python bench/charged_sms.py [--messages 4000] [--concurrency 50] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))    # this checkout's ivr, not an installed one

from servers import machine  # noqa: E402
from store_writes import acknowledged, on_both_backends, report  # noqa: E402

from ivr.cli import loop_factory  # noqa: E402
from ivr.store import traffic  # noqa: E402
from ivr.store.db import Store  # noqa: E402
from ivr.store.rating import Tariff  # noqa: E402

RUNS = {"without_billing": "1111", "no_tariff": "2222", "charged": "3333"}      # run → its number


async def prepare(store: Store) -> None:
    """A tenant leasing one number per run, a campaign on each, a premium tariff on the charged one."""
    tenant = await store.create_tenant("bench")
    for run, number in RUNS.items():
        await store.add_number(number, "regular", "sms", 0)
        await store.lease_number(number, tenant.id, date(2025, 1, 1))
        await store.save_dialplan_version(tenant.id, run.replace("_", "-"), f"id: {run}\n", "yaml",
                                          claim=(number,), sms_numbers=(number,))
    tariff = await store.set_tariff(Tariff(tenant.id, "sms", "premium", "message", campaign_id="charged",
                                           price=1000, shares={"kyivstar": 4500, "vodafone": 4000, "*": 3500}))
    assert tariff.valid_from is not None
    await asyncio.sleep((tariff.valid_from - datetime.now(timezone.utc)).total_seconds() + 0.1)   # in force


async def measure(url: str, spool: Path, messages: int, concurrency: int, rounds: int) -> dict[str, object]:
    store = await Store.open(url, spool)
    try:
        await prepare(store)
        figures: dict[str, dict[str, float]] = {}
        for turn in range(rounds):
            for run, number in RUNS.items():
                campaign = run.replace("_", "-")

                def claim(n: int, i: int, campaign: str = campaign, number: str = number) -> object:
                    caller = f"+38067{i:07d}" if i % 2 else f"+38050{i:07d}"
                    return store.sms_claim(message_id=f"{campaign}-{turn}-{i}", number=number, caller=caller,
                                           text="1", campaign_id=campaign)
                if run == "without_billing":
                    with mock.patch.object(traffic, "charge_sms_in", lambda *a, **k: False):
                        result = await acknowledged(claim, messages, concurrency)
                else:
                    result = await acknowledged(claim, messages, concurrency)
                if run not in figures or result["per_second"] > figures[run]["per_second"]:
                    figures[run] = result
        totals = await store.campaign_totals("charged")
        written = totals.events if totals else 0
        assert written == rounds * messages, f"{written} charges for {rounds * messages} messages"
        return {**figures, "charged_vs_without_billing": round(
            figures["charged"]["per_second"] / figures["without_billing"]["per_second"], 2),
            "charges_written": written}
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=4000, help="messages per run")
    parser.add_argument("--concurrency", type=int, default=50, help="gateway requests at once")
    parser.add_argument("--rounds", type=int, default=2, help="turns of the three runs (the best one is kept)")
    parser.add_argument("--out", type=Path, help="also write the JSON here (e.g. bench/charged_sms.json)")
    args = parser.parse_args()
    results: dict[str, object] = {"bench": "charged_sms", "machine": machine(), "messages": args.messages,
                                  "concurrency": args.concurrency, "rounds": args.rounds}
    results.update(await on_both_backends(lambda url, spool: measure(url, spool, args.messages, args.concurrency,
                                                                     args.rounds)))
    report(results, args.out)

if __name__ == "__main__":
    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:       # the event loop ivr serve runs on
        runner.run(main())
