"""RTP port allocation from a configured range: even ports for RTP, port + 1 left for RTCP (RFC 3550 11).

Ports are handed out at random (from the operating system's CSPRNG), so the port of one call says
nothing about the ports of the others: an attacker cannot walk the range from a port it learned, and
must spray the whole range to reach calls, which the media latch (`latch`) then refuses. A released
port rests in a quarantine (a quarter of the range, at most 1,000 ports) before it can be drawn again,
so stray packets of an ended call are unlikely to reach the next one. Pure bookkeeping, no sockets.
"""

from __future__ import annotations

import secrets
from collections import deque

QUARANTINE_SHARE = 4         # a quarter of the range rests after release
QUARANTINE_MAX = 1000


class PortError(Exception):
    """Base of the port allocator's errors."""


class NoPortAvailable(PortError):
    """Every port of the range is in use."""


class PortAllocator:
    """Hands out the even ports p of start..end (inclusive) with p + 1 also in the range, at random."""

    def __init__(self, start: int, end: int) -> None:
        if not 0 < start <= end <= 65535:
            raise PortError(f"bad port range {start}-{end}")
        self._free: list[int] = list(range(start + start % 2, end, 2))
        if not self._free:
            raise PortError(f"no even port with its odd neighbour in {start}-{end}")
        self._quarantine: deque[int] = deque()
        self._quarantine_size = min(QUARANTINE_MAX, len(self._free) // QUARANTINE_SHARE)
        self._used: set[int] = set()

    def allocate(self) -> int:
        """A free even port drawn at random; raises NoPortAvailable when the range is exhausted."""
        if not self._free and self._quarantine:
            self._free.append(self._quarantine.popleft())
        if not self._free:
            raise NoPortAvailable(f"all {len(self._used)} RTP ports in use")
        index = secrets.randbelow(len(self._free))
        port = self._free[index]
        self._free[index] = self._free[-1]          # swap-remove: O(1)
        self._free.pop()
        self._used.add(port)
        return port

    def release(self, port: int) -> None:
        """Give a port back (it rests in quarantine first); releasing a port not allocated does nothing."""
        if port not in self._used:
            return
        self._used.remove(port)
        self._quarantine.append(port)
        while len(self._quarantine) > self._quarantine_size:
            self._free.append(self._quarantine.popleft())

    @property
    def in_use(self) -> int:
        return len(self._used)

    @property
    def available(self) -> int:
        return len(self._free) + len(self._quarantine)
