"""The dialer of outbound campaigns: claims numbers from the store's queue and hands them to the channel's
`Sender` (a call out, an SMS into the outbox) at the campaign's and the route's pace.

Everything runs from one timer (`on_tick`, every 20 ms: the engine's media clock for calls, the SMS
broadcaster's loop for messages): no timer or task per number. Once a second the running campaigns are read
again (so a pause, a cancel, another node's start are seen). The campaign's pace is the store's: each
claimed number comes with its start time (1/rate after the previous one, whichever node claimed it) and a
claim never exceeds the campaign's free concurrent calls on all nodes. Each tick, the numbers whose start
time has come are handed over, as the route's own pace allows (for calls, this node's `--outbound-rate`
and `--outbound-concurrent` over the trunk). Spacing is kept on a virtual clock: each start is due 1/rate
after the previous one's due time, so a start may come one tick early to make up for a late tick (the pace
holds on the 20 ms clock), and a lull never turns into a burst.

A campaign that holds fewer numbers than it can start within a second claims more, one claim at a time: a
claim held here is a number no other node will call, so few are held. The results of the attempts that
ended are written once per tick, in one transaction (retries and back-off are the store's); numbers held
when the campaign stops running are given back.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Protocol

from ivr.store.outbound import Claimed, Finished, Outbound

log = logging.getLogger("ivr.outbound")


@dataclass(frozen=True)
class Dialled:
    """What one attempt came to, for its campaign's results: `result` answered, completed, busy, no_answer,
    failed, sent or opted_out; `outcome` the flow's last step (a call that reached an end), or why."""

    call_id: str
    result: str
    outcome: str | None


class Sender(Protocol):
    """A channel's way of making one attempt."""

    channel: str

    def ready(self, outbound: Outbound) -> bool:
        """Whether the campaign's attempts can be made now (its flow in service, a route to send on)."""

    def send(self, outbound: Outbound, claimed: Claimed, done: Callable[[Dialled], None]) -> None:
        """Make the attempt; `done` gets its result (once, now or later). Raises when it cannot be made."""

    def flush(self) -> Coroutine[Any, Any, None] | None:
        """End of a tick: the work for what `send` gathered (one store write for a tick's messages)."""

TICK = 0.02                 # seconds between ticks (the media clock's)
REFRESH_TICKS = 50          # media clock ticks between reads of the running campaigns (one second)
LEASE_MARGIN = 60.0         # seconds a claim outlives the longest possible call


@dataclass
class Pace:
    """One running campaign on this node: the numbers it holds, its calls in progress, its next start."""

    outbound: Outbound
    waiting: deque[tuple[float, Claimed]] = field(default_factory=deque)   # (when to call, on the loop's clock)
    active: int = 0
    claiming: bool = False
    next_local: float = float("-inf")       # on this node: the next start 1/rate after the last one's due time

    @property
    def interval(self) -> float:
        return 1.0 / self.outbound.rate


class Dialer:
    """The outbound voice campaigns of one engine node (see the module docstring)."""

    def __init__(self, store: Any, sender: Sender, *, node: str, rate: float, concurrent: int, lease: float,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.sender = sender
        self.node = node
        self.rate = rate                         # the route's pace on this node (the trunk's, the SMS links')
        self.concurrent = concurrent
        self.lease = lease + LEASE_MARGIN        # the longest attempt, and some
        self.clock = clock
        self.paces: dict[str, Pace] = {}
        self.next_at = 0.0                       # the trunk's next start
        self.stopped = False
        self._refreshing = False
        self._tasks: set[asyncio.Task] = set()
        self._results: list[Finished] = []      # attempts that ended this tick, written together

    async def start(self) -> None:
        """Attempts this node's previous life left claimed are done (never made twice); the owner then ticks."""
        try:
            released = await self.store.outbound_release(self.node)
        except Exception as exc:                   # the database is down: the claims run out instead
            log.warning("outbound: cannot release this node's previous claims: %s", exc)
            released = 0
        if released:
            log.warning("outbound: %d attempts of this node's previous run were interrupted; not made again",
                        released)

    def pause(self) -> None:
        """Place no more calls (the node drains); numbers held are given back."""
        self.stopped = True
        for pace in self.paces.values():
            self._give_back(pace)

    async def stop(self) -> None:
        """After the attempts in progress ended (calls hung up): their results and the numbers given back
        are written."""
        self.pause()
        self._flush()
        while self._tasks or self._results:
            self._flush()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def active(self) -> int:
        return sum(pace.active for pace in self.paces.values())

    # -- the clock ------------------------------------------------------------------------------

    def on_tick(self, tick: int, now: float) -> None:
        if self.stopped:
            self._flush()                       # results of calls still ending while the node drains
            return
        if tick % REFRESH_TICKS == 0 and not self._refreshing:
            self._refreshing = True
            self._spawn(self._refresh())
        for pace in self.paces.values():
            self._start_due(pace, now)
            if pace.outbound.state == "running" and not pace.claiming:
                want = self._wanted(pace)
                if want > 0:
                    pace.claiming = True
                    self._spawn(self._claim(pace, want))
        self._flush()

    def _flush(self) -> None:
        """The tick's work: the sender's, and the results of the attempts that ended, in one store write."""
        work = self.sender.flush()
        if work is not None:
            self._spawn(work)
        if self._results:
            results, self._results = self._results, []
            self._spawn(self.store.outbound_finish_many(node=self.node, results=results))

    def _start_due(self, pace: Pace, now: float) -> None:
        while pace.waiting and pace.outbound.state == "running":
            if pace.active >= pace.outbound.concurrent or self.active >= self.concurrent:
                return
            if now < pace.waiting[0][0] or now < self.next_at or now < pace.next_local:
                return
            pace.next_local = max(pace.next_local, now - TICK) + pace.interval     # a late tick makes no burst
            self.next_at = max(self.next_at, now - TICK) + 1.0 / self.rate
            self._place(pace, pace.waiting.popleft()[1])

    def _wanted(self, pace: Pace) -> int:
        """How many more numbers the campaign should hold: what it could start within a second."""
        if not self.sender.ready(pace.outbound):
            return 0
        free = min(pace.outbound.concurrent - pace.active, self.concurrent - self.active)
        soon = max(1, math.ceil(min(pace.outbound.rate, self.rate)))
        return max(0, min(free, soon) - len(pace.waiting))

    def _place(self, pace: Pace, claimed: Claimed) -> None:
        outbound = pace.outbound
        if not self.sender.ready(outbound):
            self._finish(claimed, None)
            return
        pace.active += 1

        def done(result: Dialled) -> None:
            pace.active -= 1
            self._finish(claimed, result)
        try:
            self.sender.send(outbound, claimed, done)
        except Exception as exc:
            pace.active -= 1
            log.warning("outbound %s: cannot reach %s: %s", outbound.id, claimed.recipient, exc)
            self._finish(claimed, Dialled("", "failed", None))

    # -- the store --------------------------------------------------------------------------------

    async def _refresh(self) -> None:
        try:
            running = {o.id: o for o in await self.store.outbound_running(self.sender.channel)}
        except Exception as exc:
            log.warning("outbound: cannot read the running campaigns: %s", exc)
            return
        finally:
            self._refreshing = False
        for oid, pace in list(self.paces.items()):
            if oid in running:
                pace.outbound = running[oid]
            else:
                pace.outbound = _stopped(pace.outbound)
                self._give_back(pace)
                if not pace.active and not pace.claiming:
                    del self.paces[oid]
        for oid, outbound in running.items():
            self.paces.setdefault(oid, Pace(outbound))

    async def _claim(self, pace: Pace, limit: int) -> None:
        try:
            claimed = await self.store.outbound_claim(outbound_id=pace.outbound.id, node=self.node, limit=limit,
                                                      lease=self.lease, channel=self.sender.channel)
        except Exception as exc:
            log.warning("outbound %s: claim failed: %s", pace.outbound.id, exc)
            claimed = []
        finally:
            pace.claiming = False
        offset = self.clock() - datetime.now(timezone.utc).timestamp()     # wall clock -> loop clock
        pace.waiting.extend((c.start_at.timestamp() + offset, c) for c in claimed)
        if self.stopped or pace.outbound.state != "running":
            self._give_back(pace)

    def _give_back(self, pace: Pace) -> None:
        while pace.waiting:
            self._finish(pace.waiting.popleft()[1], None)

    def _finish(self, claimed: Claimed, result: Dialled | None) -> None:
        """Write an attempt's result (None: not made, the number goes back to the queue as it was)."""
        if result is None:
            self._spawn(self.store.outbound_give_back(contact_id=claimed.contact_id, node=self.node))
            return
        self._results.append(Finished(claimed.contact_id, result.result, result.outcome, result.call_id or None))

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("outbound: writing to the store failed: %s", task.exception())


def _stopped(outbound: Outbound) -> Outbound:
    """The campaign as this node now treats it: no longer running (paused, cancelled, done elsewhere)."""
    return replace(outbound, state="stopped")
