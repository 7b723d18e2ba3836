"""Money as exact integers of the minor unit (kopiykas for UAH), never floats.

Amounts cross the API as decimal strings ("12.50"), are kept as integers (1250) and shown again as
strings; percentages (revenue shares) are kept as basis points (45.5 % → 4550). Divisions round half
away from zero, once, where an amount is made (`div_round`). VAT is 20 % in Ukraine: premium prices are
quoted to subscribers with VAT included (`net_of`), the provider's fees and costs without it (`vat_on`).

The billing calendar (months of statements and fees, days of leases) is Kyiv's: a message sent at
00:30 on the 1st in Kyiv belongs to that month, although it is still the previous day in UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ivr.i18n import t

from .errors import StoreError

CURRENCY = "UAH"
CURRENCIES = ("UAH",)
MINOR_DIGITS = 2
BASIS = 10_000                                 # basis points in 100 %
VAT_BP = {"UAH": 2000}                         # value-added tax by currency's market: 20 % in Ukraine
BILLING_ZONE = ZoneInfo("Europe/Kyiv")
AMOUNT = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")
PERCENT = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?")
MONTH = re.compile(r"(\d{4})-(\d{2})")


class MoneyError(StoreError):
    """An amount, percentage, month or currency that cannot be read exactly."""


def parse_amount(text: object, what: str = "amount") -> int:
    """A decimal string such as "12.50" as minor units (1250); MoneyError for anything else (floats too)."""
    match = AMOUNT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MoneyError(t('{what} must be a string such as "12.50" (at most 2 decimals, no floats)', what=what))
    whole, fraction = match.group(1), (match.group(2) or "").ljust(MINOR_DIGITS, "0")
    return int(whole) * 10 ** MINOR_DIGITS + int(fraction)


def format_amount(minor: int) -> str:
    """1250 → "12.50", -5 → "-0.05"."""
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10 ** MINOR_DIGITS)
    return f"{sign}{whole}.{fraction:0{MINOR_DIGITS}d}"


def decimal_amount(minor: int) -> Decimal:
    """The amount as an exact Decimal (for CSV cells and spreadsheets)."""
    return Decimal(minor).scaleb(-MINOR_DIGITS)


def parse_percent(text: object, what: str = "share") -> int:
    """A percentage string from "0" to "100" with at most 2 decimals, as basis points ("45.5" → 4550)."""
    match = PERCENT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise MoneyError(t('{what} must be a percentage string such as "45" or "45.5"', what=what))
    bp = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if bp > BASIS:
        raise MoneyError(t("{what} cannot be more than 100 %", what=what))
    return bp


def format_percent(bp: int) -> str:
    """4550 → "45.5", 4500 → "45"."""
    whole, fraction = divmod(bp, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".")


def check_currency(currency: str) -> str:
    if currency not in CURRENCIES:
        raise MoneyError(t("unknown currency {currency!r}; expected one of {currencies}", currency=currency,
                             currencies=", ".join(CURRENCIES)))
    return currency


def div_round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (integers only)."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def vat_on(net: int, currency: str = CURRENCY) -> int:
    """The VAT to add to a net amount."""
    return div_round(net * VAT_BP[currency], BASIS)


def share_of(gross: int, share_bp: int, currency: str = CURRENCY) -> int:
    """`share_bp` of a price that includes VAT, taken on its part without VAT."""
    return div_round(gross * share_bp, BASIS + VAT_BP[currency])


# -- the billing calendar ------------------------------------------------------------------------

def parse_month(text: object) -> date:
    """"2025-03" → the first day of that month."""
    match = MONTH.fullmatch(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise MoneyError(t('a month is written YYYY-MM, e.g. "2025-03"'))
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_day(text: object, what: str = "date") -> date:
    if not isinstance(text, str):
        raise MoneyError(t('{what} must be a date written YYYY-MM-DD, e.g. "2025-03-01"', what=what))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise MoneyError(t('{what} must be a date written YYYY-MM-DD, e.g. "2025-03-01"', what=what)) from None


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_of(at: datetime) -> date:
    """The first day of the billing month `at` falls in."""
    return local_day(at).replace(day=1)


def local_day(at: datetime) -> date:
    """The billing calendar's day of an instant."""
    return at.astimezone(BILLING_ZONE).date()


def day_start(day: date) -> datetime:
    """The instant a billing day begins (midnight in Kyiv)."""
    return datetime.combine(day, time(0), tzinfo=BILLING_ZONE)


def days(first: date, until: date) -> list[date]:
    """Every day from `first` up to, not including, `until`."""
    return [first + timedelta(days=n) for n in range((until - first).days)]
