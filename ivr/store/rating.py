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

from ivr.i18n import t

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
# the premium price's bounds, said per unit (filled with low, high and currency)
PREMIUM_RANGE = {
    "message": t("a premium price is {low} to {high} {currency} per message, VAT included"),
    "call": t("a premium price is {low} to {high} {currency} per call, VAT included"),
    "minute": t("a premium price is {low} to {high} {currency} per minute, VAT included"),
}


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


def check_tariff(tariff: Tariff) -> Tariff:
    """The tariff if every field fits its channel and kind; TariffError naming the first that does not."""
    if (tariff.number is None) == (tariff.campaign_id is None):
        raise TariffError(t("a tariff is for one number or for one campaign"))
    if tariff.channel not in CHANNELS:
        raise TariffError(t("channel must be one of {channels}", channels=", ".join(CHANNELS)))
    if tariff.kind not in KINDS:
        raise TariffError(t("kind must be one of {kinds}", kinds=", ".join(KINDS)))
    if tariff.unit not in UNITS[tariff.channel]:
        raise TariffError(t("unit of a {channel} tariff must be one of {units}", channel=tariff.channel,
                            units=", ".join(UNITS[tariff.channel])))
    if tariff.currency not in CURRENCIES:
        raise TariffError(t("unknown currency {currency!r}; expected one of {currencies}", currency=tariff.currency,
                            currencies=", ".join(CURRENCIES)))
    low, high = PREMIUM_PRICE
    if tariff.kind == "premium" and not low <= tariff.price <= high:
        raise TariffError(PREMIUM_RANGE[tariff.unit].with_params(low=low // 100, high=high // 100,
                                                                 currency=tariff.currency))
    if tariff.kind != "premium" and tariff.price:
        raise TariffError(t("only a premium tariff has a price (the subscriber's); business_pays has a cost"))
    for name in ("cost", "outbound_cost"):
        if not 0 <= getattr(tariff, name) <= MAX_COST:
            raise TariffError(t("{name} must be 0 to {most} {currency}", name=name, most=MAX_COST // 100,
                                currency=tariff.currency))
    if tariff.kind != "business_pays" and tariff.cost:
        raise TariffError(t("only a business_pays tariff has a cost per unit"))
    if tariff.channel != "sms" and tariff.outbound_cost:
        raise TariffError(t("outbound_cost is the price of an outbound SMS part: SMS tariffs only"))
    if not INCREMENT[0] <= tariff.increment <= INCREMENT[1]:
        raise TariffError(t("increment must be {least} to {most} seconds", least=INCREMENT[0], most=INCREMENT[1]))
    shares = tariff.shares or {}
    if shares and tariff.kind != "premium":
        raise TariffError(t("revenue shares belong to premium tariffs"))
    if not all(isinstance(v, int) and 0 <= v <= BASIS for v in shares.values()):
        raise TariffError(t("a share is 0 to 100 %"))
    return tariff


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
