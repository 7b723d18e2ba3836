"""Prints JSON: how long a caller waits, from sending the ACK, for the first RTP packet of the greeting.

Starts `ivr serve` on loopback with the demo campaigns, then places N calls one after the other to
the vote line (3838) with the scripted phone of the integration tests; each call lasts until the
first packet carrying sound (not the codec's silence), stamped by the kernel on arrival, then hangs
up; the next call comes at a random point of the 20 ms clock period. Target: one media clock frame
(20 ms): the greeting goes out on the first tick after the ACK.

    .venv/bin/python bench/first_prompt.py [N]        # N calls, default 50
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.conftest import start_engine  # noqa: E402
from tests.support.caller import Caller  # noqa: E402


async def first_prompt_delays(sip_port: int, calls: int) -> list[float]:
    delays = []
    for n in range(calls):
        async with Caller(("127.0.0.1", sip_port), "3838", caller_id=f"+1555099{n:04d}") as phone:
            await phone.dial()
            await phone.wait_until(lambda received: any(not a.silent for a in received), timeout=10)
            heard = next(a for a in phone.received if not a.silent)
            assert phone.ack_sent_at is not None
            delays.append(heard.at - phone.ack_sent_at)
            await phone.hang_up()
        await asyncio.sleep(random.uniform(0, 0.02))      # calls come at any phase of the media clock
    return delays


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp:
        engine = start_engine(Path(tmp))
        try:
            delays = asyncio.run(first_prompt_delays(engine.sip_port, calls))
        finally:
            engine.stop()
    ms = [d * 1000 for d in delays]
    print(json.dumps({"bench": "ack_to_first_prompt_packet", "calls": calls,
                      "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2),
                      "max_ms": round(max(ms), 2), "min_ms": round(min(ms), 2)}))


if __name__ == "__main__":
    main()
