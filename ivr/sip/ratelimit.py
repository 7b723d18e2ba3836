"""Per-source request rate limits for SIP, sans-I/O: token buckets fed the time.

`SourceLimiter.check(host, method, now)` decides about one request before it is parsed or any
transaction state exists: ADMIT it; REJECT it (the caller answers a stateless 503 with Retry-After),
which happens once per source and method class per REJECT_INTERVAL; or DROP it silently (the rest of
a flood). Requests are grouped in classes with their own rate: INVITE, REGISTER, OPTIONS and every
other out-of-dialog method. Methods that belong to a transaction or dialog the peer already has (ACK,
CANCEL, BYE, INFO, UPDATE, PRACK, NOTIFY) and responses are never limited.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

REJECT_INTERVAL = 1.0        # seconds between two 503s to one source and class
MAX_SOURCES = 50_000         # buckets kept; the least recently used go first
UNLIMITED = frozenset({b"ACK", b"CANCEL", b"BYE", b"INFO", b"UPDATE", b"PRACK", b"NOTIFY"})
CLASSES = ("invite", "register", "options", "other")


class RateError(ValueError):
    """A rate setting cannot be used."""


class Verdict(Enum):
    ADMIT = "admit"
    REJECT = "reject"
    DROP = "drop"


@dataclass(frozen=True)
class Rate:
    """A sustained rate (requests per second) and the burst allowed on top of it."""

    per_second: float
    burst: float

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """'RATE' or 'RATE/BURST' (burst defaults to twice the rate, at least 1)."""
        rate_text, _, burst_text = text.partition("/")
        try:
            per_second = float(rate_text)
            burst = float(burst_text) if burst_text else max(1.0, 2 * per_second)
        except ValueError:
            raise RateError(f"bad rate {text!r}: expected RATE or RATE/BURST, e.g. 10/20") from None
        if not (per_second > 0 and burst >= 1 and math.isfinite(per_second) and math.isfinite(burst)):
            raise RateError(f"bad rate {text!r}: the rate must be above 0 and the burst at least 1")
        return cls(per_second, burst)


# A softphone sends a request now and then; a carrier trunk tens of INVITEs a second; a flood thousands.
DEFAULT_RATES: dict[str, Rate] = {
    "invite": Rate(50, 100), "register": Rate(5, 10), "options": Rate(20, 40), "other": Rate(10, 20),
}


def limit_class(data: bytes) -> str | None:
    """The class of a request from its first bytes; None for responses and unlimited methods."""
    method = data[:32].lstrip(b"\r\n").split(b" ", 1)[0]
    if method.startswith(b"SIP/") or method in UNLIMITED:
        return None
    if method == b"INVITE":
        return "invite"
    if method == b"REGISTER":
        return "register"
    if method == b"OPTIONS":
        return "options"
    return "other"


class _Bucket:
    __slots__ = ("tokens", "updated", "rejected_at")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now
        self.rejected_at = -math.inf


class SourceLimiter:
    """Token buckets per (source address, request class), at most `max_sources` of them."""

    def __init__(self, rates: dict[str, Rate] | None = None, max_sources: int = MAX_SOURCES) -> None:
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        unknown = set(self.rates) - set(CLASSES)
        if unknown:
            raise RateError(f"unknown request class {sorted(unknown)[0]!r}: use one of {', '.join(CLASSES)}")
        self.max_sources = max_sources
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def check(self, host: str, kind: str, now: float) -> Verdict:
        """Take one token for a request of class `kind` from `host`."""
        rate = self.rates.get(kind)
        if rate is None:
            return Verdict.ADMIT
        key = (host, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate.burst, now)
            if len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(rate.burst, bucket.tokens + (now - bucket.updated) * rate.per_second)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.ADMIT
        if now - bucket.rejected_at >= REJECT_INTERVAL:
            bucket.rejected_at = now
            return Verdict.REJECT
        return Verdict.DROP

    def retry_after(self, host: str, kind: str) -> int:
        """Whole seconds until `host` has a token for `kind` again (for Retry-After), at least 1."""
        bucket = self._buckets.get((host, kind))
        rate = self.rates.get(kind)
        if bucket is None or rate is None:
            return 1
        return max(1, math.ceil((1 - bucket.tokens) / rate.per_second))

    def __len__(self) -> int:
        return len(self._buckets)
