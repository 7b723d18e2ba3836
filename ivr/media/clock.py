"""The one media clock: a 20 ms tick for every call in the process.

`TickSchedule` is the pure part. Tick n is due at start + n × period, computed from the start each
time, so timer error never accumulates however long the process runs. Catch-up rule, when the loop
woke late: each wake-up delivers at most `max_catchup` (2) of the due ticks, and while ticks are still
overdue the next wake-up comes half a period later; so the peer gets at most 2 frames at once and
at most 4 per period until the clock is back on time. When the oldest due tick is more than
`resync_after` (200 ms) late, the clock resynchronises instead: it drops all but the newest due tick
and counts them in `ClockStats.dropped_ticks` (the peer hears a gap rather than a long burst).

`MediaClock` drives the schedule from asyncio with a single `loop.call_at` chain for all calls: no
task, thread or timer per call. Each tick calls every listener's `on_tick(tick, now)` synchronously;
a listener that raises is logged and removed, and the clock goes on.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

PERIOD = 0.020
EARLY = 1e-6                    # a timer firing this early still counts as on time (float rounding)


class TickListener(Protocol):
    """A media session or anything else paced by the clock."""

    def on_tick(self, tick: int, now: float) -> None: ...


@dataclass
class ClockStats:
    ticks: int = 0              # delivered
    late_ticks: int = 0         # delivered more than half a period after they were due
    dropped_ticks: int = 0      # skipped when resynchronising
    resyncs: int = 0
    max_lateness: float = 0.0   # seconds, over delivered ticks


class TickSchedule:
    """Which ticks to run at a given (monotonic) time, and when to wake up next."""

    def __init__(self, start: float, period: float = PERIOD, max_catchup: int = 2,
                 resync_after: float = 0.2) -> None:
        self.start = start
        self.period = period
        self.max_catchup = max_catchup
        self.resync_after = resync_after
        self.next_tick = 0
        self.stats = ClockStats()

    def due_time(self, tick: int) -> float:
        return self.start + tick * self.period

    def due(self, now: float) -> list[int]:
        """The ticks to run now, oldest first (at most `max_catchup`)."""
        newest = math.floor((now - self.start + EARLY) / self.period)
        if newest < self.next_tick:
            return []
        if now - self.due_time(self.next_tick) > self.resync_after:
            self.stats.resyncs += 1
            self.stats.dropped_ticks += newest - self.next_tick
            self.next_tick = newest
        ticks = list(range(self.next_tick, min(newest + 1, self.next_tick + self.max_catchup)))
        self.next_tick = ticks[-1] + 1
        for tick in ticks:
            lateness = now - self.due_time(tick)
            self.stats.ticks += 1
            self.stats.late_ticks += lateness > self.period / 2
            self.stats.max_lateness = max(self.stats.max_lateness, lateness)
        return ticks

    def next_wakeup(self, now: float) -> float:
        """When to call `due` next: the next tick's time, or half a period on while catching up."""
        deadline = self.due_time(self.next_tick)
        return deadline if deadline > now + EARLY else now + self.period / 2


class MediaClockError(RuntimeError):
    """The clock was used the wrong way (started twice)."""


class MediaClock:
    """Calls every listener's `on_tick(tick, now)` each period, from one timer chain on the running loop."""

    def __init__(self, period: float = PERIOD, max_catchup: int = 2, resync_after: float = 0.2) -> None:
        self.period = period
        self.max_catchup = max_catchup
        self.resync_after = resync_after
        self.schedule: TickSchedule | None = None
        self._listeners: dict[int, TickListener] = {}
        self._next_handle = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._timer is not None

    @property
    def stats(self) -> ClockStats:
        return self.schedule.stats if self.schedule is not None else ClockStats()

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def add(self, listener: TickListener) -> int:
        """Tick `listener` from the next tick on; returns the handle for `remove`."""
        self._next_handle += 1
        self._listeners[self._next_handle] = listener
        return self._next_handle

    def remove(self, handle: int) -> None:
        """Stop ticking a listener (unknown handles are ignored)."""
        self._listeners.pop(handle, None)

    def start(self) -> None:
        """Start ticking on the running event loop; tick 0 is due one period from now."""
        if self._timer is not None:
            raise MediaClockError("media clock already running")
        self._loop = asyncio.get_running_loop()
        self.schedule = TickSchedule(self._loop.time() + self.period, self.period, self.max_catchup,
                                     self.resync_after)
        self._timer = self._loop.call_at(self.schedule.start, self._fire)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        assert self._loop is not None and self.schedule is not None
        now = self._loop.time()
        for tick in self.schedule.due(now):
            for handle, listener in list(self._listeners.items()):
                if handle not in self._listeners:
                    continue                     # removed by an earlier listener during this tick
                try:
                    listener.on_tick(tick, now)
                except Exception:
                    log.exception("media clock listener %r failed; removed", listener)
                    self._listeners.pop(handle, None)
        if self._timer is not None:              # a listener may have stopped the clock
            self._timer = self._loop.call_at(self.schedule.next_wakeup(self._loop.time()), self._fire)
