"""RTP port allocation from a configured range: even ports for RTP, port + 1 left for RTCP (RFC 3550 11)."""

from __future__ import annotations

from collections import deque


class PortError(Exception):
    """Base of the port allocator's errors."""


class NoPortAvailable(PortError):
    """Every port of the range is in use."""


class PortAllocator:
    """Hands out the even ports p of start..end (inclusive) with p + 1 also in the range.

    Released ports go to the back of the line, so a port is reused as late as possible and stray
    packets of an ended call are unlikely to reach the next one. Pure bookkeeping, no sockets.
    """

    def __init__(self, start: int, end: int) -> None:
        if not 0 < start <= end <= 65535:
            raise PortError(f"bad port range {start}-{end}")
        self._free = deque(range(start + start % 2, end, 2))
        if not self._free:
            raise PortError(f"no even port with its odd neighbour in {start}-{end}")
        self._used: set[int] = set()

    def allocate(self) -> int:
        """A free even port; raises NoPortAvailable when the range is exhausted."""
        if not self._free:
            raise NoPortAvailable(f"all {len(self._used)} RTP ports in use")
        port = self._free.popleft()
        self._used.add(port)
        return port

    def release(self, port: int) -> None:
        """Give a port back; releasing a port that is not allocated does nothing."""
        if port in self._used:
            self._used.remove(port)
            self._free.append(port)

    @property
    def in_use(self) -> int:
        return len(self._used)

    @property
    def available(self) -> int:
        return len(self._free)
