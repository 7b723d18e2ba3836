"""The one media clock: a 20 ms tick for every call in the process.

`TickSchedule` is the pure part: tick n is due at start + n × period (absolute times, so no drift
however long a call lasts). When the loop was late it hands out at most `max_catchup` missed ticks
per wake-up (the peer never gets a burst), and if it fell more than `resync_after` behind it skips
the missed ticks and counts them. `MediaClock` drives it with a single `loop.call_at` chain.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

PERIOD = 0.020


class TickListener(Protocol):
    def on_tick(self, tick: int, now: float) -> None: ...


@dataclass
class ClockStats:
    ticks: int = 0
    late_ticks: int = 0
    skipped_ticks: int = 0
    max_lateness: float = 0.0


class TickSchedule:
    """Which ticks are due at a given time."""

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

    def next_deadline(self) -> float:
        return self.due_time(self.next_tick)

    def due(self, now: float) -> list[int]:
        """The ticks to run now, oldest first."""
        latest = math.floor((now - self.start) / self.period + 1e-9)
        if latest < self.next_tick:
            return []
        lateness = now - self.due_time(self.next_tick)
        self.stats.max_lateness = max(self.stats.max_lateness, lateness)
        if lateness > self.resync_after:
            skipped = latest - self.next_tick
            self.stats.skipped_ticks += skipped
            self.next_tick = latest
        ticks = list(range(self.next_tick, min(latest, self.next_tick + self.max_catchup - 1) + 1))
        self.stats.late_ticks += sum(1 for t in ticks if now - self.due_time(t) > self.period / 2)
        self.next_tick = ticks[-1] + 1
        self.stats.ticks += len(ticks)
        return ticks


class MediaClock:
    """Calls every listener's `on_tick(tick, now)` each 20 ms, from one timer chain."""

    def __init__(self, period: float = PERIOD) -> None:
        self.period = period
        self._listeners: dict[int, TickListener] = {}
        self._next_handle = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.schedule: TickSchedule | None = None

    def add(self, listener: TickListener) -> int:
        self._next_handle += 1
        self._listeners[self._next_handle] = listener
        return self._next_handle

    def remove(self, handle: int) -> None:
        self._listeners.pop(handle, None)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.schedule = TickSchedule(self._loop.time() + self.period, self.period)
        self._arm()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        assert self._loop is not None and self.schedule is not None
        deadline = self.schedule.next_deadline()
        now = self._loop.time()
        if deadline <= now:             # still catching up: spread the rest, no back-to-back burst
            deadline = now + self.period / 2
        self._timer = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        assert self._loop is not None and self.schedule is not None
        now = self._loop.time()
        for tick in self.schedule.due(now):
            for handle, listener in list(self._listeners.items()):
                try:
                    listener.on_tick(tick, now)
                except Exception:
                    log.exception("media clock listener failed; removed")
                    self._listeners.pop(handle, None)
        self._arm()

    @property
    def stats(self) -> ClockStats:
        return self.schedule.stats if self.schedule else ClockStats()
