"""SMS over SMPP against Jasmin: the MO→reply round trip and the MT throughput of one bind. Prints JSON.

Jasmin (tests/support/jasmin_peer.py: its own venv, vhost and ports) stands between an `ivr serve` bound
with --smsc and the mobile network's side. Round trip: a handset's one-part message leaves the network
side as deliver_sm, passes Jasmin, runs the vote campaign in ivr, and its reply's first part comes back
through Jasmin as submit_sm: the time between the two, one message at a time; the same is measured first
with a bare ESME that echoes each message at once (smpp34, no store, no flow), which is what Jasmin's two
hops cost by themselves. Throughput: N one-part
messages are queued in ivr's outbox at once and the engine submits them on its one transceiver bind;
the rate is submit_sm Jasmin accepted (its submit_sm_resp) per second, from the first to the last.

    .venv/bin/python bench/smpp.py [--messages 2000] [--round-trips 50] [--window 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import smpp34

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.servers import machine  # noqa: E402
from ivr.channels.sms_outbox import outbound  # noqa: E402
from ivr.store.db import Store  # noqa: E402
from tests.integration.conftest import start_engine  # noqa: E402
from tests.support.jasmin_peer import PASSWORD, USER, Jasmin  # noqa: E402

DIALPLANS = ROOT / "tests" / "integration" / "dialplans" / "smpp"


def smsc_file(folder: Path, port: int, window: int) -> Path:
    path = folder / "smsc.yaml"
    path.write_text(f"""links:
  jasmin: {{host: 127.0.0.1, port: {port}, system_id: {USER}, password_env: IVR_BENCH_SMPP_PASSWORD,
            throughput: 10000, window: {window}}}
""")
    return path


def round_trips(jasmin: Jasmin, count: int, series: str) -> list[float]:
    seconds = []
    for n in range(count):
        subscriber = f"380509{series}{n:04d}"
        start = time.perf_counter()
        jasmin.network.deliver(subscriber, "3838", b"1")
        while not any(r.destination == subscriber for r in jasmin.network.received):
            if time.perf_counter() - start > 30:
                raise TimeoutError(f"no reply to {subscriber}")
            time.sleep(0.0005)
        seconds.append(time.perf_counter() - start)
    return seconds


def echo_round_trips(jasmin: Jasmin, count: int) -> list[float]:
    """The round trip through Jasmin to an ESME that answers every message at once."""
    bound, done = threading.Event(), threading.Event()

    async def echo() -> None:
        client = smpp34.Client(host="127.0.0.1", port=jasmin.smpp_port, system_id=USER, password=PASSWORD,
                               bind_type="TRX")
        session = await client.connect()
        bound.set()
        while not done.is_set():
            event = await asyncio.wait_for(session.next(), 60)
            if isinstance(event, smpp34.Disconnected):
                return
            if not event.esm_class & 0x3C:
                await session.submit_sm(event.source_addr, b"echo", source_addr=event.destination_addr)
        await session.unbind()

    thread = threading.Thread(target=asyncio.run, args=(echo(),), daemon=True)
    thread.start()
    if not bound.wait(30):
        raise TimeoutError("the echo ESME did not bind")
    try:
        return round_trips(jasmin, count, "1")
    finally:
        done.set()
        jasmin.network.deliver("380509000000", "3838", b"bye")      # wakes the echo to see it is done
        thread.join(10)


def submitted(engine) -> float:
    return engine.metrics().get('ivr_sms_submits_total{link="jasmin",result="ok"}', 0.0)


def throughput(engine, messages: int) -> dict:
    async def enqueue() -> None:
        store = await Store.open(engine.db_url, engine.data_dir / "bench-spool")
        try:
            batch = [outbound(number="3838", recipient=f"38067{n:07d}", text=f"Your code is {n:06d}", kind="notify",
                              route="smpp") for n in range(messages)]
            for start in range(0, messages, 500):
                await store.sms_enqueue(batch[start:start + 500])
        finally:
            await store.close()
    before = submitted(engine)
    queued = time.perf_counter()
    asyncio.run(enqueue())
    first = last = None
    while True:
        done = submitted(engine) - before
        now = time.perf_counter()
        if done and first is None:
            first = now
        if done >= messages:
            last = now
            break
        if now - queued > 300:
            raise TimeoutError(f"{done:.0f} of {messages} submitted")
        time.sleep(0.05)
    return {"messages": messages, "seconds": round(last - first, 3),
            "submit_sm_per_second": round(messages / (last - first), 1),
            "queued_to_last_seconds": round(last - queued, 3)}


def spread(seconds: list[float]) -> dict:
    return {"count": len(seconds), "p50": round(statistics.median(seconds) * 1000, 1),
            "p95": round(seconds[int(len(seconds) * 0.95) - 1] * 1000, 1), "max": round(seconds[-1] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--round-trips", type=int, default=50)
    parser.add_argument("--window", type=int, default=32)
    args = parser.parse_args()
    import os
    os.environ["IVR_BENCH_SMPP_PASSWORD"] = PASSWORD
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "jasmin").mkdir()
        jasmin = Jasmin(folder / "jasmin")
        jasmin.start()
        engine = None
        try:
            bare = sorted(echo_round_trips(jasmin, args.round_trips))
            engine = start_engine(folder, "--smsc", str(smsc_file(folder, jasmin.smpp_port, args.window)),
                                  dialplans=DIALPLANS)
            deadline = time.monotonic() + 30
            while engine.metrics().get('ivr_smsc_bind_up{link="jasmin"}') != 1.0:
                if time.monotonic() > deadline:
                    raise TimeoutError("the link did not bind")
                time.sleep(0.1)
            trips = sorted(round_trips(jasmin, args.round_trips, "2"))
            rate = throughput(engine, args.messages)
        finally:
            if engine is not None:
                engine.stop()
            jasmin.stop()
    print(json.dumps({
        "what": "SMS over SMPP through Jasmin 0.11.0 on loopback, one transceiver bind",
        "machine": machine(),
        "mo_to_reply_ms": {**spread(trips),
                           "note": "deliver_sm from the network side to the first reply part back at it: two "
                                   "Jasmin hops (its AMQP queues) plus ivr (flow, vote, store, outbox, submit)"},
        "jasmin_alone_ms": {**spread(bare),
                            "note": "the same round trip with a bare ESME echoing each message at once"},
        "mt_throughput": {**rate, "window": args.window,
                          "note": "one-part GSM messages queued in the outbox at once; submit_sm accepted by "
                                  "Jasmin per second on one bind (link throughput set above it)"},
    }, indent=2))


if __name__ == "__main__":
    main()
