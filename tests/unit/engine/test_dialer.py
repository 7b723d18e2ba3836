"""The dialer's pacing with a store and a sender of its own: starts at the store's slots, never two of a
campaign closer than 1/rate, the trunk's rate and concurrency over all campaigns, results written once per
tick, numbers held given back when a campaign stops running."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ivr.channels.dialer import Dialer, Dialled
from ivr.store.outbound import Claimed, Outbound

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)


def campaign(oid: str, rate: float, concurrent: int = 100) -> Outbound:
    return Outbound(oid, "t", "c", oid, "voice", "7070", None, "running", rate, concurrent, "UTC", 0, 1440, 1, 0,
                    NOW, NOW, None)


class Store:
    def __init__(self, campaigns: list[Outbound], numbers: int) -> None:
        self.campaigns = {c.id: c for c in campaigns}
        self.left = {c.id: numbers for c in campaigns}
        self.slot = {c.id: datetime.now(timezone.utc) for c in campaigns}
        self.finished: list[list] = []
        self.given_back: list[int] = []
        self.ids = iter(range(1, 10**6))

    async def outbound_release(self, node):
        return 0

    async def outbound_running(self, channel):
        return [c for c in self.campaigns.values() if c.state == "running"]

    async def outbound_claim(self, *, outbound_id, node, limit, lease, channel=None):
        out = []
        campaign = self.campaigns[outbound_id]
        for _ in range(min(limit, self.left[outbound_id])):
            self.left[outbound_id] -= 1
            out.append(Claimed(next(self.ids), outbound_id, "+380500000000", {}, 1, self.slot[outbound_id]))
            self.slot[outbound_id] += timedelta(seconds=1 / campaign.rate)
        return out

    async def outbound_finish_many(self, *, node, results):
        self.finished.append(list(results))

    async def outbound_give_back(self, *, contact_id, node):
        self.given_back.append(contact_id)


class Sender:
    channel = "voice"

    def __init__(self, clock) -> None:
        self.clock = clock
        self.starts: list[tuple[float, str]] = []
        self.pending: list = []

    def ready(self, outbound):
        return True

    def send(self, outbound, claimed, done):
        self.starts.append((self.clock(), outbound.id))
        self.pending.append(done)

    def flush(self):
        return None


async def drive(dialer: Dialer, seconds: float, sender: Sender | None = None, end_calls: bool = True,
                end_every: int = 1) -> None:
    """Tick the dialer for `seconds`; calls end (completed) every `end_every` ticks."""
    loop = asyncio.get_running_loop()
    tick = 0
    until = loop.time() + seconds
    while loop.time() < until:
        dialer.on_tick(tick, loop.time())
        tick += 1
        if sender is not None and end_calls and tick % end_every == 0:
            for done in sender.pending:
                done(Dialled("x", "completed", "end"))
            sender.pending.clear()
        await asyncio.sleep(0.02)


def test_campaign_and_trunk_rates_hold() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        store = Store([campaign("a", rate=10), campaign("b", rate=10)], numbers=100)
        sender = Sender(loop.time)
        dialer = Dialer(store, sender, node="n", rate=12, concurrent=100, lease=60, clock=loop.time)
        await dialer.start()
        await drive(dialer, 2.2, sender, end_every=10)
        for done in sender.pending:                                        # the last calls end as the node stops
            done(Dialled("x", "answered", None))
        await dialer.stop()
        starts = [at for at, _ in sender.starts]
        assert len(starts) >= 20 and (len(starts) - 1) / (starts[-1] - starts[0]) <= 12 * 1.02   # the trunk's 12/s
        assert min(b - a for a, b in zip(starts, starts[1:])) >= 1 / 12 - 0.025
        for oid in "ab":
            mine = [at for at, who in sender.starts if who == oid]
            assert min(b - a for a, b in zip(mine, mine[1:])) >= 0.1 - 0.025   # each campaign's 10 a second
        assert sum(len(batch) for batch in store.finished) == len(starts)
        assert len(store.finished) < len(starts)                            # written per tick, not per call
    asyncio.run(run())


def test_concurrency_and_giving_back_when_paused() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        store = Store([campaign("a", rate=50, concurrent=3)], numbers=100)
        sender = Sender(loop.time)
        dialer = Dialer(store, sender, node="n", rate=100, concurrent=100, lease=60, clock=loop.time)
        await dialer.start()
        await drive(dialer, 1.2, sender, end_calls=False)
        assert len(sender.starts) == 3                                     # 3 at once, none ends
        await dialer.stop()

        store = Store([campaign("b", rate=2)], numbers=100)
        sender = Sender(loop.time)
        dialer = Dialer(store, sender, node="n", rate=100, concurrent=100, lease=60, clock=loop.time)
        await dialer.start()
        await drive(dialer, 0.3, sender)
        assert len(sender.starts) == 1                                     # the second waits for its slot
        store.campaigns["b"] = replace(store.campaigns["b"], state="paused")
        await drive(dialer, 1.2, sender)
        assert len(sender.starts) == 1 and 2 in store.given_back           # held, not called: given back
        assert 100 - store.left["b"] == 1 + len(store.given_back)         # every claim called or given back
        await dialer.stop()
    asyncio.run(run())
