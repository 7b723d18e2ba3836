"""The node-wide cap on calls waiting for their ACK, fed sources and time: who keeps a place when full."""

from __future__ import annotations

from ivr.sip.setup_guard import Admission, SetupGuard, Standing


def fill(guard: SetupGuard, host: str, count: int, now: float, first: int = 0) -> None:
    for n in range(first, first + count):
        assert guard.admit(host, now) == Admission(True)
        guard.started(f"{host}-{n}", host, now)


def test_under_the_cap_everyone_waits_for_their_ack() -> None:
    guard = SetupGuard(limit=3)
    fill(guard, "203.0.113.1", 3, 0.0)
    assert len(guard.waiting) == 3 and guard.evicted == guard.refused == 0


def test_when_full_a_fresh_source_is_refused_until_the_waiting_calls_are_stale() -> None:
    guard = SetupGuard(limit=2, stale_after=2.0)
    fill(guard, "203.0.113.1", 2, 0.0)
    assert guard.admit("203.0.113.2", 1.0) == Admission(False)             # all fresh, same standing
    assert guard.admit("203.0.113.2", 2.5) == Admission(True, evict="203.0.113.1-0")   # the oldest, stale


def test_sources_that_never_ack_lose_their_place_to_those_whose_calls_complete() -> None:
    guard = SetupGuard(limit=2)
    guard.started("good-0", "192.0.2.10", 0.0)
    guard.completed("good-0", 0.1)                                          # ACKed: trusted
    fill(guard, "203.0.113.1", 2, 1.0)
    guard.ended("203.0.113.1-0", 9.0, abandoned=True)                       # no ACK in time: suspect
    fill(guard, "203.0.113.1", 1, 9.0, first=5)
    assert guard.standing("192.0.2.10", 9.0) is Standing.TRUSTED
    assert guard.standing("203.0.113.1", 9.0) is Standing.SUSPECT
    assert guard.standing("198.51.100.7", 9.0) is Standing.NEW
    assert guard.admit("192.0.2.10", 9.1).evict is not None                 # fresh suspects make room...
    assert guard.admit("198.51.100.7", 9.1).evict is not None               # ...for unknown callers too
    assert guard.admit("203.0.113.1", 9.1).evict == "203.0.113.1-1"        # a suspect only takes a stale place
    guard.ended("203.0.113.1-1", 9.1, abandoned=True)
    fill(guard, "203.0.113.1", 1, 9.1, first=6)
    assert guard.admit("203.0.113.1", 9.2) == Admission(False)              # not a fresh one


def test_records_fade_so_an_address_can_earn_its_place_back() -> None:
    guard = SetupGuard(limit=1, half_life=10.0)
    guard.started("a", "203.0.113.1", 0.0)
    guard.ended("a", 0.0, abandoned=True)
    assert guard.standing("203.0.113.1", 1.0) is Standing.SUSPECT
    assert guard.standing("203.0.113.1", 100.0) is Standing.NEW
