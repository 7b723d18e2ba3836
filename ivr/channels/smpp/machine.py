"""The life of one operator link as a pure state machine, fed the time: bind, re-bind after a drop with
backoff, pauses on throttling, and the pace of the link's throughput. The asyncio layer (`link`) asks it
what to do and tells it what happened; tests drive it without sockets.

    DOWN --connecting--> BINDING --bound--> BOUND --lost--> DOWN (re-bind after the backoff)
                            |--failed--> DOWN                 BOUND --throttled--> BOUND, paused until ...
    any --close--> CLOSED

The re-bind backoff starts at `reconnect_min` and doubles up to `reconnect_max`; a link that stayed
bound for STABLE seconds starts from the minimum again. Throttling (ESME_RTHROTTLED, ESME_RMSGQFUL)
pauses every submit for THROTTLE_MIN seconds, doubling up to THROTTLE_MAX while it goes on (answers to
submits already in flight do not count again); an accepted submit resets it. Enquire_link keep-alives,
the window and the PDU timers are smpp34's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

STABLE = 30.0
THROTTLE_MIN = 0.5
THROTTLE_MAX = 10.0


class LinkState(enum.Enum):
    DOWN = "down"
    BINDING = "binding"
    BOUND = "bound"
    CLOSED = "closed"


class TransitionError(RuntimeError):
    """An event the link's state does not allow (a bug in the asyncio layer)."""


@dataclass
class LinkMachine:
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    state: LinkState = LinkState.DOWN
    failures: int = 0                   # binds failed or dropped in a row
    retry_at: float = 0.0               # DOWN: when to bind again
    bound_at: float = 0.0
    paused_until: float = 0.0           # throttled: no submit before this
    throttle_step: float = 0.0

    def connect_delay(self, now: float) -> float:
        """Seconds until the next bind attempt (0: now)."""
        return max(0.0, self.retry_at - now) if self.state is LinkState.DOWN else 0.0

    def connecting(self, now: float) -> None:
        self._expect(LinkState.DOWN)
        self.state = LinkState.BINDING

    def bound(self, now: float) -> None:
        self._expect(LinkState.BINDING)
        self.state, self.bound_at = LinkState.BOUND, now

    def failed(self, now: float) -> float:
        """The bind failed (refused, timed out, no route); returns the backoff before the next one."""
        self._expect(LinkState.BINDING)
        return self._down(now)

    def lost(self, now: float) -> float:
        """The bound session ended (the SMSC unbound or the connection broke); returns the backoff."""
        self._expect(LinkState.BOUND)
        if now - self.bound_at >= STABLE:
            self.failures = 0
        return self._down(now)

    def throttled(self, now: float) -> float:
        """The SMSC said slow down: the pause before the next submit. Answers to submits sent before the
        current pause ended do not lengthen it (a window of them arrives at once)."""
        if now >= self.paused_until:
            self.throttle_step = min(THROTTLE_MAX, self.throttle_step * 2 if self.throttle_step else THROTTLE_MIN)
            self.paused_until = now + self.throttle_step
        return max(0.0, self.paused_until - now)

    def accepted(self) -> None:
        """A submit went through: throttling is over."""
        self.throttle_step = 0.0

    def pause(self, now: float) -> float:
        """Seconds a submit must still wait because of throttling."""
        return max(0.0, self.paused_until - now)

    def close(self) -> None:
        self.state = LinkState.CLOSED

    def _down(self, now: float) -> float:
        self.failures += 1
        delay = min(self.reconnect_max, self.reconnect_min * 2 ** (self.failures - 1))
        self.state, self.retry_at = LinkState.DOWN, now + delay
        return delay

    def _expect(self, state: LinkState) -> None:
        if self.state is not state:
            raise TransitionError(f"link is {self.state.value}, not {state.value}")


@dataclass
class Pacer:
    """A link's throughput: submits are spaced 1/rate seconds apart, with a burst of `burst`."""

    rate: float
    burst: float = 1.0
    _next: float = 0.0

    def reserve(self, now: float) -> float:
        """Take the next slot; the seconds to wait before using it."""
        interval = 1.0 / self.rate
        start = max(self._next, now - (self.burst - 1) * interval)
        self._next = start + interval
        return max(0.0, start - now)
