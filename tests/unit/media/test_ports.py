"""RTP port allocation: even ports whose RTCP neighbour is in the range, drawn at random, a released port
resting before it is drawn again."""

from __future__ import annotations

import pytest

from ivr.media.ports import NoPortAvailable, PortAllocator, PortError


def test_even_ports_with_room_for_rtcp() -> None:
    ports = PortAllocator(10001, 10008)
    got = [ports.allocate() for _ in range(3)]
    assert sorted(got) == [10002, 10004, 10006]              # 10008 would need 10009 for RTCP
    assert (ports.in_use, ports.available) == (3, 0)
    with pytest.raises(NoPortAvailable):
        ports.allocate()


def test_ports_are_drawn_at_random_so_one_call_tells_nothing_of_the_next() -> None:
    ports = PortAllocator(20000, 29999)
    got = [ports.allocate() for _ in range(200)]
    steps = [b - a for a, b in zip(got, got[1:])]
    assert len(set(got)) == 200 and all(p % 2 == 0 for p in got)
    assert sum(1 for step in steps if step == 2) < 5          # in order, all 199 would be +2
    assert max(got) - min(got) > 5000                          # spread over the range


def test_a_released_port_rests_before_it_is_drawn_again() -> None:
    ports = PortAllocator(20000, 20079)                       # 40 ports, 10 rest after release
    first = ports.allocate()
    ports.release(first)
    ports.release(first)                                      # twice: no duplicate
    ports.release(12345)                                      # never allocated: ignored
    drawn = [ports.allocate() for _ in range(39)]
    assert first not in drawn                                 # the other 39 come first
    assert ports.allocate() == first                          # the range is used up: it comes back
    with pytest.raises(NoPortAvailable):
        ports.allocate()


@pytest.mark.parametrize("start, end", [(10000, 10000), (10001, 10002), (0, 100), (10000, 70000), (200, 100)])
def test_ranges_without_a_usable_pair_are_refused(start: int, end: int) -> None:
    with pytest.raises(PortError):
        PortAllocator(start, end)
