"""Pricing one billable event by its tariff: pure integer arithmetic, no database, no floats.

A tariff prices one channel of a tenant's traffic, on one number or for one campaign:
- `subscriber_pays`: the subscriber pays the operator's normal price; nothing is charged here (outbound
  SMS parts still cost `outbound_cost` each).
- `business_pays`: free to the subscriber; the tenant pays the provider's `cost` per inbound SMS, per
  call or per minute (VAT excluded).
- `premium`: the subscriber pays `price` (VAT included, 1 to 50 UAH) per SMS, per call or per minute;
  the tenant is credited its `share` for the subscriber's operator, a percentage of the price without
  VAT, which is what is left after the operator's and the provider's parts.

Calls priced per minute are billed in steps of `increment` seconds from the answer (60: per started
minute, the default; 1: per second; 30: per started half minute), each step `increment/60` of the
minute's price, rounded half up once per call. Unanswered calls cost nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import StoreError
from .money import BASIS, CURRENCIES, div_round, share_of

CHANNELS = ("sms", "voice")
KINDS = ("subscriber_pays", "business_pays", "premium")
UNITS = {"sms": ("message",), "voice": ("call", "minute")}
PREMIUM_PRICE = (100, 5000)                  # 1 to 50 UAH per unit, VAT included
MAX_COST = 100_000                           # 1000 UAH: a sanity bound on any per-unit cost
INCREMENT = (1, 60)
ANY_OPERATOR = "*"
ITEMS = ("monthly_fee", "sms_premium", "sms_business_paid", "sms_outbound", "call_premium", "call_business_paid")
MICROSECONDS = 1_000_000


class TariffError(StoreError):
    """A tariff that cannot be used as given (the message says which field and why)."""


@dataclass(frozen=True)
class Tariff:
    """A tariff as stored (`id` None before it is)."""

    tenant_id: str
    channel: str
    kind: str
    unit: str
    number: str | None = None
    campaign_id: str | None = None
    price: int = 0
    cost: int = 0
    outbound_cost: int = 0
    increment: int = 60
    shares: Mapping[str, int] | None = None
    currency: str = "UAH"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    id: int | None = None

    def share_bp(self, operator: str) -> int:
        """The tenant's share for subscribers of `operator` (others: the "*" entry, else none)."""
        shares = self.shares or {}
        return shares.get(operator, shares.get(ANY_OPERATOR, 0))


@dataclass(frozen=True)
class Priced:
    """What one event costs: `amount` owed by the tenant (VAT excluded), `revenue` paid by the subscriber
    (VAT included), `share` credited to the tenant (VAT excluded)."""

    item: str
    quantity: int
    unit: str
    amount: int = 0
    revenue: int = 0
    share: int = 0


def check_tariff(t: Tariff) -> Tariff:
    """The tariff if every field fits its channel and kind; TariffError naming the first that does not."""
    if (t.number is None) == (t.campaign_id is None):
        raise TariffError("a tariff is for one number or for one campaign")
    if t.channel not in CHANNELS:
        raise TariffError(f"channel must be one of {', '.join(CHANNELS)}")
    if t.kind not in KINDS:
        raise TariffError(f"kind must be one of {', '.join(KINDS)}")
    if t.unit not in UNITS[t.channel]:
        raise TariffError(f"unit of a {t.channel} tariff must be one of {', '.join(UNITS[t.channel])}")
    if t.currency not in CURRENCIES:
        raise TariffError(f"unknown currency {t.currency!r}; expected one of {', '.join(CURRENCIES)}")
    low, high = PREMIUM_PRICE
    if t.kind == "premium" and not low <= t.price <= high:
        raise TariffError(f"a premium price is {low // 100} to {high // 100} {t.currency} per {t.unit}, VAT included")
    if t.kind != "premium" and t.price:
        raise TariffError("only a premium tariff has a price (the subscriber's); business_pays has a cost")
    for name in ("cost", "outbound_cost"):
        if not 0 <= getattr(t, name) <= MAX_COST:
            raise TariffError(f"{name} must be 0 to {MAX_COST // 100} {t.currency}")
    if t.kind != "business_pays" and t.cost:
        raise TariffError("only a business_pays tariff has a cost per unit")
    if t.channel != "sms" and t.outbound_cost:
        raise TariffError("outbound_cost is the price of an outbound SMS part: SMS tariffs only")
    if not INCREMENT[0] <= t.increment <= INCREMENT[1]:
        raise TariffError(f"increment must be {INCREMENT[0]} to {INCREMENT[1]} seconds")
    shares = t.shares or {}
    if shares and t.kind != "premium":
        raise TariffError("revenue shares belong to premium tariffs")
    if not all(isinstance(v, int) and 0 <= v <= BASIS for v in shares.values()):
        raise TariffError("a share is 0 to 100 %")
    return t


def price_sms_in(t: Tariff, operator: str) -> Priced | None:
    """An inbound SMS (None: not billable under this tariff)."""
    if t.kind == "premium":
        return Priced("sms_premium", 1, "message", revenue=t.price,
                      share=share_of(t.price, t.share_bp(operator), t.currency))
    if t.kind == "business_pays":
        return Priced("sms_business_paid", 1, "message", amount=t.cost)
    return None


def price_sms_out(t: Tariff, parts: int) -> Priced | None:
    """An outbound SMS of `parts` parts."""
    if parts < 1 or not t.outbound_cost:
        return None
    return Priced("sms_outbound", parts, "part", amount=parts * t.outbound_cost)


def price_call(t: Tariff, operator: str, talked: timedelta | None) -> Priced | None:
    """A call answered for `talked` (None: never answered)."""
    if talked is None or t.kind == "subscriber_pays":
        return None
    rate = t.price if t.kind == "premium" else t.cost
    item = "call_premium" if t.kind == "premium" else "call_business_paid"
    if t.unit == "call":
        quantity, unit, total = 1, "call", rate
    else:
        quantity, unit = billed_seconds(talked, t.increment), "second"
        total = div_round(quantity * rate, 60)
    if quantity == 0:
        return None
    if t.kind == "premium":
        return Priced(item, quantity, unit, revenue=total, share=share_of(total, t.share_bp(operator), t.currency))
    return Priced(item, quantity, unit, amount=total)


def price_fee(monthly_fee: int) -> Priced:
    return Priced("monthly_fee", 1, "month", amount=monthly_fee)


def billed_seconds(talked: timedelta, increment: int) -> int:
    """Seconds billed for a call of this length: whole steps of `increment`, a started step counting."""
    micro = max(0, talked // timedelta(microseconds=1))
    step = increment * MICROSECONDS
    return -(-micro // step) * increment
