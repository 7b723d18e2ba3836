"""The shared media clock: absolute schedule without drift, bounded catch-up, resync, one timer chain."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from ivr.media.clock import PERIOD, MediaClock, MediaClockError, TickSchedule


def run_fake_loop(schedule: TickSchedule, until: float, delay: random.Random | None = None,
                  stalls: dict[int, float] | None = None) -> list[tuple[float, list[int]]]:
    """Wake up when the schedule asks, each time late by a random 0-3 ms, and longer at the given
    wake-up numbers (the event loop busy elsewhere); returns (time, ticks run) per wake-up."""
    wakeups: list[tuple[float, list[int]]] = []
    now = schedule.start
    while now < until:
        ticks = schedule.due(now)
        wakeups.append((now, ticks))
        now = schedule.next_wakeup(now) + (delay.uniform(0, 0.003) if delay else 0.0)
        now += (stalls or {}).get(len(wakeups), 0.0)
    return wakeups


def test_ten_minutes_of_ticks_without_drift() -> None:
    schedule = TickSchedule(start=1000.0)
    wakeups = run_fake_loop(schedule, until=1000.0 + 600.0, delay=random.Random(3))
    ticks = [(at, tick) for at, run in wakeups for tick in run]
    assert [tick for _, tick in ticks] == list(range(30000))       # every tick once, in order
    for at, tick in ticks:
        assert 0 <= at - (1000.0 + tick * PERIOD) <= 0.003 + 1e-9   # each within the timer's own error
    assert schedule.stats.dropped_ticks == schedule.stats.late_ticks == 0
    assert max(len(run) for _, run in wakeups) == 1


def test_relative_sleeping_would_have_drifted() -> None:
    # what the absolute schedule avoids: re-arming "period from now" adds each wake-up's lateness
    rng, now = random.Random(3), 0.0
    for _ in range(30000):
        now += PERIOD + rng.uniform(0, 0.003)
    assert now - 30000 * PERIOD > 10.0


def test_catch_up_two_ticks_per_wake_up_at_most() -> None:
    schedule = TickSchedule(start=0.0)
    wakeups = run_fake_loop(schedule, until=1.0, stalls={10: 0.15})    # the loop blocked for 150 ms once
    ticks = [tick for _, run in wakeups for tick in run]
    assert ticks == list(range(len(ticks)))                             # nothing dropped: 150 ms < 200 ms
    assert max(len(run) for _, run in wakeups) == 2
    catching_up = [(at, run) for at, run in wakeups if len(run) == 2]
    gaps = [b[0] - a[0] for a, b in zip(catching_up, catching_up[1:])]
    assert gaps and min(gaps) >= PERIOD / 2 - 1e-9                      # pairs spaced half a period apart
    assert len(catching_up) <= 6                # 8 ticks overdue, 3 recovered per period: on time in 60 ms
    for at, _ in wakeups:                       # never more than 4 frames within one period
        assert sum(len(run) for t, run in wakeups if at <= t < at + PERIOD - 1e-9) <= 4
    assert schedule.stats.late_ticks > 0 and schedule.stats.max_lateness == pytest.approx(0.15)
    assert schedule.stats.dropped_ticks == 0


def test_far_behind_resynchronises_and_counts_the_dropped_ticks() -> None:
    schedule = TickSchedule(start=0.0, resync_after=0.2)
    assert schedule.due(0.0) == [0]
    assert schedule.due(1.0) == [50]                                  # 49 ticks missed: only the newest runs
    assert (schedule.stats.dropped_ticks, schedule.stats.resyncs) == (49, 1)
    assert schedule.next_wakeup(1.0) == pytest.approx(1.02)
    assert schedule.due(0.19 + 1.0) == list(range(51, 60))[:2]       # 190 ms behind again: catch up, no drop
    assert schedule.stats.dropped_ticks == 49


def test_a_timer_firing_a_hair_early_still_runs_the_tick() -> None:
    schedule = TickSchedule(start=0.0)
    schedule.due(0.0)
    assert schedule.due(0.02 - 1e-9) == [1]
    assert schedule.due(0.04 - 0.001) == []
    assert schedule.next_wakeup(0.039) == pytest.approx(0.04)


class Recorder:
    def __init__(self, clock: MediaClock | None = None, stop_at: int | None = None) -> None:
        self.ticks: list[int] = []
        self.times: list[float] = []
        self.clock, self.stop_at = clock, stop_at

    def on_tick(self, tick: int, now: float) -> None:
        self.ticks.append(tick)
        self.times.append(now)
        if self.clock is not None and tick == self.stop_at:
            self.clock.stop()


class Broken:
    def __init__(self) -> None:
        self.calls = 0

    def on_tick(self, tick: int, now: float) -> None:
        self.calls += 1
        raise RuntimeError("listener bug")


def test_one_timer_ticks_every_listener_and_survives_a_broken_one(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ivr.media.clock"):
        sessions, broken, clock, elapsed = asyncio.run(run_fifty_sessions_and_a_broken_listener())
    assert broken.calls == 1 and "listener bug" in caplog.text
    assert clock.listeners == 49
    ticks = sessions[1].ticks
    assert ticks == list(range(len(ticks)))
    assert abs(len(ticks) - elapsed / PERIOD) <= 2
    assert all(s.ticks == ticks for s in sessions[2:])
    assert len(sessions[0].ticks) < len(ticks)
    assert clock.stats.ticks == len(ticks)
    intervals = [b - a for a, b in zip(sessions[1].times, sessions[1].times[1:])]
    assert sum(intervals) / len(intervals) == pytest.approx(PERIOD, abs=0.002)


async def run_fifty_sessions_and_a_broken_listener() -> tuple[list[Recorder], Broken, MediaClock, float]:
    loop = asyncio.get_running_loop()
    clock = MediaClock()
    scheduled_before = len(loop._scheduled)  # type: ignore[attr-defined]  # CPython timer heap
    clock.start()
    started = loop.time()
    broken = Broken()
    sessions = [Recorder() for _ in range(50)]
    handles = [clock.add(s) for s in sessions]
    clock.add(broken)
    assert len(loop._scheduled) == scheduled_before + 1  # type: ignore[attr-defined]  # one timer in all
    assert asyncio.all_tasks() == {asyncio.current_task()}       # no task per call either
    await asyncio.sleep(0.25)
    clock.remove(handles[0])
    await asyncio.sleep(0.1)
    clock.stop()
    return sessions, broken, clock, loop.time() - started


def test_stop_ends_the_ticks_even_from_a_listener() -> None:
    asyncio.run(stop_from_a_listener())


async def stop_from_a_listener() -> None:
    clock = MediaClock()
    recorder = Recorder(clock, stop_at=3)
    clock.add(recorder)
    clock.start()
    with pytest.raises(MediaClockError):
        clock.start()
    await asyncio.sleep(0.2)
    assert recorder.ticks == [0, 1, 2, 3]
    assert not clock.running
