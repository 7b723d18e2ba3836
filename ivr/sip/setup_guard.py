"""Calls waiting for their ACK, node-wide: a cap, and who keeps a place when it is full (sans-I/O).

An INVITE flood that never ACKs (half-open calls) holds a call slot per INVITE until the ACK timeout. Per
source limits do not stop many sources each staying under them, so `SetupGuard` caps the calls waiting
for their ACK across the node (`limit`) and, when the cap is reached, decides by the sources' record:

* a source whose calls complete (ACKed at least as often as abandoned) is TRUSTED;
* a source with more calls abandoned (no ACK in time, or evicted) than completed is SUSPECT;
* a source without a record is NEW.

A new INVITE finds the cap full: it takes the place of the waiting call of the lowest standing (the
oldest of those) when that call's source stands below its own, or stands no higher and has waited
`stale_after` (2 s: an ACK normally follows the 200 within a round trip); else it is refused (503).
So callers whose calls complete keep getting through while sources that never ACK churn among
themselves. Records fade (half-life `half_life`, 5 minutes) so an address can earn its place back.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from enum import IntEnum

STALE_AFTER = 2.0
HALF_LIFE = 300.0
MAX_SOURCES = 50_000


class Standing(IntEnum):
    SUSPECT = 0
    NEW = 1
    TRUSTED = 2


@dataclass
class _Record:
    completed: float = 0.0
    abandoned: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True)
class Admission:
    """The guard's answer to a new INVITE: admitted (after `evict`, when given), or refused."""

    admitted: bool
    evict: str | None = None            # the call id of the waiting call to end first


class SetupGuard:
    """The calls of one user agent waiting for their ACK, and the record of their sources."""

    def __init__(self, limit: int, stale_after: float = STALE_AFTER, half_life: float = HALF_LIFE,
                 max_sources: int = MAX_SOURCES) -> None:
        self.limit = limit
        self.stale_after = stale_after
        self.half_life = half_life
        self.max_sources = max_sources
        self.waiting: dict[str, tuple[str, float]] = {}        # call id -> (source host, since)
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self.evicted = 0
        self.refused = 0

    def standing(self, host: str, now: float) -> Standing:
        record = self._record(host, now, create=False)
        if record is None or record.completed + record.abandoned < 0.5:
            return Standing.NEW
        if record.abandoned > record.completed:
            return Standing.SUSPECT
        return Standing.TRUSTED if record.completed >= 0.5 else Standing.NEW

    def admit(self, host: str, now: float) -> Admission:
        """Whether a new call from `host` may wait for its ACK (0 as `limit`: no cap)."""
        if not self.limit or len(self.waiting) < self.limit:
            return Admission(True)
        mine = self.standing(host, now)
        victim = min(self.waiting.items(), key=lambda item: (self.standing(item[1][0], now), item[1][1]))
        call_id, (victim_host, since) = victim
        theirs = self.standing(victim_host, now)
        if theirs < mine or (theirs <= mine and now - since >= self.stale_after):
            self.evicted += 1
            return Admission(True, evict=call_id)
        self.refused += 1
        return Admission(False)

    def started(self, call_id: str, host: str, now: float) -> None:
        """A call was admitted and waits for its ACK."""
        self.waiting[call_id] = (host, now)

    def completed(self, call_id: str, now: float) -> None:
        """Its ACK came: the source's record improves."""
        entry = self.waiting.pop(call_id, None)
        if entry is not None:
            self._record(entry[0], now).completed += 1

    def ended(self, call_id: str, now: float, abandoned: bool) -> None:
        """It ended before its ACK: abandoned (no ACK in time, evicted) counts against the source."""
        entry = self.waiting.pop(call_id, None)
        if entry is not None and abandoned:
            self._record(entry[0], now).abandoned += 1

    def _record(self, host: str, now: float, create: bool = True) -> _Record | None:
        record = self._records.get(host)
        if record is None:
            if not create:
                return None
            record = self._records[host] = _Record(updated=now)
            if len(self._records) > self.max_sources:
                self._records.popitem(last=False)
        else:
            self._records.move_to_end(host)
            fade = math.pow(0.5, max(0.0, now - record.updated) / self.half_life)
            record.completed *= fade
            record.abandoned *= fade
            record.updated = now
        return record
