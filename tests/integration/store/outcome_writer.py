"""Child process of the kill -9 test: records outcomes one after another and prints each acknowledgement.

Usage: python outcome_writer.py STORE_URL SPOOL_DIR — prints "<n> committed|spooled" per outcome, forever.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone

from ivr.store import Store, StoreOptions

OPTIONS = StoreOptions(ack_deadline=0.3, answer_timeout=1.0, linger=0.01, probe_min=0.05, probe_max=0.2)


async def main(url: str, spool: str) -> None:
    store = await Store.open(url, spool, OPTIONS)
    n = 0
    while True:
        call_id = f"k{n}"
        store.call_started(call_id=call_id, caller=f"+1555{n:04d}", number="5050", campaign_id="kill",
                           channel="voice", at=datetime.now(timezone.utc))
        durability = await store.record_outcome(call_id=call_id, campaign_id="kill", caller=f"+1555{n:04d}",
                                                channel="voice", kind="answer", name="q1", value=str(n))
        print(n, durability, flush=True)
        n += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
