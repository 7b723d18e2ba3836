"""RTP port allocation from a configured range: even ports for RTP (RTCP would take port + 1)."""

from __future__ import annotations


class NoPortAvailable(Exception):
    """Every port of the range is in use."""


class PortAllocator:
    """Hands out even ports of start..end (inclusive), least recently released first."""

    def __init__(self, start: int, end: int) -> None:
        first = start + (start % 2)
        self._free = list(range(first, end, 2))       # inclusive range: RTCP of the last is `end`
        if not self._free:
            raise ValueError(f"no even port in {start}-{end}")
        self._used: set[int] = set()

    def allocate(self) -> int:
        if not self._free:
            raise NoPortAvailable("RTP port range exhausted")
        port = self._free.pop(0)
        self._used.add(port)
        return port

    def release(self, port: int) -> None:
        if port in self._used:
            self._used.remove(port)
            self._free.append(port)

    @property
    def in_use(self) -> int:
        return len(self._used)
