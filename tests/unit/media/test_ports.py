"""RTP port allocation: even ports whose RTCP neighbour is in the range, reused as late as possible."""

from __future__ import annotations

import pytest

from ivr.media.ports import NoPortAvailable, PortAllocator, PortError


def test_even_ports_with_room_for_rtcp() -> None:
    ports = PortAllocator(10001, 10008)
    got = [ports.allocate() for _ in range(3)]
    assert got == [10002, 10004, 10006]                      # 10008 would need 10009 for RTCP
    assert (ports.in_use, ports.available) == (3, 0)
    with pytest.raises(NoPortAvailable):
        ports.allocate()


def test_released_ports_are_reused_last() -> None:
    ports = PortAllocator(20000, 20009)
    first, second = ports.allocate(), ports.allocate()
    ports.release(first)
    assert [ports.allocate() for _ in range(3)] == [20004, 20006, 20008]
    assert ports.allocate() == first
    ports.release(second)
    ports.release(second)                                     # twice: no duplicate in the free list
    ports.release(12345)                                      # never allocated: ignored
    assert ports.allocate() == second
    with pytest.raises(NoPortAvailable):
        ports.allocate()


@pytest.mark.parametrize("start, end", [(10000, 10000), (10001, 10002), (0, 100), (10000, 70000), (200, 100)])
def test_ranges_without_a_usable_pair_are_refused(start: int, end: int) -> None:
    with pytest.raises(PortError):
        PortAllocator(start, end)
